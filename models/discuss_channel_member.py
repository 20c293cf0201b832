from odoo import models


class DiscussChannelMember(models.Model):
    _inherit = "discuss.channel.member"

    def _get_store_partner_fields(self, fields):
        fields = super()._get_store_partner_fields(fields)
        # Live chat hides its anonymous visitors' details; both parties of a
        # ticket are signed in, so each sees the other's name and presence.
        # sudo: im_livechat.ticket - whether the member's channel is a ticket's
        if (
            self.channel_id.channel_type == "livechat"
            and self.channel_id.sudo().livechat_ticket_ids
        ):
            added = ["name"]
            if self.partner_id != self.env.user.partner_id:
                # not one's own presence: every post stores the poster's own
                # member (seen, unread), and presence costs a query
                added.append("im_status")
            fields = list(fields) + [name for name in added if name not in fields]
        return fields
