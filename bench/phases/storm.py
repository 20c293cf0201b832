"""Reconnect storm. With every socket of the run open (the idle ones, opened now if no phase
did, and the measured ones), the server is stopped (SIGTERM to its process group, as a deploy
does) and started again. Each socket reconnects as Odoo's web client does and resubscribes
with the last notification id it received. A notification on the ``broadcast`` channel,
written into ``bus_bus`` while the server is down, proves each socket subscribed again: the
server replays it to every socket that resubscribes with an older id. Then a few timed
messages show what the first customers and agents feel right after."""

import asyncio
import json
import re
import secrets
import time

from ..client import INITIAL_DELAY, JITTER, MAXIMUM_DELAY
from ..measure import Usage, log_size, percentile, read_log
from ..server import log, sql
from .latency import sequential
from .sockets import open_idle_sockets

LOG_PATTERNS = {
    "PoolError": re.compile(r"PoolError: "),
    "Connection Pool Is Full": re.compile(r"PoolError: The Connection Pool Is Full"),
    "Too many open files": re.compile(r"Too many open files"),
}


def write_probe(db, token):
    """A broadcast notification, as bus.bus._sendone writes it, without NOTIFY: nobody listens
    while the server is down; resubscribing sockets poll it."""
    return sql(
        db,
        "INSERT INTO bus_bus (channel, message, create_date, write_date) VALUES "
        "(%s, %s, now() at time zone 'UTC', now() at time zone 'UTC') RETURNING id",
        [
            json.dumps([db, "broadcast"], separators=(",", ":")),
            json.dumps({"type": "bench/probe", "payload": {"token": token}}, separators=(",", ":")),
        ],
    )[0][0]


def seconds_summary(values):
    values = sorted(values)
    return {
        q: round(percentile(values, p), 2) if values else None
        for q, p in (("median", 50), ("p95", 95), ("max", 100))
    } | {"count": len(values)}


async def run(ctx):
    client, server = ctx.client, ctx.server
    await open_idle_sockets(client, ctx.settings["sockets"])
    expected = set(client.sockets)
    closed_at, attempts, errors, tasks = {}, {}, [], {}
    deadline = time.monotonic() + ctx.settings["storm_timeout"]
    log(f"reconnect storm: restarting Odoo under {len(expected)} open sockets")

    async def reconnect(name):
        failed = await client.reopen(name, deadline)
        attempts[name] = len(failed)
        errors.extend(failed)

    def on_close(name):
        if name in expected:
            closed_at.setdefault(name, time.perf_counter())
            if name not in tasks or tasks[name].done():
                tasks[name] = asyncio.create_task(reconnect(name))

    offset, token = log_size(server.log), "probe-" + secrets.token_hex(8)
    client.probe_seen.clear()
    client.probe, client.on_close = token, on_close
    closes_before = len(client.closed_sockets)
    usage = Usage(client.server_pids)
    t_stop = time.perf_counter()
    try:
        await asyncio.to_thread(server.stop)
        t_stopped = time.perf_counter()
        probe_id = write_probe(client.db, token)
        await asyncio.to_thread(server.start, False)
        t_started = time.perf_counter()
        client.server_pids[:] = usage.server_pids[:] = [server.pid]
        await asyncio.to_thread(server.wait_ready)
        t_ready = time.perf_counter()
        log(
            f"  server stopped in {t_stopped - t_stop:.1f} s, "
            f"answering {t_ready - t_started:.1f} s after start"
        )
        while time.monotonic() < deadline and not expected <= set(client.probe_seen):
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # a socket the server closes again right after its replay shows here
    finally:
        client.on_close = client.probe = None
    for task in tasks.values():
        task.cancel()
    seen = client.probe_seen
    back = {name: seen[name] - closed_at.get(name, t_stop) for name in seen}
    last = max(seen.values(), default=time.perf_counter())
    codes = {}
    for _name, code, _when in client.closed_sockets[closes_before:]:
        codes[str(code)] = codes.get(str(code), 0) + 1
    log_counts = dict.fromkeys(LOG_PATTERNS, 0)
    for line in read_log(server.log, offset):
        for what, pattern in LOG_PATTERNS.items():
            log_counts[what] += bool(pattern.search(line))
    ctx.results["storm"] = {
        "sockets": len(expected),
        "back_and_subscribed": len(back),
        "open_after": sum(1 for name in expected if name in client.sockets),
        "missing": len(expected - set(seen)),
        "missing_examples": sorted(expected - set(seen))[:5],
        "probe_bus_id": probe_id,
        "stop_seconds": round(t_stopped - t_stop, 2),
        "boot_seconds": round(t_ready - t_started, 2),
        "total_seconds": round(last - t_stop, 2),
        "after_ready_seconds": round(last - t_ready, 2),
        "reconnect_seconds": seconds_summary(back.values()),
        "failed_attempts": sum(attempts.values()),
        "max_attempts_one_socket": max(attempts.values(), default=0) + 1,
        "first_errors": sorted(set(errors))[:5],
        "close_codes": codes,
        "server_log": log_counts,
        "cpu": usage.stop(),
        "client_backoff": {
            "initial_s": INITIAL_DELAY,
            "factor": 1.5,
            "jitter_s": JITTER,
            "max_s": MAXIMUM_DELAY,
        },
    }
    client.raw["storm|reconnect_s"] = sorted(back.values())
    client.raw["storm|back_after_stop_s"] = sorted(t - t_stop for t in seen.values())
    client.raw["storm|marks_s"] = [t_stopped - t_stop, t_started - t_stop, t_ready - t_stop]
    for line in lines(ctx.results)[1:]:
        log(line)
    if ctx.settings["storm_messages"]:
        log(f"  right after: {ctx.settings['storm_messages']} messages per path and direction")
        await sequential(client, "after restart", ctx.settings["storm_messages"])


def lines(results):
    info = results.get("storm")
    if not info:
        return []
    rs, counts = (
        info["reconnect_seconds"],
        ", ".join(f"{n} {w}" for w, n in info["server_log"].items()),
    )
    return [
        "reconnect storm (Odoo restarted under every open socket; web client back-off 1 s x1.5 "
        "+ 0-1 s jitter)",
        f"  {info['back_and_subscribed']}/{info['sockets']} sockets back and resubscribed in "
        f"{info['total_seconds']} s after SIGTERM (stop {info['stop_seconds']} s, boot "
        f"{info['boot_seconds']} s, last socket {info['after_ready_seconds']} s after the server "
        "answered)",
        f"  per socket, close -> replayed notification: p50 {rs['median']} s, p95 {rs['p95']} s, "
        f"max {rs['max']} s; {info['failed_attempts']} failed attempts "
        f"(at most {info['max_attempts_one_socket']} for one socket)",
        f"  storm errors in the server log: {counts}",
    ]
