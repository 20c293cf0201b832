from odoo import api, models
from odoo.exceptions import AccessError


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    @api.model
    def _get_serve_attachment(self, url, extra_domain=None, order=None):
        # The fallback of every unknown URL looks for a file stored at that URL:
        # PostgreSQL refuses a NUL in a string, which made "/my/tickets/%00"
        # (any URL with %00) a 500 error instead of a 404.
        if "\x00" in (url or ""):
            return self.browse()
        return super()._get_serve_attachment(url, extra_domain=extra_domain, order=order)

    def _check_ticket_attachment_token_access(self):
        """An access token opens a file of a ticket's conversation only to
        whoever may read that ticket now.

        Tokens are permanent and handed to the customer's browser (the ticket
        page, uploads); a coworker of a company that shares its tickets gets
        them too. Without this check they would keep opening the files after
        the company stops sharing, or when forwarded to anyone."""
        # sudo: ir.attachment - where the file belongs, whatever the caller may read
        for attachment in self.sudo():
            if attachment.res_model != "discuss.channel" or not attachment.res_id:
                continue
            # sudo: discuss.channel - whether the conversation is a ticket's
            channel = self.env["discuss.channel"].sudo().browse(attachment.res_id).exists()
            tickets = channel.livechat_ticket_ids
            if tickets and not tickets.with_env(self.env).has_access("read"):
                raise AccessError(self.env._("This file belongs to a ticket you cannot access."))
