"""Measurement: percentiles, CPU and memory of processes, a timed loop, the server's log."""

import contextlib
import math
import os
import re
import resource
import time
from pathlib import Path


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


def summarize(values_ms, lost=0, errors=(), **extra):
    values = sorted(values_ms)
    result = {"count": len(values), "lost": lost, "errors": len(errors)}
    for name, q in (("median", 50), ("p95", 95), ("p99", 99), ("max", 100)):
        result[name] = percentile(values, q)
    if errors:
        result["first_errors"] = sorted(set(errors))[:3]
    result.update(extra)
    return result


def error_text(error, size=160):
    return f"{type(error).__name__}: {error}"[:size]


async def timed(request, count=None, deadline=None, stop_after=None):
    """Await ``request()`` ``count`` times or until ``deadline`` (monotonic): (latencies in ms,
    errors, last result). ``stop_after``: seconds; one call slower than that ends the loop."""
    latencies, errors, result = [], [], None
    n = 0
    while (count is None or n < count) and (deadline is None or time.monotonic() < deadline):
        n += 1
        t0 = time.perf_counter()
        try:
            result = await request()
            latencies.append((time.perf_counter() - t0) * 1000)
        except Exception as error:  # noqa: BLE001 - counted and reported
            errors.append(error_text(error))
        if stop_after and time.perf_counter() - t0 > stop_after:
            break
    return latencies, errors, result


# ---------------------------------------------------------------- processes


def descendants(pid):
    """pid and all its descendant pids (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{entry}/stat").read_text() if entry.isdigit() else ""
            if stat:
                children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def cpu_seconds(pids):
    tick, used = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def postgres_pids():
    found = []
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            if entry.isdigit() and Path(f"/proc/{entry}/comm").read_text().strip() == "postgres":
                found.append(int(entry))
    return found


def proc_status(pid, field):
    """A /proc/<pid>/status figure in MiB (VmRSS: resident, VmSize: virtual, what Odoo's
    limit_memory_* options watch)."""
    with contextlib.suppress(OSError, ValueError, TypeError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def fd_count(pid):
    with contextlib.suppress(OSError, TypeError):
        return len(os.listdir(f"/proc/{pid}/fd"))
    return None


def fd_limit(pid):
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


def gevent_pid(server_pid):
    for pid in descendants(server_pid):
        with contextlib.suppress(OSError):
            if b"gevent" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[2:4]:
                return pid
    return None


def client_cpu():
    """CPU seconds of this process, the load client (its threads included)."""
    return sum(resource.getrusage(resource.RUSAGE_SELF)[:2])


class Usage:
    """CPU used over a phase: whole machine, the server trees, this client, and every
    PostgreSQL process (other databases' too). ``requests``: what the client sent, for its
    CPU per request."""

    def __init__(self, server_pids):
        self.server_pids = server_pids if isinstance(server_pids, list) else [server_pids]
        self.start = self._sample()

    def _sample(self):
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        servers = [pid for root in self.server_pids for pid in descendants(root)]
        return {
            "t": time.monotonic(),
            "total": sum(fields),
            "idle": fields[3] + fields[4],
            "server": cpu_seconds(servers),
            "client": client_cpu(),
            "postgres": cpu_seconds(postgres_pids()),
        }

    def stop(self, requests=0):
        end, start = self._sample(), self.start
        wall = max(end["t"] - start["t"], 1e-6)

        def delta(key):  # processes that ended meanwhile are missed, new ones count in full
            return sum(max(0.0, s - start[key].get(pid, 0.0)) for pid, s in end[key].items())

        client = end["client"] - start["client"]
        busy = 1 - (end["idle"] - start["idle"]) / max(end["total"] - start["total"], 1)
        return {
            "seconds": round(wall, 1),
            "machine_busy_pct": round(100 * busy, 1),
            "server_cpu_pct": round(100 * delta("server") / wall, 1),  # in % of one core
            "postgres_cpu_pct": round(100 * delta("postgres") / wall, 1),
            "client_cpu_pct": round(100 * client / wall, 1),
            "client_cpu_ms_per_request": round(1000 * client / requests, 2) if requests else None,
            "cores": os.cpu_count(),
        }


# ---------------------------------------------------------------- the server's log

LOG_PATTERNS = {
    "errors": re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) (?!.*bad query)"),
    "failed queries": re.compile(r"^\S+ \S+ \d+ ERROR .*bad query"),
    "warnings": re.compile(r"^\S+ \S+ \d+ WARNING "),
    "serialization conflicts (retried)": re.compile(r"could not serialize access"),
    # one line per exception (its last traceback line), not the lines of its traceback
    "PoolError": re.compile(r"PoolError: "),
    "pool full": re.compile(r"PoolError: The Connection Pool Is Full"),
    "out of fds": re.compile(r"Too many open files"),
}
# werkzeug's access line, with Odoo's perf info: query count, SQL time, other time (seconds)
ACCESS = re.compile(
    r'werkzeug: \S+ - - \[[^]]*\] "(\S+) (\S+) [^"]*" (\d+) \S+ (\d+) ([\d.]+) ([\d.]+)'
)


def read_log(path, offset=0):
    with contextlib.suppress(OSError), open(path, "rb") as logfile:
        logfile.seek(offset)
        return logfile.read().decode(errors="replace").splitlines()
    return []


def log_size(path):
    with contextlib.suppress(OSError):
        return Path(path).stat().st_size
    return 0


def server_log_summary(path, offset=0):
    """What the server said: counts by kind and the first error lines."""
    counts, first = dict.fromkeys(LOG_PATTERNS, 0), []
    for line in read_log(path, offset):
        for what, pattern in LOG_PATTERNS.items():
            if pattern.search(line):
                counts[what] += 1
                if what == "errors" and len(first) < 5:
                    first.append(line.split(" ", 4)[-1])
    return {"log": str(path), "counts": counts, "first": first}


def server_cost_per_request(path, offset, url):
    """What the server itself spent on the requests to ``url`` logged after ``offset``, as Odoo
    measures it in its access line (the server logs werkzeug at INFO for this): the median SQL
    statements, SQL time and Python time (ms), no client and no queueing in them."""
    matches = [
        m
        for m in map(ACCESS.search, read_log(path, offset))
        if m and m.group(2).split("?")[0] == url
    ]

    def median(group, scale=1):
        return percentile(sorted(float(m.group(group)) * scale for m in matches), 50)

    return {
        "sql_per_post": median(4),
        "sql_ms_per_post": round(median(5, 1000), 1) if matches else None,
        "python_ms_per_post": round(median(6, 1000), 1) if matches else None,
    }
