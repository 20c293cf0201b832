"""Idle sockets: BENCH_SOCKETS silent logged-in portal users' tabs, opened
SOCKET_CONNECT_CONCURRENCY at a time, then the latency with them held. Reports what they cost
the gevent worker: file descriptors, resident and virtual memory, and the socket count its fd
limit allows."""

import asyncio
import resource
import time

from .. import measure
from ..server import bus_last_id, log
from ..settings import SOCKET_CONNECT_CONCURRENCY
from .latency import fmt, sequential


def per_socket(after, before, count, scale=1):
    return round((after - before) * scale / count, 2) if after and before and count else None


async def open_idle_sockets(client, target):
    idle = [c for c in client.data["customers"] if c["idle"]]
    if not target or not idle or client.results["sockets"]:
        return
    log(f"opening {target} idle sockets")
    for customer in idle:
        if customer["login"] not in client.sessions:
            await client.login(customer["login"])
    gpid = measure.gevent_pid(client.server_pids[0])
    before = [
        measure.fd_count(gpid),
        measure.proc_status(gpid, "VmRSS"),
        measure.proc_status(gpid, "VmSize"),
    ]
    last, semaphore = bus_last_id(client.db), asyncio.Semaphore(SOCKET_CONNECT_CONCURRENCY)
    errors, connect_ms = [], []
    usage, started = measure.Usage(client.server_pids), time.monotonic()

    async def one(k):
        async with semaphore:
            t0 = time.perf_counter()
            try:
                await client.open_socket(f"idle:{k}", idle[k % len(idle)]["login"], last, False)
                connect_ms.append((time.perf_counter() - t0) * 1000)
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(measure.error_text(error))

    await asyncio.gather(*(one(k) for k in range(target)))
    await asyncio.sleep(2)  # let the server finish the subscriptions
    elapsed = time.monotonic() - started
    count = sum(1 for name in client.sockets if name.startswith("idle:"))
    fds, rss, vms = (
        measure.fd_count(gpid),
        measure.proc_status(gpid, "VmRSS"),
        measure.proc_status(gpid, "VmSize"),
    )
    limit, fds_each = measure.fd_limit(gpid), per_socket(fds, before[0], count)
    client.results["sockets"] = info = measure.summarize(
        connect_ms,
        lost=target - count,
        errors=errors,
        target=target,
        open=count,
        seconds_to_open=round(elapsed, 1),
        client_fd_limit=resource.getrlimit(resource.RLIMIT_NOFILE),
        gevent_pid=gpid,
        gevent_fds_before=before[0],
        gevent_fds_after=fds,
        gevent_fds_per_socket=fds_each,
        gevent_rss_mib=rss,
        gevent_kib_per_socket=per_socket(rss, before[1], count, 1024),
        # Odoo restarts the gevent worker past limit_memory_soft(_gevent) of virtual memory
        gevent_vms_mib=vms,
        gevent_vms_kib_per_socket=per_socket(vms, before[2], count, 1024),
        gevent_fd_limit=limit,
        gevent_socket_ceiling=int((limit - before[0]) / fds_each) if limit and fds_each else None,
        connect_concurrency=SOCKET_CONNECT_CONCURRENCY,
        cpu_while_opening=usage.stop(),
    )
    client.raw["socket connect"] = connect_ms
    log(
        f"{count}/{target} idle sockets open in {elapsed:.1f} s; gevent worker {fds} fds "
        f"({info['gevent_fds_per_socket']} per socket), {fmt(rss)} MiB"
    )


async def run(ctx):
    await open_idle_sockets(ctx.client, ctx.settings["sockets"])
    count = max(10, ctx.settings["idle_messages"] // 4)
    label = f"idle, {ctx.results['sockets'].get('open', 0)} sockets held"
    log(f"{label}: {count} messages per path, customer->agent, one at a time")
    await sequential(ctx.client, label, count, ("customer->agent",))


def lines(results):
    s = results.get("sockets")
    if not s:
        return []
    out = [
        f"idle sockets: {s['open']}/{s['target']} open in {s['seconds_to_open']} s (connect+"
        f"subscribe p50 {fmt(s['median'])} ms, p99 {fmt(s['p99'])} ms); gevent worker "
        f"{s['gevent_fds_after']} fds = {s['gevent_fds_per_socket']} per socket, "
        f"{fmt(s['gevent_rss_mib'])} MiB resident = {fmt(s['gevent_kib_per_socket'])} KiB per "
        f"socket ({fmt(s['gevent_vms_mib'])} MiB virtual); {s['errors']} errors"
    ]
    if s.get("gevent_socket_ceiling"):
        out.append(
            f"  the gevent worker's fd limit ({s['gevent_fd_limit']:,}) caps it near "
            f"{s['gevent_socket_ceiling']:,} sockets"
        )
    return out
