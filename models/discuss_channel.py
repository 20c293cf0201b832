from odoo import api, fields, models
from odoo.exceptions import UserError


class DiscussChannel(models.Model):
    _inherit = "discuss.channel"

    livechat_ticket_ids = fields.One2many(
        "im_livechat.ticket",
        "channel_id",
        string="Tickets",
        readonly=True,
    )

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, *, message_type="notification", **kwargs):
        if not self.env.user._is_internal():
            # sudo: im_livechat.ticket - the state of the conversation's own ticket
            ticket = self.sudo().livechat_ticket_ids[:1]
            if ticket and message_type == "comment" and ticket.state == "resolved":
                raise UserError(
                    self.env._("This ticket was resolved: reopen it to send a new message.")
                )
            if ticket and kwargs.get("attachment_ids"):
                self._check_ticket_attachments(kwargs["attachment_ids"])
        return super().message_post(message_type=message_type, **kwargs)

    def _check_ticket_attachments(self, attachment_ids):
        """Whatever route brought them in, files a customer attaches to a
        ticket's message pass the ticket's upload checks."""
        # sudo: ir.attachment - reading the files the caller is about to attach
        attachments = self.env["ir.attachment"].sudo().browse(attachment_ids).exists()
        self.env["im_livechat.ticket"]._check_uploads(
            [(attachment.name, attachment.raw) for attachment in attachments]
        )

    def _message_post_after_hook(self, message, msg_vals):
        # sudo: im_livechat.ticket - the conversation drives its ticket's dates and state
        ticket = self.sudo().livechat_ticket_ids[:1]
        if ticket:
            ticket.last_activity_date = message.create_date or fields.Datetime.now()
            author_users = message.author_id.user_ids
            if (
                message.message_type == "comment"
                and message.author_id != ticket.partner_id
                and any(user._is_internal() for user in author_users)
            ):
                ticket._on_agent_message(message)
        return super()._message_post_after_hook(message, msg_vals)
