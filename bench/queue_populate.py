# The people and templates of bench/phases/queue_scale.py; runs inside `odoo-bin shell`
# (which gives ``env``), reading its settings from the environment:
#
# QUEUE_AGENTS agents (internal users, live chat operators) spread over
# QUEUE_TEAMS support teams, each with a service level per priority; three
# portal customers to log in with (one who will have many tickets, one with a
# few, one in a company that shares its tickets); and one ticket opened
# through the portal path and answered by an agent, whose rows (ticket,
# conversation, members, messages, partners) are the templates that
# queue_scale copies in SQL. Writes the ids it made as JSON to
# $QUEUE_POPULATE_OUT.
import json
import os
import runpy

from odoo import Command

AGENTS = int(os.environ["QUEUE_AGENTS"])
TEAMS = int(os.environ["QUEUE_TEAMS"])
PASSWORD = os.environ["QUEUE_PASSWORD"]
# (first response, resolution) target hours by priority
SLA_HOURS = {"0": (24, 120), "1": (8, 40), "2": (4, 16), "3": (1, 4)}

env = env  # noqa: F821 - given by odoo shell
helpers = runpy.run_path(os.path.join(os.environ["BENCH_DIR"], "shell_helpers.py"))


def make_users(prefix, names, groups):
    return helpers["make_users"](env, f"queue_{prefix}", names, groups, PASSWORD)


agent_groups = [env.ref("base.group_user").id, env.ref("im_livechat.im_livechat_group_user").id]
agents = make_users("agent", [f"Agent {i:03d}" for i in range(AGENTS)], agent_groups)
default_team = env.ref("im_livechat_ticket.im_livechat_channel_customer_support")
teams = default_team | env["im_livechat.channel"].create(
    [{"name": f"Support Team {i}"} for i in range(1, TEAMS)]
)
for index, team in enumerate(teams):
    team.write(
        {
            # agent k works in team k % TEAMS (queue_scale relies on it)
            "user_ids": [Command.set(agents[index::TEAMS].ids)],
            "ticket_assignment": "default",
            "ticket_sla_risk_hours": 2,
            "ticket_sla_ids": [Command.clear()]
            + [
                Command.create(
                    {
                        "priority": priority,
                        "first_response_hours": first,
                        "resolution_hours": resolution,
                    }
                )
                for priority, (first, resolution) in SLA_HOURS.items()
            ],
        }
    )

Partner = env["res.partner"]
template_company = Partner.create({"name": "Template Company", "is_company": True})
template_contact = Partner.create({"name": "Template Contact", "parent_id": template_company.id})
heavy_company = Partner.create({"name": "Many Tickets Ltd", "is_company": True})
sharing_company = Partner.create(
    {"name": "Shared Tickets Ltd", "is_company": True, "ticket_company_sharing": True}
)
portal = [env.ref("base.group_portal").id]
heavy, light, sharer = make_users(
    "customer",
    ["Customer With Many Tickets", "Customer With Few Tickets", "Customer Sharing"],
    portal,
)
heavy.partner_id.parent_id = heavy_company
sharer.partner_id.parent_id = sharing_company

# The template ticket: opened on the portal, answered by its team's agent.
agent = agents[0]
ticket = (
    env["im_livechat.ticket"]
    .with_user(light)
    ._portal_create_ticket("Template ticket", "The battery does not charge any more.")
    .with_env(env)
)
ticket.write({"user_id": agent.id, "livechat_channel_id": default_team.id})
helpers["post_as"](agent, ticket.channel_id, "I am looking into it.")
env.flush_all()
messages = env["mail.message"].search(
    [
        ("model", "=", "discuss.channel"),
        ("res_id", "=", ticket.channel_id.id),
        ("message_type", "=", "comment"),
    ],
    order="id",
)
sequence = env["ir.sequence"].search([("code", "=", "im_livechat.ticket")], limit=1)
env.cr.commit()
with open(os.environ["QUEUE_POPULATE_OUT"], "w") as out:
    json.dump(
        {
            "agents": [
                {"login": a.login, "user_id": a.id, "partner_id": a.partner_id.id} for a in agents
            ],
            "agent_partner_ids": agents.partner_id.ids,
            "agent_user_ids": agents.ids,
            "team_ids": teams.ids,
            "company_id": env.company.id,
            "root_partner_id": env.ref("base.partner_root").id,
            "comment_subtype_id": env.ref("mail.mt_comment").id,
            "customers": {
                name: {"login": user.login, "user_id": user.id, "partner_id": user.partner_id.id}
                for name, user in (("many", heavy), ("few", light), ("sharing", sharer))
            },
            "heavy_company_id": heavy_company.id,
            "sharing_company_id": sharing_company.id,
            "template": {
                "company_id": template_company.id,
                "contact_id": template_contact.id,
                "ticket_id": ticket.id,
                "channel_id": ticket.channel_id.id,
                "customer_member_id": ticket.channel_id.channel_member_ids.filtered(
                    lambda m: m.partner_id == light.partner_id
                ).id,
                "customer_message_id": messages[0].id,
                "agent_message_id": messages[-1].id,
            },
            "sequence": {
                "id": sequence.id,
                "implementation": sequence.implementation,
                "prefix": sequence.prefix or "",
                "padding": sequence.padding,
            },
        },
        out,
    )
print("queue_populate: done", flush=True)
