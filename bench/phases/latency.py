"""Message latency one message at a time (idle, and the other phases' sequential checks), and
what a message costs PostgreSQL."""

import asyncio
import time

from ..client import DIRECTIONS
from ..measure import Usage, log_size, server_cost_per_request
from ..server import bus_last_id, log, sql


async def warm_up(client):
    """One message per customer on each path, in opposite directions: every socket must get
    its notifications before anything is timed."""
    semaphore, failures = asyncio.Semaphore(6), []

    async def one(index, path, direction):
        async with semaphore:
            record = await client.timed_message(index, path, direction)
            if record["received"] is None:
                failures.append((path, direction, record["error"]))

    await asyncio.gather(
        *(
            one(i, path, DIRECTIONS[(i + k) % 2])
            for i in client.active()
            for k, path in enumerate(("ours", "stock"))
        )
    )
    if failures:
        raise RuntimeError(f"warm-up: {len(failures)} messages not delivered, e.g. {failures[:3]}")
    log("warm-up: every socket receives, both paths deliver both ways")


async def sequential(client, label, count, directions=DIRECTIONS):
    """``count`` messages per path and direction, one at a time, paths and directions
    interleaved so that both see the same machine."""
    customers = client.active()
    combos = [(path, direction) for direction in directions for path in ("ours", "stock")]
    records = {combo: [] for combo in combos}
    usage, sent = Usage(client.server_pids), client.requests
    for i in range(count):
        for n, combo in enumerate(combos):
            index = customers[(i * len(combos) + n) % len(customers)]
            records[combo].append(await client.timed_message(index, *combo))
            await asyncio.sleep(0.01)
    cpu = usage.stop(client.requests - sent)
    for (path, direction), recs in records.items():
        client.record_metric(f"{label}|{direction}|{path}", recs, cpu=cpu)
    print_messages(client.results, label)
    return cpu


def print_messages(results, prefix):
    for (phase, direction), paths in grouped(results).items():
        if phase.startswith(prefix):
            ours, stock = paths.get("ours", {}), paths.get("stock", {})
            log(
                f"  {phase} {direction}: p50 ours {fmt(ours.get('median'))} / stock "
                f"{fmt(stock.get('median'))} ms ({ratio(ours.get('median'), stock.get('median'))})"
            )


def grouped(results):
    """(phase, direction) -> {path: summary}, from the 'phase|direction|path' keys."""
    out = {}
    for key, summary in results["messages"].items():
        phase, direction, path = key.split("|")
        out.setdefault((phase, direction), {})[path] = summary
    return out


def fmt(value, digits=0):
    return "-" if value is None else f"{value:,.{digits}f}"


def ratio(ours, stock):
    return "-" if ours is None or not stock else f"{ours / stock:.2f}x"


FLUSH = 11  # seconds: an idle PostgreSQL backend reports its counters within 10 s


def db_counters(db):
    """(time, commits, rows written, last bus id) of the database so far (pg_stat_database)."""
    ((commits, rows),) = sql(
        db,
        "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted "
        "FROM pg_stat_database WHERE datname = current_database()",
    )
    return (time.monotonic(), commits, rows, bus_last_id(db))


async def db_cost(client, server_log, count=40):
    """Per message and path: rows written and commits (pg_stat_database), bus_bus rows (each
    NOTIFYed and polled), and the post's own SQL statements, SQL time and Python time (Odoo's
    figures in its access log). Customer to agent, one at a time, each path in a window that
    ends once the server's backends reported their counters; a first window without messages
    measures what the rest of the run writes meanwhile (presence updates), taken off pro rata."""
    customers, cost = client.active(), {}
    await asyncio.sleep(FLUSH)  # what the earlier phases wrote is reported by now
    start = db_counters(client.db)
    await asyncio.sleep(FLUSH)
    quiet = db_counters(client.db)
    background = [(q - s) / (quiet[0] - start[0]) for q, s in zip(quiet, start, strict=True)]
    for path in ("ours", "stock"):
        before, offset = db_counters(client.db), log_size(server_log)
        for i in range(count):
            await client.timed_message(customers[i % len(customers)], path, "customer->agent")
        await asyncio.sleep(FLUSH)
        after = db_counters(client.db)
        per = [
            round((a - b - rate * (after[0] - before[0])) / count, 1)
            for a, b, rate in zip(after, before, background, strict=True)
        ]
        cost[path] = {
            "rows_written": per[2],
            "commits": per[1],
            "bus_rows": per[3],
        } | server_cost_per_request(server_log, offset, "/mail/message/post")
    client.results["db_cost_per_message"] = cost
    log(
        "  per message, ours / stock: "
        + ", ".join(f"{what} {cost['ours'][what]} / {cost['stock'][what]}" for what in cost["ours"])
    )


async def run(ctx):
    count = ctx.settings["idle_messages"]
    log(f"idle: {count} messages per path and direction, one at a time")
    await sequential(ctx.client, "idle", count)
    await db_cost(ctx.client, ctx.server.log)
