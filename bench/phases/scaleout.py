"""Scale-out, last because it stops the run's server: two Odoo servers on the same database
(BENCH_SCALEOUT_WORKERS each, ``--proxy-mode``), each behind an nginx filled from
tools/nginx.conf.template as `make run` fills it. Customers post and listen through node 1,
agents through node 2, reusing their sessions (the session store is shared), so every message
crosses from one server to the other through PostgreSQL (``bus_bus`` + NOTIFY)."""

import asyncio
import time

from ..client import Client
from ..measure import error_text, server_log_summary
from ..server import Nginx, Server, free_port, log
from .latency import sequential, warm_up


async def run(ctx):
    count, workers = ctx.settings["scaleout_messages"], ctx.settings["scaleout_workers"]
    log(
        f"scale-out: 2 Odoo nodes (--workers={workers} each) behind nginx, customers on node 1, "
        "agents on node 2"
    )
    await asyncio.to_thread(ctx.server.stop)  # the single server's sockets close; its CPU is freed
    nodes, proxies, client = [], [], None
    info = ctx.results["scaleout"] = {"nodes": 2, "workers_per_node": workers, "messages": count}
    started, port = time.monotonic(), 18300
    try:
        for n in (1, 2):
            logfile = ctx.odoo.log_dir / f"bench-{ctx.stamp}-{ctx.db}-node{n}.log"
            node = Server(ctx.odoo, ctx.db, logfile, workers, port, ["--proxy-mode"]).start(
                wait=False
            )
            proxy = Nginx(free_port(node.gevent_port + 1), node)
            port = proxy.listen + 1
            nodes.append(node)
            proxies.append(proxy)
            proxy.start()
        for node in nodes:
            await asyncio.to_thread(node.wait_ready)
        info["entries"] = [
            {"entry": p.listen, "http": n.http_port, "gevent": n.gevent_port}
            for p, n in zip(proxies, nodes, strict=True)
        ]
        info["start_seconds"] = round(time.monotonic() - started, 1)
        log(
            f"  nodes answering in {info['start_seconds']} s; "
            f"nginx entries {[p.listen for p in proxies]}"
        )
        version = ctx.odoo.websocket_version()
        entries = [
            (
                f"http://127.0.0.1:{p.listen}",
                f"ws://127.0.0.1:{p.listen}/websocket?version={version}",
            )
            for p in proxies
        ]
        client = Client(ctx.odoo, ctx.db, ctx.client.data, entries, [n.pid for n in nodes])
        client.use_sessions(ctx.client.sessions)
        client.results, client.raw = ctx.results, ctx.client.raw
        await client.open_measured_sockets()
        await warm_up(client)
        label = "scale-out, 2 nodes"
        log(f"  {label}: {count} messages per path and direction, one at a time")
        info["cpu"] = await sequential(client, label, count)
    except Exception as error:  # noqa: BLE001 - the other phases' figures still get reported
        info["error"] = error_text(error, 300)
        log(f"  scale-out failed: {info['error']}")
    finally:
        if client:
            await client.close(forget_sessions=False)  # the run's client removes them at the end
        for node in nodes:
            await asyncio.to_thread(node.stop)
            info.setdefault("server_logs", []).append(server_log_summary(node.log))
        info["routes"] = {}
        for proxy in proxies:
            if proxy.proc:
                info["routes"].update(proxy.routes())
            proxy.stop()
    info["seconds"] = round(time.monotonic() - started, 1)


def lines(results):
    info = results.get("scaleout")
    if not info:
        return []
    if info.get("error"):
        return [f"scale-out: failed: {info['error']}"]
    routes = ", ".join(f"{k}: {v}" for k, v in sorted(info["routes"].items()))
    errors = sum(s["counts"]["errors"] for s in info.get("server_logs") or [])
    return [
        f"scale-out: 2 nodes x --workers={info['workers_per_node']} behind nginx, customers on "
        f"entry {info['entries'][0]['entry']}, agents on entry {info['entries'][1]['entry']} "
        f"({info['seconds']} s, {errors} server errors)",
        f"  requests by nginx entry -> Odoo port: {routes}",
    ]
