"""The agents' queue and the customers' ticket list at 100,000 and 1,000,000 tickets
(`make bench-queue`, bench/README.md "Queue at scale"): for each size of QUEUE_SIZES, the
tickets generated in bulk SQL, then the web client's and the portal's requests timed over HTTP
with the queue's indexes and (QUEUE_COMPARE) without them, the slowest queries explained."""

import asyncio
import contextlib
import json
import os
import re
import time

from ..client import Client
from ..measure import Usage, log_size, read_log, server_log_summary, summarize, timed
from ..server import Server, log, pg_connect, sql
from ..settings import PASSWORD, QUEUE
from .latency import fmt
from .queue import HISTORY_DOMAIN, HISTORY_SPEC, KANBAN_SPEC, OPEN, context, dashboard, search_read

TICKET_TABLES = ("im_livechat_ticket", "discuss_channel", "discuss_channel_member", "mail_message")
STOCK_SLOW = 20  # seconds: past this, stock's history list is timed once
CHUNK = 250_000  # tickets generated per transaction
SHARING_CONTACTS = 20  # contacts of the company that shares its tickets
# The indexes the queue and the customer list need, created by the models'
# init(): QUEUE_COMPARE=1 also measures without them ("before").
QUEUE_INDEXES = (
    "im_livechat_ticket_user_queue_open_idx",
    "im_livechat_ticket_queue_open_idx",
    "im_livechat_ticket_sla_open_idx",
    "im_livechat_ticket_queue_order_idx",
    "im_livechat_ticket__resolved_date_index",
)
SUBJECTS = (
    "The battery does not charge any more; Invoice shows the wrong address; Cannot log in to my "
    "account; Delivery is late; The app crashes when I open the map; Refund for a returned item; "
    "Brake pads worn after two weeks; Question about the warranty; Order arrived damaged; "
    "How do I change my subscription?; Display stays black; Wrong size delivered"
).split("; ")

# ---------------------------------------------------------------- the data


def copy_rows(cr, table, template_id, values, source, params=None):
    """INSERT into ``table`` one row per row of ``source`` (SQL with the alias ``s``):
    ``values`` gives the SQL of the columns that vary, every other column is copied from the
    template row the ORM made."""
    cr.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    names = [row[0] for row in cr.fetchall()]
    if set(values) - set(names):
        raise RuntimeError(f"{table} has no column {sorted(set(values) - set(names))}")
    select = ", ".join(values.get(name, f't."{name}"') for name in names)
    cr.execute(
        f"""INSERT INTO {table} ({", ".join(f'"{name}"' for name in names)})
        SELECT {select}
          FROM {source}, (SELECT * FROM {table} WHERE id = {int(template_id)}) t""",
        params,
    )


def stamps(created, written):
    """The log columns of a generated row, created and written as the superuser."""
    return {"create_date": created, "write_date": written, "create_uid": "1", "write_uid": "1"}


def generate_people(cr, data):
    """Companies and their contacts (the customers), copied from the template partners: a few
    large companies, many small ones; and the colleagues of the customer whose company shares
    its tickets."""
    cr.execute("SELECT max(id) FROM res_partner")
    base, companies, customers = cr.fetchone()[0], QUEUE["companies"], QUEUE["customers"]
    name = "'Company ' || lpad(s.k::text, 4, '0')"
    copy_rows(
        cr,
        "res_partner",
        data["template"]["company_id"],
        {"id": f"{base} + s.k", "commercial_partner_id": f"{base} + s.k"}
        | dict.fromkeys(("name", "complete_name", "commercial_company_name"), name),
        "generate_series(1, %(n)s) AS s(k)",
        {"n": companies},
    )

    def contacts(first_id, name, source, params, **values):
        company = {"parent_id": "c.id", "commercial_partner_id": "c.id"}
        values |= company | {"name": name, "complete_name": f"c.name || ', ' || {name}"}
        values |= {"id": f"{first_id} + s.k", "commercial_company_name": "c.name"}
        copy_rows(cr, "res_partner", data["template"]["contact_id"], values, source, params)

    contact_base, sharing_base = base + companies, base + companies + customers
    email = f"'customer' || s.k || '@company' || (c.id - {base}) || '.example.com'"
    contacts(
        contact_base,
        "'Customer ' || lpad(s.k::text, 5, '0')",
        f"""(SELECT k, {base} + 1 + floor(power(random(), 2) * %(companies)s)::int AS company_id
               FROM generate_series(1, %(n)s) AS g(k)) s
            JOIN res_partner c ON c.id = s.company_id""",
        {"n": customers, "companies": companies},
        email=email,
        email_normalized=email,
    )
    contacts(
        sharing_base,
        "'Colleague ' || s.k",
        "generate_series(1, %(n)s) AS s(k) JOIN res_partner c ON c.id = %(company)s",
        {"n": SHARING_CONTACTS, "company": data["sharing_company_id"]},
    )
    cr.execute("SELECT setval('res_partner_id_seq', (SELECT max(id) FROM res_partner))")
    data["contact_ids"] = [contact_base + 1, contact_base + customers]
    data["sharing_contact_ids"] = [data["customers"]["sharing"]["partner_id"]] + list(
        range(sharing_base + 1, sharing_base + SHARING_CONTACTS + 1)
    )


def plan_tickets(cr, data, size):
    """The plan table: one row per ticket, every random choice made once. About 60 % resolved,
    25 % open, 15 % new and unassigned; over two years, the tickets still open being mostly
    recent ones. The agent answers within 6 hours (the targets are 1 to 24), a resolved ticket
    is resolved within 3 days of that; nothing in the future."""
    agents = data["agent_user_ids"]
    cr.execute("DROP TABLE IF EXISTS queue_plan")
    cr.execute(
        """
        CREATE UNLOGGED TABLE queue_plan AS
        WITH base AS (
            SELECT n, random() AS r_state, random() AS r_age, random() AS r_agent,
                   random() AS r_priority, random() AS r_customer, random() AS r_reply,
                   random() AS r_resolve, random() AS r_unread
              FROM generate_series(1, %(size)s) AS n
        ), chosen AS (
            SELECT n, r_agent, r_customer, r_reply, r_resolve, r_unread,
                   CASE WHEN r_state < 0.60 THEN 'resolved' WHEN r_state < 0.85 THEN 'open'
                        ELSE 'new' END
                       AS state,
                   CASE WHEN r_priority < 0.20 THEN '0' WHEN r_priority < 0.75 THEN '1'
                        WHEN r_priority < 0.93 THEN '2' ELSE '3' END AS priority,
                   (now() AT TIME ZONE 'UTC') - interval '730 days'
                       * CASE WHEN r_state < 0.60 THEN r_age ELSE power(r_age, 4) END
                       AS create_date,
                   floor(r_agent * %(agents)s)::int AS agent_index,
                   CASE WHEN n %% 1000 = 1 THEN %(many)s
                        WHEN n %% 1000 = 3 AND n < 5000 THEN %(few)s
                        WHEN n %% 100 = 7
                            THEN (%(sharing)s::int[])[1 + (n / 100) %% %(sharing_count)s]
                        ELSE %(contact_first)s + floor(power(r_customer, 2) * %(contacts)s)::int
                   END AS partner_id
              FROM base
        ), p AS (
            SELECT row_number() OVER (ORDER BY create_date, n) AS k, chosen.*,
                   (%(teams)s::int[])[1 + agent_index %% %(team_count)s] AS team_id,
                   CASE WHEN state != 'new' THEN (%(agent_ids)s::int[])[1 + agent_index] END
                       AS user_id,
                   CASE WHEN state != 'new' THEN (%(agent_partners)s::int[])[1 + agent_index] END
                       AS agent_partner_id
              FROM chosen
        )
        SELECT p.*,
               CASE WHEN p.state != 'new'
                    THEN least(p.create_date + p.r_reply * interval '6 hours',
                               now() AT TIME ZONE 'UTC') END
                   AS first_response_date,
               CASE WHEN p.state = 'resolved'
                    THEN least(p.create_date + p.r_reply * interval '6 hours'
                                   + p.r_resolve * interval '72 hours',
                               now() AT TIME ZONE 'UTC') END AS resolved_date,
               CASE WHEN sla.first_response_hours > 0
                    THEN p.create_date + sla.first_response_hours * interval '1 hour' END
                   AS response_deadline,
               CASE WHEN sla.resolution_hours > 0
                    THEN p.create_date + sla.resolution_hours * interval '1 hour' END
                   AS resolution_deadline
          FROM p
          LEFT JOIN im_livechat_ticket_sla sla
                 ON sla.livechat_channel_id = p.team_id AND sla.priority = p.priority
        """,
        {
            "size": size,
            "agents": len(agents),
            "many": data["customers"]["many"]["partner_id"],
            "few": data["customers"]["few"]["partner_id"],
            "sharing": data["sharing_contact_ids"],
            "sharing_count": len(data["sharing_contact_ids"]),
            "contact_first": data["contact_ids"][0],
            "contacts": data["contact_ids"][1] - data["contact_ids"][0] + 1,
            "teams": data["team_ids"],
            "team_count": len(data["team_ids"]),
            "agent_ids": agents,
            "agent_partners": data["agent_partner_ids"],
        },
    )
    cr.execute("CREATE INDEX ON queue_plan (k)")


def generate_tickets(conn, data, size):
    """``size`` tickets as the ORM would store them, ids in creation order, after deleting
    those of an earlier size (all but the template)."""
    template, sequence = data["template"], data["sequence"]
    cr = conn.cursor()
    cr.execute("SET synchronous_commit = off")
    # Foreign keys point to rows this generator made, read or deletes: skip their per-row
    # checks (they would triple the time), as a restore does.
    cr.execute("SET session_replication_role = replica")
    cr.execute("SET work_mem = '256MB'")
    for table, column, template_key in (
        ("mail_message", "res_id", "channel_id"),
        ("discuss_channel_member", "channel_id", "channel_id"),
        ("im_livechat_ticket", "id", "ticket_id"),
        ("discuss_channel", "id", "channel_id"),
    ):
        where = "model = 'discuss.channel' AND " if table == "mail_message" else ""
        cr.execute(f"DELETE FROM {table} WHERE {where}{column} > %s", [template[template_key]])
    conn.commit()
    log(f"generating {size:,} tickets")
    bases = {table: sql_value(cr, f"SELECT max(id) FROM {table}") for table in TICKET_TABLES}
    plan_tickets(cr, data, size)
    conn.commit()
    # the references go on from the ticket sequence, as next_by_code would
    standard = sequence["implementation"] == "standard"
    if standard:
        cr.execute(f"SELECT last_value, is_called FROM ir_sequence_{int(sequence['id']):03d}")
        last_value, is_called = cr.fetchone()
        first_number = last_value + 1 if is_called else last_value
    else:
        first_number = sql_value(
            cr, f"SELECT number_next FROM ir_sequence WHERE id = {int(sequence['id'])}"
        )
    plan = "(SELECT * FROM queue_plan WHERE k BETWEEN %(first)s AND %(last)s) s"
    ticket_id = f"{bases['im_livechat_ticket']} + s.k"
    channel_id = f"{bases['discuss_channel']} + s.k"
    member = bases["discuss_channel_member"]
    customer_message = f"{bases['mail_message']} + 2 * s.k - 1"
    agent_message = f"{bases['mail_message']} + 2 * s.k"
    last_message = f"CASE WHEN s.state = 'new' THEN {customer_message} ELSE {agent_message} END"
    number = f"({first_number - 1} + s.k)::text"
    reference = (
        f"'{sequence['prefix']}' || repeat('0', greatest(0, {sequence['padding']} "
        f"- length({number}))) || {number}"
    )
    subject = f"(%(subjects)s::text[])[1 + s.k %% {len(SUBJECTS)}]"
    last_activity = "coalesce(s.resolved_date, s.first_response_date, s.create_date)"
    # the customer has read all but, sometimes, the agent's last answer of an unresolved ticket
    customer_separator = (
        f"CASE WHEN s.state = 'open' AND s.r_unread < 0.3 THEN {agent_message} "
        f"ELSE {last_message} + 1 END"
    )
    success = """(s.resolved_date IS NOT NULL
                  AND (s.response_deadline IS NULL
                       OR s.first_response_date <= s.response_deadline)
                  AND (s.resolution_deadline IS NULL
                       OR s.resolved_date <= s.resolution_deadline))"""
    inserts = [
        # The conversation: a live chat of the ticket's team, its operator the agent (OdooBot
        # while nobody took it), active until resolved.
        (
            "discuss_channel",
            template["channel_id"],
            {
                "id": channel_id,
                "name": f"{reference} || ' ' || {subject}",
                "uuid": "substr(md5(s.k::text || random()::text), 1, 10)",
                "livechat_channel_id": "s.team_id",
                "livechat_operator_id": (
                    f"coalesce(s.agent_partner_id, {int(data['root_partner_id'])})"
                ),
                "livechat_active": "s.state != 'resolved'",
                "last_interest_dt": last_activity,
                **stamps("s.create_date", last_activity),
            },
            plan,
        ),
        # The ticket, with the stored computed fields as the ORM computes them for a team
        # without working-hours calendar (deadline = start + hours).
        (
            "im_livechat_ticket",
            template["ticket_id"],
            {
                "id": ticket_id,
                "name": subject,
                "reference": reference,
                "partner_id": "s.partner_id",
                "commercial_partner_id": "p.commercial_partner_id",
                "user_id": "s.user_id",
                "livechat_channel_id": "s.team_id",
                "channel_id": channel_id,
                "company_id": str(int(data["company_id"])),
                "priority": "s.priority",
                "state": "s.state",
                "access_token": "NULL",
                "portal_request_key": "NULL",
                "resolved_date": "s.resolved_date",
                "assign_date": "CASE WHEN s.user_id IS NOT NULL THEN s.create_date END",
                "first_response_date": "s.first_response_date",
                "sla_response_deadline": "s.response_deadline",
                "sla_resolution_deadline": "s.resolution_deadline",
                "sla_success": success,
                "sla_target_missed": """(s.first_response_date > s.response_deadline
                                         OR s.resolved_date > s.resolution_deadline) IS TRUE""",
                "sla_success_rate": f"CASE WHEN {success} THEN 100.0 ELSE 0.0 END",
                "first_response_hours": (
                    "coalesce(extract(epoch FROM s.first_response_date - s.create_date) / 3600, 0)"
                ),
                "resolution_hours": (
                    "coalesce(extract(epoch FROM s.resolved_date - s.create_date) / 3600, 0)"
                ),
                "rating_last_value": "0",
                **stamps("s.create_date", last_activity),
            },
            f"{plan} JOIN res_partner p ON p.id = s.partner_id",
        ),
        # The customer's first message, and the agent's answer once taken.
        (
            "mail_message",
            template["customer_message_id"],
            {
                "id": "m.id",
                "body": "'<p>' || m.body || '</p>'",
                "res_id": channel_id,
                "record_name": f"{reference} || ' ' || {subject}",
                "author_id": "m.author_id",
                "email_from": "m.email_from",
                "reply_to": "m.email_from",
                "date": "m.date",
                "message_id": "'<queue.' || m.id || '@bench.example.com>'",
                "subtype_id": str(int(data["comment_subtype_id"])),
                **stamps("m.date", "m.date"),
            },
            f"""{plan}
            CROSS JOIN LATERAL (
                SELECT {customer_message} AS id, s.partner_id AS author_id, s.create_date AS date,
                       {subject} || '. Can you help?' AS body,
                       '"' || p.name || '" <' || coalesce(p.email, 'customer@example.com') || '>'
                           AS email_from
                  FROM res_partner p WHERE p.id = s.partner_id
                UNION ALL
                SELECT {agent_message}, s.agent_partner_id, s.first_response_date,
                       'Thank you, I am looking into it.',
                       '"' || p.name || '" <' || coalesce(p.email, 'agent@example.com') || '>'
                  FROM res_partner p WHERE p.id = s.agent_partner_id
            ) m""",
        ),
        # The members: the customer, and the agent once taken (who has read all).
        (
            "discuss_channel_member",
            template["customer_member_id"],
            {
                "id": "m.id",
                "partner_id": "m.partner_id",
                "channel_id": channel_id,
                "new_message_separator": "m.separator",
                "seen_message_id": "m.seen",
                "fetched_message_id": "m.fetched",
                "last_interest_dt": "m.seen_dt",
                "last_seen_dt": "m.seen_dt",
                **stamps("s.create_date", last_activity),
            },
            f"""{plan}
            CROSS JOIN LATERAL (
                SELECT {member} + 2 * s.k - 1 AS id, s.partner_id, {customer_separator}
                           AS separator,
                       ({customer_separator}) - 1 AS seen, {last_message} AS fetched,
                       s.create_date AS seen_dt
                UNION ALL
                SELECT {member} + 2 * s.k, s.agent_partner_id, {agent_message} + 1,
                       {agent_message}, {agent_message}, s.first_response_date
                 WHERE s.agent_partner_id IS NOT NULL
            ) m""",
        ),
    ]
    for first in range(1, size + 1, CHUNK):
        started, last = time.monotonic(), min(size, first + CHUNK - 1)
        for table, template_id, values, source in inserts:
            params = {"first": first, "last": last, "subjects": SUBJECTS}
            copy_rows(cr, table, template_id, values, source, params)
        conn.commit()
        log(f"  tickets {first:,}-{last:,} in {time.monotonic() - started:.0f} s")
    for table in TICKET_TABLES:
        cr.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
    if standard:
        cr.execute(
            f"SELECT setval('ir_sequence_{int(sequence['id']):03d}', %s)", [first_number - 1 + size]
        )
    else:
        cr.execute(
            "UPDATE ir_sequence SET number_next = %s WHERE id = %s",
            [first_number + size, sequence["id"]],
        )
    cr.execute("DROP TABLE queue_plan")
    conn.commit()
    cr.close()


def sql_value(cr, query):
    cr.execute(query)
    return cr.fetchone()[0]


def table_sizes(db):
    sizes = {}
    for table in (*TICKET_TABLES, "res_partner"):
        rows, size = sql(db, f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")[0]
        sizes[table] = {"rows": rows, "mib": round(size / 2**20)}
    sizes["states"] = dict(sql(db, "SELECT state, count(*) FROM im_livechat_ticket GROUP BY state"))
    return sizes


def cancel_queries(db):
    """A request the client gave up on (stock's history list) may still run in PostgreSQL
    after its server stopped, and hold locks (DROP INDEX waits)."""
    with contextlib.suppress(Exception):
        sql(
            db,
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = %s"
            " AND pid != pg_backend_pid() AND state = 'active'",
            [db],
        )


def set_queue_indexes(db, definitions, present):
    cancel_queries(db)
    for name, definition in definitions.items():
        if present:
            sql(db, definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
        else:
            sql(db, f'DROP INDEX IF EXISTS "{name}"')
    if present:
        sql(db, "ANALYZE im_livechat_ticket")


# ---------------------------------------------------------------- SQL capture

SQL_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ DEBUG \S+ odoo\.sql_db: \[([\d.]+) ms\] query: "
)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ ")


def parse_sql_log(lines):
    """[[ms, sql]] of the queries logged by odoo.sql_db at DEBUG level."""
    queries, current = [], None
    for line in lines:
        match = SQL_LINE.match(line)
        if match:
            current = [float(match.group(1)), line[match.end() :]]
            queries.append(current)
        elif LOG_LINE.match(line):
            current = None
        elif current is not None:
            current[1] += "\n" + line
    return queries


def explain(db, captured, out, label):
    """EXPLAIN (ANALYZE, BUFFERS) of the QUEUE_EXPLAIN slowest SELECTs of each request, into
    ``out``; returns name -> {queries, sql_ms, slowest: [{ms, explain_ms, sql}]} for the JSON."""
    conn, summary = pg_connect(db), {}
    with conn.cursor() as cr, open(out, "a") as log_file:
        log_file.write(f"\n\n######## {label}\n")
        for key, queries in captured.items():
            total = sum(ms for ms, _sql in queries)
            log_file.write(f"\n==== {key}: {len(queries)} queries, {total:.1f} ms in SQL\n")
            summary[key] = {"queries": len(queries), "sql_ms": round(total, 1), "slowest": []}
            selects = [
                (ms, query)
                for ms, query in queries
                if re.match(r"\s*(SELECT|WITH)\b", query, re.IGNORECASE)
                and not re.search(r"FOR (NO KEY )?UPDATE", query, re.IGNORECASE)
            ]
            for ms, query in sorted(selects, key=lambda q: -q[0])[: QUEUE["explain"]]:
                try:
                    cr.execute("EXPLAIN (ANALYZE, BUFFERS) " + query)
                    plan = "\n".join(row[0] for row in cr.fetchall())
                except Exception as error:  # noqa: BLE001 - reported in the log, not fatal
                    plan = f"(no plan: {error})"
                match = re.search(r"Execution Time: ([\d.]+) ms", plan)
                log_file.write(f"\n-- {ms:.1f} ms in the request\n{query}\n{plan}\n")
                explain_ms = float(match.group(1)) if match else None
                summary[key]["slowest"].append(
                    {"ms": ms, "explain_ms": explain_ms, "sql": query[:2000]}
                )
    conn.close()
    return summary


# ---------------------------------------------------------------- measures


def queue_requests(client, data):
    """name -> coroutine factory: every request timed, in order."""
    agent = data["agents"][0]
    login, uid = agent["login"], agent["user_id"]
    cx = context(uid, data["company_id"])

    def kanban(domain):
        kwargs = {"fields": [], "groupby": ["state"], "orderby": "", "lazy": True, "offset": 0}
        kwargs |= {"domain": domain, "limit": 2**53 - 1, "context": cx}

        async def request():
            method = "web_read_group"
            groups = await client.call_kw(login, "im_livechat.ticket", method, kwargs)
            # the web client loads the open columns at once, 40 cards each
            columns = [
                search_read(
                    client,
                    login,
                    {**cx, "default_state": group["state"]},
                    group["__domain"],
                    KANBAN_SPEC,
                    limit=40,
                )()
                for group in groups["groups"]
                if group["state_count"]
            ]
            await asyncio.gather(*columns)
            return {"length": sum(group["state_count"] for group in groups["groups"])}

        return request

    def floor():  # the cost of any authenticated call on this machine, whatever the data
        nothing = [[("id", "=", 0)]]
        return client.call_kw(login, "im_livechat.ticket", "search_count", {"context": cx}, nothing)

    def page(who, path):
        async def request():
            customer = data["customers"][who]["login"]
            status, *_ = await client.request(customer, "GET", path, allow_redirects=False)
            if status != 200:
                raise RuntimeError(f"GET {path}: HTTP {status}")

        return request

    def counters(who):
        params = {"counters": ["ticket_count", "ticket_unread_count"]}
        return lambda: client.jsonrpc("/my/counters", params, data["customers"][who]["login"])

    mine = [("user_id", "=", uid), OPEN]
    company = [("partner_id", "child_of", [data["heavy_company_id"]]), OPEN]
    return {
        "floor: an empty search_count (any RPC costs this)|ours": floor,
        "queue kanban, my open tickets (default view)|ours": kanban(mine),
        "queue list, my open tickets|ours": search_read(client, login, cx, mine),
        "queue list, unassigned open|ours": search_read(
            client, login, cx, [("user_id", "=", False), OPEN]
        ),
        "queue list, all open|ours": search_read(client, login, cx, [OPEN]),
        "queue list, all tickets|ours": search_read(client, login, cx, []),
        "queue list, search a customer|ours": search_read(client, login, cx, company),
        "queue dashboard counts|ours": dashboard(client, login, cx),
        "/my/tickets, customer with many tickets|ours": page("many", "/my/tickets"),
        "/my/tickets?filterby=open, many tickets|ours": page(
            "many", "/my/tickets?filterby=open&sortby=priority"
        ),
        "/my/tickets, customer with few tickets|ours": page("few", "/my/tickets"),
        "/my/tickets, company sharing its tickets|ours": page("sharing", "/my/tickets"),
        "/my counters, many tickets|ours": counters("many"),
        "/my counters, company sharing|ours": counters("sharing"),
        "live chat history list|stock": search_read(
            client, login, cx, HISTORY_DOMAIN, HISTORY_SPEC, "discuss.channel", "create_date desc"
        ),
    }


async def measure(odoo, db, data, server, with_stock, sql_log=None):
    """Every request timed, with the agent and the customers logged in: name -> summary. With
    ``sql_log`` (a server logging its SQL), each runs once more instead: name -> [[ms, sql]]."""
    client = Client(odoo, db, data, [(server.base, server.ws_url)], [server.pid])
    results = {}
    try:
        for login in [
            data["agents"][0]["login"],
            *(c["login"] for c in data["customers"].values()),
        ]:
            await client.login(login)
        for key, request in queue_requests(client, data).items():
            stock = key.endswith("|stock")
            if stock and not with_stock:
                continue
            if not stock:  # warm the workers' caches (too slow for stock), not timed
                await timed(request, 1 if sql_log else 2)
            if sql_log:  # the second run's SQL is the steady state
                await asyncio.sleep(0.3)
                offset = log_size(sql_log)
                await timed(request, 1)
                await asyncio.sleep(0.5)  # the log is written by the worker process
                results[key] = parse_sql_log(read_log(sql_log, offset))
                continue
            usage = Usage(client.server_pids)
            count = min(QUEUE["queries"], QUEUE["stock_queries"]) if stock else QUEUE["queries"]
            # stock: one slow call says enough, and Odoo kills requests at 120 s
            stop_after = STOCK_SLOW if stock else None
            latencies, errors, result = await timed(request, count, stop_after=stop_after)
            rows = result.get("length") if isinstance(result, dict) else None
            summary = summarize(latencies, errors=errors, rows=rows, cpu=usage.stop())
            results[key] = summary
            log(
                f"  {key}: p50 {fmt(summary['median'])} ms, p95 {fmt(summary['p95'])} ms"
                + (f", {len(errors)} errors: {errors[0]}" if errors else "")
            )
        return results
    finally:
        await client.close()


def measure_size(odoo, db, data, stamp, size):
    """Time every request with the queue's indexes and (QUEUE_COMPARE) without them, then
    capture their SQL and explain the slowest queries."""
    definitions = dict(
        sql(db, "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN %s", [QUEUE_INDEXES])
    )
    if set(QUEUE_INDEXES) - set(definitions):
        log(
            f"warning: indexes not in the database: {sorted(set(QUEUE_INDEXES) - set(definitions))}"
        )
    states = ["with", "without"] if QUEUE["compare"] and definitions else ["with"]
    name, results = odoo.log_dir / f"bench-queue-{stamp}-{db}-{size}", {}
    explain_log = f"{name}-explain.log"
    # the timed server, then (QUEUE_EXPLAIN) one that logs its SQL, the indexes in place last
    for label in ("server", "sql") if QUEUE["explain"] else ("server",):
        debug = ["--log-handler=odoo.sql_db:DEBUG"] if label == "sql" else []
        server = Server(odoo, db, f"{name}-{label}.log", QUEUE["workers"], 18369, debug).start()
        try:
            for state in states if label == "server" else reversed(states):
                set_queue_indexes(db, definitions, present=state == "with")
                if label == "server":
                    log(f"measuring {QUEUE['queries']} times each, {state} the queue's indexes")
                    results[state] = asyncio.run(measure(odoo, db, data, server, state == "with"))
                    continue
                captured = measure(odoo, db, data, server, state == "with", server.log)
                results[f"sql_{state}"] = explain(
                    db,
                    asyncio.run(captured),
                    explain_log,
                    f"{size:,} tickets, {state} the queue's indexes",
                )
        finally:
            server.stop()
            set_queue_indexes(db, definitions, present=True)
        if label == "server":
            results["server_log"] = server_log_summary(server.log)
        else:
            results["explain_log"] = explain_log
            log(f"query plans: {explain_log}")
    return results


def table(size, results):
    lines = [
        f"queue at {size:,} tickets (ms)",
        f"  {'request':52} {'state':8} {'median':>7} {'p95':>7} {'p99':>7} {'max':>7} {'rows':>7}",
    ]
    for key in results.get("with", {}):
        for state in ("with", "without"):
            summary = results.get(state, {}).get(key)
            if not summary:
                continue
            name = key.replace("|", " (") + ")" if state == "with" else ""
            label = "indexes" if state == "with" else "without"
            if not QUEUE["compare"] or key.endswith("|stock"):
                label = ""
            cells = " ".join(f"{fmt(summary[q]):>7}" for q in ("median", "p95", "p99", "max"))
            rows = summary["rows"] if summary["rows"] is not None else ""
            errors = f"  {summary['errors']} errors" if summary["errors"] else ""
            lines.append(f"  {name:52} {label:8} {cells} {rows:>7}{errors}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the suite


def prepare_database(odoo, db, logfile):
    started = time.monotonic()
    log(f"installing the addon (no demo data) into {db}; log: {logfile}")
    odoo.install(db, logfile)
    out = odoo.state_dir / f"{db}-queue.json"
    env = {"QUEUE_AGENTS": str(QUEUE["agents"]), "QUEUE_TEAMS": str(QUEUE["teams"])}
    env |= {"QUEUE_PASSWORD": PASSWORD, "QUEUE_POPULATE_OUT": str(out)}
    odoo.shell(db, "queue_populate.py", logfile, env)
    data = json.loads(out.read_text())
    with contextlib.closing(pg_connect(db)) as conn, conn.cursor() as cr:
        generate_people(cr, data)
    out.write_text(json.dumps(data))
    data["setup_seconds"] = round(time.monotonic() - started, 1)
    log(
        f"installed, {QUEUE['agents']} agents in {QUEUE['teams']} teams, {QUEUE['customers']:,} "
        f"customers in {QUEUE['companies']:,} companies, in {data['setup_seconds']:.0f} s"
    )
    return data


def run(odoo, stamp, cleanup):
    from ..main import database, git_commit, write_results

    setup_log = odoo.log_dir / f"bench-queue-{stamp}-setup.log"
    db, created = database(odoo, cleanup, "imlt_queue", QUEUE["db"], QUEUE["keep"], setup_log)
    cleanup.callback(cancel_queries, db)
    report = {"settings": QUEUE, "sizes": {}, "commit": git_commit()}
    report["machine"] = {"cores": os.cpu_count(), "loadavg_at_start": os.getloadavg()}
    state = odoo.state_dir / f"{db}-queue.json"
    if created:
        if not QUEUE["keep"]:
            cleanup.callback(state.unlink, missing_ok=True)
        data = prepare_database(odoo, db, setup_log)
    else:
        data = json.loads(state.read_text())
    # a kept database: QUEUE_SIZES given, generate them again; otherwise measure what is there
    for size in QUEUE["sizes"] if created or QUEUE["sizes_given"] else [None]:
        entry = {}
        if size is not None:
            t0 = time.monotonic()
            with contextlib.closing(pg_connect(db)) as conn:
                conn.autocommit = False
                generate_tickets(conn, data, size)
            entry["generate_seconds"] = round(time.monotonic() - t0, 1)
            t0 = time.monotonic()
            for table_name in ("res_partner", *TICKET_TABLES):
                sql(db, f"VACUUM (ANALYZE) {table_name}")
            entry["vacuum_analyze_seconds"] = round(time.monotonic() - t0, 1)
            log(
                f"generated in {entry['generate_seconds']:.0f} s, vacuum analyze "
                f"{entry['vacuum_analyze_seconds']:.0f} s"
            )
        entry["tables"] = table_sizes(db)
        size = size or entry["tables"]["im_livechat_ticket"]["rows"]
        entry.update(measure_size(odoo, db, data, stamp, size))
        entry["loadavg_after"] = os.getloadavg()
        report["sizes"][str(size)] = entry
        print("\n" + table(size, entry) + "\n", flush=True)
    log(f"results: {write_results(report, {}, '-queue')}")
    return 0
