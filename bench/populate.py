# Bulk data for `make bench` (bench/server.py populate); runs inside `odoo-bin shell` (which gives
# ``env``), reading its settings from the environment:
#
# PART=people: agents, customers (each with a ticket and a
#   plain live chat session), the background tickets' customers; writes what
#   the clients need (logins, ids) as JSON to $BENCH_POPULATE_OUT.
# PART=background:<i>/<n>: the i-th of n shares of the
#   background tickets (bench/server.py runs the shares in parallel processes).
#
# Everything goes through the models: tickets with their conversations,
# portal users, live chat sessions built with the values stock im_livechat
# gives them. Only the spread of the background tickets' dates over past
# weeks is written in SQL (create_date is not writable through the ORM).
import json
import os
import random
import runpy
import time

from odoo import Command, fields

CUSTOMERS = int(os.environ["BENCH_CUSTOMERS"])
IDLE_USERS = int(os.environ["BENCH_IDLE_USERS"])
AGENTS = int(os.environ["BENCH_AGENTS"])
DESK_AGENTS = int(os.environ["BENCH_DESK_AGENTS"])
TICKETS = int(os.environ["BENCH_TICKETS"])
PASSWORD = os.environ["BENCH_PASSWORD"]
PART = os.environ["PART"]
BATCH = 500
started = time.monotonic()

env = env  # noqa: F821 - given by odoo shell
Ticket = env["im_livechat.ticket"]
team = env.ref("im_livechat_ticket.im_livechat_channel_customer_support")
helpers = runpy.run_path(os.path.join(os.environ["BENCH_DIR"], "shell_helpers.py"))
post_as = helpers["post_as"]


def log(message):
    print(f"[populate {PART} {time.monotonic() - started:6.1f}s] {message}", flush=True)


def background_count():
    return max(0, TICKETS - CUSTOMERS - IDLE_USERS)


# ---------------------------------------------------------------- people


def make_users(prefix, count, groups):
    names = [f"Bench {prefix.title()} {i:04d}" for i in range(count)]
    return helpers["make_users"](env, f"bench_{prefix}", names, groups, PASSWORD)


def populate_people():
    ICP = env["ir.config_parameter"]
    # The customers' rate limits still run (their queries are part of the
    # cost) but never refuse: the load spreads over few customers.
    ICP.set_param("im_livechat_ticket.rate_limit_messages", "1000000/60")
    ICP.set_param("im_livechat_ticket.rate_limit_tickets", "1000000/60")
    portal = env.ref("base.group_portal").id
    agent_groups = [env.ref("base.group_user").id, env.ref("im_livechat.im_livechat_group_user").id]
    agents = make_users("agent", AGENTS, agent_groups)
    # they never log in: they only carry their share of the background history
    desk_agents = make_users("desk_agent", DESK_AGENTS, agent_groups)
    customers = make_users("customer", CUSTOMERS, [portal])
    idle_users = make_users("idle", IDLE_USERS, [portal])
    team.write(
        {
            "user_ids": [Command.link(agent.id) for agent in agents | desk_agents],
            # the heaviest method: each new ticket counts the online agents' open tickets
            "ticket_assignment": "balanced",
        }
    )
    env.cr.commit()
    log(f"{len(agents)} agents, {len(customers)} customers, {len(idle_users)} idle-socket users")

    # Each customer: one ticket through the portal path, taken by an agent
    # who answers (so it is "open"), and one plain live chat session with the
    # same agent, built as /im_livechat/get_session builds it.
    active = []
    for i, customer in enumerate(customers | idle_users):
        agent = agents[i % len(agents)]
        ticket = (
            Ticket.with_user(customer)
            ._portal_create_ticket(f"Bench ticket of {customer.name}", "Hello, my bike needs help.")
            .with_env(env)
        )
        ticket.with_user(agent).action_assign(agent)
        post_as(agent, ticket.channel_id, "Hello, I am looking into it.")
        now = fields.Datetime.now()
        chat = (
            env["discuss.channel"]
            .with_context(mail_create_nosubscribe=False)
            .create(
                {
                    "channel_member_ids": [
                        Command.create(
                            {
                                "last_interest_dt": now,
                                "partner_id": agent.partner_id.id,
                                "unpin_dt": now,
                            }
                        ),
                        Command.create({"partner_id": customer.partner_id.id}),
                    ],
                    "livechat_active": True,
                    "livechat_operator_id": agent.partner_id.id,
                    "livechat_channel_id": team.id,
                    "chatbot_current_step_id": False,
                    "anonymous_name": False,
                    "country_id": False,
                    "channel_type": "livechat",
                    "name": f"{customer.name} {agent.name}",
                }
            )
        )
        post_as(customer, chat, "Hello, my bike needs help.")
        post_as(agent, chat, "Hello, I am looking into it.")
        active.append(
            {
                "login": customer.login,
                "user_id": customer.id,
                "partner_id": customer.partner_id.id,
                "agent": i % len(agents),
                "ticket_id": ticket.id,
                "ticket_channel_id": ticket.channel_id.id,
                "stock_channel_id": chat.id,
                "idle": customer in idle_users,
            }
        )
        if i % 20 == 19:
            env.cr.commit()
    env.cr.commit()
    log(f"{len(active)} customers with a ticket and a plain live chat")

    # The background tickets' customers: contacts of customer companies.
    partner_count = max(1, background_count() // 5)
    companies = env["res.partner"].create(
        [
            {"name": f"Bench Company {i:04d}", "is_company": True}
            for i in range(max(1, partner_count // 4))
        ]
    )
    env["res.partner"].create(
        [
            {"name": f"Bench Contact {i:05d}", "parent_id": companies[i % len(companies)].id}
            for i in range(partner_count)
        ]
    )
    env.cr.commit()
    with open(os.environ["BENCH_POPULATE_OUT"], "w") as out:
        json.dump(
            {
                "team_id": team.id,
                "agents": [
                    {"login": a.login, "user_id": a.id, "partner_id": a.partner_id.id}
                    for a in agents
                ],
                "customers": active,
            },
            out,
        )


# ---------------------------------------------------------------- background


def populate_background(share, shares):
    """The background tickets of the queue: a realistic mix of states,
    priorities and agents (the measured agents and the desk's others: each
    agent is a member of their tickets' conversations, and every conversation
    an agent is a member of is one more channel their socket polls). They
    are history, not the measured path: created through the model in batches,
    without mail tracking or "assigned to you" notifications; the customer's
    first message and the agent's reply are stored as mail.message records
    (no notification pipeline)."""
    total = background_count()
    first, last = total * share // shares, total * (share + 1) // shares
    rng = random.Random(share)
    agents = env["res.users"].search(
        ["|", ("login", "=like", "bench_agent_%"), ("login", "=like", "bench_desk_agent_%")],
        order="id",
    )
    partners = env["res.partner"].search([("name", "=like", "Bench Contact %")], order="id")
    BulkTicket = Ticket.with_context(
        tracking_disable=True,
        mail_create_nolog=True,
        mail_notrack=True,
        mail_auto_subscribe_no_notify=True,
        mail_create_nosubscribe=True,
        im_livechat_ticket_first_message_follows=True,
    )
    comment = env.ref("mail.mt_comment").id
    created = []
    for start in range(first, last, BATCH):
        count = min(BATCH, last - start)
        vals_list = []
        for j in range(count):
            agent = agents[rng.randrange(len(agents))] if rng.random() < 0.85 else None
            vals_list.append(
                {
                    "name": f"Background ticket {start + j:06d}",
                    "partner_id": partners[rng.randrange(len(partners))].id,
                    "user_id": agent.id if agent else False,
                    "priority": rng.choices("0123", weights=(20, 55, 18, 7))[0],
                }
            )
        batch = BulkTicket.create(vals_list)
        assigned = batch.filtered("user_id")
        resolved = assigned.filtered(lambda t: rng.random() < 0.7)
        opened = assigned - resolved
        now = fields.Datetime.now()
        if opened:
            opened.write({"state": "open", "first_response_date": now})
        if resolved:
            resolved.write({"state": "resolved", "first_response_date": now, "resolved_date": now})
        message_vals = []
        for ticket in batch:
            authors = [ticket.partner_id] + ([ticket.user_id.partner_id] if ticket.user_id else [])
            # a ticket without an agent has only the customer's message
            for author, text in zip(
                authors,
                ("The battery does not charge any more.", "I am looking into it."),
                strict=False,
            ):
                message_vals.append(
                    {
                        "model": "discuss.channel",
                        "res_id": ticket.channel_id.id,
                        "body": f"<p>{text}</p>",
                        "message_type": "comment",
                        "subtype_id": comment,
                        "author_id": author.id,
                        # given, so that create() does not compute them per message
                        "email_from": author.email_formatted,
                        "reply_to": False,
                        "record_name": ticket.channel_id.name,
                    }
                )
        env["mail.message"].create(message_vals)
        created.extend(batch.ids)
        env.cr.commit()
        if (start - first) // BATCH % 4 == 3 or start + count == last:
            log(f"{start + count - first}/{last - first} tickets")
    if not created:
        return
    # Spread creation over the last 90 days, so that the queue order
    # (priority, then age) works on realistic values; then compute again the
    # stored fields that depend on the dates.
    env.cr.execute(
        """
        UPDATE im_livechat_ticket
           SET create_date = (now() at time zone 'UTC') - random() * interval '90 days'
         WHERE id IN %s
        """,
        [tuple(created)],
    )
    env.cr.execute(
        """
        UPDATE im_livechat_ticket
           SET first_response_date = CASE WHEN first_response_date IS NOT NULL
                                          THEN create_date + interval '2 hours' END,
               resolved_date = CASE WHEN resolved_date IS NOT NULL
                                    THEN create_date + interval '1 day' END
         WHERE id IN %s
        """,
        [tuple(created)],
    )
    env.cr.execute(
        """
        UPDATE discuss_channel c
           SET last_interest_dt = COALESCE(t.resolved_date, t.first_response_date, t.create_date)
          FROM im_livechat_ticket t
         WHERE t.channel_id = c.id AND t.id IN %s
        """,
        [tuple(created)],
    )
    tickets = Ticket.browse(created)
    tickets.invalidate_recordset()
    for fname in (
        "sla_response_deadline",
        "sla_resolution_deadline",
        "sla_success",
        "first_response_hours",
        "resolution_hours",
    ):
        env.add_to_compute(Ticket._fields[fname], tickets)
    env.flush_all()
    env.cr.commit()


if PART == "people":
    populate_people()
elif PART.startswith("background:"):
    share, shares = PART.split(":", 1)[1].split("/")
    populate_background(int(share), int(shares))
else:
    raise SystemExit(f"unknown PART {PART!r}")
log("done")
