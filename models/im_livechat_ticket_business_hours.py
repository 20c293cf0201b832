"""Business hours as customers meet them: outside the team's working hours, a
new ticket and a customer's message after a silence get one notice in the
conversation, saying when the team is back and by when to expect an answer;
the new-ticket page says when the team is back.

The team's calendar arithmetic is in ``im_livechat_channel_business_hours.py``;
``discuss_channel_business_hours.py`` calls in here for each customer message."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.misc import babel_locale_parse, format_datetime, get_lang


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    def _on_customer_message(self, message):
        """The customer wrote ``message`` in the conversation: outside the
        team's working hours and after a silence, tell them when to expect
        an answer, once."""
        self.ensure_one()
        team = self.livechat_channel_id
        if not (team.ticket_hours_notice and team.ticket_calendar_id and self.channel_id):
            return
        now = message.date or fields.Datetime.now()
        if not self._conversation_silent_before(message, team.ticket_hours_silence):
            return
        closed, back = team._ticket_next_opening(now)
        if closed:
            # e-mailed to a customer who is away, like an agent's message
            # (a ticket by e-mail would not hear of it otherwise)
            self._post_notice(self._get_hours_notice_text(now, back), customer_notice=True)

    def _conversation_silent_before(self, message, minutes):
        """Whether nobody wrote in the conversation for ``minutes`` before
        ``message`` (a new ticket's first message: always), and ``message``
        is its latest (a retried post that was stored already had its turn)."""
        # sudo: mail.message - dates of the conversation of the message just posted
        Message = self.env["mail.message"].sudo()
        domain = [("model", "=", "discuss.channel"), ("res_id", "=", self.channel_id.id)]
        if Message.search_count(domain + [("id", ">", message.id)], limit=1):
            return False
        previous = Message.search(
            domain + [("message_type", "=", "comment"), ("id", "<", message.id)],
            order="id desc",
            limit=1,
        )
        return not previous or previous.date <= message.date - timedelta(minutes=minutes)

    def _get_expected_reply_date(self, now):
        """By when the customer writing at ``now`` may expect an answer: the
        ticket's first response deadline while it is pending, else the team's
        first response target from ``now``; False without a target."""
        self.ensure_one()
        deadline = self.sla_response_deadline
        if not self.first_response_date and deadline and deadline > now:
            return deadline
        return self.livechat_channel_id._ticket_first_reply_deadline(now, self.priority)

    def _get_hours_notice_text(self, now, back):
        """The out-of-hours notice, in the customer's language and time zone."""
        self.ensure_one()
        partner = self.partner_id
        env = self.with_context(lang=partner.lang or self.env.lang).env
        calendar = self.livechat_channel_id.ticket_calendar_id
        tz = partner.tz or calendar.tz or "UTC"
        if not back:
            return env._("We are outside our working hours: we will answer as soon as we are back.")
        reply = self._get_expected_reply_date(now)
        if not reply:
            return env._(
                "We are outside our working hours. We will be back on %(back)s.",
                back=_format_moment(env, back, tz),
            )
        return env._(
            "We are outside our working hours. We will be back on %(back)s; "
            "expect an answer by %(reply)s.",
            back=_format_moment(env, back, tz),
            reply=_format_moment(env, reply, tz),
        )

    @api.model
    def _get_portal_hours_notice(self):
        """For the new-ticket page: when the team is back if it is outside
        its working hours now and tells customers so; else False."""
        # sudo: im_livechat.channel - the team's hours, shown to every customer
        team = self._default_livechat_channel_id().sudo()
        if not (team and team.ticket_hours_notice):
            return False
        closed, back = team._ticket_next_opening(fields.Datetime.now())
        if not closed:
            return False
        if not back:
            return self.env._("We are outside our working hours now.")
        tz = self.env.user.tz or team.ticket_calendar_id.tz or "UTC"
        return self.env._(
            "We are outside our working hours now: we will be back on %(back)s. "
            "You can open your ticket in the meantime.",
            back=_format_moment(self.env, back, tz),
        )


def _format_moment(env, value, tz):
    """``value`` (naive UTC) in ``tz`` with its weekday and date, in the
    language of ``env``: "Mon, Nov 30 8:00 AM", "Mo., 30. Nov. 08:00"."""
    lang_code = get_lang(env).code
    locale = babel_locale_parse(lang_code)
    date_pattern = locale.datetime_skeletons.get("MMMEd") or locale.date_formats["medium"]
    pattern = f"{date_pattern.pattern} {locale.time_formats['short'].pattern}"
    return format_datetime(env, value, tz=tz, dt_format=pattern, lang_code=lang_code)
