"""Fault injection (`make faults`): nothing lost, nobody let in twice.

On a PRIVATE PostgreSQL cluster (restarting it disturbs nobody), a throwaway database with
FAULTS_CUSTOMERS customers (a ticket each) and FAULTS_AGENTS agents, served multi-process.
Customers and agents keep posting to each other (each post has a unique body token and a
``ticket_client_key``; a failed or timed-out post is retried with the same key until it
succeeds) while, in turn (FAULTS_FAULTS): (a) sockets drop and reconnect with their last bus
notification id, (b) Odoo restarts, (c) PostgreSQL restarts (``pg_ctl restart -m fast``),
(d) one client stays away past the bus replay window (Odoo's own bus GC run at its end).
Clients treat mail.message as the truth: on every (re)connect they fetch the messages after
the last one they show and merge by id, as they merge bus notifications. At the end each
party's view is compared with the database."""

import asyncio
import contextlib
import json
import random
import re
import secrets
import tempfile
import time

from ..client import Client, post_params
from ..server import PrivatePostgres, Server, bus_last_id, log, pg_connect, populate
from ..settings import FAULTS, NEW_MESSAGE

TOKEN_RE = re.compile(r"flt-[0-9a-f]{16}")
POST_TIMEOUT = 10.0  # an HTTP post not answered within this is retried (same key)
POST_DEADLINE = 120.0  # a post still failing after this is given up (and reported)
# Odoo keeps bus rows TIMEOUT * 2 = 100 s (bus.bus._gc_messages, run by the autovacuum cron)
BUS_REPLAY_WINDOW = 100


class Party:
    """One user's browser tab: a websocket, its view of its conversations."""

    def __init__(self, name, login, channels, kind):
        self.name = name
        self.login = login
        self.kind = kind  # customer | agent
        self.channels = channels  # channel ids this party talks in
        self.view = {cid: {} for cid in channels}  # channel -> {message id: token or None}
        self.shown_twice = 0
        self.last_bus_id = 0
        self.ws = None
        self.paused = False
        self.connects = 0
        self.sid = None
        self.caught_up_at = 0.0  # when its last catch-up fetch ended


class FaultRun:
    def __init__(self, bench, pg, db, data):
        self.bench = bench
        self.pg = pg
        self.db = db
        self.data = data
        self.stop = False
        self.posting = True
        self.sent = {}  # token -> {"channel", "party", "message_id", "sent_at", "attempts"}
        self.failed = []  # tokens whose post never succeeded
        self.deliveries = []  # (monotonic time, party, message id, via) for new ids in views
        self.faults = []  # {"name", "start", "end", "note"}
        self.retries = 0
        self.post_errors = {}
        self.parties = []
        agents = data["agents"]
        for customer in data["customers"][: FAULTS["customers"]]:
            self.parties.append(
                Party(
                    f"customer:{customer['login']}",
                    customer["login"],
                    [customer["ticket_channel_id"]],
                    "customer",
                )
            )
        for index, agent in enumerate(agents):
            channels = [
                c["ticket_channel_id"]
                for c in data["customers"][: FAULTS["customers"]]
                if c["agent"] == index
            ]
            self.parties.append(Party(f"agent:{agent['login']}", agent["login"], channels, "agent"))

    # -- HTTP with a bound

    async def rpc(self, path, params, login):
        return await asyncio.wait_for(self.bench.jsonrpc(path, params, login), POST_TIMEOUT)

    def merge(self, party, channel_id, entries, via):
        now = time.monotonic()
        view = party.view.setdefault(channel_id, {})
        for entry in entries:
            mid = entry["id"]
            token = (TOKEN_RE.findall(json.dumps(entry.get("body"))) or [None])[0]
            if mid in view:
                continue
            if token and token in view.values():
                party.shown_twice += 1  # the same post shown under a second id
            view[mid] = token
            self.deliveries.append((now, party.name, mid, via, token))

    async def catch_up(self, party):
        """mail.message is the truth: fetch what is newer than the last message shown."""
        for channel_id in party.channels:
            for _page in range(50):
                after = max(party.view[channel_id], default=0)
                result = await self.rpc(
                    "/discuss/channel/messages",
                    {"channel_id": channel_id, "after": after or None, "limit": 200}
                    if after
                    else {"channel_id": channel_id, "limit": 1000},
                    party.login,
                )
                entries = [
                    m
                    for m in (result.get("data") or {}).get("mail.message", [])
                    if m.get("model", "discuss.channel") == "discuss.channel"
                ]
                self.merge(party, channel_id, entries, "fetch")
                if not after or len(result.get("messages") or []) < 200:
                    break

    async def connect_loop(self, party):
        aiohttp = self.bench.aiohttp
        backoff = 0.5
        while not self.stop:
            if party.paused:
                await asyncio.sleep(0.2)
                continue
            ws = None
            try:
                ws = await asyncio.wait_for(
                    self.bench.wsclient.ws_connect(
                        self.bench.entries[0][1],
                        headers={"Origin": self.bench.base, "Cookie": f"session_id={party.sid}"},
                        autoping=True,
                        heartbeat=None,
                        max_msg_size=0,
                    ),
                    POST_TIMEOUT,
                )
                await ws.send_str(
                    json.dumps(
                        {
                            "event_name": "subscribe",
                            "data": {"channels": [], "last": party.last_bus_id},
                        }
                    )
                )
                await ws.send_str(
                    json.dumps(
                        {
                            "event_name": "update_presence",
                            "data": {"inactivity_period": 0, "im_status_ids_by_model": {}},
                        }
                    )
                )
                party.ws = ws
                party.connects += 1
                # subscribed first, then the truth: nothing falls in between
                await self.catch_up(party)
                party.caught_up_at = time.monotonic()
                backoff = 0.5
                while not self.stop:
                    message = await ws.receive()
                    if message.type == aiohttp.WSMsgType.TEXT:
                        for notification in json.loads(message.data):
                            party.last_bus_id = max(party.last_bus_id, notification.get("id") or 0)
                            body = notification.get("message") or {}
                            if body.get("type") != NEW_MESSAGE:
                                continue
                            payload = body.get("payload") or {}
                            channel_id = payload.get("id")
                            if channel_id in party.view:
                                self.merge(
                                    party,
                                    channel_id,
                                    (payload.get("data") or {}).get("mail.message", []),
                                    "bus",
                                )
                    elif message.type in (
                        aiohttp.WSMsgType.CLOSE,
                        aiohttp.WSMsgType.CLOSED,
                        aiohttp.WSMsgType.ERROR,
                        aiohttp.WSMsgType.CLOSING,
                    ):
                        break
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - any failure: reconnect with back-off
                pass
            finally:
                party.ws = None
                if ws is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(ws.close(), 2)
            if not self.stop and not party.paused:
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, 5)

    async def post(self, party, channel_id):
        token = "flt-" + secrets.token_hex(8)
        key = "key-" + secrets.token_hex(12)
        record = {
            "channel": channel_id,
            "party": party.name,
            "message_id": None,
            "sent_at": time.monotonic(),
            "attempts": 0,
        }
        params = post_params(channel_id, f"Fault message {token}", ticket_client_key=key)
        deadline = time.monotonic() + POST_DEADLINE
        delay = 0.3
        while time.monotonic() < deadline:
            record["attempts"] += 1
            try:
                result = await self.rpc("/mail/message/post", params, party.login)
                messages = (result or {}).get("mail.message") or []
                record["message_id"] = messages[0]["id"] if messages else None
                record["answered_at"] = time.monotonic()
                self.sent[token] = record
                if record["attempts"] > 1:
                    self.retries += record["attempts"] - 1
                return
            except Exception as error:  # noqa: BLE001 - retry the same post, same key
                kind = f"{type(error).__name__}: {str(error)[:80]}"
                self.post_errors[kind] = self.post_errors.get(kind, 0) + 1
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 3)
        self.failed.append(token)

    async def poster(self, party):
        turn = 0
        await asyncio.sleep(random.random() * FAULTS["interval"])
        while self.posting:
            if party.paused:
                await asyncio.sleep(0.2)
                continue
            channel_id = party.channels[turn % len(party.channels)]
            turn += 1
            await self.post(party, channel_id)
            await asyncio.sleep(FAULTS["interval"] * (0.5 + random.random()))

    # -- faults

    async def fault(self, name, action, note=""):
        log(f"fault {name}: start")
        start = time.monotonic()
        extra = await action()
        end = time.monotonic()
        self.faults.append({"name": name, "start": start, "end": end, "note": extra or note})
        log(
            f"fault {name}: over after {end - start:.1f} "
            f"s{(' (' + (extra or note) + ')') if (extra or note) else ''}"
        )
        # keep the traffic going until the bus delivers again (bounded), then some plain traffic
        waited = time.monotonic()
        while time.monotonic() - waited < FAULTS["recovery_limit"] and not self.recovered_by_bus(
            end
        ):
            await asyncio.sleep(0.2)
        if not self.recovered_by_bus(end):
            log(f"fault {name}: no bus delivery within {FAULTS['recovery_limit']:.0f} s of its end")
        await asyncio.sleep(FAULTS["steady"])

    def recovered_by_bus(self, since):
        return any(
            t >= since
            and via == "bus"
            and token in self.sent
            and self.sent[token]["sent_at"] >= since
            for t, _p, _m, via, token in reversed(self.deliveries[-500:])
        )

    async def drop_sockets(self):
        victims = random.sample(self.parties, min(FAULTS["drop"], len(self.parties)))
        for party in victims:
            if party.ws is not None:
                with contextlib.suppress(Exception):
                    await party.ws.close()
        return f"closed {len(victims)} sockets: " + ", ".join(p.name for p in victims)

    async def restart_odoo(self):
        await asyncio.to_thread(self.server.stop)
        await asyncio.to_thread(self.server.start)
        self.bench.server_pids[:] = [self.server.pid]
        return "stopped (SIGTERM), started, healthy again"

    async def restart_postgres(self):
        await asyncio.to_thread(self.pg.restart)
        return "pg_ctl restart -m fast on the private cluster"

    async def pause_client(self):
        party = next(p for p in self.parties if p.kind == "customer")
        party.paused = True
        away = time.monotonic()
        if party.ws is not None:
            with contextlib.suppress(Exception):
                await party.ws.close()
        channel_id = party.channels[0]
        keys = [
            json.dumps([self.db, "discuss.channel", channel_id], separators=(",", ":")),
            json.dumps([self.db, "res.partner", self.partner_of(party)], separators=(",", ":")),
        ]
        real_window = FAULTS["pause"] > BUS_REPLAY_WINDOW
        if real_window:
            # past the window for real: Odoo's own GC (the autovacuum cron's job, off in this
            # run), in a shell started now that runs it when the pause ends
            gc = asyncio.create_task(
                asyncio.to_thread(self.collect_bus_garbage, time.time() + FAULTS["pause"])
            )
        await asyncio.sleep(max(0.0, FAULTS["pause"] - 1))
        upto, pending = self.pending_bus_rows(party, keys)
        if real_window:
            await gc
            how = "Odoo's bus GC (bus.bus._gc_messages) then deleted"
        else:
            await asyncio.sleep(1)
            # a short run: delete what this client missed, as the GC would after the window
            conn = pg_connect(self.db)
            with conn.cursor() as cr:
                cr.execute(
                    "DELETE FROM bus_bus WHERE id > %s AND id <= %s AND channel = ANY(%s)",
                    [party.last_bus_id, upto, keys],
                )
            conn.close()
            how = f"SIMULATED the {BUS_REPLAY_WINDOW} s bus replay window passing: deleted in SQL"
        deleted = pending - self.pending_bus_rows(party, keys, upto)[1]
        party.paused = False
        away = time.monotonic() - away
        back = time.monotonic()
        for _ in range(600):  # bounded: its reconnect and catch-up fetch
            if party.caught_up_at >= back:
                break
            await asyncio.sleep(0.1)
        fetched = sum(
            1
            for t, name, _m, via, token in self.deliveries
            if t >= back and name == party.name and via == "fetch" and token
        )
        if not deleted:
            log(
                f"fault pause: none of the {pending} bus rows {party.name} missed was deleted: "
                "the run did not go past the replay window"
            )
        return (
            f"{party.name} away {away:.0f} s; {how} {deleted} of the {pending} bus rows it "
            f"missed; got {fetched} missed messages back from mail.message on reconnect"
        )

    def pending_bus_rows(self, party, keys, upto=None):
        """(highest bus id now or ``upto``, rows of ``keys`` the party has not seen up to it)"""
        conn = pg_connect(self.db)
        with conn.cursor() as cr:
            if upto is None:
                cr.execute("SELECT COALESCE(max(id), 0) FROM bus_bus")
                upto = cr.fetchone()[0]
            cr.execute(
                "SELECT count(*) FROM bus_bus WHERE id > %s AND id <= %s AND channel = ANY(%s)",
                [party.last_bus_id, upto, keys],
            )
            count = cr.fetchone()[0]
        conn.close()
        return upto, count

    def collect_bus_garbage(self, at):
        """In an Odoo shell on the run's database: wait until ``at`` (epoch),
        then run bus.bus._gc_messages() and commit."""
        odoo = self.bench.odoo
        logfile = odoo.log_dir / f"faults-{self.db}-gc.log"
        script = (
            "import time\n"
            f"time.sleep(max(0.0, {at!r} - time.time()))\n"
            "env.cr.rollback()  # a fresh snapshot: rows written while waiting\n"
            "env['bus.bus']._gc_messages()\n"
            "env.cr.commit()\n"
        )
        with tempfile.TemporaryFile() as stdin:
            stdin.write(script.encode())
            stdin.seek(0)
            odoo.run(
                "shell",
                "-d",
                self.db,
                "--no-http",
                "--log-level=warn",
                stdin=stdin,
                logfile=logfile,
            )

    def partner_of(self, party):
        for customer in self.data["customers"]:
            if customer["login"] == party.login:
                return customer["partner_id"]
        for agent in self.data["agents"]:
            if agent["login"] == party.login:
                return agent["partner_id"]
        return 0


async def drive(odoo, pg, db, data, server):
    bench = Client(odoo, db, data, [(server.base, server.ws_url)], [server.pid])
    run = FaultRun(bench, pg, db, data)
    run.server = server
    tasks = []
    try:
        for party in run.parties:
            party.sid = await bench.login(party.login)
            party.last_bus_id = bus_last_id(db)
        log(
            f"{len(run.parties)} parties logged in: "
            f"{sum(p.kind == 'customer' for p in run.parties)} customers, "
            f"{sum(p.kind == 'agent' for p in run.parties)} agents"
        )
        tasks += [asyncio.create_task(run.connect_loop(p)) for p in run.parties]
        for _ in range(100):
            if all(p.ws is not None for p in run.parties):
                break
            await asyncio.sleep(0.1)
        posters = [asyncio.create_task(run.poster(p)) for p in run.parties]
        tasks += posters
        await asyncio.sleep(FAULTS["steady"])
        actions = {
            "drop": ("a. socket drops", run.drop_sockets),
            "odoo": ("b. Odoo restart", run.restart_odoo),
            "postgres": ("c. PostgreSQL restart", run.restart_postgres),
            "pause": ("d. client paused past the replay window", run.pause_client),
        }
        for key in FAULTS["faults"]:
            if key in actions:
                await run.fault(*actions[key])
        run.posting = False
        log("posting stopped; waiting for the in-flight posts")
        await asyncio.wait(posters, timeout=POST_DEADLINE)
        # converge: every party shows every stored message of its conversations (bounded)
        truth = db_truth(pg, db, run)
        started = time.monotonic()
        while time.monotonic() - started < FAULTS["drain"]:
            if all(set(truth[c]) <= set(p.view[c]) for p in run.parties for c in p.channels):
                break
            await asyncio.sleep(0.5)
            truth = db_truth(pg, db, run)
        log(f"views converged or gave up after {time.monotonic() - started:.1f} s of drain")
        run.stop = True
        return run, db_truth(pg, db, run)
    finally:
        run.stop = True
        run.posting = False
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bench.close()


def db_truth(pg, db, run):
    """channel -> {message id: token}: the stored messages a member's view must show."""
    channels = sorted({c for p in run.parties for c in p.channels})
    conn = pg_connect(db)
    truth = {c: {} for c in channels}
    with conn.cursor() as cr:
        cr.execute(
            "SELECT res_id, id, body FROM mail_message WHERE model = 'discuss.channel' AND res_id "
            "= ANY(%s) "
            "AND message_type != 'user_notification'",
            [channels],
        )
        for res_id, mid, body in cr.fetchall():
            truth[res_id][mid] = (TOKEN_RE.findall(body or "") or [None])[0]
    conn.close()
    return truth


def report(run, truth):  # noqa: C901 - one flat list of checks, clearer than split
    stored_by_token = {}
    for messages in truth.values():
        for mid, token in messages.items():
            if token:
                stored_by_token.setdefault(token, []).append(mid)
    sent = run.sent
    not_stored = [t for t in sent if t not in stored_by_token]
    dup_stored = sum(len(ids) - 1 for t, ids in stored_by_token.items() if len(ids) > 1)
    shown_twice = sum(p.shown_twice for p in run.parties)
    missing = []  # (party, message id, token)
    delivered = 0
    extra_in_view = 0
    for party in run.parties:
        for channel_id in party.channels:
            view = party.view[channel_id]
            for mid, token in truth[channel_id].items():
                if mid in view:
                    delivered += token is not None and token in sent
                elif token in sent or token is None:
                    missing.append((party.name, mid, token))
            extra_in_view += len(set(view) - set(truth[channel_id]))
    missing_sent = [m for m in missing if m[2] is not None]
    lost = len(not_stored) + len(missing_sent) + len(run.failed)
    duplicated = dup_stored + shown_twice
    parties_per_channel = {}
    for party in run.parties:
        for channel_id in party.channels:
            parties_per_channel[channel_id] = parties_per_channel.get(channel_id, 0) + 1
    expected = sum(parties_per_channel[record["channel"]] for record in sent.values())
    lines = [
        "",
        f"parties: {len(run.parties)} ({FAULTS['customers']} customers, "
        f"{sum(p.kind == 'agent' for p in run.parties)} agents), websocket (re)connects: "
        f"{sum(p.connects for p in run.parties)}",
        f"sent        {len(sent):6}  posts whose HTTP call succeeded ({run.retries} retries with "
        "the same "
        f"ticket_client_key; {len(run.failed)} posts given up)",
        f"stored      {sum(1 for t in sent if t in stored_by_token):6}  distinct rows for those "
        "tokens "
        f"({sum(len(v) for v in stored_by_token.values())} rows in all)",
        f"delivered   {delivered:6}  of {expected} (each sent message x each party of its "
        "conversation)",
        f"lost        {lost:6}  ({len(not_stored)} not stored, {len(missing_sent)} missing from a "
        "party's view, "
        f"{len(run.failed)} never accepted)",
        f"duplicated  {duplicated:6}  ({dup_stored} stored twice for one token, {shown_twice} "
        "shown twice by a client)",
    ]
    if missing:
        lines.append(
            f"  missing from views, first: {missing[:5]} "
            f"({len(missing) - len(missing_sent)} of them not our posts)"
        )
    if extra_in_view:
        lines.append(f"  {extra_in_view} ids shown by clients but not in the database")
    if run.post_errors:
        lines.append(
            "post errors (retried): "
            + "; ".join(
                f"{n} x {kind}"
                for kind, n in sorted(run.post_errors.items(), key=lambda kv: -kv[1])[:5]
            )
        )
    lines.append("recovery after each fault (from the fault's end):")
    for fault in run.faults:

        def first(via_ok, fault=fault):
            times = [
                t
                for t, _p, _m, via, token in run.deliveries
                if t >= fault["end"]
                and via_ok(via)
                and token in sent
                and sent[token]["sent_at"] >= fault["end"]
            ]
            return f"{min(times) - fault['end']:.2f} s" if times else "never"

        lines.append(
            f"  {fault['name']:<42} lasted {fault['end'] - fault['start']:5.1f} s; "
            f"first new message delivered {first(lambda v: True)} (by bus "
            f"{first(lambda v: v == 'bus')})"
        )
        if fault["note"]:
            lines.append(f"      {fault['note']}")
    lines.append(f"faults: lost={lost} duplicated={duplicated}")
    return "\n".join(lines), lost, duplicated


def run(odoo, stamp, cleanup):
    pg = PrivatePostgres()
    cleanup.callback(pg.destroy)
    log(f"starting a private PostgreSQL ({pg.bin.parent.name}) in {pg.tmp}")
    odoo.common += pg.start()
    db = f"imlt_faults_{secrets.token_hex(4)}"
    cleanup.callback((odoo.state_dir / f"{db}.json").unlink, missing_ok=True)
    settings = {
        "customers": FAULTS["customers"],
        "agents": FAULTS["agents"],
        "idle_users": 0,
        "tickets": FAULTS["customers"],
    }
    data = populate(odoo, db, settings, odoo.log_dir / f"faults-{stamp}-{db}-setup.log")
    server = Server(
        odoo, db, odoo.log_dir / f"faults-{stamp}-{db}-server.log", FAULTS["workers"], 18369
    )
    log(f"starting Odoo: --workers={FAULTS['workers']}; log: {server.log}")
    cleanup.callback(server.stop)
    server.start()
    fault_run, truth = asyncio.run(drive(odoo, pg, db, data, server))
    server.stop()
    text, lost, duplicated = report(fault_run, truth)
    print(text, flush=True)
    return 1 if lost or duplicated else 0
