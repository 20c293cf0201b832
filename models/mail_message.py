from odoo import fields, models

from .im_livechat_ticket_data import SERVER_SET


class MailMessage(models.Model):
    _inherit = "mail.message"

    ticket_client_key = fields.Char(
        "Client Key",
        help="Key the client generated for this post: retrying a post with the same key "
        "in the same conversation returns the stored message instead of a second one.",
        **SERVER_SET,
    )

    ticket_customer_notice = fields.Boolean(
        "Ticket Notice for the Customer",
        help="A notice of a ticket's conversation (resolved, reopened by an agent) that is "
        "e-mailed to an away customer like an agent's message.",
        **SERVER_SET,
    )

    def init(self):
        # one message per key and conversation; partial so it costs nothing
        # for the messages that have no key (all but ticket conversations)
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS mail_message_ticket_client_key_uniq
                ON mail_message (model, res_id, ticket_client_key)
             WHERE ticket_client_key IS NOT NULL
            """
        )
        # the customers' rate limit (_check_rate_limit) counts an author's recent
        # comments in conversations: one range of this index, however many
        # messages the author wrote before
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS mail_message_ticket_rate_limit_idx
                ON mail_message (author_id, create_date)
             WHERE message_type = 'comment' AND model = 'discuss.channel'
            """
        )
        return super().init()
