#!/usr/bin/env python3
"""Measured speed and scale of im_livechat_ticket, side by side with stock Odoo paths.

Started by ``make bench`` (``tools/dev.sh bench``), which passes how to run Odoo:

    run.py --odoo <odoo-bin | -m odoo> -- <options for every odoo command>

It creates a throwaway database, installs the addon without demo data, fills
it in bulk (bench/populate.py), serves it as in production (prefork workers
plus the gevent websocket process), drives it with real HTTP and websocket
clients on loopback, prints a table, saves JSON (and PNG plots) under
bench/results/, and always stops its servers and drops its database.
Settings come from BENCH_* environment variables: see bench/README.md.
"""

import asyncio
import contextlib
import ctypes
import datetime
import json
import math
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":
    # bench/scaleout.py and bench/storm.py import this file as ``run``: one copy of it
    sys.modules.setdefault("run", sys.modules[__name__])
    sys.path.insert(0, str(HERE))
ROOT = HERE.parent
MODULE = "im_livechat_ticket"
NEW_MESSAGE = "discuss.channel/new_message"
TOKEN_RE = re.compile(r"bnch-[0-9a-f]{16}")
PASSWORD = "bench-password"  # throwaway database, served on loopback only


def env_int(name, default):
    return int(os.environ.get(name) or default)


def env_list(name, default):
    return [float(x) for x in (os.environ.get(name) or default).replace(" ", "").split(",") if x]


SETTINGS = {
    "customers": env_int("BENCH_CUSTOMERS", 40),
    "agents": env_int("BENCH_AGENTS", 4),
    "idle_users": env_int("BENCH_IDLE_USERS", 10),
    "sockets": env_int("BENCH_SOCKETS", 1000),
    "rates": env_list("BENCH_RATE", "10,20,30"),
    "seconds": env_int("BENCH_SECONDS", 15),
    "idle_messages": env_int("BENCH_IDLE_MESSAGES", 200),
    "tickets": env_int("BENCH_TICKETS", 10000),
    "ticket_seconds": env_int("BENCH_TICKET_SECONDS", 10),
    "concurrency": env_int("BENCH_CONCURRENCY", 4),
    "queue_queries": env_int("BENCH_QUEUE_QUERIES", 20),
    "workers": env_int("BENCH_WORKERS", 2),
    "phases": (os.environ.get("BENCH_PHASES") or "idle,load,tickets,queue,storm,scaleout").split(
        ","
    ),
    "scaleout_messages": env_int("BENCH_SCALEOUT_MESSAGES", 100),
    "scaleout_workers": env_int("BENCH_SCALEOUT_WORKERS", 1),
    "storm_timeout": env_int("BENCH_STORM_TIMEOUT", 180),
    "storm_messages": env_int("BENCH_STORM_MESSAGES", 20),
}
REUSE_DB = os.environ.get("BENCH_DB") or None  # developers: an existing bench db, kept afterwards
KEEP_DB = os.environ.get("BENCH_KEEP") == "1"
DELIVERY_TIMEOUT = 10.0  # seconds a notification may take before the message counts as lost
DRAIN_TIMEOUT = 30.0  # after an offered-load step, wait at most this for late deliveries
MAX_IN_FLIGHT = 400  # open loop, but bounded: beyond this a message is not sent (counted lost)
SOCKET_CONNECT_CONCURRENCY = 16  # below the gevent worker's db pool (db_maxconn 64)


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- processes


def _die_with_parent():
    """Child processes get SIGTERM if this script dies without cleaning up."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Odoo:
    def __init__(self, argv):
        if "--odoo" not in argv or "--" not in argv:
            sys.exit(__doc__)
        sep = argv.index("--")
        self.prefix = [sys.executable, *argv[argv.index("--odoo") + 1 : sep]]
        self.common = argv[sep + 1 :]
        data_dirs = [a.split("=", 1)[1] for a in self.common if a.startswith("--data-dir=")]
        self.data_dir = Path(data_dirs[-1]) if data_dirs else Path.home() / ".local/share/Odoo"
        self.state_dir = self.data_dir.parent / "bench"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = self.data_dir.parent / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.server = None
        self.server_log = None
        self.server_args = None
        self.server_logfile = None
        src = Path(argv[argv.index("--odoo") + 1]).resolve().parent
        self.odoo_src = src

    def cmd(self, *args):
        return [*self.prefix, *args, *self.common]

    def spawn(self, *args, stdin=None, env=None, logfile=None):
        with open(logfile, "ab") as out:
            return subprocess.Popen(
                self.cmd(*args),
                stdin=stdin,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                preexec_fn=_die_with_parent,
            )

    def run(self, *args, stdin=None, env=None, logfile=None):
        self.wait([self.spawn(*args, stdin=stdin, env=env, logfile=logfile)], logfile)

    @staticmethod
    def wait(procs, logfile):
        try:
            codes = [proc.wait() for proc in procs]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait()
        if any(codes):
            tail = Path(logfile).read_text(errors="replace").splitlines()[-30:]
            raise RuntimeError(
                f"an odoo command failed ({codes}), see {logfile}:\n" + "\n".join(tail)
            )

    def start(self, *args, logfile):
        self.server_args, self.server_logfile = args, logfile
        self.server_log = open(logfile, "ab")
        self.server = subprocess.Popen(
            self.cmd(*args),
            stdout=self.server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        return self.server

    def stop(self):
        if not self.server:
            return
        if self.server.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(5)
        # the workers are in the same process group; make sure none is left
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGKILL)
        self.server = None
        self.server_log.close()

    def websocket_version(self):
        source = self.odoo_src / "addons/bus/websocket.py"
        match = re.search(r'_VERSION = "([^"]+)"', source.read_text()) if source.exists() else None
        return match.group(1) if match else "18.0-2"


def free_port(start):
    port = start
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                with contextlib.suppress(OSError):
                    sock2 = socket.socket()
                    sock2.bind(("127.0.0.1", port))
                    sock2.close()
                    return port
        port += 1


def descendants(pid):
    """pid and all its descendant pids (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def proc_cpu_seconds(pids):
    """CPU seconds used so far, by pid."""
    used = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def cpu_delta(start, end):
    """CPU seconds used between two samples: processes that ended in between
    are missed, processes started in between count in full."""
    return sum(max(0.0, seconds - start.get(pid, 0.0)) for pid, seconds in end.items())


def postgres_pids():
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{entry}/comm").read_text().strip() == "postgres":
                    pids.append(int(entry))
    return pids


def machine_cpu():
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


def memory_gib():
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2)
    return None


def gevent_pid(server_pid):
    for pid in descendants(server_pid):
        with contextlib.suppress(OSError):
            if b"gevent" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[2:4]:
                return pid
    return None


def fd_count(pid):
    with contextlib.suppress(OSError):
        return len(os.listdir(f"/proc/{pid}/fd"))
    return None


def process_fd_limit(pid):
    """The soft 'Max open files' limit of a process."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


def rss_mib(pid, field="VmRSS"):
    """Resident memory; field="VmSize": virtual, what Odoo's limit_memory_* options watch."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


class Usage:
    """CPU used over a phase: whole machine, the Odoo server tree, this load
    generator, and every PostgreSQL process (others' included)."""

    def __init__(self, server_pid):
        self.server_pid = server_pid  # or a list of them: several servers
        self.start = self._sample()

    def _sample(self):
        total, idle = machine_cpu()
        roots = self.server_pid if isinstance(self.server_pid, list) else [self.server_pid]
        return {
            "t": time.monotonic(),
            "total": total,
            "idle": idle,
            "server": proc_cpu_seconds([pid for root in roots for pid in descendants(root)]),
            "client": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
            "postgres": proc_cpu_seconds(postgres_pids()),
        }

    def stop(self):
        end, start = self._sample(), self.start
        wall = max(end["t"] - start["t"], 1e-6)
        ticks = max(end["total"] - start["total"], 1)
        cores = os.cpu_count() or 1
        return {
            "seconds": round(wall, 1),
            "machine_busy_pct": round(100 * (1 - (end["idle"] - start["idle"]) / ticks), 1),
            # in % of one core
            "server_cpu_pct": round(100 * cpu_delta(start["server"], end["server"]) / wall, 1),
            "client_cpu_pct": round(100 * (end["client"] - start["client"]) / wall, 1),
            "postgres_cpu_pct": round(
                100 * cpu_delta(start["postgres"], end["postgres"]) / wall, 1
            ),
            "cores": cores,
        }


# ---------------------------------------------------------------- database


def pg_connect(dbname="postgres"):
    import psycopg2

    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def drop_database(odoo, db):
    with contextlib.suppress(Exception):
        conn = pg_connect()
        with conn.cursor() as cr:
            cr.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.close()
    shutil.rmtree(odoo.data_dir / "filestore" / db, ignore_errors=True)


def bus_last_id(db):
    conn = pg_connect(db)
    with conn.cursor() as cr:
        cr.execute("SELECT COALESCE(max(id), 0) FROM bus_bus")
        last = cr.fetchone()[0]
    conn.close()
    return last


# ---------------------------------------------------------------- statistics


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    index = max(0, math.ceil(q / 100 * len(sorted_values)) - 1)
    return sorted_values[index]


def summarize(values_ms, lost=0, errors=0, extra=None):
    values = sorted(values_ms)
    result = {
        "count": len(values),
        "lost": lost,
        "errors": errors,
        "median": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": values[-1] if values else None,
    }
    result.update(extra or {})
    return result


# ---------------------------------------------------------------- clients


class RpcError(Exception):
    pass


class Bench:
    def __init__(self, odoo, db, data, http_port, gevent_port, server_pid):
        import aiohttp

        self.aiohttp = aiohttp
        self.odoo = odoo
        self.db = db
        self.data = data
        self.base = f"http://127.0.0.1:{http_port}"
        self.ws_url = f"ws://127.0.0.1:{gevent_port}/websocket?version={odoo.websocket_version()}"
        self.server_pid = server_pid
        self.ports = (http_port, gevent_port)
        # One request per connection, as nginx talks to Odoo by default: a
        # kept-alive connection pins a prefork worker until its 2 s socket
        # timeout (ODOO_HTTP_SOCKET_TIMEOUT) and starves the others.
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=MAX_IN_FLIGHT + 50, limit_per_host=0, force_close=True
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=120),
        )
        # websockets hold their connection for good: a pool of their own, unbounded
        self.wsclient = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
        )
        self.sessions = {}  # login -> session id
        self.login_of = {}  # session id -> login
        self.sockets = {}  # socket name -> websocket
        self.socket_meta = {}  # socket name -> (session id, measured, presence)
        self.last_ids = {}  # socket name -> last bus notification id it received
        self.on_close = None  # called with a socket's name when it closes (reconnect storm)
        self.probe = None  # a token: sockets whose frames carry it are noted in probe_seen
        self.probe_seen = {}  # socket name -> time it received the probe
        self.readers = []
        self.pending = {}  # token -> message record
        self.received_frames = 0
        self.closed_sockets = []
        self.rpc_id = 0
        self.results = {"messages": {}, "load": [], "sockets": {}, "tickets": {}, "queue": {}}
        self.raw = {}  # metric key -> latencies (ms), for plots

    async def close(self):
        for task in self.readers:
            task.cancel()
        sockets = list(self.sockets.values())
        for start in range(0, len(sockets), 100):
            await asyncio.gather(
                *(asyncio.wait_for(ws.close(), 5) for ws in sockets[start : start + 100]),
                return_exceptions=True,
            )
        await self.http.close()
        await self.wsclient.close()
        # the server's session files of our logins (<data-dir>/sessions/<sid[:2]>/<sid>)
        for sid in self.sessions.values():
            with contextlib.suppress(OSError):
                (self.odoo.data_dir / "sessions" / sid[:2] / sid).unlink()

    # -- where each user connects (one entry here; one per node in bench/scaleout.py)

    def entry(self, login):
        """(HTTP base URL, websocket URL) that ``login`` uses."""
        return self.base, self.ws_url

    def base_for(self, sid):
        return self.entry(self.login_of.get(sid))[0]

    def use_sessions(self, sessions):
        """Reuse logged-in sessions (the session store is shared by every server of the db)."""
        self.sessions.update(sessions)
        self.login_of.update({sid: login for login, sid in sessions.items()})

    # -- HTTP

    async def jsonrpc(self, path, params, sid=None, base=None):
        self.rpc_id += 1
        headers = {"Cookie": f"session_id={sid}"} if sid else {}
        payload = {"jsonrpc": "2.0", "method": "call", "id": self.rpc_id, "params": params}
        url = (base or self.base_for(sid)) + path
        async with self.http.post(url, json=payload, headers=headers) as response:
            body = await response.json(content_type=None)
            cookie = response.cookies.get("session_id")
        if body.get("error"):
            error = body["error"]
            raise RpcError((error.get("data") or {}).get("message") or error.get("message"))
        return body.get("result"), cookie.value if cookie else None

    async def login(self, login):
        result, sid = await self.jsonrpc(
            "/web/session/authenticate",
            {"db": self.db, "login": login, "password": PASSWORD},
            base=self.entry(login)[0],
        )
        if not sid or not result or not result.get("uid"):
            raise RpcError(f"login of {login} failed")
        self.use_sessions({login: sid})
        return sid

    async def post_message(self, sid, channel_id, body):
        params = {
            "post_data": {
                "body": body,
                "message_type": "comment",
                "subtype_xmlid": "mail.mt_comment",
            },
            "thread_id": channel_id,
            "thread_model": "discuss.channel",
            "context": {"mail_post_autofollow": False, "temporary_id": random.random()},
        }
        return (await self.jsonrpc("/mail/message/post", params, sid))[0]

    # -- websockets

    async def open_socket(self, name, sid, last, measured, presence=True):
        base, ws_url = self.entry(self.login_of.get(sid))
        self.socket_meta[name] = (sid, measured, presence)
        self.last_ids[name] = max(last, self.last_ids.get(name, 0))
        ws = await self.wsclient.ws_connect(
            ws_url,
            headers={"Origin": base, "Cookie": f"session_id={sid}"},
            autoping=True,
            heartbeat=None,
            max_msg_size=0,
        )
        await ws.send_str(
            json.dumps(
                {"event_name": "subscribe", "data": {"channels": [], "last": self.last_ids[name]}}
            )
        )
        if presence:
            await ws.send_str(
                json.dumps(
                    {
                        "event_name": "update_presence",
                        "data": {"inactivity_period": 0, "im_status_ids_by_model": {}},
                    }
                )
            )
        self.sockets[name] = ws
        self.readers.append(asyncio.create_task(self._read(name, ws, measured)))
        return ws

    async def _read(self, name, ws, measured):
        aiohttp = self.aiohttp
        while True:
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.TEXT:
                now = time.perf_counter()
                self.received_frames += 1
                notifications = json.loads(message.data)
                if notifications:
                    # resubscribing after a reconnect asks for what came after this one
                    self.last_ids[name] = max(self.last_ids.get(name, 0), notifications[-1]["id"])
                if self.probe and self.probe in message.data:
                    self.probe_seen.setdefault(name, now)
                if measured and "bnch-" in message.data:
                    self._match(name, notifications, now)
            elif message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                self.closed_sockets.append((name, ws.close_code, time.monotonic()))
                if self.sockets.get(name) is ws:
                    self.sockets.pop(name)
                if self.on_close:
                    self.on_close(name)
                return

    def _match(self, name, notifications, now):
        for notification in notifications:
            message = notification.get("message") or {}
            if message.get("type") != NEW_MESSAGE:
                continue
            for token in TOKEN_RE.findall(json.dumps(message.get("payload"))):
                record = self.pending.get(token)
                if record and record["receiver"] == name and record.get("received") is None:
                    record["received"] = now
                    record["event"].set()

    async def presence_keeper(self, names):
        """The web client reports presence every minute; agents stay online."""
        payload = json.dumps(
            {
                "event_name": "update_presence",
                "data": {"inactivity_period": 0, "im_status_ids_by_model": {}},
            }
        )
        while True:
            await asyncio.sleep(45)
            for name in names:
                ws = self.sockets.get(name)
                if ws is not None:
                    with contextlib.suppress(Exception):
                        await ws.send_str(payload)

    # -- one timed message

    def route(self, index, path, direction):
        customer = self.data["customers"][index]
        agent = self.data["agents"][customer["agent"]]
        channel_id = customer["ticket_channel_id" if path == "ours" else "stock_channel_id"]
        if direction == "customer->agent":
            return self.sessions[customer["login"]], channel_id, f"agent:{agent['login']}"
        return self.sessions[agent["login"]], channel_id, f"customer:{customer['login']}"

    async def timed_message(self, index, path, direction):
        sid, channel_id, receiver = self.route(index, path, direction)
        token = "bnch-" + secrets.token_hex(8)
        record = {"receiver": receiver, "event": asyncio.Event(), "received": None, "error": None}
        self.pending[token] = record
        record["sent"] = time.perf_counter()
        try:
            await self.post_message(sid, channel_id, f"Bench message {token}")
            record["answered"] = time.perf_counter()
        except Exception as error:  # noqa: BLE001 - any failure is a lost message, counted
            record["error"] = f"{type(error).__name__}: {error}"[:200]
            record["answered"] = time.perf_counter()
        if record["error"] is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(record["event"].wait(), DELIVERY_TIMEOUT)
        self.pending.pop(token, None)
        return record

    def record_metric(self, key, records, extra=None):
        latencies = [
            (r["received"] - r["sent"]) * 1000 for r in records if r["received"] is not None
        ]
        rpc = sorted((r["answered"] - r["sent"]) * 1000 for r in records if r["error"] is None)
        errors = [r["error"] for r in records if r["error"]]
        lost = sum(1 for r in records if r["received"] is None)
        summary = summarize(latencies, lost=lost, errors=len(errors), extra=extra)
        summary["post_rpc_median"] = percentile(rpc, 50)
        summary["post_rpc_p95"] = percentile(rpc, 95)
        if errors:
            summary["first_errors"] = sorted(set(errors))[:3]
        self.results["messages"][key] = summary
        self.raw[key] = latencies
        return summary


# ---------------------------------------------------------------- phases


async def phase_connect(bench):
    data = bench.data
    logins = [a["login"] for a in data["agents"]] + [c["login"] for c in data["customers"]]
    log(f"logging in {len(logins)} users (each login costs ~0.5 s of pbkdf2 on the server)")
    semaphore = asyncio.Semaphore(SETTINGS["workers"])

    async def login(name):
        async with semaphore:
            await bench.login(name)

    await asyncio.gather(*(login(name) for name in logins))
    await open_measured_sockets(bench)


async def open_measured_sockets(bench):
    """One socket per agent and per active customer, timed by the message phases."""
    data = bench.data
    last = bus_last_id(bench.db)
    for agent in data["agents"]:
        await bench.open_socket(
            f"agent:{agent['login']}", bench.sessions[agent["login"]], last, True
        )
    for customer in data["customers"]:
        if not customer["idle"]:
            await bench.open_socket(
                f"customer:{customer['login']}", bench.sessions[customer["login"]], last, True
            )
    log(f"{len(bench.sockets)} measured sockets open (agents and active customers)")


def active_customers(bench):
    return [i for i, c in enumerate(bench.data["customers"]) if not c["idle"]]


async def warm_up(bench):
    """Two messages per customer, one on each path, in opposite directions:
    checks that every socket gets its notifications and warms the workers
    before anything is timed."""
    semaphore = asyncio.Semaphore(6)
    failures = []

    async def one(index, path, direction):
        async with semaphore:
            record = await bench.timed_message(index, path, direction)
            if record["received"] is None:
                failures.append((path, direction, record["error"]))

    directions = ("customer->agent", "agent->customer")
    await asyncio.gather(
        *(
            one(i, path, directions[(i + k) % 2])
            for i in active_customers(bench)
            for k, path in enumerate(("ours", "stock"))
        )
    )
    if failures:
        raise RuntimeError(f"warm-up: {len(failures)} messages not delivered, e.g. {failures[:3]}")
    log("warm-up: every socket receives, both paths deliver both ways")


async def phase_sequential(bench, label, count, directions):
    """``count`` messages per path and direction, one at a time, paths and
    directions interleaved so that both see the same machine."""
    customers = active_customers(bench)
    combos = [(path, direction) for direction in directions for path in ("ours", "stock")]
    records = {combo: [] for combo in combos}
    usage = Usage(bench.server_pid)
    for i in range(count):
        for combo in combos:
            index = customers[(i * len(combos) + combos.index(combo)) % len(customers)]
            records[combo].append(await bench.timed_message(index, *combo))
            await asyncio.sleep(0.01)
    cpu = usage.stop()
    for (path, direction), recs in records.items():
        bench.record_metric(f"{label}|{direction}|{path}", recs, extra={"cpu": cpu})
    return cpu


def db_write_stats(db):
    """The database's commits and rows written so far (pg_stat_database)."""
    conn = pg_connect(db)
    with conn.cursor() as cr:
        cr.execute(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        commits, rows = cr.fetchone()
    conn.close()
    return commits, rows


async def phase_bus_rows(bench, count=20):
    """What one message costs PostgreSQL, per path: bus_bus rows (each is NOTIFYed and polled),
    commits and rows written (pg_stat_database, whose counters lag up to a second).
    customer->agent, one at a time; the other sockets' presence updates count too."""
    customers = active_customers(bench)
    cost = {}
    for path in ("ours", "stock"):
        await asyncio.sleep(1.5)
        before_bus, (before_commits, before_rows) = bus_last_id(bench.db), db_write_stats(bench.db)
        for i in range(count):
            await bench.timed_message(customers[i % len(customers)], path, "customer->agent")
        await asyncio.sleep(1.5)
        commits, rows = db_write_stats(bench.db)
        cost[path] = {
            "bus_rows": round((bus_last_id(bench.db) - before_bus) / count, 1),
            "commits": round((commits - before_commits) / count, 1),
            "rows_written": round((rows - before_rows) / count, 1),
        }
    bench.results["db_cost_per_message"] = cost
    log(
        "  per message, ours / stock: "
        + ", ".join(f"{what} {cost['ours'][what]} / {cost['stock'][what]}" for what in cost["ours"])
    )


async def phase_sockets(bench, target):
    """Open ``target`` idle sockets (logged-in portal users who are silent,
    several tabs each), SOCKET_CONNECT_CONCURRENCY at a time."""
    idle = [c for c in bench.data["customers"] if c["idle"]]
    if not target or not idle:
        return
    for customer in idle:
        if customer["login"] not in bench.sessions:
            await bench.login(customer["login"])
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)
    gpid = gevent_pid(bench.server_pid)
    fds_before = fd_count(gpid) if gpid else None
    rss_before = rss_mib(gpid) if gpid else None
    vms_before = rss_mib(gpid, "VmSize") if gpid else None
    last = bus_last_id(bench.db)
    semaphore = asyncio.Semaphore(SOCKET_CONNECT_CONCURRENCY)
    errors = []
    connect_ms = []
    usage = Usage(bench.server_pid)
    started = time.monotonic()

    async def one(k):
        customer = idle[k % len(idle)]
        async with semaphore:
            t0 = time.perf_counter()
            try:
                await bench.open_socket(f"idle:{k}", bench.sessions[customer["login"]], last, False)
                connect_ms.append((time.perf_counter() - t0) * 1000)
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(error).__name__}: {error}"[:160])

    await asyncio.gather(*(one(k) for k in range(target)))
    await asyncio.sleep(2)  # let the server finish the subscriptions
    elapsed = time.monotonic() - started
    open_count = sum(1 for name in bench.sockets if name.startswith("idle:"))
    fds_after = fd_count(gpid) if gpid else None
    rss_after = rss_mib(gpid) if gpid else None
    vms_after = rss_mib(gpid, "VmSize") if gpid else None
    info = summarize(connect_ms, lost=target - open_count, errors=len(errors))
    fd_limit = process_fd_limit(gpid) if gpid else None
    per_socket = (fds_after - fds_before) / open_count if gpid and open_count else None
    info.update(
        {
            "target": target,
            "open": open_count,
            "seconds_to_open": round(elapsed, 1),
            "client_fd_limit": list(limit),
            "gevent_pid": gpid,
            "gevent_fds_before": fds_before,
            "gevent_fds_after": fds_after,
            "gevent_fds_per_socket": round(per_socket, 2) if per_socket else None,
            "gevent_rss_mib": rss_after,
            "gevent_rss_before_mib": rss_before,
            "gevent_kib_per_socket": (
                round((rss_after - rss_before) * 1024 / open_count, 1)
                if rss_after and open_count
                else None
            ),
            # Odoo restarts the gevent worker past limit_memory_soft(_gevent) of virtual memory
            "gevent_vms_mib": vms_after,
            "gevent_vms_kib_per_socket": (
                round((vms_after - vms_before) * 1024 / open_count, 1)
                if vms_after and open_count
                else None
            ),
            # what caps one gevent worker: its fd limit over the fds a socket costs
            "gevent_fd_limit": fd_limit,
            "gevent_socket_ceiling": (
                int((fd_limit - fds_before) / per_socket) if fd_limit and per_socket else None
            ),
            "connect_concurrency": SOCKET_CONNECT_CONCURRENCY,
            "cpu_while_opening": usage.stop(),
            "first_errors": sorted(set(errors))[:3],
        }
    )
    bench.results["sockets"] = info
    bench.raw["socket connect"] = connect_ms
    log(
        f"{open_count}/{target} idle sockets open in {elapsed:.1f} s; gevent worker "
        f"{fds_after} fds ({info['gevent_fds_per_socket']} per socket), "
        f"{info['gevent_rss_mib']:.0f} MiB"
        if gpid
        else f"{open_count}/{target} idle sockets open in {elapsed:.1f} s"
    )


async def offered_load(bench, path, rate, seconds):
    """Open loop: message k leaves at start + k/rate whatever happened to the
    earlier ones, alternating directions, round robin over the customers."""
    customers = active_customers(bench)
    total = int(rate * seconds)
    directions = ("customer->agent", "agent->customer")
    tasks = []
    skipped = 0
    loop = asyncio.get_running_loop()
    usage = Usage(bench.server_pid)
    start = loop.time() + 0.1
    for k in range(total):
        delay = start + k / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if sum(1 for t in tasks if not t.done()) >= MAX_IN_FLIGHT:
            skipped += 1
            continue
        tasks.append(
            asyncio.create_task(
                # each customer's conversation sees both directions, round after round
                bench.timed_message(
                    customers[k % len(customers)], path, directions[(k + k // len(customers)) % 2]
                )
            )
        )
    offered_seconds = loop.time() - start
    done, pending = (
        await asyncio.wait(tasks, timeout=DELIVERY_TIMEOUT + DRAIN_TIMEOUT) if tasks else ((), ())
    )
    for task in pending:
        task.cancel()
    cpu = usage.stop()
    records = [t.result() for t in done if not t.cancelled() and t.exception() is None]
    answered = [r for r in records if r["error"] is None]
    # completions per second, between the first and the last answer
    answers = sorted(r["answered"] for r in answered)
    achieved = (len(answers) - 1) / (answers[-1] - answers[0]) if len(answers) > 2 else 0.0
    lost_extra = skipped + len(pending)
    for direction in directions:
        recs = [
            r
            for r in records
            if (r["receiver"].startswith("agent:")) == (direction == "customer->agent")
        ]
        bench.record_metric(
            f"load {rate:g}/s|{direction}|{path}",
            recs,
            extra={"cpu": cpu, "offered_rate": rate, "achieved_rate": round(achieved, 1)},
        )
        bench.results["messages"][f"load {rate:g}/s|{direction}|{path}"]["lost"] += lost_extra // 2
    summary = summarize(
        [(r["received"] - r["sent"]) * 1000 for r in records if r["received"] is not None]
    )
    bench.results["load"].append(
        {
            "path": path,
            "offered_rate": rate,
            "achieved_rate": round(achieved, 1),
            "messages": total,
            "offered_seconds": round(offered_seconds, 1),
            "not_sent_in_flight_cap": skipped,
            "errors": sum(1 for r in records if r["error"]),
            "lost": sum(1 for r in records if r["received"] is None) + lost_extra,
            "median": summary["median"],
            "p95": summary["p95"],
            "p99": summary["p99"],
            "max": summary["max"],
            "cpu": cpu,
        }
    )
    log(
        f"  {path:5} offered {rate:g}/s achieved {achieved:.1f}/s: p50 {fmt(summary['median'])} "
        f"p95 {fmt(summary['p95'])} p99 {fmt(summary['p99'])} ms, "
        f"lost {bench.results['load'][-1]['lost']}, "
        f"machine {cpu['machine_busy_pct']}% busy"
    )


async def phase_tickets(bench):
    """Ticket creations through the portal form, closed loop with
    BENCH_CONCURRENCY customers; stock's closest: a logged-in customer
    opening a live chat session and sending the first message."""
    customers = [bench.data["customers"][i] for i in active_customers(bench)]
    team_id = bench.data["team_id"]
    concurrency = SETTINGS["concurrency"]
    seconds = SETTINGS["ticket_seconds"]
    csrf = {}
    for customer in customers[:concurrency]:
        async with bench.http.get(
            bench.base + "/my/tickets/new",
            headers={"Cookie": f"session_id={bench.sessions[customer['login']]}"},
        ) as response:
            page = await response.text()
        match = re.search(r'name="csrf_token"\s+value="([^"]+)"', page)
        if not match:
            raise RuntimeError("no csrf_token on /my/tickets/new: is the portal form there?")
        csrf[customer["login"]] = match.group(1)

    async def create_ticket(customer, n):
        form = bench.aiohttp.FormData()
        form.add_field("csrf_token", csrf[customer["login"]])
        form.add_field("name", f"Bench ticket {n}")
        form.add_field("message", "My bike makes a strange noise when braking.")
        form.add_field("priority", "1")
        # an empty file input, as a browser sends it when no file is chosen
        form.add_field("attachments", b"", filename="", content_type="application/octet-stream")
        async with bench.http.post(
            bench.base + "/my/tickets/new",
            data=form,
            allow_redirects=False,
            headers={"Cookie": f"session_id={bench.sessions[customer['login']]}"},
        ) as response:
            await response.read()
            location = response.headers.get("Location", "")
            if response.status != 303 or "/my/tickets/" not in location:
                raise RpcError(f"HTTP {response.status} {location or 'no redirect'}")

    async def open_livechat(customer, n):
        sid = bench.sessions[customer["login"]]
        result, _ = await bench.jsonrpc(
            "/im_livechat/get_session",
            {"channel_id": team_id, "anonymous_name": "Visitor", "persisted": True},
            sid,
        )
        channels = (result or {}).get("discuss.channel") or []
        channel_id = channels[0]["id"] if channels else None
        if not channel_id:
            raise RpcError("no operator available (no live chat session created)")
        await bench.post_message(sid, channel_id, "My bike makes a strange noise when braking.")

    async def worker(customer, action, counter, deadline, latencies, errors):
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            try:
                await action(customer, next(counter))
                latencies.append((time.perf_counter() - t0) * 1000)
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(error).__name__}: {error}"[:160])

    for path, action in (("ours", create_ticket), ("stock", open_livechat)):
        latencies, errors = [], []
        counter = iter(range(10**9))
        deadline = time.monotonic() + seconds
        usage = Usage(bench.server_pid)
        started = time.monotonic()
        await asyncio.gather(
            *(
                worker(c, action, counter, deadline, latencies, errors)
                for c in customers[:concurrency]
            )
        )
        elapsed = time.monotonic() - started
        cpu = usage.stop()
        summary = summarize(
            latencies,
            errors=len(errors),
            extra={
                "per_second": round(len(latencies) / elapsed, 2),
                "cpu": cpu,
                "concurrency": concurrency,
            },
        )
        if errors:
            summary["first_errors"] = sorted(set(errors))[:3]
        bench.results["tickets"][path] = summary
        bench.raw[f"ticket creation|{path}"] = latencies
        log(
            f"  {path:5} {summary['per_second']}/s, p50 {fmt(summary['median'])} ms, "
            f"{len(errors)} errors"
        )


QUEUE_SPEC = {
    "priority": {},
    "reference": {},
    "name": {},
    "partner_id": {"fields": {"display_name": {}}},
    "user_id": {"fields": {"display_name": {}}},
    "state": {},
    "sla_status": {},
    "agent_unread_count": {},
    "create_date": {},
    "last_activity_date": {},
    "channel_id": {"fields": {}},
}
HISTORY_SPEC = {
    "is_member": {},
    "create_date": {},
    "name": {},
    "country_id": {"fields": {"display_name": {}}},
    "duration": {},
    "message_ids": {},
}


async def phase_queue(bench):
    """The agent's queue list (web_search_read as the list view asks it) at
    the bench's ticket count; stock's closest: the live chat History list."""
    agent = bench.data["agents"][0]
    sid = bench.sessions[agent["login"]]
    uid = agent["user_id"]
    context = {
        "lang": "en_US",
        "tz": "UTC",
        "uid": uid,
        "allowed_company_ids": [1],
        "bin_size": True,
    }
    queries = {
        "queue: my open tickets|ours": (
            "im_livechat.ticket",
            [("user_id", "=", uid), ("state", "in", ("new", "open"))],
            QUEUE_SPEC,
            "",
        ),
        "queue: all open tickets|ours": (
            "im_livechat.ticket",
            [("state", "in", ("new", "open"))],
            QUEUE_SPEC,
            "",
        ),
        "queue: dashboard counts|ours": ("im_livechat.ticket", None, None, None),
        "queue: live chat history|stock": (
            "discuss.channel",
            [("livechat_channel_id", "!=", False), ("message_ids", "!=", False)],
            HISTORY_SPEC,
            "create_date desc",
        ),
    }
    for key, (model, domain, spec, order) in queries.items():
        latencies, errors, length = [], [], None
        usage = Usage(bench.server_pid)
        for _ in range(SETTINGS["queue_queries"]):
            if spec is None:
                params = {
                    "model": model,
                    "method": "get_queue_dashboard",
                    "args": [],
                    "kwargs": {"context": context},
                }
            else:
                params = {
                    "model": model,
                    "method": "web_search_read",
                    "args": [],
                    "kwargs": {
                        "specification": spec,
                        "offset": 0,
                        "order": order,
                        "limit": 80,
                        "context": context,
                        "count_limit": 10001,
                        "domain": domain,
                    },
                }
            t0 = time.perf_counter()
            try:
                result, _ = await bench.jsonrpc(
                    f"/web/dataset/call_kw/{model}/{params['method']}", params, sid
                )
                latencies.append((time.perf_counter() - t0) * 1000)
                if isinstance(result, dict) and "length" in result:
                    length = result["length"]
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(error).__name__}: {error}"[:160])
        summary = summarize(
            latencies, errors=len(errors), extra={"rows": length, "cpu": usage.stop()}
        )
        if errors:
            summary["first_errors"] = sorted(set(errors))[:3]
        bench.results["queue"][key] = summary
        bench.raw[key] = latencies
        rows = length if length is not None else "-"
        log(f"  {key}: p50 {fmt(summary['median'])} ms over {rows} rows")


async def run_client(odoo, db, data, http_port, gevent_port, server_pid):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, SETTINGS["sockets"] + 1024))
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if SETTINGS["sockets"] + 512 > wanted:
        log(f"warning: fd limit {wanted} is tight for {SETTINGS['sockets']} sockets")
    bench = Bench(odoo, db, data, http_port, gevent_port, server_pid)
    keeper = None
    try:
        await phase_connect(bench)
        keeper = asyncio.create_task(
            bench.presence_keeper(
                [n for n in bench.sockets if n.startswith(("agent:", "customer:"))]
            )
        )
        await warm_up(bench)
        phases = SETTINGS["phases"]
        if "idle" in phases:
            count = SETTINGS["idle_messages"]
            log(f"idle: {count} messages per path and direction, one at a time")
            await phase_sequential(bench, "idle", count, ("customer->agent", "agent->customer"))
            print_messages(bench, "idle")
            await phase_bus_rows(bench)
        if "sockets" in phases or "load" in phases:
            log(f"opening {SETTINGS['sockets']} idle sockets")
            await phase_sockets(bench, SETTINGS["sockets"])
            count = max(10, SETTINGS["idle_messages"] // 4)
            label = f"idle, {bench.results['sockets'].get('open', 0)} sockets held"
            log(f"{label}: {count} messages per path, customer->agent, one at a time")
            await phase_sequential(bench, label, count, ("customer->agent",))
        if "load" in phases:
            for rate in SETTINGS["rates"]:
                log(f"offered load {rate:g} msg/s for {SETTINGS['seconds']} s per path")
                for path in ("ours", "stock"):
                    await offered_load(bench, path, rate, SETTINGS["seconds"])
                    await asyncio.sleep(2)
        if "tickets" in phases:
            log(
                f"ticket creations: {SETTINGS['concurrency']} customers for "
                f"{SETTINGS['ticket_seconds']} s per path"
            )
            await phase_tickets(bench)
        if "queue" in phases:
            log(f"agent queue queries at {data['tickets']} tickets")
            await phase_queue(bench)
        if "storm" in phases:
            import storm

            if not bench.results["sockets"]:
                log(f"opening {SETTINGS['sockets']} idle sockets")
                await phase_sockets(bench, SETTINGS["sockets"])
            await storm.phase_storm(bench)
        if "scaleout" in phases:
            import scaleout

            await scaleout.phase_scaleout(bench)
        bench.results["sockets_closed_during_run"] = [
            {"socket": n, "code": c} for n, c, _t in bench.closed_sockets[:20]
        ]
        bench.results["sockets_closed_count"] = len(bench.closed_sockets)
        return bench
    finally:
        if keeper:
            keeper.cancel()
        await bench.close()


# ---------------------------------------------------------------- report


def fmt(value, digits=0):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def ratio(ours, stock):
    if ours is None or stock in (None, 0):
        return "-"
    return f"{ours / stock:.2f}x"


def print_messages(bench, prefix):
    rows = {}
    for key, summary in bench.results["messages"].items():
        phase, direction, path = key.split("|")
        if phase.startswith(prefix):
            rows.setdefault((phase, direction), {})[path] = summary
    for (phase, direction), paths in rows.items():
        ours, stock = paths.get("ours", {}), paths.get("stock", {})
        log(
            f"  {phase} {direction}: ours p50 {fmt(ours.get('median'))} / "
            f"stock {fmt(stock.get('median'))} ms "
            f"({ratio(ours.get('median'), stock.get('median'))})"
        )


def table(results):
    header = (
        f"{'metric':<46} {'path':<6} {'median':>8} {'p95':>8} {'p99':>8} {'max':>8} "
        f"{'count':>6} {'lost':>5} {'p50 ratio':>9} {'p99 ratio':>9}"
    )
    lines = [header, "-" * len(header)]

    def add(metric, path, s, stock=None, unit=""):
        r50 = ratio(s.get("median"), stock.get("median")) if stock else ""
        r99 = ratio(s.get("p99"), stock.get("p99")) if stock else ""
        lost = s.get("lost", 0) + s.get("errors", 0) if "lost" in s else s.get("errors", 0)
        lines.append(
            f"{metric:<46} {path:<6} {fmt(s.get('median')) + unit:>8} "
            f"{fmt(s.get('p95')) + unit:>8} {fmt(s.get('p99')) + unit:>8} "
            f"{fmt(s.get('max')) + unit:>8} {s.get('count', 0):>6} {lost:>5} {r50:>9} {r99:>9}"
        )

    lines.append("end-to-end: /mail/message/post -> the other party's websocket (ms)")
    grouped = {}
    for key, summary in results["messages"].items():
        phase, direction, path = key.split("|")
        grouped.setdefault((phase, direction), {})[path] = summary
    for (phase, direction), paths in grouped.items():
        metric = f"  {phase}, {direction}"
        if "offered_rate" in paths.get("ours", {}):
            stock_rate = paths["stock"].get("achieved_rate") if "stock" in paths else "-"
            metric += f" (got {paths['ours'].get('achieved_rate')}/{stock_rate})"
        if "ours" in paths:
            add(metric, "ours", paths["ours"], paths.get("stock"))
        if "stock" in paths:
            add("", "stock", paths["stock"])
    if results["messages"]:
        lines.append("the post's own RPC, idle (ms)")
        for (phase, direction), paths in grouped.items():
            if phase == "idle":
                o, s = paths.get("ours", {}), paths.get("stock", {})
                lines.append(
                    f"  {direction:<44} ours {fmt(o.get('post_rpc_median'))} / "
                    f"stock {fmt(s.get('post_rpc_median'))} "
                    f"median, {ratio(o.get('post_rpc_median'), s.get('post_rpc_median'))}"
                )
    if results.get("db_cost_per_message"):
        cost = results["db_cost_per_message"]
        lines.append(
            "  PostgreSQL per message, ours / stock: "
            + ", ".join(
                f"{what.replace('_', ' ')} {cost['ours'][what]} / {cost['stock'][what]}"
                for what in cost["ours"]
            )
        )
    if results["tickets"]:
        lines.append("opening a conversation, closed loop (ms); rate in the metric name")
        o, s = results["tickets"].get("ours", {}), results["tickets"].get("stock", {})
        if o:
            add(
                f"  ticket form POST /my/tickets/new ({o.get('per_second')}/s)",
                "ours",
                o,
                s or None,
            )
        if s:
            add(f"  livechat get_session + first post ({s.get('per_second')}/s)", "stock", s)
    if results["queue"]:
        lines.append(f"agent queue at {results['data']['tickets']:,} tickets (ms)")
        stock = results["queue"].get("queue: live chat history|stock")
        for key, summary in results["queue"].items():
            name, path = key.split("|")
            rows = summary.get("rows")
            label = f"  {name}" + (f" ({rows:,} rows)" if rows is not None else "")
            add(
                label,
                path,
                summary,
                stock if path == "ours" and "list" not in name and "counts" not in name else None,
            )
    lines += table_machine(results)
    return "\n".join(lines)


def table_machine(results):
    """The table's lines about the machine: idle sockets, CPU under load, the server log."""
    lines = []
    sockets = results.get("sockets") or {}
    if sockets:
        lines.append(
            f"idle sockets: {sockets['open']}/{sockets['target']} open in "
            f"{sockets['seconds_to_open']} s (connect+subscribe p50 {fmt(sockets['median'])} ms, "
            f"p99 {fmt(sockets['p99'])} ms); gevent worker {sockets.get('gevent_fds_after')} fds = "
            f"{sockets.get('gevent_fds_per_socket')} per socket, "
            f"{fmt(sockets.get('gevent_rss_mib'))} MiB resident = "
            f"{fmt(sockets.get('gevent_kib_per_socket'))} KiB per socket "
            f"({fmt(sockets.get('gevent_vms_mib'))} MiB virtual); "
            f"{len(sockets.get('first_errors') or [])} error kinds"
        )
        if sockets.get("gevent_socket_ceiling"):
            lines.append(
                f"  the gevent worker's fd limit ({sockets['gevent_fd_limit']:,}) caps it near "
                f"{sockets['gevent_socket_ceiling']:,} sockets"
            )
    if results.get("load"):
        lines.append(
            f"CPU during offered load: machine busy (% of its {os.cpu_count()} cores) / "
            "server / postgres, all databases / load generator (% of one core)"
        )
        for step in results["load"]:
            c = step["cpu"]
            lines.append(
                f"  {step['path']:<5} {step['offered_rate']:>5g}/s -> "
                f"{step['achieved_rate']:>5}/s: {c['machine_busy_pct']}% / "
                f"{c['server_cpu_pct']}% / {c['postgres_cpu_pct']}% / {c['client_cpu_pct']}%"
                + ("   <- CPU-bound" if c["machine_busy_pct"] >= 90 else "")
            )
    import scaleout
    import storm

    lines.extend(storm.table_lines(results))
    lines.extend(scaleout.table_lines(results))
    log_info = results.get("server_log") or {}
    if log_info:
        lines.append(
            "server log: "
            + ", ".join(f"{count} {what}" for what, count in log_info["counts"].items())
            + (f"; first: {log_info['first'][0][:120]}" if log_info.get("first") else "")
        )
    return lines


def plots(results, raw, out_prefix):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        log("matplotlib is not available: no plots")
        return []
    paths = []
    # 1. latency distributions (CDF), idle and each load step, ours vs stock
    keys = [k for k in raw if k.count("|") == 2]
    if keys:
        phases = list(dict.fromkeys(k.split("|")[0] for k in keys))
        ncols = min(3, len(phases))
        nrows = math.ceil(len(phases) / ncols)
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(5 * ncols, 3.8 * nrows), squeeze=False, sharey=True
        )
        flat = [ax for row in axes for ax in row]
        for ax in flat[len(phases) :]:
            ax.axis("off")
        # more axes than phases: the spare ones are blank
        for ax, phase in zip(flat, phases, strict=False):
            for key in keys:
                p, direction, path = key.split("|")
                if p != phase or not raw[key]:
                    continue
                values = sorted(raw[key])
                ys = [(i + 1) / len(values) for i in range(len(values))]
                ax.plot(
                    values,
                    ys,
                    label=f"{path}, {direction}",
                    linestyle="-" if path == "ours" else "--",
                    color="tab:blue" if direction == "customer->agent" else "tab:orange",
                )
            ax.set_xscale("log")
            values = [v for key in keys if key.startswith(phase + "|") for v in raw[key]]
            if values:
                low, high = min(values), max(values)
                ticks = [m * 10**e for e in range(7) for m in (1, 2, 5) if low <= m * 10**e <= high]
                if len(ticks) < 3:
                    ticks = [
                        m * 10**e
                        for e in range(7)
                        for m in (1, 1.5, 2, 3, 4, 5, 7)
                        if low <= m * 10**e <= high
                    ]
                if len(ticks) < 3:
                    ticks = sorted({round(low), round(math.sqrt(low * high)), round(high)})
                ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
                ax.xaxis.set_major_formatter(
                    matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{v:,.0f}")
                )
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_title(phase, fontsize=10)
            ax.set_xlabel("post -> websocket latency (ms, log)")
            ax.grid(True, which="both", alpha=0.3)
        for row in axes:
            row[0].set_ylabel("fraction of messages")
        axes[0][0].legend(fontsize=8, loc="lower right")
        fig.suptitle("im_livechat_ticket vs stock live chat: latency distribution", fontsize=11)
        fig.tight_layout()
        path = f"{out_prefix}-latency-cdf.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    # 2. latency vs offered load
    if results.get("load"):
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        idle = results["messages"]
        for path, style in (("ours", "-o"), ("stock", "--s")):
            steps = [s for s in results["load"] if s["path"] == path]
            xs = [0] + [s["offered_rate"] for s in steps]
            base = [v for k, v in idle.items() if k.startswith("idle|") and k.endswith("|" + path)]
            for q, color in (("median", "tab:green"), ("p95", "tab:orange"), ("p99", "tab:red")):
                first = max((b[q] for b in base if b.get(q) is not None), default=None)
                ys = [first] + [s[q] for s in steps]
                ax1.plot(xs, ys, style, color=color, label=f"{path} {q}")
            ax2.plot(
                [s["offered_rate"] for s in steps],
                [s["achieved_rate"] for s in steps],
                style,
                label=path,
            )
        top = max(s["offered_rate"] for s in results["load"])
        ax2.plot([0, top], [0, top], ":", color="grey", label="offered = achieved")
        ax1.set_yscale("log")
        ax1.set_xlabel("offered messages/s (0 = one at a time)")
        ax1.set_ylabel("post -> websocket latency (ms, log)")
        ax1.grid(True, which="both", alpha=0.3)
        ax1.legend(fontsize=7, ncol=2)
        ax1.set_title(
            f"latency vs load ({results['sockets'].get('open', 0)} idle sockets held)", fontsize=10
        )
        ax2.set_xlabel("offered messages/s")
        ax2.set_ylabel("achieved messages/s")
        ax2.grid(True, alpha=0.3)
        ax2.legend(fontsize=8)
        ax2.set_title("throughput", fontsize=10)
        fig.tight_layout()
        path = f"{out_prefix}-latency-vs-load.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    # 3. reconnect storm
    import storm

    path = storm.plot(plt, results, raw, out_prefix)
    if path:
        paths.append(path)
    return paths


SERVER_LOG_PATTERNS = {
    "errors": re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) (?!.*bad query)"),
    "failed queries": re.compile(r"^\S+ \S+ \d+ ERROR .*bad query"),
    "warnings": re.compile(r"^\S+ \S+ \d+ WARNING "),
    "serialization conflicts (retried)": re.compile(r"could not serialize access"),
    "pool full": re.compile(r"PoolError: The Connection Pool Is Full"),  # the exception line only
    "out of fds": re.compile(r"Too many open files"),
}


def server_log_summary(path):
    """What the server said while measured: counts by kind and the first error lines."""
    counts = dict.fromkeys(SERVER_LOG_PATTERNS, 0)
    first = []
    with contextlib.suppress(OSError):
        for line in Path(path).read_text(errors="replace").splitlines():
            for what, pattern in SERVER_LOG_PATTERNS.items():
                if pattern.search(line):
                    counts[what] += 1
                    if what == "errors" and len(first) < 5:
                        first.append(line.split(" ", 4)[-1])
    return {"log": str(path), "counts": counts, "first": first}


def git_commit():
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(ROOT), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "nogit"


# ---------------------------------------------------------------- main


def prepare_database(odoo, db, stamp):
    install_log = odoo.log_dir / f"bench-{stamp}-{db}-setup.log"
    started = time.monotonic()
    log(f"installing {MODULE} (no demo data) into {db}; log: {install_log}")
    odoo.run(
        "-d",
        db,
        "-i",
        MODULE,
        "--without-demo=all",
        "--stop-after-init",
        "--max-cron-threads=0",
        "--no-http",
        "--log-level=warn",
        logfile=install_log,
    )
    install_seconds = time.monotonic() - started
    log(f"installed in {install_seconds:.0f} s; populating (tickets: {SETTINGS['tickets']:,})")
    out = odoo.state_dir / f"{db}.json"
    settings = {
        "BENCH_CUSTOMERS": str(SETTINGS["customers"]),
        "BENCH_IDLE_USERS": str(SETTINGS["idle_users"]),
        "BENCH_AGENTS": str(SETTINGS["agents"]),
        "BENCH_TICKETS": str(SETTINGS["tickets"]),
        "BENCH_PASSWORD": PASSWORD,
        "BENCH_POPULATE_OUT": str(out),
    }
    shell = ("shell", "-d", db, "--no-http", "--log-level=warn")
    with open(HERE / "populate.py", "rb") as script:
        odoo.run(
            *shell,
            stdin=script,
            env={**settings, "BENCH_POPULATE_PART": "people"},
            logfile=install_log,
        )
    # the background tickets in parallel shares, one process per core
    shares = max(1, min(os.cpu_count() or 1, 4))
    procs = []
    for share in range(shares):
        with open(HERE / "populate.py", "rb") as script:
            procs.append(
                odoo.spawn(
                    *shell,
                    stdin=script,
                    logfile=install_log,
                    env={**settings, "BENCH_POPULATE_PART": f"background:{share}/{shares}"},
                )
            )
    odoo.wait(procs, install_log)
    data = json.loads(out.read_text())
    conn = pg_connect(db)
    with conn.cursor() as cr:
        cr.execute("ANALYZE")
        cr.execute("SELECT count(*) FROM im_livechat_ticket")
        data["tickets"] = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM discuss_channel WHERE channel_type = 'livechat'")
        data["livechat_channels"] = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM mail_message")
        data["messages"] = cr.fetchone()[0]
    conn.close()
    out.write_text(json.dumps(data))
    data["install_seconds"] = round(install_seconds, 1)
    data["populate_seconds"] = round(time.monotonic() - started - install_seconds, 1)
    log(
        f"populated in {data['populate_seconds']:.0f} s: {data['tickets']:,} tickets, "
        f"{data['livechat_channels']:,} live chat channels, {data['messages']:,} messages"
    )
    return data


def main():
    odoo = Odoo(sys.argv[1:])
    stamp = time.strftime("%Y%m%d-%H%M%S")
    db = REUSE_DB or f"imlt_bench_{secrets.token_hex(4)}"
    created = REUSE_DB is None

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    # keep the logs of the 10 newest runs (two or three files each)
    for old in sorted(odoo.log_dir.glob("bench-2*.log"), key=lambda p: p.stat().st_mtime)[:-30]:
        with contextlib.suppress(OSError):
            old.unlink()
    started = time.monotonic()
    exit_code = 0
    try:
        if created:
            data = prepare_database(odoo, db, stamp)
        else:
            data = json.loads((odoo.state_dir / f"{db}.json").read_text())
            update_log = odoo.log_dir / f"bench-{stamp}-{db}-setup.log"
            log(f"reusing database {db}: updating {MODULE} to the code at hand; log: {update_log}")
            odoo.run(
                "-d",
                db,
                "-u",
                MODULE,
                "--stop-after-init",
                "--max-cron-threads=0",
                "--no-http",
                "--log-level=warn",
                logfile=update_log,
            )
        http_port = free_port(18269)
        gevent_port = free_port(http_port + 1)
        server_log = odoo.log_dir / f"bench-{stamp}-{db}-server.log"
        log(
            f"starting Odoo: --workers={SETTINGS['workers']}, http {http_port}, "
            f"gevent {gevent_port}; log: {server_log}"
        )
        server = odoo.start(
            "-d",
            db,
            f"--db-filter=^{db}$",
            f"--workers={SETTINGS['workers']}",
            "--max-cron-threads=0",
            "--http-interface=127.0.0.1",
            f"--http-port={http_port}",
            f"--gevent-port={gevent_port}",
            "--log-level=warn",
            logfile=server_log,
        )
        wait_for_server(server, http_port, gevent_port)
        bench = asyncio.run(run_client(odoo, db, data, http_port, gevent_port, server.pid))
        results = bench.results
        results["data"] = data
        results["settings"] = SETTINGS
        results["environment"] = {
            k: v for k, v in sorted(os.environ.items()) if k.startswith("BENCH_")
        }
        results["machine"] = {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_at_end": os.getloadavg(),
            "memory_gib": memory_gib(),
        }
        results["frames_received"] = bench.received_frames
        results["commit"] = git_commit()
        results["server_log"] = server_log_summary(server_log)
        results["date"] = datetime.datetime.now().isoformat(timespec="seconds")
        results["seconds"] = round(time.monotonic() - started, 1)
        odoo.stop()
        text = table(results)
        print()
        print(text)
        print()
        out_dir = HERE / "results"
        out_dir.mkdir(exist_ok=True)
        prefix = out_dir / f"{time.strftime('%Y-%m-%d')}-{results['commit']}"
        json_path = Path(f"{prefix}.json")
        results["latencies_ms"] = {  # and seconds, for keys ending in _s
            key: [round(v, 3 if key.endswith("_s") else 1) for v in values]
            for key, values in bench.raw.items()
        }
        json_path.write_text(json.dumps(results, indent=1, default=str))
        pngs = plots(results, bench.raw, str(prefix))
        log(f"results: {json_path}")
        for png in pngs:
            log(f"plot: {png}")
        log(f"total {time.monotonic() - started:.0f} s")
    except KeyboardInterrupt as interrupt:
        log(f"interrupted ({str(interrupt) or 'Ctrl-C'}): cleaning up")
        exit_code = 130
    except Exception as error:  # noqa: BLE001 - report, clean up, fail
        log(f"failed: {type(error).__name__}: {error}")
        exit_code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        odoo.stop()
        if created and not KEEP_DB:
            drop_database(odoo, db)
            with contextlib.suppress(OSError):
                (odoo.state_dir / f"{db}.json").unlink()
            log(f"dropped database {db} and its filestore")
        elif created:
            log(
                f"kept database {db} (BENCH_KEEP=1); rerun with BENCH_DB={db}, "
                f"drop it with dropdb {db}"
            )
    return exit_code


def wait_for_server(server, http_port, gevent_port):
    import urllib.request

    deadline = time.monotonic() + 120
    urls = [
        f"http://127.0.0.1:{http_port}/web/health",
        f"http://127.0.0.1:{gevent_port}/websocket/health",
    ]
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"Odoo exited with status {server.returncode} while starting")
        try:
            for url in urls:
                with urllib.request.urlopen(url, timeout=2) as response:
                    response.read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("Odoo did not answer within 120 s")


if __name__ == "__main__":
    sys.exit(main())
