"""Reconnect storm, a phase of bench/run.py (``BENCH_PHASES=...,storm``).

With every socket of the run open (BENCH_SOCKETS idle ones plus the agents'
and customers'), the Odoo server is stopped (SIGTERM to its process group) and
started again. Each socket reconnects as Odoo's web client does and
resubscribes with the last notification id it received. A notification on the
``broadcast`` channel, written into ``bus_bus`` while the server is down,
proves each socket subscribed again: the server replays it to every socket
that resubscribes with an older id. Then a few timed messages show what the
first customers and agents feel right after.
"""

import asyncio
import contextlib
import json
import random
import re
import secrets
import time
from pathlib import Path

import run
from run import SETTINGS, log, percentile, pg_connect, wait_for_server

# Odoo's web client (bus/static/src/workers/websocket_worker.js, _retryConnectionWithDelay):
# after an unclean close or a failed attempt it waits min(delay * 1.5, 60 s) + 1 s * random(),
# delay starting at 1 s and reset to 1 s once a connection opens.
INITIAL_RECONNECT_DELAY = 1.0
MAXIMUM_RECONNECT_DELAY = 60.0
RECONNECT_JITTER = 1.0
ATTEMPT_TIMEOUT = 60.0  # a handshake still unanswered after this counts as a failed attempt

# one line per exception (its last traceback line), not the lines of its traceback
LOG_PATTERNS = {
    "PoolError": re.compile(r"PoolError: "),
    "Connection Pool Is Full": re.compile(r"PoolError: The Connection Pool Is Full"),
    "Too many open files": re.compile(r"Too many open files"),
}


def count_log_lines(path, offset):
    counts = dict.fromkeys(LOG_PATTERNS, 0)
    with contextlib.suppress(OSError), open(path, "rb") as logfile:
        logfile.seek(offset)
        for line in logfile.read().decode(errors="replace").splitlines():
            for what, pattern in LOG_PATTERNS.items():
                if pattern.search(line):
                    counts[what] += 1
    return counts


def write_probe(db, token):
    """A broadcast notification, as bus.bus._sendone writes it, without NOTIFY:
    nobody listens while the server is down; resubscribing sockets poll it."""
    conn = pg_connect(db)
    with conn.cursor() as cr:
        cr.execute(
            """INSERT INTO bus_bus (channel, message, create_date, write_date)
               VALUES (%s, %s, now() at time zone 'UTC', now() at time zone 'UTC') RETURNING id""",
            [
                json.dumps([db, "broadcast"], separators=(",", ":")),
                json.dumps(
                    {"type": "bench/probe", "payload": {"token": token}}, separators=(",", ":")
                ),
            ],
        )
        probe_id = cr.fetchone()[0]
    conn.close()
    return probe_id


def seconds_summary(values):
    values = sorted(values)
    return {
        "count": len(values),
        "median": round(percentile(values, 50), 2) if values else None,
        "p95": round(percentile(values, 95), 2) if values else None,
        "max": round(values[-1], 2) if values else None,
    }


async def phase_storm(bench):
    odoo = bench.odoo
    expected = set(bench.sockets)
    closed_at, attempts, errors, tasks = {}, {}, [], {}
    deadline = time.monotonic() + SETTINGS["storm_timeout"]
    log(f"reconnect storm: restarting Odoo under {len(expected)} open sockets")

    async def reconnect(name):
        sid, measured, presence = bench.socket_meta[name]
        delay = INITIAL_RECONNECT_DELAY
        while time.monotonic() < deadline:
            delay = min(delay * 1.5, MAXIMUM_RECONNECT_DELAY) + RECONNECT_JITTER * random.random()
            await asyncio.sleep(delay)
            try:
                await asyncio.wait_for(
                    bench.open_socket(name, sid, bench.last_ids.get(name, 0), measured, presence),
                    ATTEMPT_TIMEOUT,
                )
                return
            except Exception as error:  # noqa: BLE001 - counted; the client tries again
                attempts[name] = attempts.get(name, 0) + 1
                errors.append(f"{type(error).__name__}: {error}"[:160])

    def on_close(name):
        if name not in expected:
            return
        closed_at.setdefault(name, time.perf_counter())
        task = tasks.get(name)
        if task is None or task.done():
            tasks[name] = asyncio.create_task(reconnect(name))

    server_log = odoo.server_logfile
    log_offset = Path(server_log).stat().st_size
    token = "probe-" + secrets.token_hex(8)
    bench.probe_seen.clear()
    bench.probe = token
    bench.on_close = on_close
    closes_before = len(bench.closed_sockets)
    usage = run.Usage(bench.server_pid)
    t_stop = time.perf_counter()
    try:
        await asyncio.to_thread(odoo.stop)
        t_stopped = time.perf_counter()
        probe_id = write_probe(bench.db, token)
        server = odoo.start(*odoo.server_args, logfile=server_log)
        t_started = time.perf_counter()
        bench.server_pid = usage.server_pid = server.pid
        await asyncio.to_thread(wait_for_server, server, *bench.ports)
        t_ready = time.perf_counter()
        log(
            f"  server stopped in {t_stopped - t_stop:.1f} s, "
            f"answering {t_ready - t_started:.1f} s after start"
        )
        while time.monotonic() < deadline and not expected <= set(bench.probe_seen):
            await asyncio.sleep(0.2)
        t_all = time.perf_counter()
        await asyncio.sleep(
            2
        )  # a socket the server closes again right after its replay shows up here
    finally:
        bench.on_close = None
        bench.probe = None
    cpu = usage.stop()
    for task in tasks.values():
        task.cancel()
    back = {name: bench.probe_seen[name] - closed_at.get(name, t_stop) for name in bench.probe_seen}
    missing = sorted(expected - set(bench.probe_seen))
    open_now = sum(1 for name in expected if name in bench.sockets)
    codes = {}
    for _name, code, _when in bench.closed_sockets[closes_before:]:
        codes[str(code)] = codes.get(str(code), 0) + 1
    per_socket = seconds_summary(back.values())
    info = {
        "sockets": len(expected),
        "back_and_subscribed": len(back),
        "open_after": open_now,
        "missing": len(missing),
        "missing_examples": missing[:5],
        "probe_bus_id": probe_id,
        "stop_seconds": round(t_stopped - t_stop, 2),
        "boot_seconds": round(t_ready - t_started, 2),
        "total_seconds": round(max(bench.probe_seen.values(), default=t_all) - t_stop, 2),
        "after_ready_seconds": round(max(bench.probe_seen.values(), default=t_all) - t_ready, 2),
        "reconnect_seconds": per_socket,
        "failed_attempts": sum(attempts.values()),
        "max_attempts_one_socket": max(attempts.values(), default=0) + 1,
        "first_errors": sorted(set(errors))[:5],
        "close_codes": codes,
        "server_log": count_log_lines(server_log, log_offset),
        "cpu": cpu,
        "client_backoff": {
            "initial_s": INITIAL_RECONNECT_DELAY,
            "factor": 1.5,
            "jitter_s": RECONNECT_JITTER,
            "max_s": MAXIMUM_RECONNECT_DELAY,
        },
    }
    bench.results["storm"] = info
    bench.raw["storm|reconnect_s"] = sorted(back.values())
    bench.raw["storm|back_after_stop_s"] = sorted(t - t_stop for t in bench.probe_seen.values())
    bench.raw["storm|marks_s"] = [t_stopped - t_stop, t_started - t_stop, t_ready - t_stop]
    log(
        f"  {len(back)}/{len(expected)} sockets back and subscribed {info['total_seconds']} s "
        f"after SIGTERM ({info['after_ready_seconds']} s after the server answered); per socket "
        f"p50 {per_socket['median']} s, p95 {per_socket['p95']} s, max {per_socket['max']} s; "
        f"{info['failed_attempts']} failed attempts; server log: "
        + ", ".join(f"{n} {what}" for what, n in info["server_log"].items())
    )
    count = SETTINGS["storm_messages"]
    if count:
        log(f"  right after: {count} messages per path and direction, one at a time")
        await run.phase_sequential(
            bench, "after restart", count, ("customer->agent", "agent->customer")
        )
        run.print_messages(bench, "after restart")


def table_lines(results):
    info = results.get("storm")
    if not info:
        return []
    rs = info["reconnect_seconds"]
    log_counts = ", ".join(f"{n} {what}" for what, n in info["server_log"].items())
    return [
        "reconnect storm (Odoo restarted under every open socket; "
        "web client back-off 1 s x1.5 + 0-1 s jitter)",
        f"  {info['back_and_subscribed']}/{info['sockets']} sockets back and resubscribed in "
        f"{info['total_seconds']} s after SIGTERM (stop {info['stop_seconds']} s, "
        f"boot {info['boot_seconds']} s, "
        f"last socket {info['after_ready_seconds']} s after the server answered)",
        f"  per socket, close -> replayed notification: p50 {rs['median']} s, p95 {rs['p95']} s, "
        f"max {rs['max']} s; {info['failed_attempts']} failed attempts "
        f"(at most {info['max_attempts_one_socket']} for one socket)",
        f"  server log during the storm: {log_counts}",
    ]


def plot(plt, results, raw, out_prefix):
    info = results.get("storm")
    if not info or not raw.get("storm|back_after_stop_s"):
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    values = raw["storm|reconnect_s"]
    ax1.plot(values, [(i + 1) / len(values) for i in range(len(values))], "-", color="tab:blue")
    ax1.set_xlabel("socket closed -> resubscribed (s)")
    ax1.set_ylabel("fraction of sockets")
    ax1.set_title(f"per-socket reconnect time, {info['sockets']:,} sockets", fontsize=10)
    ax1.grid(True, alpha=0.3)
    back = raw["storm|back_after_stop_s"]
    ax2.step(
        [0] + back,
        [0] + list(range(1, len(back) + 1)),
        where="post",
        color="tab:blue",
        label="sockets back and resubscribed",
    )
    for mark, label, color in zip(
        raw["storm|marks_s"],
        ("stopped", "started", "answering"),
        ("tab:red", "tab:orange", "tab:green"),
        strict=True,
    ):
        ax2.axvline(mark, linestyle=":", color=color, label=f"server {label}")
    ax2.axhline(info["sockets"], linestyle="--", color="grey", linewidth=0.8)
    ax2.set_xlabel("seconds since SIGTERM")
    ax2.set_ylabel("sockets")
    ax2.set_title("recovery after a server restart", fontsize=10)
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path = f"{out_prefix}-storm.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
