from odoo import models


class DiscussChannelMember(models.Model):
    _inherit = "discuss.channel.member"

    def _notify_typing(self, is_typing):
        result = super()._notify_typing(is_typing)
        # An agent typing in a ticket's conversation is on the ticket: the
        # queue and the other agents' forms show it (im_livechat_ticket_presence.py).
        for member in self.filtered(lambda m: m.channel_id.channel_type == "livechat"):
            user = member.partner_id.user_ids[:1]
            if not user or not user.has_group("im_livechat.im_livechat_group_user"):
                continue
            # sudo: im_livechat.ticket - the ticket of the member's conversation
            ticket = member.channel_id.sudo().livechat_ticket_ids[:1]
            if ticket:
                ticket.with_user(user)._set_viewing(typing=bool(is_typing))
        return result
