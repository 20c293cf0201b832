"""Discuss' calls on a ticket's conversation: joining and leaving follow the
ticket's rules (``im_livechat_ticket_call.py``). Other channels' calls are
left as Odoo makes them."""

from odoo import SUPERUSER_ID, api, models


class DiscussChannel(models.Model):
    _inherit = "discuss.channel"

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, *, message_type="notification", **kwargs):
        if not (
            self.env.context.get("im_livechat_ticket_call_notice")
            and message_type == "notification"
        ):
            return super().message_post(message_type=message_type, **kwargs)
        # Odoo's "<name> started a live conference" in a ticket's conversation:
        # a public notice (both sides see it, as "Call ended") by the caller
        kwargs.pop("subtype_id", None)
        kwargs["subtype_xmlid"] = "mail.mt_comment"
        kwargs.setdefault("author_id", self.env.user.partner_id.id)
        channel = self
        if not self.env.user._is_internal():
            # a customer's call is no message they wrote: the checks and
            # limits of customers' messages are not for it
            channel = self.with_user(SUPERUSER_ID)
        return super(DiscussChannel, channel).message_post(message_type=message_type, **kwargs)


class DiscussChannelMember(models.Model):
    _inherit = "discuss.channel.member"

    def _get_call_ticket(self):
        """The ticket whose conversation this member's channel is, if any."""
        # sudo: im_livechat.ticket - whether the channel is a ticket's conversation
        return self.channel_id.sudo().livechat_ticket_ids[:1]

    def _rtc_join_call(self, store=None, check_rtc_session_ids=None):
        ticket = self._get_call_ticket()
        if not ticket:
            return super()._rtc_join_call(store=store, check_rtc_session_ids=check_rtc_session_ids)
        ticket._check_call_join(self)
        result = super(
            DiscussChannelMember,
            self.with_context(im_livechat_ticket_call_notice=True, im_livechat_ticket_joining=True),
        )._rtc_join_call(store=store, check_rtc_session_ids=check_rtc_session_ids)
        ticket._on_call_joined(self)
        if store:
            ice_servers = ticket._get_call_ice_servers()
            if ice_servers is not None:
                store.add("Rtc", {"iceServers": ice_servers})
        return result

    def _rtc_leave_call(self):
        result = super()._rtc_leave_call()
        ticket = self._get_call_ticket()
        if ticket:
            ticket._on_call_left()
        return result
