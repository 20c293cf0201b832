"""Offered load: open loop, each rate of BENCH_RATE for BENCH_SECONDS on our path, then on the
stock path, alternating directions, round robin over the customers, with the idle sockets
held. The saturation throughput is the most either path achieved."""

import asyncio

from ..client import DIRECTIONS
from ..measure import Usage, summarize
from ..server import log
from ..settings import DELIVERY_TIMEOUT, DRAIN_TIMEOUT, MAX_IN_FLIGHT
from .latency import fmt, ratio


async def offered_load(client, path, rate, seconds):
    """Message k leaves at start + k/rate whatever happened to the earlier ones."""
    customers, total = client.active(), int(rate * seconds)
    tasks, skipped = [], 0
    loop = asyncio.get_running_loop()
    usage, sent = Usage(client.server_pids), client.requests
    start = loop.time() + 0.1
    for k in range(total):
        delay = start + k / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if sum(1 for t in tasks if not t.done()) >= MAX_IN_FLIGHT:
            skipped += 1
            continue
        # each customer's conversation sees both directions, round after round
        direction = DIRECTIONS[(k + k // len(customers)) % 2]
        tasks.append(
            asyncio.create_task(
                client.timed_message(customers[k % len(customers)], path, direction)
            )
        )
    done, pending = await asyncio.wait(tasks, timeout=DELIVERY_TIMEOUT + DRAIN_TIMEOUT)
    for task in pending:
        task.cancel()
    cpu = usage.stop(client.requests - sent)
    records = [t.result() for t in done if not t.cancelled() and t.exception() is None]
    answers = sorted(r["answered"] for r in records if r["error"] is None)
    # completions per second, between the first and the last answer
    achieved = (len(answers) - 1) / (answers[-1] - answers[0]) if len(answers) > 2 else 0.0
    not_sent = skipped + len(pending)
    for direction in DIRECTIONS:
        recs = [
            r for r in records if r["receiver"].startswith("agent:") == (direction == DIRECTIONS[0])
        ]
        summary = client.record_metric(
            f"load {rate:g}/s|{direction}|{path}",
            recs,
            cpu=cpu,
            offered_rate=rate,
            achieved_rate=round(achieved, 1),
        )
        summary["lost"] += not_sent // 2
    step = summarize(
        [(r["received"] - r["sent"]) * 1000 for r in records if r["received"] is not None],
        lost=sum(1 for r in records if r["received"] is None) + not_sent,
        errors=[r["error"] for r in records if r["error"]],
        path=path,
        offered_rate=rate,
        achieved_rate=round(achieved, 1),
        messages=total,
        not_sent_in_flight_cap=skipped,
        cpu=cpu,
    )
    client.results["load"].append(step)
    log(
        f"  {path:5} offered {rate:g}/s achieved {achieved:.1f}/s: p50 {fmt(step['median'])} "
        f"p99 {fmt(step['p99'])} ms, lost {step['lost']}, machine {cpu['machine_busy_pct']}% busy, "
        f"client {cpu['client_cpu_pct']}% of a core"
    )


async def run(ctx):
    for rate in ctx.settings["rates"]:
        log(f"offered load {rate:g} msg/s for {ctx.settings['seconds']} s per path")
        for path in ("ours", "stock"):
            await offered_load(ctx.client, path, rate, ctx.settings["seconds"])
            await asyncio.sleep(2)


def headline(results):
    """Saturation throughput, and p50/p99 at 40 msg/s (or the nearest rate), ours/stock."""
    steps = results.get("load") or []
    if not steps:
        return []
    best = {
        p: max((s["achieved_rate"] for s in steps if s["path"] == p), default=None)
        for p in ("ours", "stock")
    }
    rate = min({s["offered_rate"] for s in steps}, key=lambda r: abs(r - 40))
    at = {s["path"]: s for s in steps if s["offered_rate"] == rate}
    ours, stock = at.get("ours", {}), at.get("stock", {})
    return [
        f"saturation throughput (most achieved at any offered rate): ours {best['ours']} / "
        f"stock {best['stock']} msg/s ({ratio(best['ours'], best['stock'])})",
        f"at {rate:g} msg/s offered: p50 ours {fmt(ours.get('median'))} / stock "
        f"{fmt(stock.get('median'))} ms ({ratio(ours.get('median'), stock.get('median'))}), p99 "
        f"{fmt(ours.get('p99'))} / {fmt(stock.get('p99'))} ms "
        f"({ratio(ours.get('p99'), stock.get('p99'))}); "
        f"achieved {ours.get('achieved_rate')} / {stock.get('achieved_rate')} msg/s",
    ]


def lines(results):
    if not results.get("load"):
        return []
    out = [
        "CPU during offered load: machine busy (% of its cores) / server / postgres, all "
        "databases / load client (% of one core), client CPU per request"
    ]
    for step in results["load"]:
        c = step["cpu"]
        out.append(
            f"  {step['path']:<5} {step['offered_rate']:>5g}/s -> {step['achieved_rate']:>5}/s: "
            f"{c['machine_busy_pct']}% / {c['server_cpu_pct']}% / {c['postgres_cpu_pct']}% / "
            f"{c['client_cpu_pct']}%, {c['client_cpu_ms_per_request']} ms"
            + ("   <- CPU-bound" if c["machine_busy_pct"] >= 90 else "")
        )
    return out
