#!/usr/bin/env python3
"""The agents' queue and the customers' ticket list at 100,000 and 1,000,000 tickets.

Started by ``make bench-queue`` (``tools/dev.sh bench-queue``), which passes how to run Odoo:

    queue_scale.py --odoo <odoo-bin | -m odoo> -- <options for every odoo command>

It creates a throwaway database, installs the addon without demo data, makes
the people through the models (bench/queue_populate.py) and then, for each
size of QUEUE_SIZES, generates the tickets in bulk SQL with everything the
screens read (conversation, members, messages, stored computed fields), serves
the database as in production and times, over HTTP, the requests the web
client and the portal make. Prints a table per size, writes JSON under
bench/results/ and the query plans of the slowest queries into a log file, and
always stops its servers and drops its database. Settings come from QUEUE_*
environment variables: see bench/README.md, "Queue at scale".
"""

import asyncio
import contextlib
import datetime
import json
import os
import platform
import re
import secrets
import signal
import sys
import time

from run import (
    HERE,
    MODULE,
    PASSWORD,
    Bench,
    Odoo,
    Usage,
    drop_database,
    fmt,
    free_port,
    git_commit,
    pg_connect,
    server_log_summary,
    summarize,
    wait_for_server,
)


def env_int(name, default):
    return int(os.environ.get(name) or default)


SETTINGS = {
    "sizes": [
        int(x)
        for x in (os.environ.get("QUEUE_SIZES") or "100000,1000000").replace("_", "").split(",")
        if x
    ],
    "queries": env_int("QUEUE_QUERIES", 30),
    "agents": env_int("QUEUE_AGENTS", 30),
    "teams": env_int("QUEUE_TEAMS", 4),
    "customers": env_int("QUEUE_CUSTOMERS", 10000),
    "companies": env_int("QUEUE_COMPANIES", 500),
    "workers": env_int("QUEUE_WORKERS", 2),
    "compare": (os.environ.get("QUEUE_COMPARE") or "1") == "1",
    "explain": env_int("QUEUE_EXPLAIN", 2),
    # stock's history list takes seconds per call at these sizes
    "stock_queries": env_int("QUEUE_STOCK_QUERIES", 3),
}
REUSE_DB = os.environ.get("QUEUE_DB") or None  # developers: a database kept by QUEUE_KEEP=1
KEEP_DB = os.environ.get("QUEUE_KEEP") == "1"
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
    "im_livechat_ticket_commercial_activity_idx",
    "im_livechat_ticket__resolved_date_index",
)
SUBJECTS = [
    "The battery does not charge any more",
    "Invoice shows the wrong address",
    "Cannot log in to my account",
    "Delivery is late",
    "The app crashes when I open the map",
    "Refund for a returned item",
    "Brake pads worn after two weeks",
    "Question about the warranty",
    "Order arrived damaged",
    "How do I change my subscription?",
    "Display stays black",
    "Wrong size delivered",
]

# What the web client asks (views/im_livechat_ticket_views.xml): the fields
# of the list and kanban views shown by default, as web_search_read specs.
M2O = {"fields": {"display_name": {}}}
LIST_SPEC = {
    "priority": {},
    "reference": {},
    "name": {},
    "partner_id": M2O,
    "user_id": M2O,
    "state": {},
    "sla_status": {},
    "agent_unread_count": {},
    "create_date": {},
    "last_activity_date": {},
    "channel_id": M2O,
}
KANBAN_SPEC = {
    "state": {},
    "create_date": {},
    "agent_unread_count": {},
    "channel_id": M2O,
    "reference": {},
    "name": {},
    "partner_id": M2O,
    "sla_status": {},
    "priority": {},
    "activity_ids": {},
    "activity_exception_decoration": {},
    "activity_exception_icon": {},
    "activity_state": {},
    "activity_summary": {},
    "activity_type_icon": {},
    "activity_type_id": M2O,
    "user_id": M2O,
}
HISTORY_SPEC = {
    "is_member": {},
    "create_date": {},
    "name": {},
    "country_id": M2O,
    "duration": {},
    "message_ids": {},
}
OPEN = ("state", "in", ["new", "open"])


def log(message):
    print(f"[queue {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- generation


def columns(cr, table):
    cr.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cr.fetchall()]


def copy_rows(cr, table, template_id, values, source, params=None):
    """INSERT into ``table`` one row per row of ``source`` (SQL with the alias
    ``s``): ``values`` gives the SQL of the columns that vary, every other
    column is copied from the template row the ORM made."""
    names = columns(cr, table)
    missing = set(values) - set(names)
    if missing:
        raise RuntimeError(f"{table} has no column {sorted(missing)}")
    select = ", ".join(values.get(name, f't."{name}"') for name in names)
    cr.execute(
        f"""
        INSERT INTO {table} ({", ".join(f'"{name}"' for name in names)})
        SELECT {select}
          FROM {source}, (SELECT * FROM {table} WHERE id = {int(template_id)}) t
        """,
        params,
    )
    return cr.rowcount


def bump_sequence(cr, table):
    cr.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")


def generate_people(cr, data):
    """Companies and their contacts (the customers), copied from the template
    partners: a few large companies, many small ones."""
    template = data["template"]
    cr.execute("SELECT max(id) FROM res_partner")
    base = cr.fetchone()[0]
    companies = SETTINGS["companies"]
    copy_rows(
        cr,
        "res_partner",
        template["company_id"],
        {
            "id": f"{base} + s.k",
            "name": "'Company ' || lpad(s.k::text, 4, '0')",
            "complete_name": "'Company ' || lpad(s.k::text, 4, '0')",
            "commercial_company_name": "'Company ' || lpad(s.k::text, 4, '0')",
            "commercial_partner_id": f"{base} + s.k",
        },
        "generate_series(1, %(n)s) AS s(k)",
        {"n": companies},
    )
    contact_base = base + companies
    # a few large companies, many small ones
    copy_rows(
        cr,
        "res_partner",
        template["contact_id"],
        {
            "id": f"{contact_base} + s.k",
            "name": "'Customer ' || lpad(s.k::text, 5, '0')",
            "complete_name": "c.name || ', Customer ' || lpad(s.k::text, 5, '0')",
            "parent_id": "c.id",
            "commercial_partner_id": "c.id",
            "commercial_company_name": "c.name",
            "email": "'customer' || s.k || '@company' || (c.id - %(base)s) || '.example.com'",
            "email_normalized": (
                "'customer' || s.k || '@company' || (c.id - %(base)s) || '.example.com'"
            ),
        },
        f"""(SELECT k, {base} + 1 + floor(power(random(), 2) * %(companies)s)::int AS company_id
               FROM generate_series(1, %(n)s) AS g(k)) s
            JOIN res_partner c ON c.id = s.company_id""",
        {"n": SETTINGS["customers"], "companies": companies, "base": base},
    )
    sharing_base = contact_base + SETTINGS["customers"]
    copy_rows(
        cr,
        "res_partner",
        template["contact_id"],
        {
            "id": f"{sharing_base} + s.k",
            "name": "'Colleague ' || s.k",
            "complete_name": "c.name || ', Colleague ' || s.k",
            "parent_id": "c.id",
            "commercial_partner_id": "c.id",
            "commercial_company_name": "c.name",
        },
        "generate_series(1, %(n)s) AS s(k) JOIN res_partner c ON c.id = %(company)s",
        {"n": SHARING_CONTACTS, "company": data["sharing_company_id"]},
    )
    bump_sequence(cr, "res_partner")
    data["contact_ids"] = [contact_base + 1, contact_base + SETTINGS["customers"]]
    data["sharing_contact_ids"] = [data["customers"]["sharing"]["partner_id"]] + list(
        range(sharing_base + 1, sharing_base + SHARING_CONTACTS + 1)
    )


def delete_tickets(cr, data):
    """Remove the tickets of an earlier size (all but the template)."""
    template = data["template"]
    # what references these rows is deleted here too: skip the per-row checks
    cr.execute("SET session_replication_role = replica")
    cr.execute(
        "DELETE FROM mail_message WHERE model = 'discuss.channel' AND res_id > %s",
        [template["channel_id"]],
    )
    cr.execute("DELETE FROM discuss_channel_member WHERE channel_id > %s", [template["channel_id"]])
    cr.execute("DELETE FROM im_livechat_ticket WHERE id > %s", [template["ticket_id"]])
    cr.execute("DELETE FROM discuss_channel WHERE id > %s", [template["channel_id"]])
    cr.execute("SET session_replication_role = DEFAULT")


def generate_tickets(conn, data, size):
    """``size`` tickets as the ORM would store them, ids in creation order."""
    template = data["template"]
    cr = conn.cursor()
    cr.execute("SET synchronous_commit = off")
    # Foreign keys point to rows this generator made or read: skip their
    # per-row checks (they would triple the time), as a restore does.
    cr.execute("SET session_replication_role = replica")
    cr.execute("SET work_mem = '256MB'")
    bases = {}
    for table in (
        "im_livechat_ticket",
        "discuss_channel",
        "discuss_channel_member",
        "mail_message",
    ):
        cr.execute(f"SELECT max(id) FROM {table}")
        bases[table] = cr.fetchone()[0]
    agents = data["agent_user_ids"]
    # The plan: one row per ticket, every random choice made once. About
    # 60 % resolved, 25 % open, 15 % new and unassigned; over two years, the
    # tickets still open being mostly recent ones.
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
        )
        SELECT row_number() OVER (ORDER BY create_date, n) AS k, chosen.*,
               (%(teams)s::int[])[1 + agent_index %% %(team_count)s] AS team_id,
               CASE WHEN state != 'new' THEN (%(agent_ids)s::int[])[1 + agent_index] END AS user_id,
               CASE WHEN state != 'new' THEN (%(agent_partners)s::int[])[1 + agent_index] END
                   AS agent_partner_id
          FROM chosen
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
    # Dates: the agent answers within 6 hours (the targets are 1 to 24), a
    # resolved ticket is resolved within 3 days of that; nothing in the future.
    cr.execute(
        """
        CREATE UNLOGGED TABLE queue_plan_dates AS
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
          FROM queue_plan p
          LEFT JOIN im_livechat_ticket_sla sla
                 ON sla.livechat_channel_id = p.team_id AND sla.priority = p.priority
        """
    )
    cr.execute("DROP TABLE queue_plan")
    cr.execute("ALTER TABLE queue_plan_dates RENAME TO queue_plan")
    cr.execute("CREATE INDEX ON queue_plan (k)")
    conn.commit()
    sequence = data["sequence"]
    prefix, padding = sequence["prefix"], sequence["padding"]
    # the references go on from the ticket sequence, as next_by_code would
    if sequence["implementation"] == "standard":
        cr.execute(f"SELECT last_value, is_called FROM ir_sequence_{int(sequence['id']):03d}")
        last_value, is_called = cr.fetchone()
        first_number = last_value + 1 if is_called else last_value
    else:
        cr.execute("SELECT number_next FROM ir_sequence WHERE id = %s", [sequence["id"]])
        first_number = cr.fetchone()[0]
    subjects = SUBJECTS
    for first in range(1, size + 1, CHUNK):
        last = min(size, first + CHUNK - 1)
        window = {"first": first, "last": last}
        started = time.monotonic()
        plan = "(SELECT * FROM queue_plan WHERE k BETWEEN %(first)s AND %(last)s) s"
        ticket_id = f"{bases['im_livechat_ticket']} + s.k"
        channel_id = f"{bases['discuss_channel']} + s.k"
        customer_message = f"{bases['mail_message']} + 2 * s.k - 1"
        agent_message = f"{bases['mail_message']} + 2 * s.k"
        last_message = f"CASE WHEN s.state = 'new' THEN {customer_message} ELSE {agent_message} END"
        number = f"({first_number - 1} + s.k)::text"
        reference = (
            f"'{prefix}' || repeat('0', greatest(0, {padding} - length({number}))) || {number}"
        )
        subject = f"(%(subjects)s::text[])[1 + s.k %% {len(subjects)}]"
        last_activity = "coalesce(s.resolved_date, s.first_response_date, s.create_date)"
        # The conversation: a live chat of the ticket's team, its operator
        # the agent (OdooBot while nobody took it), active until resolved.
        copy_rows(
            cr,
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
                "create_date": "s.create_date",
                "write_date": last_activity,
                "create_uid": "1",
                "write_uid": "1",
            },
            plan,
            {**window, "subjects": subjects},
        )
        # The ticket, with the stored computed fields as the ORM computes them
        # for a team without working-hours calendar (deadline = start + hours).
        success = """(s.resolved_date IS NOT NULL
                      AND (s.response_deadline IS NULL
                           OR s.first_response_date <= s.response_deadline)
                      AND (s.resolution_deadline IS NULL
                           OR s.resolved_date <= s.resolution_deadline))"""
        copy_rows(
            cr,
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
                "last_activity_date": last_activity,
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
                "create_date": "s.create_date",
                "write_date": last_activity,
                "create_uid": "1",
                "write_uid": "1",
            },
            f"{plan} JOIN res_partner p ON p.id = s.partner_id",
            {**window, "subjects": subjects},
        )
        # The customer's first message, and the agent's answer once taken.
        message_values = {
            "body": "'<p>' || m.body || '</p>'",
            "res_id": channel_id,
            "record_name": f"{reference} || ' ' || {subject}",
            "author_id": "m.author_id",
            "email_from": "m.email_from",
            "reply_to": "m.email_from",
            "date": "m.date",
            "create_date": "m.date",
            "write_date": "m.date",
            "create_uid": "1",
            "write_uid": "1",
            "message_id": "'<queue.' || m.id || '@bench.example.com>'",
            "id": "m.id",
            "subtype_id": str(int(data["comment_subtype_id"])),
        }
        copy_rows(
            cr,
            "mail_message",
            template["customer_message_id"],
            message_values,
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
            {**window, "subjects": subjects},
        )
        # Members: the customer (who has read all but, sometimes, the agent's
        # last answer of an unresolved ticket) and the agent (who read all).
        member = bases["discuss_channel_member"]
        customer_separator = (
            f"CASE WHEN s.state = 'open' AND s.r_unread < 0.3 THEN {agent_message} "
            f"ELSE {last_message} + 1 END"
        )
        copy_rows(
            cr,
            "discuss_channel_member",
            template["customer_member_id"],
            {
                "id": f"{member} + 2 * s.k - 1",
                "partner_id": "s.partner_id",
                "channel_id": channel_id,
                "new_message_separator": customer_separator,
                "seen_message_id": f"({customer_separator}) - 1",
                "fetched_message_id": last_message,
                "last_interest_dt": "s.create_date",
                "last_seen_dt": "s.create_date",
                "create_date": "s.create_date",
                "write_date": last_activity,
                "create_uid": "1",
                "write_uid": "1",
            },
            plan,
            window,
        )
        copy_rows(
            cr,
            "discuss_channel_member",
            template["customer_member_id"],
            {
                "id": f"{member} + 2 * s.k",
                "partner_id": "s.agent_partner_id",
                "channel_id": channel_id,
                "new_message_separator": f"{agent_message} + 1",
                "seen_message_id": agent_message,
                "fetched_message_id": agent_message,
                "last_interest_dt": "s.first_response_date",
                "last_seen_dt": "s.first_response_date",
                "create_date": "s.create_date",
                "write_date": last_activity,
                "create_uid": "1",
                "write_uid": "1",
            },
            plan.replace(" AND %(last)s", " AND %(last)s AND agent_partner_id IS NOT NULL"),
            window,
        )
        conn.commit()
        log(f"  tickets {first:,}-{last:,} in {time.monotonic() - started:.0f} s")
    for table in (
        "im_livechat_ticket",
        "discuss_channel",
        "discuss_channel_member",
        "mail_message",
    ):
        bump_sequence(cr, table)
    if sequence["implementation"] == "standard":
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


def vacuum_analyze(db):
    conn = pg_connect(db)
    with conn.cursor() as cr:
        for table in (
            "res_partner",
            "im_livechat_ticket",
            "discuss_channel",
            "discuss_channel_member",
            "mail_message",
        ):
            cr.execute(f"VACUUM (ANALYZE) {table}")
    conn.close()


def table_sizes(db):
    conn = pg_connect(db)
    sizes = {}
    with conn.cursor() as cr:
        for table in (
            "im_livechat_ticket",
            "discuss_channel",
            "discuss_channel_member",
            "mail_message",
            "res_partner",
        ):
            cr.execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")
            rows, size = cr.fetchone()
            sizes[table] = {"rows": rows, "mib": round(size / 2**20)}
        cr.execute("SELECT state, count(*) FROM im_livechat_ticket GROUP BY state")
        sizes["states"] = dict(cr.fetchall())
    conn.close()
    return sizes


def queue_index_definitions(db):
    conn = pg_connect(db)
    with conn.cursor() as cr:
        cr.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN %s", [QUEUE_INDEXES]
        )
        found = dict(cr.fetchall())
    conn.close()
    return found


def cancel_queries(db):
    """A request the client gave up on (stock's history list) may still run in
    PostgreSQL after its server stopped, and hold locks (DROP INDEX waits)."""
    conn = pg_connect(db)
    with conn.cursor() as cr:
        cr.execute(
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid != pg_backend_pid() AND state = 'active'",
            [db],
        )
    conn.close()


def set_queue_indexes(db, definitions, present):
    cancel_queries(db)
    conn = pg_connect(db)
    with conn.cursor() as cr:
        for name, definition in definitions.items():
            if present:
                cr.execute(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
            else:
                cr.execute(f'DROP INDEX IF EXISTS "{name}"')
        if present:
            cr.execute("ANALYZE im_livechat_ticket")
    conn.close()


# ---------------------------------------------------------------- measures


class Client(Bench):
    """run.py's HTTP client (one connection per request, as nginx talks to Odoo)."""

    async def get_page(self, path, sid):
        async with self.http.get(
            self.base + path, headers={"Cookie": f"session_id={sid}"}, allow_redirects=False
        ) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {response.status}")
            return body

    async def call_kw(self, sid, model, method, kwargs, args=()):
        params = {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        result, _ = await self.jsonrpc(f"/web/dataset/call_kw/{model}/{method}", params, sid)
        return result


def queue_requests(client, data):
    """name -> (who, coroutine factory): every request timed, in order."""
    agent = data["agents"][0]
    uid = agent["user_id"]
    context = {
        "lang": "en_US",
        "tz": "UTC",
        "uid": uid,
        "allowed_company_ids": [data["company_id"]],
        "bin_size": True,
        "current_company_id": data["company_id"],
    }
    agent_sid = client.sessions[agent["login"]]

    def list_search(domain, order="", model="im_livechat.ticket", spec=LIST_SPEC, limit=80):
        async def request():
            return await client.call_kw(
                agent_sid,
                model,
                "web_search_read",
                {
                    "specification": spec,
                    "offset": 0,
                    "order": order,
                    "limit": limit,
                    "context": context,
                    "count_limit": 10001,
                    "domain": domain,
                },
            )

        return request

    def kanban(domain):
        async def request():
            groups = await client.call_kw(
                agent_sid,
                "im_livechat.ticket",
                "web_read_group",
                {
                    "domain": domain,
                    "fields": [],
                    "groupby": ["state"],
                    "orderby": "",
                    "lazy": True,
                    "offset": 0,
                    "limit": 2**53 - 1,
                    "context": context,
                },
            )
            # the web client loads the open columns at once, 40 cards each
            await asyncio.gather(
                *(
                    client.call_kw(
                        agent_sid,
                        "im_livechat.ticket",
                        "web_search_read",
                        {
                            "specification": KANBAN_SPEC,
                            "offset": 0,
                            "order": "",
                            "limit": 40,
                            "context": {**context, "default_state": group["state"]},
                            "count_limit": 10001,
                            "domain": group["__domain"],
                        },
                    )
                    for group in groups["groups"]
                    if group["state_count"]
                )
            )
            return {"length": sum(group["state_count"] for group in groups["groups"])}

        return request

    async def floor():
        # the cost of any authenticated call on this machine, whatever the data
        return await client.call_kw(
            agent_sid,
            "im_livechat.ticket",
            "search_count",
            {"context": context},
            args=[[("id", "=", 0)]],
        )

    async def dashboard():
        return await client.call_kw(
            agent_sid, "im_livechat.ticket", "get_queue_dashboard", {"context": context}
        )

    def portal_page(login, path):
        async def request():
            await client.get_page(path, client.sessions[login])

        return request

    def portal_counters(login):
        async def request():
            result, _ = await client.jsonrpc(
                "/my/counters",
                {"counters": ["ticket_count", "ticket_unread_count"]},
                client.sessions[login],
            )
            return result

        return request

    customers = data["customers"]
    mine = [("user_id", "=", uid), OPEN]
    return {
        "floor: an empty search_count (any RPC costs this)|ours": floor,
        "queue kanban, my open tickets (default view)|ours": kanban(mine),
        "queue list, my open tickets|ours": list_search(mine),
        "queue list, unassigned open|ours": list_search([("user_id", "=", False), OPEN]),
        "queue list, all open|ours": list_search([OPEN]),
        "queue list, all tickets|ours": list_search([]),
        "queue list, search a customer|ours": list_search(
            [("partner_id", "child_of", [data["heavy_company_id"]]), OPEN]
        ),
        "queue dashboard counts|ours": dashboard,
        "/my/tickets, customer with many tickets|ours": portal_page(
            customers["many"]["login"], "/my/tickets"
        ),
        "/my/tickets?filterby=open, many tickets|ours": portal_page(
            customers["many"]["login"], "/my/tickets?filterby=open&sortby=priority"
        ),
        "/my/tickets, customer with few tickets|ours": portal_page(
            customers["few"]["login"], "/my/tickets"
        ),
        "/my/tickets, company sharing its tickets|ours": portal_page(
            customers["sharing"]["login"], "/my/tickets"
        ),
        "/my counters, many tickets|ours": portal_counters(customers["many"]["login"]),
        "/my counters, company sharing|ours": portal_counters(customers["sharing"]["login"]),
        "live chat history list|stock": list_search(
            [("livechat_channel_id", "!=", False), ("message_ids", "!=", False)],
            order="create_date desc",
            model="discuss.channel",
            spec=HISTORY_SPEC,
        ),
    }


async def login_all(client, data):
    for login in [data["agents"][0]["login"], *(c["login"] for c in data["customers"].values())]:
        await client.login(login)


async def measure(odoo, db, data, http_port, gevent_port, server_pid, repeat, with_stock=True):
    client = Client(odoo, db, data, http_port, gevent_port, server_pid)
    results = {}
    try:
        await login_all(client, data)
        requests = queue_requests(client, data)
        for key, request in requests.items():
            latencies, errors, rows = [], [], None
            stock = key.endswith("|stock")
            if stock and not with_stock:
                continue
            for _ in range(0 if stock else 2):  # warm the workers' caches; not timed
                with contextlib.suppress(Exception):
                    await request()
            usage = Usage(server_pid)
            for _ in range(min(repeat, SETTINGS["stock_queries"]) if stock else repeat):
                t0 = time.perf_counter()
                try:
                    result = await request()
                    latencies.append((time.perf_counter() - t0) * 1000)
                    if isinstance(result, dict) and "length" in result:
                        rows = result["length"]
                except Exception as error:  # noqa: BLE001 - counted and reported
                    errors.append(f"{type(error).__name__}: {error}"[:160])
                if stock and time.perf_counter() - t0 > STOCK_SLOW:
                    break  # one figure says enough, and Odoo kills requests at 120 s
            summary = summarize(
                latencies, errors=len(errors), extra={"rows": rows, "cpu": usage.stop()}
            )
            if errors:
                summary["first_errors"] = sorted(set(errors))[:3]
            results[key] = summary
            log(
                f"  {key}: p50 {fmt(summary['median'])} ms, p95 {fmt(summary['p95'])} ms"
                + (f", {len(errors)} errors: {errors[0]}" if errors else "")
            )
    finally:
        await client.close()
    return results


# ---------------------------------------------------------------- SQL capture

SQL_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ DEBUG \S+ odoo\.sql_db: \[([\d.]+) ms\] query: "
)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ ")


def parse_sql_log(text):
    """[(ms, sql)] of the queries logged by odoo.sql_db at DEBUG level."""
    queries, current = [], None
    for line in text.splitlines():
        match = SQL_LINE.match(line)
        if match:
            current = [float(match.group(1)), line[match.end() :]]
            queries.append(current)
        elif LOG_LINE.match(line):
            current = None
        elif current is not None:
            current[1] += "\n" + line
    return [(ms, sql) for ms, sql in queries]


async def capture_sql(
    odoo, db, data, http_port, gevent_port, server_pid, server_log, with_stock=True
):
    """Each request once, with the SQL the server ran for it: name -> [(ms, sql)]."""
    client = Client(odoo, db, data, http_port, gevent_port, server_pid)
    captured = {}
    try:
        await login_all(client, data)
        for key, request in queue_requests(client, data).items():
            if key.endswith("|stock") and not with_stock:
                continue
            if not key.endswith("|stock"):  # too slow to run twice
                with contextlib.suppress(Exception):
                    await request()  # warm: the second run's SQL is the steady state
            await asyncio.sleep(0.3)
            offset = server_log.stat().st_size
            with contextlib.suppress(Exception):
                await request()
            await asyncio.sleep(0.5)  # the log is written by the worker process
            with open(server_log, "rb") as log_file:
                log_file.seek(offset)
                captured[key] = parse_sql_log(log_file.read().decode(errors="replace"))
    finally:
        await client.close()
    return captured


def explain(db, captured, out, label, top):
    """EXPLAIN (ANALYZE, BUFFERS) of the ``top`` slowest SELECTs of each request,
    into ``out``; returns name -> [{ms, plan_ms, sql}] for the JSON."""
    conn = pg_connect(db)
    summary = {}
    with conn.cursor() as cr, open(out, "a") as log_file:
        log_file.write(f"\n\n######## {label}\n")
        for key, queries in captured.items():
            selects = [
                (ms, sql)
                for ms, sql in queries
                if re.match(r"\s*(SELECT|WITH)\b", sql, re.IGNORECASE)
                and "FOR UPDATE" not in sql.upper()
                and "FOR NO KEY UPDATE" not in sql.upper()
            ]
            total = sum(ms for ms, _sql in queries)
            log_file.write(f"\n==== {key}: {len(queries)} queries, {total:.1f} ms in SQL\n")
            summary[key] = {"queries": len(queries), "sql_ms": round(total, 1), "slowest": []}
            for ms, sql in sorted(selects, key=lambda q: -q[0])[:top]:
                try:
                    cr.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(row[0] for row in cr.fetchall())
                except Exception as error:  # noqa: BLE001 - reported in the log, not fatal
                    plan = f"(no plan: {error})"
                match = re.search(r"Execution Time: ([\d.]+) ms", plan)
                log_file.write(f"\n-- {ms:.1f} ms in the request\n{sql}\n{plan}\n")
                summary[key]["slowest"].append(
                    {
                        "ms": ms,
                        "explain_ms": float(match.group(1)) if match else None,
                        "sql": sql[:2000],
                    }
                )
    conn.close()
    return summary


# ---------------------------------------------------------------- report


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
            if not SETTINGS["compare"] or key.endswith("|stock"):
                label = ""
            lines.append(
                f"  {name:52} {label:8} {fmt(summary['median']):>7} {fmt(summary['p95']):>7} "
                f"{fmt(summary['p99']):>7} {fmt(summary['max']):>7} "
                f"{summary['rows'] if summary['rows'] is not None else '':>7}"
                + (f"  {summary['errors']} errors" if summary["errors"] else "")
            )
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def prepare_database(odoo, db, stamp):
    setup_log = odoo.log_dir / f"bench-queue-{stamp}-{db}-setup.log"
    started = time.monotonic()
    log(f"installing {MODULE} (no demo data) into {db}; log: {setup_log}")
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
        logfile=setup_log,
    )
    out = odoo.state_dir / f"{db}-queue.json"
    env = {
        "QUEUE_AGENTS": str(SETTINGS["agents"]),
        "QUEUE_TEAMS": str(SETTINGS["teams"]),
        "QUEUE_PASSWORD": PASSWORD,
        "QUEUE_POPULATE_OUT": str(out),
    }
    with open(HERE / "queue_populate.py", "rb") as script:
        odoo.run(
            "shell",
            "-d",
            db,
            "--no-http",
            "--log-level=warn",
            stdin=script,
            env=env,
            logfile=setup_log,
        )
    data = json.loads(out.read_text())
    conn = pg_connect(db)
    conn.autocommit = False
    with conn.cursor() as cr:
        generate_people(cr, data)
    conn.commit()
    conn.close()
    out.write_text(json.dumps(data))
    data["setup_seconds"] = round(time.monotonic() - started, 1)
    log(
        f"installed, {SETTINGS['agents']} agents in {SETTINGS['teams']} teams, "
        f"{SETTINGS['customers']:,} "
        f"customers in {SETTINGS['companies']:,} companies, in {data['setup_seconds']:.0f} s"
    )
    return data


class Server:
    def __init__(self, odoo, db, stamp, label, sql_debug=False):
        self.odoo = odoo
        self.http_port = free_port(18369)
        self.gevent_port = free_port(self.http_port + 1)
        self.log = odoo.log_dir / f"bench-queue-{stamp}-{db}-{label}.log"
        args = [
            "-d",
            db,
            f"--db-filter=^{db}$",
            f"--workers={SETTINGS['workers']}",
            "--max-cron-threads=0",
            "--http-interface=127.0.0.1",
            f"--http-port={self.http_port}",
            f"--gevent-port={self.gevent_port}",
            "--log-level=warn",
        ]
        if sql_debug:
            args.append("--log-handler=odoo.sql_db:DEBUG")
        self.process = odoo.start(*args, logfile=self.log)
        wait_for_server(self.process, self.http_port, self.gevent_port)

    def stop(self):
        self.odoo.stop()


def measure_size(odoo, db, data, stamp, size):
    """Time every request with the queue's indexes and (QUEUE_COMPARE) without
    them, then capture their SQL and explain the slowest queries."""
    results = {}
    definitions = queue_index_definitions(db)
    missing = set(QUEUE_INDEXES) - set(definitions)
    if missing:
        log(f"warning: indexes not found in the database: {sorted(missing)}")
    states = ["with", "without"] if SETTINGS["compare"] and definitions else ["with"]
    server = Server(odoo, db, stamp, f"{size}-server")
    try:
        for state in states:
            if state == "without":
                set_queue_indexes(db, definitions, present=False)
            log(f"measuring {SETTINGS['queries']} times each, {state} the queue's indexes")
            # stock does not use our indexes: measured once
            results[state] = asyncio.run(
                measure(
                    odoo,
                    db,
                    data,
                    server.http_port,
                    server.gevent_port,
                    server.process.pid,
                    SETTINGS["queries"],
                    with_stock=state == "with",
                )
            )
    finally:
        server.stop()
        set_queue_indexes(db, definitions, present=True)
    results["server_log"] = server_log_summary(server.log)
    if SETTINGS["explain"]:
        explain_log = odoo.log_dir / f"bench-queue-{stamp}-{db}-{size}-explain.log"
        server = Server(odoo, db, stamp, f"{size}-sql", sql_debug=True)
        try:
            for state in reversed(states):
                set_queue_indexes(db, definitions, present=state == "with")
                captured = asyncio.run(
                    capture_sql(
                        odoo,
                        db,
                        data,
                        server.http_port,
                        server.gevent_port,
                        server.process.pid,
                        server.log,
                        with_stock=state == "with",
                    )
                )
                results[f"sql_{state}"] = explain(
                    db,
                    captured,
                    explain_log,
                    f"{size:,} tickets, {state} the queue's indexes",
                    SETTINGS["explain"],
                )
        finally:
            server.stop()
            set_queue_indexes(db, definitions, present=True)
        results["explain_log"] = str(explain_log)
        log(f"query plans: {explain_log}")
    return results


def main():
    odoo = Odoo(sys.argv[1:])
    stamp = time.strftime("%Y%m%d-%H%M%S")
    db = REUSE_DB or f"imlt_queue_{secrets.token_hex(4)}"
    created = REUSE_DB is None

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    exit_code = 0
    report = {
        "settings": SETTINGS,
        "sizes": {},
        "commit": git_commit(),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_at_start": os.getloadavg(),
        },
    }
    try:
        if created:
            data = prepare_database(odoo, db, stamp)
            sizes = SETTINGS["sizes"]
        else:
            data = json.loads((odoo.state_dir / f"{db}-queue.json").read_text())
            update_log = odoo.log_dir / f"bench-queue-{stamp}-{db}-setup.log"
            log(f"reusing database {db}: updating {MODULE}; log: {update_log}")
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
            # QUEUE_SIZES given: generate them again; otherwise measure what is there
            sizes = SETTINGS["sizes"] if os.environ.get("QUEUE_SIZES") else [None]
        report["setup_seconds"] = data.get("setup_seconds")
        for size in sizes:
            entry = {}
            if size is not None:
                conn = pg_connect(db)
                conn.autocommit = False
                t0 = time.monotonic()
                with conn.cursor() as cr:
                    delete_tickets(cr, data)
                conn.commit()
                log(f"generating {size:,} tickets")
                generate_tickets(conn, data, size)
                conn.close()
                entry["generate_seconds"] = round(time.monotonic() - t0, 1)
                t0 = time.monotonic()
                vacuum_analyze(db)
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
            print()
            print(table(size, entry))
            print()
        report["date"] = datetime.datetime.now().isoformat(timespec="seconds")
        report["seconds"] = round(time.monotonic() - started, 1)
        out_dir = HERE / "results"
        out_dir.mkdir(exist_ok=True)
        json_path = out_dir / f"{time.strftime('%Y-%m-%d')}-{report['commit']}-queue.json"
        json_path.write_text(json.dumps(report, indent=1, default=str))
        log(f"results: {json_path}")
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
                (odoo.state_dir / f"{db}-queue.json").unlink()
            log(f"dropped database {db} and its filestore")
        else:
            with contextlib.suppress(Exception):
                cancel_queries(db)
        if created and KEEP_DB:
            log(
                f"kept database {db} (QUEUE_KEEP=1); rerun with QUEUE_DB={db}, "
                f"drop it with dropdb {db}"
            )
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
