"""One skeleton for the three suites, started by tools/dev.sh:

    python -m bench <bench|faults|queue> --odoo <odoo-bin | -m odoo> -- <options for odoo>

It parses that, turns SIGTERM into a clean stop, runs the suite and always cleans up what the
suite registered (servers, databases, nginx, a private PostgreSQL), also on failure or Ctrl-C.
The ``bench`` suite (`make bench`) is below: a throwaway database, one production-like server,
the phases of bench/phases/ in order, a table and a JSON file under bench/results/."""

import asyncio
import contextlib
import datetime
import json
import os
import platform
import resource
import secrets
import signal
import subprocess
import time

from . import measure
from .client import Client
from .phases import clientcheck, latency, load, queue, scaleout, sockets, storm, tickets
from .server import HERE, ROOT, Odoo, Server, drop_database, log, populate
from .settings import BENCH

# (name in BENCH_PHASES, what runs); always in this order, whatever the order given
PHASES = [
    ("idle", latency.run),
    ("client", clientcheck.calibration),
    ("client", clientcheck.crosscheck),
    ("sockets", sockets.run),
    ("load", sockets.run),
    ("load", load.run),
    ("tickets", tickets.run),
    ("queue", queue.run),
    ("storm", storm.run),
    ("scaleout", scaleout.run),
]


class Context:
    def __init__(self, odoo, stamp, db, settings, server=None, client=None):
        self.odoo, self.stamp, self.db, self.settings = odoo, stamp, db, settings
        self.server, self.client = server, client
        self.results = client.results if client else {}


def main(argv):
    from .phases import faults, queue_scale

    suites = {"bench": run_bench, "faults": faults.run, "queue": queue_scale.run}
    if not argv or argv[0] not in suites:
        return f"usage: python -m bench <{'|'.join(suites)}> --odoo ... -- ..."
    odoo = Odoo(argv[1:])

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    # keep the logs of the newest runs
    for old in sorted(odoo.log_dir.glob("bench-2*.log"), key=lambda p: p.stat().st_mtime)[:-30]:
        with contextlib.suppress(OSError):
            old.unlink()
    started, cleanup = time.monotonic(), contextlib.ExitStack()
    try:
        with cleanup:
            code = suites[argv[0]](odoo, time.strftime("%Y%m%d-%H%M%S"), cleanup)
            # a second Ctrl-C must not stop the cleanup
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except KeyboardInterrupt as interrupt:
        log(f"interrupted ({str(interrupt) or 'Ctrl-C'}): cleaned up")
        return 130
    except Exception as error:  # noqa: BLE001 - report, clean up, fail
        log(f"failed: {measure.error_text(error, 2000)}")
        return 2
    log(f"total {time.monotonic() - started:.0f} s")
    return code


def database(odoo, cleanup, prefix, reuse, keep, logfile):
    """A throwaway database (dropped at the end unless ``keep``) or ``reuse``d one, the addon
    updated to the code at hand: (name, created)."""
    if reuse:
        log(f"reusing database {reuse}: updating the addon; log: {logfile}")
        odoo.install(reuse, logfile, update=True)
        return reuse, False
    db = f"{prefix}_{secrets.token_hex(4)}"
    if keep:
        log(f"keeping database {db} afterwards; drop it with dropdb {db}")
    else:
        cleanup.callback(log, f"dropped database {db} and its filestore")
        cleanup.callback(drop_database, odoo, db)
    return db, True


def start_server(odoo, cleanup, server):
    log(f"starting Odoo: {' '.join(server.args[2:6])}; log: {server.log}")
    cleanup.callback(server.stop)
    return server.start()


def run_bench(odoo, stamp, cleanup):
    settings = BENCH
    setup_log = odoo.log_dir / f"bench-{stamp}-setup.log"
    db, created = database(odoo, cleanup, "imlt_bench", settings["db"], settings["keep"], setup_log)
    state = odoo.state_dir / f"{db}.json"
    if created:
        if not settings["keep"]:
            cleanup.callback(state.unlink, missing_ok=True)
        data = populate(odoo, db, settings, setup_log)
    else:
        data = json.loads(state.read_text())
    server = Server(odoo, db, odoo.log_dir / f"bench-{stamp}-{db}-server.log", settings["workers"])
    start_server(odoo, cleanup, server)
    ctx = Context(odoo, stamp, db, settings, server)
    asyncio.run(drive(ctx, data))
    server.stop()
    results = ctx.results
    results.update(
        data=data,
        settings=settings,
        commit=git_commit(),
        environment={k: v for k, v in sorted(os.environ.items()) if k.startswith("BENCH_")},
        machine={
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_at_end": os.getloadavg(),
        },
        server_log=measure.server_log_summary(server.log),
        date=datetime.datetime.now().isoformat(timespec="seconds"),
    )
    print("\n" + table(results) + "\n", flush=True)
    path = write_results(results, ctx.client.raw)
    log(f"results: {path}")
    return 0


async def drive(ctx, data):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, ctx.settings["sockets"] + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    server = ctx.server
    ctx.client = client = Client(
        ctx.odoo, ctx.db, data, [(server.base, server.ws_url)], [server.pid]
    )
    ctx.results = client.results
    keeper = None
    try:
        logins = [a["login"] for a in data["agents"]] + [c["login"] for c in data["customers"]]
        log(f"logging in {len(logins)} users (each login costs ~0.5 s of pbkdf2 on the server)")
        semaphore = asyncio.Semaphore(ctx.settings["workers"])

        async def login(name):
            async with semaphore:
                await client.login(name)

        await asyncio.gather(*(login(name) for name in logins))
        await client.open_measured_sockets()
        keeper = asyncio.create_task(client.presence_keeper())
        await latency.warm_up(client)
        done = set()
        for name, phase in PHASES:
            if name in ctx.settings["phases"] and phase not in done:
                done.add(phase)
                await phase(ctx)
        client.results["sockets_closed_count"] = len(client.closed_sockets)
    finally:
        if keeper:
            keeper.cancel()
        await client.close()


# ---------------------------------------------------------------- report


def table(results):
    fmt, ratio = latency.fmt, latency.ratio
    header = (
        f"{'metric':<46} {'path':<6} {'median':>8} {'p95':>8} {'p99':>8} {'max':>8} "
        f"{'count':>6} {'lost':>5} {'p50 ratio':>9} {'p99 ratio':>9}"
    )
    lines = [header, "-" * len(header)]

    def add(metric, path, s, stock=None):
        r50 = ratio(s.get("median"), stock.get("median")) if stock else ""
        r99 = ratio(s.get("p99"), stock.get("p99")) if stock else ""
        cells = " ".join(f"{fmt(s.get(q)):>8}" for q in ("median", "p95", "p99", "max"))
        lost = s.get("lost", 0) + s.get("errors", 0)
        lines.append(
            f"{metric:<46} {path:<6} {cells} {s.get('count', 0):>6} {lost:>5} {r50:>9} {r99:>9}"
        )

    lines.append("end-to-end: /mail/message/post -> the other party's websocket (ms)")
    for (phase, direction), paths in latency.grouped(results).items():
        metric = f"  {phase}, {direction}"
        if "offered_rate" in paths.get("ours", {}):
            stock_rate = paths.get("stock", {}).get("achieved_rate")
            metric += f" (got {paths['ours']['achieved_rate']}/{stock_rate})"
        if "ours" in paths:
            add(metric, "ours", paths["ours"], paths.get("stock"))
        if "stock" in paths:
            add("", "stock", paths["stock"])
    tickets_ = results["tickets"]
    if tickets_:
        lines.append("opening a conversation, closed loop (ms); rate in the metric name")
        if "ours" in tickets_:
            add(
                f"  ticket form /my/tickets/new ({tickets_['ours']['per_second']}/s)",
                "ours",
                tickets_["ours"],
                tickets_.get("stock"),
            )
        if "stock" in tickets_:
            add(
                f"  get_session + first post ({tickets_['stock']['per_second']}/s)",
                "stock",
                tickets_["stock"],
            )
    if results["queue"]:
        lines.append(f"agent queue at {results['data']['tickets']:,} tickets (ms)")
        for key, summary in results["queue"].items():
            name, path = key.split("|")
            add(
                f"  {name}"
                + (f" ({summary['rows']:,} rows)" if summary["rows"] is not None else ""),
                path,
                summary,
            )
    for module in (sockets, load, storm, scaleout):
        lines += module.lines(results)
    counts = results["server_log"]["counts"]
    lines.append("server log: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return "\n".join(lines + ["", "== ours / stock =="] + headline(results))


def headline(results):
    """What the issue asks of one run: throughput, latency at 40 msg/s, cost per message,
    the client's cost and the cross-check, the storm's errors."""
    out = load.headline(results)
    idle = latency.grouped(results).get(("idle", "customer->agent"))
    if idle:
        o, s = idle.get("ours", {}), idle.get("stock", {})
        out.append(
            f"idle customer->agent: p50 {latency.fmt(o.get('median'))} / "
            f"{latency.fmt(s.get('median'))} ms, "
            f"p99 {latency.fmt(o.get('p99'))} / {latency.fmt(s.get('p99'))} ms"
        )
    cost = results.get("db_cost_per_message")
    if cost:
        out.append(
            "per message: "
            + ", ".join(
                f"{what.replace('_', ' ')} {cost['ours'][what]} / {cost['stock'][what]}"
                for what in cost["ours"]
            )
        )
    out += clientcheck.lines(results)
    out += [line.strip() for line in storm.lines(results)[-1:]]
    return out


def git_commit():
    def git(*args):
        return subprocess.run(
            ["git", "--no-optional-locks", "-C", str(ROOT), *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    try:
        return git("rev-parse", "--short", "HEAD") + (
            "-dirty" if git("status", "--porcelain") else ""
        )
    except (OSError, subprocess.CalledProcessError):
        return "nogit"


def write_results(results, raw, suffix=""):
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{time.strftime('%Y-%m-%d')}-{results['commit']}{suffix}.json"
    results["latencies_ms"] = {k: [round(v, 3) for v in values] for k, values in raw.items()}
    path.write_text(json.dumps(results, indent=1, default=str))
    return path
