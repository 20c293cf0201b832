from odoo import models


class DiscussChannelRtcSession(models.Model):
    _inherit = "discuss.channel.rtc.session"

    def unlink(self):
        # the calls these sessions end: their channel has no other session
        ended = self.channel_id.sudo().filtered(lambda channel: not channel.rtc_session_ids - self)
        result = super().unlink()
        if not self.env.context.get("im_livechat_ticket_joining"):
            # (joining again first removes one's own session: the call goes on)
            # sudo: im_livechat.ticket - the conversation's ticket notes the end of its call
            ended.sudo().livechat_ticket_ids._on_call_ended()
        return result
