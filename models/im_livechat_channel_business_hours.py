"""The team's business hours: whether its working hours (``ticket_calendar_id``,
public holidays included) are running at a given time, when they start
again, and the first reply its service level promises from then.

Customers are told about them by the ticket (``im_livechat_ticket_business_hours.py``)."""

from datetime import UTC, timedelta

from odoo import fields, models

# How far ahead the next working hour is looked for, in windows of 4 weeks
# (a closed season, holidays after holidays): about a year.
OPENING_SEARCH_WINDOW = timedelta(days=28)
OPENING_SEARCH_WINDOWS = 13


class ImLivechatChannel(models.Model):
    _inherit = "im_livechat.channel"

    ticket_hours_notice = fields.Boolean(
        "Out-of-Hours Notice",
        default=False,
        help="Outside the working hours (public holidays included), a new ticket and a "
        "customer's message after a silence get one automatic notice: when the team is back "
        "and by when to expect an answer (the first response target, in working hours). The "
        "new-ticket page shows when the team is back. Without working hours the team is "
        "always open.",
    )
    ticket_hours_silence = fields.Integer(
        "Notice Again After (minutes)",
        default=30,
        help="Outside the working hours, a customer's message gets the notice again when the "
        "conversation had no message for this long.",
    )

    _sql_constraints = [
        (
            "ticket_hours_silence_positive",
            "CHECK(ticket_hours_silence >= 0)",
            "The silence before a new out-of-hours notice cannot be negative.",
        ),
    ]

    def _ticket_next_opening(self, now):
        """``(closed, back)`` at ``now`` (naive UTC): whether the team is
        outside its working hours (holidays included), and when they start
        again (naive UTC; False if not within a year). A team without
        working hours is always open."""
        self.ensure_one()
        calendar = self.ticket_calendar_id
        if not calendar:
            return False, False
        start = now.replace(tzinfo=UTC)
        for window in range(OPENING_SEARCH_WINDOWS):
            window_start = start + OPENING_SEARCH_WINDOW * window
            intervals = calendar._work_intervals_batch(
                window_start, window_start + OPENING_SEARCH_WINDOW, compute_leaves=True
            )[False]
            for begin, end, _meta in intervals:
                if begin <= start < end:
                    return False, False
                if begin > start:
                    return True, begin.astimezone(UTC).replace(tzinfo=None)
        return True, False

    def _ticket_first_reply_deadline(self, start, priority):
        """When a ticket of ``priority`` written at ``start`` (naive UTC)
        gets its first answer by the team's service level: its first
        response target in working hours; False without a target."""
        self.ensure_one()
        sla = self.ticket_sla_ids.filtered(lambda s: s.priority == priority)[:1]
        return self._ticket_deadline(start, sla.first_response_hours)
