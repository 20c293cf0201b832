"""What the client itself costs, and a check that it measures what a plain client measures.

- calibration: the load client and the plain client time ``GET /web/health`` (a prefork
  worker's cheapest answer) one at a time; the load client's CPU per request, here and in
  every other phase (``client_cpu_ms_per_request``), says what it takes from the server's cores.
- cross-check: ``requests.Session`` posts and a ``websocket-client`` socket receives, customer
  to agent on both paths, one at a time, alternating with the load client's messages; the two
  p50 must match within CROSSCHECK_TOLERANCE, or the load client's figures are its own, not
  the server's."""

import asyncio
import statistics
import time

from ..client import PlainClient
from ..measure import client_cpu, percentile, summarize
from ..server import bus_last_id, log
from ..settings import CROSSCHECK_TOLERANCE


def plain_client(ctx):
    return PlainClient(ctx.server.base, ctx.server.ws_url, ctx.client.sessions)


def _calibrate(ctx, count, loop):
    """Blocking, in a thread: ``GET /web/health`` from the plain client, then from the load
    client (on its loop), in turn. The plain client's CPU is this thread's; the load client's,
    the rest of the process's."""
    plain, found = PlainClient(ctx.server.base, ctx.server.ws_url, {}), {"load": [], "plain": []}

    async def health():
        status, *_ = await ctx.client.request(None, "GET", "/web/health")
        assert status == 200, status

    cpu, plain_cpu = client_cpu(), 0.0
    try:
        for _ in range(count):
            c0, t0 = time.thread_time(), time.perf_counter()
            plain.get("/web/health")
            found["plain"].append((time.perf_counter() - t0) * 1000)
            plain_cpu += time.thread_time() - c0
            t0 = time.perf_counter()
            asyncio.run_coroutine_threadsafe(health(), loop).result()
            found["load"].append((time.perf_counter() - t0) * 1000)
    finally:
        plain.close()
    load_cpu = client_cpu() - cpu - plain_cpu
    return {
        name: summarize(values, client_cpu_ms_per_request=round(1000 * spent / count, 2))
        for (name, values), spent in zip(found.items(), (load_cpu, plain_cpu), strict=True)
    }


async def calibration(ctx):
    count = ctx.settings["calibration_requests"]
    log(f"calibration: GET /web/health {count} times per client, alternating")
    cal = await asyncio.to_thread(_calibrate, ctx, count, asyncio.get_running_loop())
    ctx.results["calibration"] = cal
    log(
        "  /web/health p50: "
        + ", ".join(
            f"{name} client {c['median']:.1f} ms ({c['client_cpu_ms_per_request']} ms CPU each)"
            for name, c in cal.items()
        )
    )


def _crosscheck(ctx, count, loop):
    """Blocking, in a thread: for each customer in turn and each path, one message from the
    plain client, then one from the load client (run on its loop), so that both see the same
    machine. Returns the plain client's latencies and the load client's records."""
    client = ctx.client
    plain, found, records, sockets = plain_client(ctx), {}, {}, {}
    try:
        last = bus_last_id(ctx.db)
        for i in range(count):
            index = client.active()[i % len(client.active())]
            customer = client.data["customers"][index]
            agent = client.data["agents"][customer["agent"]]["login"]
            if agent not in sockets:
                sockets[agent] = plain.socket(agent, last)
            for path in ("ours", "stock"):
                login, channel, _receiver = client.route(index, path, "customer->agent")
                found.setdefault(path, []).append(
                    plain.timed_message(login, channel, sockets[agent])
                )
                message = client.timed_message(index, path, "customer->agent")
                records.setdefault(path, []).append(
                    asyncio.run_coroutine_threadsafe(message, loop).result()
                )
    finally:
        for ws in sockets.values():
            ws.close()
        plain.close()
    return found, records


async def crosscheck(ctx):
    count = ctx.settings["crosscheck_messages"]
    log(
        f"cross-check: {count} messages per path and client, customer->agent, one at a time, "
        "alternating the load client and a plain one (requests + websocket-client)"
    )
    loop = asyncio.get_running_loop()
    found, records = await asyncio.to_thread(_crosscheck, ctx, count, loop)
    check = {}
    for path, values in found.items():
        delivered = sorted(v for v in values if v is not None)
        main = ctx.client.record_metric(f"cross-check|customer->agent|{path}", records[path])[
            "median"
        ]
        plain = statistics.median(delivered) if delivered else None
        ratio = main / plain if main and plain else None
        check[path] = {
            "plain_median": plain,
            "plain_p99": percentile(delivered, 99),
            "lost": len(values) - len(delivered),
            "load_client_median": main,
            "ratio": round(ratio, 2) if ratio else None,
            "pass": ratio is not None and abs(ratio - 1) <= CROSSCHECK_TOLERANCE,
        }
        log(
            f"  {path}: p50 load client {main or 0:.1f} ms, plain client {plain or 0:.1f} ms: "
            f"ratio {ratio or 0:.2f} {'PASS' if check[path]['pass'] else 'FAIL'}"
        )
    ctx.results["crosscheck"] = check


def lines(results):
    cal, check = results.get("calibration"), results.get("crosscheck")
    out = []
    if cal:
        idle = results["messages"].get("idle|customer->agent|ours", {}).get("cpu", {})
        steps = [s["cpu"]["client_cpu_ms_per_request"] for s in results["load"]]
        peak = max((s["cpu"]["client_cpu_pct"] for s in results["load"]), default=None)
        out.append(
            f"client cost: GET /web/health p50 {cal['load']['median']:.1f} ms (load client) / "
            f"{cal['plain']['median']:.1f} ms (plain client); load client CPU per request "
            f"{cal['load']['client_cpu_ms_per_request']} ms (health), "
            f"{idle.get('client_cpu_ms_per_request')} ms (idle messages)"
            + (
                f", {min(steps)}-{max(steps)} ms under load, {peak} % of a core at most"
                if steps
                else ""
            )
        )
    if check:
        out.append(
            "cross-check, customer->agent p50, load client / plain client (requests + "
            f"websocket-client), within {CROSSCHECK_TOLERANCE:.0%}: "
            + ", ".join(
                f"{path} {c['load_client_median'] or 0:.1f} / {c['plain_median'] or 0:.1f} ms = "
                f"{c['ratio']} {'PASS' if c['pass'] else 'FAIL'}"
                for path, c in check.items()
            )
        )
    return out
