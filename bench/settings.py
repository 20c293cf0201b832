"""Every setting of the three suites, read once from the environment (bench/README.md)."""

import os

MODULE = "im_livechat_ticket"
PASSWORD = "bench-password"  # throwaway databases, served on loopback only
NEW_MESSAGE = "discuss.channel/new_message"
DELIVERY_TIMEOUT = 10.0  # seconds a notification may take before the message counts as lost
DRAIN_TIMEOUT = 30.0  # after an offered-load step, wait at most this for late deliveries
# Open loop, but bounded: beyond this many posts in flight a message is not sent (counted lost).
# Odoo's prefork server listens with a backlog of 8 connections per worker: more waiting
# connections overflow it, and a connection the kernel dropped reaches a worker late, which then
# waits 2 s for its request ("Request timed out") while others queue: the load generator would
# measure that, not the server.
MAX_IN_FLIGHT = int(os.environ.get("BENCH_MAX_IN_FLIGHT") or 16)
SOCKET_CONNECT_CONCURRENCY = 16  # sockets opened at a time, as tabs open, not as a storm
GEVENT_MAXCONN = 32  # the websocket process's database pool, as make run sets it (tools/dev.sh)
CROSSCHECK_TOLERANCE = 0.20  # the plain client's p50 and the main client's may differ this much


def number(name, default, kind=int):
    return kind(os.environ.get(name) or default)


def numbers(name, default, kind=float):
    return [kind(x) for x in (os.environ.get(name) or default).replace("_", "").split(",") if x]


def words(name, default):
    return [x for x in (os.environ.get(name) or default).replace(" ", "").split(",") if x]


BENCH = {
    "customers": number("BENCH_CUSTOMERS", 40),
    "agents": number("BENCH_AGENTS", 4),
    # the desk's other agents, who share the background tickets' history with the measured
    # ones (0: the measured agents hold every background ticket's conversation)
    "desk_agents": number("BENCH_DESK_AGENTS", 36),
    "idle_users": number("BENCH_IDLE_USERS", 10),
    "sockets": number("BENCH_SOCKETS", 1000),
    "rates": numbers("BENCH_RATE", "20,40,80"),
    "seconds": number("BENCH_SECONDS", 15),
    "idle_messages": number("BENCH_IDLE_MESSAGES", 200),
    "crosscheck_messages": number("BENCH_CROSSCHECK_MESSAGES", 60),
    "calibration_requests": number("BENCH_CALIBRATION_REQUESTS", 200),
    "tickets": number("BENCH_TICKETS", 10000),
    "ticket_seconds": number("BENCH_TICKET_SECONDS", 10),
    "concurrency": number("BENCH_CONCURRENCY", 4),
    "queue_queries": number("BENCH_QUEUE_QUERIES", 20),
    "workers": number("BENCH_WORKERS", 2),
    "phases": words("BENCH_PHASES", "idle,client,load,tickets,queue,storm,scaleout"),
    "scaleout_messages": number("BENCH_SCALEOUT_MESSAGES", 100),
    "scaleout_workers": number("BENCH_SCALEOUT_WORKERS", 1),
    "storm_timeout": number("BENCH_STORM_TIMEOUT", 180),
    "storm_messages": number("BENCH_STORM_MESSAGES", 20),
    "db": os.environ.get("BENCH_DB") or None,  # reuse a database kept by BENCH_KEEP=1
    "keep": os.environ.get("BENCH_KEEP") == "1",
}

FAULTS = {
    "customers": number("FAULTS_CUSTOMERS", 6),
    "agents": number("FAULTS_AGENTS", 2),
    "workers": number("FAULTS_WORKERS", 2),
    "interval": number("FAULTS_INTERVAL", 1.0, float),  # seconds between two posts of one party
    "steady": number("FAULTS_STEADY", 8, float),  # plain traffic before/after each fault
    # seconds the paused client stays away: past the bus replay window, Odoo's GC then runs;
    # shorter (a quick run), the window passing is simulated by deleting its bus rows in SQL
    "pause": number("FAULTS_PAUSE", 120, float),
    "drain": number("FAULTS_DRAIN", 30, float),  # at most this long for the views to converge
    "drop": number("FAULTS_DROP", 3),  # sockets dropped by the "drop" fault
    "faults": words("FAULTS_FAULTS", "drop,odoo,postgres,pause"),
    "recovery_limit": number("FAULTS_RECOVERY_LIMIT", 75, float),
}

QUEUE = {
    "sizes": numbers("QUEUE_SIZES", "100000,1000000", int),
    "sizes_given": bool(os.environ.get("QUEUE_SIZES")),
    "queries": number("QUEUE_QUERIES", 30),
    "agents": number("QUEUE_AGENTS", 30),
    "teams": number("QUEUE_TEAMS", 4),
    "customers": number("QUEUE_CUSTOMERS", 10000),
    "companies": number("QUEUE_COMPANIES", 500),
    "workers": number("QUEUE_WORKERS", 2),
    "compare": (os.environ.get("QUEUE_COMPARE") or "1") == "1",
    "explain": number("QUEUE_EXPLAIN", 2),
    "stock_queries": number("QUEUE_STOCK_QUERIES", 3),  # stock's history list takes seconds
    "db": os.environ.get("QUEUE_DB") or None,
    "keep": os.environ.get("QUEUE_KEEP") == "1",
}
