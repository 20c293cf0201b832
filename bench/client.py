"""The load client and the plain client that checks it.

``Client``: one asyncio loop (aiohttp). Each user has an HTTP session of their own, kept
alive as a browser keeps its connections (up to 6), with their session cookie; websockets
share one pool. Each timed message carries a token that the receiving socket matches in the
``discuss.channel/new_message`` notification. ``PlainClient``: ``requests.Session`` and
``websocket-client``, one message at a time, for the cross-check."""

import asyncio
import contextlib
import json
import random
import re
import secrets
import time

from .measure import error_text, percentile, summarize
from .server import bus_last_id
from .settings import DELIVERY_TIMEOUT, NEW_MESSAGE, PASSWORD

TOKEN_RE = re.compile(r"bnch-[0-9a-f]{16}")
SUBSCRIBE = {"event_name": "subscribe", "data": {"channels": [], "last": 0}}
PRESENCE = json.dumps(
    {
        "event_name": "update_presence",
        "data": {"inactivity_period": 0, "im_status_ids_by_model": {}},
    }
)
DIRECTIONS = ("customer->agent", "agent->customer")
# Odoo's web client (bus/static/src/workers/websocket_worker.js, _retryConnectionWithDelay):
# after an unclean close or a failed attempt it waits min(delay * 1.5, 60 s) + 1 s * random(),
# delay starting at 1 s and reset to 1 s once a connection opens.
INITIAL_DELAY, MAXIMUM_DELAY, JITTER = 1.0, 60.0, 1.0
ATTEMPT_TIMEOUT = 60.0  # a handshake still unanswered after this counts as a failed attempt


class RpcError(Exception):
    pass


def post_params(channel_id, body, **post_data):
    return {
        "post_data": {
            "body": body,
            "message_type": "comment",
            "subtype_xmlid": "mail.mt_comment",
            **post_data,
        },
        "thread_id": channel_id,
        "thread_model": "discuss.channel",
        "context": {"mail_post_autofollow": False, "temporary_id": random.random()},
    }


def rpc_body(params):
    return {"jsonrpc": "2.0", "method": "call", "id": random.randrange(10**9), "params": params}


def rpc_result(body):
    if body.get("error"):
        error = body["error"]
        raise RpcError((error.get("data") or {}).get("message") or error.get("message"))
    return body.get("result")


class Client:
    """``entries``: [(HTTP base, websocket URL)]; with two, agents use the second (scale-out)."""

    def __init__(self, odoo, db, data, entries, server_pids):
        import aiohttp

        self.aiohttp, self.odoo, self.db, self.data = aiohttp, odoo, db, data
        self.entries = entries
        self.base = entries[0][0]
        self.server_pids = server_pids
        self.agent_logins = {agent["login"] for agent in data["agents"]}
        self.http = {}  # login (or None: anonymous) -> aiohttp.ClientSession
        self.wsclient = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
        )
        self.sessions = {}  # login -> session id
        self.sockets = {}  # socket name -> websocket
        self.socket_meta = {}  # socket name -> (login, measured, presence)
        self.last_ids = {}  # socket name -> last bus notification id it received
        self.on_close = None  # called with a socket's name when it closes (reconnect storm)
        self.probe = None  # a token: sockets whose frames carry it are noted in probe_seen
        self.probe_seen = {}
        self.readers = []
        self.pending = {}  # token -> message record
        self.closed_sockets = []
        self.closing = False
        self.requests = 0  # HTTP requests sent, for the client's CPU per request
        self.results = {"messages": {}, "load": [], "sockets": {}, "tickets": {}, "queue": {}}
        self.raw = {}  # metric key -> latencies (ms)

    async def close(self, forget_sessions=True):
        self.closing = True
        for task in self.readers:
            task.cancel()
        sockets = list(self.sockets.values())
        for start in range(0, len(sockets), 100):
            await asyncio.gather(
                *(asyncio.wait_for(ws.close(), 5) for ws in sockets[start : start + 100]),
                return_exceptions=True,
            )
        for session in [*self.http.values(), self.wsclient]:
            await session.close()
        if forget_sessions:  # the server's session files of our logins
            for sid in self.sessions.values():
                with contextlib.suppress(OSError):
                    (self.odoo.data_dir / "sessions" / sid[:2] / sid).unlink()

    def entry(self, login):
        """(HTTP base URL, websocket URL) that ``login`` uses."""
        return self.entries[1 if len(self.entries) > 1 and login in self.agent_logins else 0]

    def session(self, login):
        """The user's HTTP session: kept-alive connections, as a browser holds them."""
        if login not in self.http:
            aiohttp = self.aiohttp
            headers = {"Cookie": f"session_id={self.sessions[login]}"} if login else {}
            self.http[login] = aiohttp.ClientSession(
                base_url=self.entry(login)[0],
                headers=headers,
                connector=aiohttp.TCPConnector(limit=6, keepalive_timeout=30),
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=120),
            )
        return self.http[login]

    def use_sessions(self, sessions):
        """Reuse logged-in sessions (the session store is shared by every server of the db)."""
        self.sessions.update(sessions)

    # -- HTTP

    async def request(self, login, method, path, **kwargs):
        """(status, headers, body bytes) of one request as ``login`` (None: anonymous)."""
        self.requests += 1
        async with self.session(login).request(method, path, **kwargs) as response:
            return response.status, response.headers, await response.read()

    async def jsonrpc(self, path, params, login=None):
        _status, _headers, body = await self.request(login, "POST", path, json=rpc_body(params))
        return rpc_result(json.loads(body))

    async def login(self, login):
        self.requests += 1
        params = {"db": self.db, "login": login, "password": PASSWORD}
        async with self.aiohttp.ClientSession(cookie_jar=self.aiohttp.DummyCookieJar()) as anon:
            url = self.entry(login)[0] + "/web/session/authenticate"
            async with anon.post(url, json=rpc_body(params)) as response:
                result = rpc_result(await response.json(content_type=None))
                cookie = response.cookies.get("session_id")
        if not cookie or not (result or {}).get("uid"):
            raise RpcError(f"login of {login} failed")
        self.sessions[login] = cookie.value
        return cookie.value

    async def post_message(self, login, channel_id, body):
        return await self.jsonrpc("/mail/message/post", post_params(channel_id, body), login)

    async def call_kw(self, login, model, method, kwargs, args=()):
        params = {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        return await self.jsonrpc(f"/web/dataset/call_kw/{model}/{method}", params, login)

    # -- websockets

    async def open_socket(self, name, login, last, measured, presence=True):
        base, ws_url = self.entry(login)
        self.socket_meta[name] = (login, measured, presence)
        self.last_ids[name] = max(last, self.last_ids.get(name, 0))
        ws = await self.wsclient.ws_connect(
            ws_url,
            headers={"Origin": base, "Cookie": f"session_id={self.sessions[login]}"},
            autoping=True,
            heartbeat=None,
            max_msg_size=0,
        )
        await ws.send_str(
            json.dumps({**SUBSCRIBE, "data": {"channels": [], "last": self.last_ids[name]}})
        )
        if presence:
            await ws.send_str(PRESENCE)
        self.sockets[name] = ws
        self.readers.append(asyncio.create_task(self._read(name, ws, measured)))
        return ws

    async def _read(self, name, ws, measured):
        closing = (
            self.aiohttp.WSMsgType.CLOSE,
            self.aiohttp.WSMsgType.CLOSED,
            self.aiohttp.WSMsgType.ERROR,
        )
        while True:
            message = await ws.receive()
            if message.type == self.aiohttp.WSMsgType.TEXT:
                now = time.perf_counter()
                notifications = json.loads(message.data)
                if notifications:  # resubscribing after a reconnect asks for what came after
                    self.last_ids[name] = max(self.last_ids.get(name, 0), notifications[-1]["id"])
                if self.probe and self.probe in message.data:
                    self.probe_seen.setdefault(name, now)
                if measured and "bnch-" in message.data:
                    self._match(name, notifications, now)
            elif message.type in closing:
                self.closed_sockets.append((name, ws.close_code, time.monotonic()))
                if self.sockets.get(name) is ws:
                    self.sockets.pop(name)
                if self.on_close:
                    self.on_close(name)
                elif measured and not self.closing:  # as the web client does
                    self.readers.append(
                        asyncio.create_task(self.reopen(name, time.monotonic() + 60))
                    )
                return

    def _match(self, name, notifications, now):
        for notification in notifications:
            message = notification.get("message") or {}
            if message.get("type") != NEW_MESSAGE:
                continue
            for token in TOKEN_RE.findall(json.dumps(message.get("payload"))):
                record = self.pending.get(token)
                if record and record["receiver"] == name and record["received"] is None:
                    record["received"] = now
                    record["event"].set()

    async def reopen(self, name, deadline):
        """Reconnects a closed socket with the web client's back-off until ``deadline``
        (monotonic); resubscribes with its last notification id. Returns the failed attempts'
        errors."""
        login, measured, presence = self.socket_meta[name]
        delay, errors = INITIAL_DELAY, []
        while time.monotonic() < deadline:
            delay = min(delay * 1.5, MAXIMUM_DELAY) + JITTER * random.random()
            await asyncio.sleep(delay)
            try:
                last = self.last_ids.get(name, 0)
                opening = self.open_socket(name, login, last, measured, presence)
                await asyncio.wait_for(opening, ATTEMPT_TIMEOUT)
                return errors
            except Exception as error:  # noqa: BLE001 - counted; the client tries again
                errors.append(error_text(error))
        return errors

    async def open_measured_sockets(self):
        """One socket per agent and per active customer, timed by the message phases."""
        last = bus_last_id(self.db)
        for agent in self.data["agents"]:
            await self.open_socket(f"agent:{agent['login']}", agent["login"], last, True)
        for customer in self.data["customers"]:
            if not customer["idle"]:
                await self.open_socket(
                    f"customer:{customer['login']}", customer["login"], last, True
                )

    async def presence_keeper(self):
        """The web client reports presence every minute; agents stay online."""
        while True:
            await asyncio.sleep(45)
            for name, ws in list(self.sockets.items()):
                if name.startswith(("agent:", "customer:")):
                    with contextlib.suppress(Exception):
                        await ws.send_str(PRESENCE)

    # -- one timed message

    def active(self):
        return [i for i, c in enumerate(self.data["customers"]) if not c["idle"]]

    def route(self, index, path, direction):
        """(sender's login, channel, receiving socket) of a message on ``path``."""
        customer = self.data["customers"][index]
        agent = self.data["agents"][customer["agent"]]
        channel_id = customer["ticket_channel_id" if path == "ours" else "stock_channel_id"]
        if direction == "customer->agent":
            return customer["login"], channel_id, f"agent:{agent['login']}"
        return agent["login"], channel_id, f"customer:{customer['login']}"

    async def timed_message(self, index, path, direction):
        login, channel_id, receiver = self.route(index, path, direction)
        token = "bnch-" + secrets.token_hex(8)
        record = {"receiver": receiver, "event": asyncio.Event(), "received": None, "error": None}
        self.pending[token] = record
        record["sent"] = time.perf_counter()
        try:
            await self.post_message(login, channel_id, f"Bench message {token}")
        except Exception as error:  # noqa: BLE001 - any failure is a lost message, counted
            record["error"] = error_text(error, 200)
        record["answered"] = time.perf_counter()
        if record["error"] is None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(record["event"].wait(), DELIVERY_TIMEOUT)
        self.pending.pop(token, None)
        return record

    def record_metric(self, key, records, **extra):
        latencies = [(r["received"] - r["sent"]) * 1000 for r in records if r["received"]]
        rpc = sorted((r["answered"] - r["sent"]) * 1000 for r in records if not r["error"])
        summary = summarize(
            latencies,
            lost=sum(1 for r in records if r["received"] is None),
            errors=[r["error"] for r in records if r["error"]],
            post_rpc_median=percentile(rpc, 50),
            post_rpc_p95=percentile(rpc, 95),
            **extra,
        )
        self.results["messages"][key] = summary
        self.raw[key] = latencies
        return summary


class PlainClient:
    """A minimal synchronous client, as a person would write one: ``requests.Session`` per
    user (keep-alive), ``websocket-client`` for the receiving socket."""

    def __init__(self, base, ws_url, sessions):
        import requests

        self.requests, self.base, self.ws_url, self.sessions = requests, base, ws_url, sessions
        self.http = {}

    def session(self, login):
        if login not in self.http:
            self.http[login] = self.requests.Session()
            if login:
                self.http[login].cookies.set("session_id", self.sessions[login])
        return self.http[login]

    def socket(self, login, last):
        import websocket

        ws = websocket.create_connection(
            self.ws_url,
            header=[f"Origin: {self.base}"],
            cookie=f"session_id={self.sessions[login]}",
            timeout=DELIVERY_TIMEOUT,
        )
        ws.send(json.dumps({**SUBSCRIBE, "data": {"channels": [], "last": last}}))
        ws.send(PRESENCE)
        return ws

    def timed_message(self, login, channel_id, ws):
        """Milliseconds from the post to the frame carrying its token on ``ws`` (None: lost)."""
        token = "bnch-" + secrets.token_hex(8)
        t0 = time.perf_counter()
        response = self.session(login).post(
            self.base + "/mail/message/post",
            json=rpc_body(post_params(channel_id, f"Bench message {token}")),
            timeout=30,
        )
        rpc_result(response.json())
        deadline = t0 + DELIVERY_TIMEOUT
        while time.perf_counter() < deadline:
            with contextlib.suppress(Exception):
                if token in ws.recv():
                    return (time.perf_counter() - t0) * 1000
        return None

    def get(self, path):
        self.session(None).get(self.base + path, timeout=30).raise_for_status()

    def close(self):
        for session in self.http.values():
            session.close()
