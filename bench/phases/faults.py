"""Fault injection (`make faults`, bench/README.md): nothing lost, nobody let in twice.

On a private PostgreSQL cluster, customers and agents post to each other (a unique token and a
``ticket_client_key`` per post, retried with the same key until it succeeds) while sockets drop,
Odoo and PostgreSQL restart and one client stays away past the bus replay window. Clients fetch
what mail.message holds after each (re)connect; at the end each view is compared with the
database."""

import asyncio
import contextlib
import json
import random
import re
import secrets
import tempfile
import time
from collections import Counter

from ..client import PRESENCE, SUBSCRIBE, Client, post_params
from ..server import PrivatePostgres, Server, bus_last_id, log, populate, sql
from ..settings import FAULTS, NEW_MESSAGE

TOKEN_RE = re.compile(r"flt-[0-9a-f]{16}")
POST_TIMEOUT = 10.0  # an HTTP post not answered within this is retried (same key)
POST_DEADLINE = 120.0  # a post still failing after this is given up (and reported)
# Odoo keeps bus rows TIMEOUT * 2 = 100 s (bus.bus._gc_messages, run by the autovacuum cron)
BUS_REPLAY_WINDOW = 100
# FAULTS_FAULTS key -> (name in the report, FaultRun method)
ACTIONS = {
    "drop": ("a. socket drops", "drop_sockets"),
    "odoo": ("b. Odoo restart", "restart_odoo"),
    "postgres": ("c. PostgreSQL restart", "restart_postgres"),
    "pause": ("d. client paused past the replay window", "pause_client"),
}
# the bus rows of some channels (%s 3) between a client's last notification id and now (%s 2)
MISSED = "FROM bus_bus WHERE id > %s AND id <= %s AND channel = ANY(%s)"


async def until(condition, seconds, step=0.1):
    """Waits (bounded) until ``condition()``; whether it came true."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


async def close_quietly(ws, timeout=None):
    if ws is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), timeout)


class Party:
    """One user's browser tab: a websocket, its view of its conversations."""

    def __init__(self, kind, user, channels):
        self.kind, self.login, self.partner_id = kind, user["login"], user["partner_id"]
        self.name = f"{kind}:{self.login}"
        self.channels = channels  # channel ids this party talks in
        self.view = {cid: {} for cid in channels}  # channel -> {message id: token or None}
        self.shown_twice = self.last_bus_id = self.connects = 0
        self.ws = self.sid = None
        self.paused = False
        self.caught_up_at = 0.0  # when its last catch-up fetch ended


class FaultRun:
    def __init__(self, client, pg, server, db, data):
        self.client, self.pg, self.server, self.db = client, pg, server, db
        self.stop, self.posting = False, True
        self.sent = {}  # token -> {"channel", "sent_at"}
        self.failed = []  # tokens whose post never succeeded
        self.deliveries = []  # (monotonic time, party, message id, via, token) of new view ids
        self.faults = []  # {"name", "start", "end", "note"}
        self.retries, self.post_errors = 0, {}
        customers = data["customers"][: FAULTS["customers"]]
        self.parties = [Party("customer", c, [c["ticket_channel_id"]]) for c in customers] + [
            Party("agent", agent, [c["ticket_channel_id"] for c in customers if c["agent"] == i])
            for i, agent in enumerate(data["agents"])
        ]

    async def rpc(self, path, params, login):
        return await asyncio.wait_for(self.client.jsonrpc(path, params, login), POST_TIMEOUT)

    def merge(self, party, channel_id, store, via):
        """Adds the conversation's messages of ``store`` (a fetch's or a notification's data)."""
        now, view = time.monotonic(), party.view.setdefault(channel_id, {})
        for entry in (store or {}).get("mail.message", []):
            if entry["id"] in view or entry.get("model", "discuss.channel") != "discuss.channel":
                continue
            token = (TOKEN_RE.findall(json.dumps(entry.get("body"))) or [None])[0]
            if token and token in view.values():
                party.shown_twice += 1  # the same post shown under a second id
            view[entry["id"]] = token
            self.deliveries.append((now, party.name, entry["id"], via, token))

    async def catch_up(self, party):
        """mail.message is the truth: fetch what is newer than the last message shown."""
        for channel_id in party.channels:
            for _page in range(50):
                after = max(party.view[channel_id], default=0)
                params = {"channel_id": channel_id, "limit": 200 if after else 1000}
                if after:
                    params["after"] = after
                result = await self.rpc("/discuss/channel/messages", params, party.login)
                self.merge(party, channel_id, result.get("data"), "fetch")
                if not after or len(result.get("messages") or []) < 200:
                    break

    def on_bus(self, party, notifications):
        for notification in notifications:
            party.last_bus_id = max(party.last_bus_id, notification.get("id") or 0)
            message = notification.get("message") or {}
            payload = message.get("payload") or {}
            if message.get("type") == NEW_MESSAGE and payload.get("id") in party.view:
                self.merge(party, payload["id"], payload.get("data"), "bus")

    async def connect_loop(self, party):
        kinds, url, backoff = self.client.aiohttp.WSMsgType, self.client.entries[0][1], 0.5
        while not self.stop:
            if party.paused:
                await asyncio.sleep(0.2)
                continue
            ws = None
            try:
                headers = {"Origin": self.client.base, "Cookie": f"session_id={party.sid}"}
                connecting = self.client.wsclient.ws_connect(url, headers=headers, max_msg_size=0)
                ws = await asyncio.wait_for(connecting, POST_TIMEOUT)
                subscribe = {**SUBSCRIBE, "data": {"channels": [], "last": party.last_bus_id}}
                await ws.send_str(json.dumps(subscribe))
                await ws.send_str(PRESENCE)
                party.ws, party.connects = ws, party.connects + 1
                # subscribed first, then the truth: nothing falls in between
                await self.catch_up(party)
                party.caught_up_at, backoff = time.monotonic(), 0.5
                while not self.stop:
                    message = await ws.receive()
                    if message.type in (kinds.CLOSE, kinds.CLOSED, kinds.ERROR, kinds.CLOSING):
                        break
                    if message.type == kinds.TEXT:
                        self.on_bus(party, json.loads(message.data))
            except Exception:  # noqa: BLE001 - any failure: reconnect with back-off
                pass
            finally:
                party.ws = None
                await close_quietly(ws, 2)
            if not self.stop and not party.paused:
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(backoff * 2, 5)

    async def post(self, party, channel_id):
        token, key = "flt-" + secrets.token_hex(8), "key-" + secrets.token_hex(12)
        params = post_params(channel_id, f"Fault message {token}", ticket_client_key=key)
        sent_at, delay, attempts = time.monotonic(), 0.3, 0
        while time.monotonic() < sent_at + POST_DEADLINE:
            attempts += 1
            try:
                await self.rpc("/mail/message/post", params, party.login)
                self.sent[token] = {"channel": channel_id, "sent_at": sent_at}
                self.retries += attempts - 1
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
            await self.post(party, party.channels[turn % len(party.channels)])
            turn += 1
            await asyncio.sleep(FAULTS["interval"] * (0.5 + random.random()))

    def first_delivery(self, since, bus_only=False):
        """Seconds from ``since`` to the first delivery of a message posted after it (None)."""
        times = [
            t
            for t, _party, _mid, via, token in self.deliveries
            if t >= since
            and (via == "bus" or not bus_only)
            and token in self.sent
            and self.sent[token]["sent_at"] >= since
        ]
        return min(times) - since if times else None

    # -- faults

    async def fault(self, name, action):
        log(f"fault {name}: start")
        start = time.monotonic()
        note = await action()
        end = time.monotonic()
        self.faults.append({"name": name, "start": start, "end": end, "note": note})
        log(f"fault {name}: over after {end - start:.1f} s ({note})")
        # keep the traffic going until the bus delivers again (bounded), then some plain traffic
        limit = FAULTS["recovery_limit"]
        if not await until(lambda: self.first_delivery(end, True) is not None, limit, 0.2):
            log(f"fault {name}: no bus delivery within {limit:.0f} s of its end")
        await asyncio.sleep(FAULTS["steady"])

    async def drop_sockets(self):
        victims = random.sample(self.parties, min(FAULTS["drop"], len(self.parties)))
        for party in victims:
            await close_quietly(party.ws)
        return f"closed {len(victims)} sockets: " + ", ".join(p.name for p in victims)

    async def restart_odoo(self):
        await asyncio.to_thread(self.server.stop)
        await asyncio.to_thread(self.server.start)
        self.client.server_pids[:] = [self.server.pid]
        return "stopped (SIGTERM), started, healthy again"

    async def restart_postgres(self):
        await asyncio.to_thread(self.pg.restart)
        return "pg_ctl restart -m fast on the private cluster"

    async def pause_client(self):
        party = next(p for p in self.parties if p.kind == "customer")
        party.paused, away = True, time.monotonic()
        await close_quietly(party.ws)
        keys = [
            json.dumps([self.db, model, rid], separators=(",", ":"))
            for model, rid in (
                ("discuss.channel", party.channels[0]),
                ("res.partner", party.partner_id),
            )
        ]
        real_window = FAULTS["pause"] > BUS_REPLAY_WINDOW
        if real_window:
            # past the window for real: Odoo's own GC (the autovacuum cron's job, off in this
            # run), in a shell started now that runs it when the pause ends
            at = time.time() + FAULTS["pause"]
            gc = asyncio.create_task(asyncio.to_thread(self.collect_bus_garbage, at))
        await asyncio.sleep(max(0.0, FAULTS["pause"] - 1))
        missed = [party.last_bus_id, bus_last_id(self.db), keys]
        pending = sql(self.db, f"SELECT count(*) {MISSED}", missed)[0][0]
        if real_window:
            await gc
            how = "Odoo's bus GC (bus.bus._gc_messages) then deleted"
        else:
            await asyncio.sleep(1)
            # a short run: delete what this client missed, as the GC would after the window
            sql(self.db, f"DELETE {MISSED}", missed)
            how = f"SIMULATED the {BUS_REPLAY_WINDOW} s bus replay window passing: deleted in SQL"
        deleted = pending - sql(self.db, f"SELECT count(*) {MISSED}", missed)[0][0]
        party.paused, away, back = False, time.monotonic() - away, time.monotonic()
        await until(lambda: party.caught_up_at >= back, 60)  # its reconnect and catch-up fetch
        fetched = sum(
            1
            for t, name, _mid, via, token in self.deliveries
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

    def collect_bus_garbage(self, at):
        """In an Odoo shell on the run's database: wait until ``at`` (epoch),
        then run bus.bus._gc_messages() and commit."""
        odoo = self.client.odoo
        script = (
            f"import time\ntime.sleep(max(0.0, {at!r} - time.time()))\n"
            "env.cr.rollback()  # a fresh snapshot: rows written while waiting\n"
            "env['bus.bus']._gc_messages()\nenv.cr.commit()\n"
        )
        with tempfile.TemporaryFile() as stdin:
            stdin.write(script.encode())
            stdin.seek(0)
            args = f"shell -d {self.db} --no-http --log-level=warn".split()
            odoo.run(*args, stdin=stdin, logfile=odoo.log_dir / f"faults-{self.db}-gc.log")

    # -- the verdict

    def truth(self):
        """channel -> {message id: token}: the stored messages a member's view must show."""
        channels = sorted({c for p in self.parties for c in p.channels})
        truth = {c: {} for c in channels}
        for res_id, mid, body in sql(
            self.db,
            "SELECT res_id, id, body FROM mail_message WHERE model = 'discuss.channel'"
            " AND res_id = ANY(%s) AND message_type != 'user_notification'",
            [channels],
        ):
            truth[res_id][mid] = (TOKEN_RE.findall(body or "") or [None])[0]
        return truth

    def converged(self):
        truth = self.truth()
        return all(set(truth[c]) <= set(p.view[c]) for p in self.parties for c in p.channels)


async def drive(odoo, pg, server, db, data):
    client = Client(odoo, db, data, [(server.base, server.ws_url)], [server.pid])
    run, tasks = FaultRun(client, pg, server, db, data), []
    try:
        for party in run.parties:
            party.sid = await client.login(party.login)
            party.last_bus_id = bus_last_id(db)
        agents = sum(p.kind == "agent" for p in run.parties)
        log(
            f"{len(run.parties)} parties logged in: {len(run.parties) - agents} customers, "
            f"{agents} agents"
        )
        tasks += [asyncio.create_task(run.connect_loop(p)) for p in run.parties]
        await until(lambda: all(p.ws is not None for p in run.parties), 10)
        posters = [asyncio.create_task(run.poster(p)) for p in run.parties]
        tasks += posters
        await asyncio.sleep(FAULTS["steady"])
        for key in FAULTS["faults"]:
            if key in ACTIONS:
                name, method = ACTIONS[key]
                await run.fault(name, getattr(run, method))
        run.posting = False
        log("posting stopped; waiting for the in-flight posts")
        await asyncio.wait(posters, timeout=POST_DEADLINE)
        # converge: every party shows every stored message of its conversations (bounded)
        started = time.monotonic()
        await until(run.converged, FAULTS["drain"], 0.5)
        log(f"views converged or gave up after {time.monotonic() - started:.1f} s of drain")
        run.stop = True
        return run, run.truth()
    finally:
        run.stop, run.posting = True, False
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()


def report(run, truth):
    stored = Counter(t for messages in truth.values() for t in messages.values() if t)  # rows
    sent, parties = run.sent, run.parties
    not_stored = [t for t in sent if t not in stored]
    dup_stored = sum(n - 1 for n in stored.values())
    shown_twice = sum(p.shown_twice for p in parties)
    missing, delivered, extra_in_view = [], 0, 0  # missing: (party, message id, token)
    for party in parties:
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
    members = Counter(c for p in parties for c in p.channels)
    expected = sum(members[record["channel"]] for record in sent.values())
    lines = [
        "",
        f"parties: {len(parties)} ({FAULTS['customers']} customers, "
        f"{sum(p.kind == 'agent' for p in parties)} agents), websocket (re)connects: "
        f"{sum(p.connects for p in parties)}",
        f"sent        {len(sent):6}  posts whose HTTP call succeeded ({run.retries} retries with "
        f"the same ticket_client_key; {len(run.failed)} posts given up)",
        f"stored      {len(sent) - len(not_stored):6}  distinct rows for those tokens "
        f"({stored.total()} rows in all)",
        f"delivered   {delivered:6}  of {expected} (each sent message x each party of its "
        "conversation)",
        f"lost        {lost:6}  ({len(not_stored)} not stored, {len(missing_sent)} missing from a "
        f"party's view, {len(run.failed)} never accepted)",
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
        errors = sorted(run.post_errors.items(), key=lambda kv: -kv[1])[:5]
        lines.append("post errors (retried): " + "; ".join(f"{n} x {k}" for k, n in errors))
    lines.append("recovery after each fault (from the fault's end):")
    for fault in run.faults:
        first, by_bus = (run.first_delivery(fault["end"], bus) for bus in (False, True))
        lines.append(
            f"  {fault['name']:<42} lasted {fault['end'] - fault['start']:5.1f} s; first new "
            f"message delivered {seconds(first)} (by bus {seconds(by_bus)})"
        )
        lines.append(f"      {fault['note']}")
    lines.append(f"faults: lost={lost} duplicated={duplicated}")
    return "\n".join(lines), lost, duplicated


def seconds(value):
    return "never" if value is None else f"{value:.2f} s"


def run(odoo, stamp, cleanup):
    from ..main import database, start_server

    pg = PrivatePostgres()
    cleanup.callback(pg.destroy)
    log(f"starting a private PostgreSQL ({pg.bin.parent.name}) in {pg.tmp}")
    odoo.common += pg.start()
    setup_log = odoo.log_dir / f"faults-{stamp}-setup.log"
    db, _created = database(odoo, cleanup, "imlt_faults", None, False, setup_log)
    cleanup.callback((odoo.state_dir / f"{db}.json").unlink, missing_ok=True)
    # a ticket per customer and nobody else: no idle users, no background tickets to share
    people = {"customers": FAULTS["customers"], "agents": FAULTS["agents"], "idle_users": 0}
    people |= {"desk_agents": 0, "tickets": FAULTS["customers"]}
    data = populate(odoo, db, people, setup_log)
    server_log = odoo.log_dir / f"faults-{stamp}-{db}-server.log"
    server = start_server(odoo, cleanup, Server(odoo, db, server_log, FAULTS["workers"], 18369))
    fault_run, truth = asyncio.run(drive(odoo, pg, server, db, data))
    server.stop()
    text, lost, duplicated = report(fault_run, truth)
    print(text, flush=True)
    return 1 if lost or duplicated else 0
