"""SQL statements and rows written by one post, ours and stock, in-process.

Run in an Odoo shell on a database with the demo data (what it creates, it removes):

    make shell < bench/profile_post.py

It posts as the customer and as the agent of a demo ticket in three
conversations with the same two members: the ticket's, a stock live chat and
a stock group chat, and prints the median per post of the statements the
cursor ran (flush and bus rows included) and of the rows PostgreSQL counted
as inserted or updated in the transaction (pg_stat_xact_user_tables). The
web client's route adds the same answer formatting to every path.
"""

import statistics
import uuid

from odoo.tools import plaintext2html

POSTS = 15
env = env(context={})  # noqa: F821 - given by odoo-bin shell
cr = env.cr
Channel = env["discuss.channel"]
demo = env["im_livechat.ticket"].search(
    [("state", "!=", "resolved"), ("user_id", "!=", False)], limit=1
)
customer, agent = demo.partner_id.user_ids[:1], demo.user_id
# a ticket of its own, removed at the end: the demo's conversations stay as they are
ticket = (
    env["im_livechat.ticket"]
    .with_user(customer)
    ._portal_create_ticket("Profile of one post", "The first message.")
)
ticket = ticket.sudo()
ticket.action_assign(agent)
members = [(0, 0, {"partner_id": p.id}) for p in customer.partner_id | agent.partner_id]
limit = env["ir.config_parameter"].get_param("im_livechat_ticket.rate_limit_messages")
env["ir.config_parameter"].set_param("im_livechat_ticket.rate_limit_messages", "100000/60")
group = Channel.create(
    {"name": "profile: group", "channel_type": "group", "channel_member_ids": members}
)
livechat = Channel.create(
    {
        "name": "profile: live chat",
        "channel_type": "livechat",
        "livechat_operator_id": agent.partner_id.id,
        "livechat_channel_id": ticket.livechat_channel_id.id,
        "channel_member_ids": members,
    }
)
env.flush_all()
cr.precommit.run()
cr.commit()


def written():
    cr.execute(
        "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables"
    )
    return int(cr.fetchone()[0])


def profile(channel_id, user, keyed):
    statements, rows = [], []
    for number in range(POSTS):
        queries, before = cr.sql_log_count, written()
        key = {"ticket_client_key": uuid.uuid4().hex} if keyed else {}
        Channel.browse(channel_id).with_user(user).message_post(
            body=plaintext2html(f"profile {number}"),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            **key,
        )
        env.flush_all()
        cr.precommit.run()  # the bus rows
        statements.append(cr.sql_log_count - queries)
        rows.append(written() - before)
        cr.commit()
        env.invalidate_all()
    return statistics.median(statements), statistics.median(rows)


print(f"{'post':36} {'statements':>10} {'rows written':>13}")
for who, user in (("customer", customer), ("agent", agent)):
    for label, channel, keyed in (
        ("ticket", ticket.channel_id, True),
        ("stock live chat", livechat, False),
        ("stock group chat", group, False),
    ):
        statements, rows = profile(channel.id, user, keyed)
        print(f"{label + ', ' + who:36} {statements:>10g} {rows:>13g}")
(group | livechat | ticket.channel_id).unlink()
ticket.unlink()
env["ir.config_parameter"].set_param("im_livechat_ticket.rate_limit_messages", limit or "30/60")
cr.commit()
