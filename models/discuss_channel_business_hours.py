"""Customers' messages in a ticket's conversation, once posted, go to the
ticket's business hours (``im_livechat_ticket_business_hours.py``): the
out-of-hours notice follows the message it answers."""

from odoo import api, models


class DiscussChannel(models.Model):
    _inherit = "discuss.channel"

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, *, message_type="notification", **kwargs):
        message = super().message_post(message_type=message_type, **kwargs)
        if (
            self.channel_type == "livechat"
            and message.message_type == "comment"
            and message.author_id
        ):
            # sudo: im_livechat.ticket - the conversation's own ticket and its team's hours
            ticket = self.sudo().livechat_ticket_ids[:1]
            if ticket and not self._is_ticket_agent_message(ticket, message):
                ticket._on_customer_message(message.sudo())
        return message
