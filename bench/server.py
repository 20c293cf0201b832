"""Server control: Odoo commands and servers, PostgreSQL (the machine's or a private one),
nginx from the template that `make run` fills too, and the bench database."""

import contextlib
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .settings import GEVENT_MAXCONN, MODULE, PASSWORD

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NGINX_TEMPLATE = ROOT / "tools" / "nginx.conf.template"
PG = {}  # psycopg2.connect options; the faults suite points them at its private cluster


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _die_with_parent():
    """Child processes get SIGTERM if the bench dies without cleaning up."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port(port):
    while True:
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            return port
        port += 1


def listening(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def kill_group(proc, timeout=15):
    """SIGTERM to a process group (a deploy's stop), SIGKILL to what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # workers are in the same group: none is left
    proc.wait(5)


class Odoo:
    """How to run Odoo, as tools/dev.sh passes it: ``--odoo <odoo-bin | -m odoo> -- <options
    for every odoo command>``."""

    def __init__(self, argv):
        if "--odoo" not in argv or "--" not in argv:
            sys.exit("usage: python -m bench <suite> --odoo <odoo-bin | -m odoo> -- <options>")
        sep = argv.index("--")
        self.prefix = [sys.executable, *argv[argv.index("--odoo") + 1 : sep]]
        self.common = argv[sep + 1 :]
        data_dirs = [a.split("=", 1)[1] for a in self.common if a.startswith("--data-dir=")]
        self.data_dir = Path(data_dirs[-1]) if data_dirs else Path.home() / ".local/share/Odoo"
        self.state_dir = self.data_dir.parent / "bench"
        self.log_dir = self.data_dir.parent / "logs"
        for folder in (self.state_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.src = Path(argv[argv.index("--odoo") + 1]).resolve().parent

    def spawn(self, *args, stdin=None, env=None, logfile, **popen):
        with open(logfile, "ab") as out:
            return subprocess.Popen(
                [*self.prefix, *args, *self.common],
                stdin=stdin,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                preexec_fn=_die_with_parent,
                **popen,
            )

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
            tail = "\n".join(Path(logfile).read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"an odoo command failed ({codes}), see {logfile}:\n{tail}")

    def run(self, *args, logfile, **kwargs):
        self.wait([self.spawn(*args, logfile=logfile, **kwargs)], logfile)

    def shell(self, db, script, logfile, env=None, parts=(None,)):
        """Runs ``script`` (a file of bench/) in ``odoo-bin shell``, once per part, in parallel
        (``env["PART"]`` tells each which; ``env["BENCH_DIR"]`` where shell_helpers.py is)."""
        procs = []
        for part in parts:
            with open(HERE / script, "rb") as stdin:
                procs.append(
                    self.spawn(
                        *"shell -d".split(),
                        db,
                        *"--no-http --log-level=warn".split(),
                        stdin=stdin,
                        logfile=logfile,
                        env={**(env or {}), "PART": str(part), "BENCH_DIR": str(HERE)},
                    )
                )
        self.wait(procs, logfile)

    def install(self, db, logfile, update=False):
        flags = f"{'-u' if update else '-i'} {MODULE} --without-demo=all --stop-after-init"
        self.run(
            "-d",
            db,
            *flags.split(),
            *"--max-cron-threads=0 --no-http --log-level=warn".split(),
            logfile=logfile,
        )

    def websocket_version(self):
        source = self.src / "addons/bus/websocket.py"
        match = re.search(r'_VERSION = "([^"]+)"', source.read_text()) if source.exists() else None
        return match.group(1) if match else "18.0-2"


class Server:
    """One Odoo server as in production: prefork HTTP workers and the gevent websocket
    process, no cron, no test mode; werkzeug's access lines (with Odoo's query count) logged."""

    def __init__(self, odoo, db, logfile, workers, first_port=18269, extra=()):
        self.odoo, self.log, self.proc = odoo, logfile, None
        self.http_port = free_port(first_port)
        self.gevent_port = free_port(self.http_port + 1)
        self.args = [
            "-d",
            db,
            f"--db-filter=^{db}$",
            f"--workers={workers}",
            "--max-cron-threads=0",
            "--http-interface=127.0.0.1",
            f"--http-port={self.http_port}",
            f"--gevent-port={self.gevent_port}",
            f"--db_maxconn_gevent={GEVENT_MAXCONN}",
            "--log-level=warn",
            "--log-handler=werkzeug:INFO",
            *extra,
        ]
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.ws_url = (
            f"ws://127.0.0.1:{self.gevent_port}/websocket?version={odoo.websocket_version()}"
        )

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, wait=True):
        self.proc = self.odoo.spawn(*self.args, logfile=self.log, start_new_session=True)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        urls = [f"{self.base}/web/health", f"http://127.0.0.1:{self.gevent_port}/websocket/health"]
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"Odoo exited with status {self.proc.returncode}, see {self.log}"
                )
            try:
                for url in urls:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        response.read()
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"Odoo did not answer within {timeout} s")

    def stop(self):
        if self.proc:
            kill_group(self.proc)
            self.proc = None


class Nginx:
    """Debian's nginx, unprivileged on loopback, from tools/nginx.conf.template (as `make run`
    fills it), before one Odoo server; pid, logs and temp files in a temp dir."""

    def __init__(self, listen, server):
        self.tmp = Path(tempfile.mkdtemp(prefix="imlt-bench-nginx-"))
        (self.tmp / "tmp").mkdir()
        self.listen = listen
        values = {
            "@DIR@": str(self.tmp),
            # as root, nginx's workers would be nobody and could not write into a private tmp
            "@USER@": "user root;" if os.geteuid() == 0 else "",
            "@LISTEN@": f"127.0.0.1:{listen}",
            "@HTTP@": str(server.http_port),
            "@GEVENT@": str(server.gevent_port),
        }
        text = NGINX_TEMPLATE.read_text()
        for key, value in values.items():
            text = text.replace(key, value)
        (self.tmp / "nginx.conf").write_text(text)
        self.proc = None

    def start(self):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        # -e: no attempt at /var/log/nginx/error.log before our config is read
        cmd = [nginx, "-c", f"{self.tmp}/nginx.conf", "-e", f"{self.tmp}/error.log"]
        with open(self.tmp / "stderr.log", "ab") as err:
            self.proc = subprocess.Popen(
                [*cmd, "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + 15
        while not listening(self.listen):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start, see {self.tmp}/stderr.log")
            time.sleep(0.1)

    def routes(self):
        """Requests by 'entry port -> upstream port', from the access log."""
        counts = {}
        for line in (self.tmp / "access.log").read_text(errors="replace").splitlines():
            entry, upstream = line.split()[-2:]
            key = f"{entry} -> {upstream.rsplit(':', 1)[-1]}"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def stop(self):
        if self.proc:
            kill_group(self.proc, 10)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------- PostgreSQL


def pg_connect(dbname="postgres"):
    import psycopg2

    conn = psycopg2.connect(dbname=dbname, **PG)
    conn.autocommit = True
    return conn


def sql(db, query, params=None):
    """One query on ``db``: its rows (or None)."""
    conn = pg_connect(db)
    try:
        with conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None
    finally:
        conn.close()


def bus_last_id(db):
    return sql(db, "SELECT COALESCE(max(id), 0) FROM bus_bus")[0][0]


def drop_database(odoo, db):
    with contextlib.suppress(Exception):
        sql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    shutil.rmtree(odoo.data_dir / "filestore" / db, ignore_errors=True)


class PrivatePostgres:
    """A throwaway cluster of the postgres OS user on 127.0.0.1:<port>, fsync off, so that
    restarting it disturbs nobody; a superuser role with a random password for Odoo."""

    user = "imlt_faults"

    def __init__(self):
        versions = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/initdb"),
            key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)],
        )
        if not versions:
            raise RuntimeError("no /usr/lib/postgresql/<version>/bin/initdb: install postgresql")
        self.bin = versions[-1].parent
        self.tmp = Path(tempfile.mkdtemp(prefix="imlt-faults-pg-"))
        self.data = self.tmp / "data"
        self.password = secrets.token_hex(12)
        self.port = free_port(25432)
        self.options = (
            f"-p {self.port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c max_connections=300 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self.started = False

    def as_postgres(self, tool, *args, check=True):
        prefix = (
            ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else ["sudo", "-u", "postgres"]
        )
        return subprocess.run(
            [*prefix, str(self.bin / tool), *args],
            cwd="/",
            check=check,
            timeout=120,
            capture_output=True,
            text=True,
        )

    def ctl(self, *args):
        self.as_postgres(
            "pg_ctl",
            *args,
            "-D",
            str(self.data),
            "-w",
            "-t",
            "60",
            "-o",
            self.options,
            "-l",
            str(self.tmp / "postgresql.log"),
        )

    def start(self):
        shutil.chown(self.tmp, "postgres", "postgres")
        os.chmod(self.tmp, 0o700)
        self.as_postgres(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=reject",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        # loopback only: password auth for our role from 127.0.0.1, nothing else
        hba = self.data / "pg_hba.conf"
        hba.write_text(
            f"local all postgres trust\nhost all {self.user} 127.0.0.1/32 scram-sha-256\n"
        )
        shutil.chown(hba, "postgres", "postgres")
        self.ctl("start")
        self.started = True
        self.as_postgres(
            "psql",
            "-X",
            "-q",
            "-h",
            str(self.tmp),
            "-p",
            str(self.port),
            "-d",
            "postgres",
            "-c",
            f"CREATE ROLE {self.user} SUPERUSER LOGIN PASSWORD '{self.password}'",
        )
        PG.update(host="127.0.0.1", port=self.port, user=self.user, password=self.password)
        return [
            "--db_host=127.0.0.1",
            f"--db_port={self.port}",
            f"--db_user={self.user}",
            f"--db_password={self.password}",
        ]

    def restart(self):
        self.ctl("restart", "-m", "fast")

    def destroy(self):
        if self.started:
            with contextlib.suppress(Exception):
                self.as_postgres(
                    "pg_ctl",
                    "stop",
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "-t",
                    "30",
                    check=False,
                )
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------- the bench database


def populate(odoo, db, settings, logfile):
    """Installs the addon, fills the database through the models (bench/populate.py: the
    people, then the background tickets in parallel shares) and returns what the clients need."""
    started = time.monotonic()
    log(f"installing {MODULE} (no demo data) into {db}; log: {logfile}")
    odoo.install(db, logfile)
    install_seconds = time.monotonic() - started
    out = odoo.state_dir / f"{db}.json"
    env = {
        f"BENCH_{k.upper()}": str(settings[k])
        for k in ("customers", "idle_users", "agents", "desk_agents", "tickets")
    }
    env.update(BENCH_PASSWORD=PASSWORD, BENCH_POPULATE_OUT=str(out))
    odoo.shell(db, "populate.py", logfile, env, parts=["people"])
    shares = max(1, min(os.cpu_count() or 1, 4))
    odoo.shell(db, "populate.py", logfile, env, [f"background:{i}/{shares}" for i in range(shares)])
    data = json.loads(out.read_text())
    sql(db, "ANALYZE")
    for key, query in (
        ("tickets", "SELECT count(*) FROM im_livechat_ticket"),
        (
            "livechat_channels",
            "SELECT count(*) FROM discuss_channel WHERE channel_type = 'livechat'",
        ),
        ("messages", "SELECT count(*) FROM mail_message"),
    ):
        data[key] = sql(db, query)[0][0]
    out.write_text(json.dumps(data))
    data["install_seconds"] = round(install_seconds, 1)
    data["populate_seconds"] = round(time.monotonic() - started - install_seconds, 1)
    log(
        f"installed in {install_seconds:.0f} s, populated in {data['populate_seconds']:.0f} s: "
        f"{data['tickets']:,} tickets, {data['messages']:,} messages"
    )
    return data
