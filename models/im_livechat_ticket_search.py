"""Searching tickets by the words of their conversation: agents in the
backend (the "Conversation" field of the search view, which also highlights
the matching message in the ticket's form) and customers on /my/tickets."""

from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    message_search = fields.Char(
        "Conversation Words",
        compute="_compute_message_search",
        search="_search_message_search",
        help="Search the tickets whose conversation has these words (agents: their notes too).",
    )

    def _compute_message_search(self):
        # search only: the words live in the messages
        self.message_search = False

    def _search_message_search(self, operator, value):
        if operator != "ilike" or not isinstance(value, str):
            raise UserError(self.env._("Search the conversation for words only."))
        value = value.strip()
        if not value:
            return expression.TRUE_DOMAIN
        # One query: the ticket search gets a sub-select on mail_message by
        # (model, res_id), indexed, which PostgreSQL runs as a semi-join.
        # sudo: mail.message - only ids of conversations come out; the ticket
        # search around it applies the caller's record rules (a customer's own
        # tickets, or the company's when it shares them)
        Message = self.env["mail.message"].sudo()
        channel_messages = Message._search(
            self._get_message_search_domain("discuss.channel", value)
        )
        domain = [("channel_id", "in", channel_messages.subselect("res_id"))]
        if self.env.user._is_internal():
            # agents also find their notes and the ticket's e-mails
            ticket_messages = Message._search(
                self._get_message_search_domain("im_livechat.ticket", value)
            )
            domain = expression.OR([domain, [("id", "in", ticket_messages.subselect("res_id"))]])
        return domain

    @api.model
    def _get_message_search_domain(self, model, value):
        """The messages of ``model`` whose text has ``value``: what the
        current user may see of a ticket (customers: never internal ones)."""
        words = {value, str(escape(value))}  # the body is HTML: "&" is stored as "&amp;"
        domain = [
            ("model", "=", model),
            ("message_type", "in", ("comment", "email", "notification")),
            *expression.OR([[("body", "ilike", word)] for word in words]),
        ]
        if not self.env.user._is_internal():
            domain += [
                ("is_internal", "=", False),
                "|",
                ("subtype_id", "=", False),
                ("subtype_id.internal", "=", False),
            ]
        return domain

    def get_conversation_search_match(self, value):
        """The id of the newest message of this ticket's conversation that
        has ``value``, for the ticket form to show it; False if none."""
        self.ensure_one()
        if not self.env.user.has_group("im_livechat.im_livechat_group_user"):
            raise AccessError(self.env._("Only support agents can search conversations."))
        self.check_access("read")
        value = (value or "").strip()
        if not value or not self.channel_id:
            return False
        # sudo: mail.message - messages of a ticket the agent may read
        message = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    *self._get_message_search_domain("discuss.channel", value),
                    ("res_id", "=", self.channel_id.id),
                ],
                order="id desc",
                limit=1,
            )
        )
        return message.id or False

    @api.model
    def _get_portal_search_domain(self, search_in, search):
        """The domain of the customer's search on /my/tickets: ``search_in``
        one of ``all``, ``name``, ``message`` (the portal search bar)."""
        search = (search or "").strip()
        if not search:
            return []
        by_field = {
            "name": ["|", ("name", "ilike", search), ("reference", "ilike", search)],
            "message": [("message_search", "ilike", search)],
        }
        if search_in in by_field:
            return by_field[search_in]
        return expression.OR(list(by_field.values()))
