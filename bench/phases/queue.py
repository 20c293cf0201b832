"""The agent's queue, BENCH_QUEUE_QUERIES times each, as the web client asks it: the list's
``web_search_read`` on *my open tickets* and *all open tickets*, the dashboard counts; stock's
closest screen, the live chat *History* list. The specs serve `make bench-queue` too."""

from ..measure import Usage, summarize, timed
from ..server import log
from .latency import fmt

M2O = {"fields": {"display_name": {}}}
# the fields of the views shown by default (views/im_livechat_ticket_views.xml)
LIST_SPEC = dict.fromkeys(
    "priority reference name state sla_status agent_unread_count create_date "
    "last_activity_date".split(),
    {},
) | {"partner_id": M2O, "user_id": M2O, "channel_id": M2O}
KANBAN_SPEC = dict.fromkeys(
    "state create_date agent_unread_count reference name sla_status priority activity_ids "
    "activity_exception_decoration activity_exception_icon activity_state activity_summary "
    "activity_type_icon".split(),
    {},
) | {"channel_id": M2O, "partner_id": M2O, "activity_type_id": M2O, "user_id": M2O}
HISTORY_SPEC = dict.fromkeys("is_member create_date name duration message_ids".split(), {}) | {
    "country_id": M2O
}
HISTORY_DOMAIN = [("livechat_channel_id", "!=", False), ("message_ids", "!=", False)]
OPEN = ("state", "in", ["new", "open"])


def context(uid, company_id=1):
    return {
        "lang": "en_US",
        "tz": "UTC",
        "uid": uid,
        "allowed_company_ids": [company_id],
        "bin_size": True,
        "current_company_id": company_id,
    }


def search_read(
    client, login, ctx, domain, spec=LIST_SPEC, model="im_livechat.ticket", order="", limit=80
):
    """A coroutine factory: the list view's web_search_read (count up to 10,001)."""
    kwargs = {
        "specification": spec,
        "offset": 0,
        "order": order,
        "limit": limit,
        "context": ctx,
        "count_limit": 10001,
        "domain": domain,
    }
    return lambda: client.call_kw(login, model, "web_search_read", kwargs)


def dashboard(client, login, ctx):
    return lambda: client.call_kw(
        login, "im_livechat.ticket", "get_queue_dashboard", {"context": ctx}
    )


async def run(ctx):
    client = ctx.client
    agent = client.data["agents"][0]
    login, uid, cx = agent["login"], agent["user_id"], context(agent["user_id"])
    log(f"agent queue queries at {client.data['tickets']:,} tickets")
    requests = {
        "queue: my open tickets|ours": search_read(
            client, login, cx, [("user_id", "=", uid), OPEN]
        ),
        "queue: all open tickets|ours": search_read(client, login, cx, [OPEN]),
        "queue: dashboard counts|ours": dashboard(client, login, cx),
        "queue: live chat history|stock": search_read(
            client, login, cx, HISTORY_DOMAIN, HISTORY_SPEC, "discuss.channel", "create_date desc"
        ),
    }
    for key, request in requests.items():
        usage = Usage(client.server_pids)
        latencies, errors, result = await timed(request, ctx.settings["queue_queries"])
        rows = result.get("length") if isinstance(result, dict) else None
        client.results["queue"][key] = summarize(
            latencies, errors=errors, rows=rows, cpu=usage.stop()
        )
        client.raw[key] = latencies
        log(f"  {key}: p50 {fmt(client.results['queue'][key]['median'])} ms over {rows} rows")
