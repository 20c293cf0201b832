"""Opening a conversation, closed loop, BENCH_CONCURRENCY customers for BENCH_TICKET_SECONDS
per path: ours is the portal form ``POST /my/tickets/new`` (CSRF token from the form page, the
303 not followed); stock's closest, a logged-in customer opening a live chat
(``/im_livechat/get_session``) and posting the first message."""

import asyncio
import itertools
import re
import time

from ..client import RpcError
from ..measure import Usage, summarize, timed
from ..server import log
from .latency import fmt

TEXT = "My bike makes a strange noise when braking."


async def run(ctx):
    client, settings = ctx.client, ctx.settings
    customers = [client.data["customers"][i]["login"] for i in client.active()][
        : settings["concurrency"]
    ]
    log(f"ticket creations: {len(customers)} customers for {settings['ticket_seconds']} s per path")
    csrf, counter = {}, itertools.count()
    for login in customers:
        _status, _headers, page = await client.request(login, "GET", "/my/tickets/new")
        match = re.search(rb'name="csrf_token"\s+value="([^"]+)"', page)
        if not match:
            raise RuntimeError("no csrf_token on /my/tickets/new: is the portal form there?")
        csrf[login] = match.group(1).decode()

    async def create_ticket(login):
        form = client.aiohttp.FormData()
        for name, value in (
            ("csrf_token", csrf[login]),
            ("name", f"Bench ticket {next(counter)}"),
            ("message", TEXT),
            ("priority", "1"),
        ):
            form.add_field(name, value)
        # an empty file input, as a browser sends it when no file is chosen
        form.add_field("attachments", b"", filename="", content_type="application/octet-stream")
        status, headers, _body = await client.request(
            login, "POST", "/my/tickets/new", data=form, allow_redirects=False
        )
        if status != 303 or "/my/tickets/" not in headers.get("Location", ""):
            raise RpcError(f"HTTP {status} {headers.get('Location') or 'no redirect'}")

    async def open_livechat(login):
        params = {
            "channel_id": client.data["team_id"],
            "anonymous_name": "Visitor",
            "persisted": True,
        }
        result = await client.jsonrpc("/im_livechat/get_session", params, login)
        channels = (result or {}).get("discuss.channel") or []
        if not channels:
            raise RpcError("no operator available (no live chat session created)")
        await client.post_message(login, channels[0]["id"], TEXT)

    for path, action in (("ours", create_ticket), ("stock", open_livechat)):
        usage, started = Usage(client.server_pids), time.monotonic()
        deadline = started + settings["ticket_seconds"]
        runs = await asyncio.gather(
            *(
                timed(lambda login=login, act=action: act(login), deadline=deadline)
                for login in customers
            )
        )
        latencies = [v for lat, _e, _r in runs for v in lat]
        summary = summarize(
            latencies,
            errors=[e for _l, errs, _r in runs for e in errs],
            per_second=round(len(latencies) / (time.monotonic() - started), 2),
            cpu=usage.stop(),
            concurrency=len(customers),
        )
        client.results["tickets"][path] = summary
        client.raw[f"ticket creation|{path}"] = latencies
        log(
            f"  {path:5} {summary['per_second']}/s, p50 {fmt(summary['median'])} ms, "
            f"{summary['errors']} errors"
        )
