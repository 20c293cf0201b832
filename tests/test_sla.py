from datetime import datetime

from odoo.tests import tagged

from .common import TicketCommon


@tagged("post_install", "-at_install")
class TestTicketSla(TicketCommon):
    """Deadlines count the team's working hours: Monday to Friday, 8:00 to
    12:00 and 13:00 to 17:00 in UTC for these tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._set_working_hours_service_levels(ticket_sla_risk_hours=1)

    def _ticket_at(self, when, priority):
        with self._at(when):
            return self._new_ticket(self.customer_a, priority=priority)

    def test_deadlines_follow_working_hours(self):
        # Friday 16:30: 30 minutes left on Friday, the rest on Monday
        urgent = self._ticket_at("2026-11-27 16:30:00", "3")
        self.assertEqual(urgent.sla_response_deadline, datetime(2026, 11, 30, 8, 30))
        self.assertEqual(urgent.sla_resolution_deadline, datetime(2026, 11, 30, 11, 30))
        normal = self._ticket_at("2026-11-27 16:30:00", "1")
        self.assertEqual(normal.sla_response_deadline, datetime(2026, 11, 30, 11, 30))
        # 16 hours: 0.5 on Friday, 8 on Monday, 7.5 on Tuesday (lunch excluded)
        self.assertEqual(normal.sla_resolution_deadline, datetime(2026, 12, 1, 16, 30))
        low = self._ticket_at("2026-11-27 16:30:00", "0")
        self.assertFalse(low.sla_response_deadline, "no target for low priority")
        self.assertEqual(low.sla_status, "none")

    def test_status_on_track_at_risk_breached_met(self):
        ticket = self._ticket_at("2026-11-30 09:00:00", "3")  # respond by 10:00, resolve by 14:00
        Ticket = self.env["im_livechat.ticket"]
        with self._at("2026-11-30 09:00:00"):
            ticket.invalidate_recordset(["sla_status"])
            self.assertEqual(ticket.sla_status, "at_risk", "one hour left is the risk threshold")
            self.assertIn(ticket, Ticket.search([("sla_status", "=", "at_risk")]))
        self.team.ticket_sla_risk_hours = 0.25
        with self._at("2026-11-30 09:00:00"):
            ticket.invalidate_recordset(["sla_status"])
            self.assertEqual(ticket.sla_status, "on_track")
            self.assertIn(ticket, Ticket.search([("sla_status", "=", "on_track")]))
            self.assertNotIn(ticket, Ticket.search([("sla_status", "in", ["at_risk", "breached"])]))
        with self._at("2026-11-30 10:30:00"):
            ticket.invalidate_recordset(["sla_status"])
            self.assertEqual(ticket.sla_status, "breached", "no answer after the deadline")
            self.assertIn(ticket, Ticket.search([("sla_status", "=", "breached")]))
            self.assertNotIn(ticket, Ticket.search([("sla_status", "!=", "breached")]))

    def test_met_when_answered_and_resolved_in_time(self):
        ticket = self._ticket_at("2026-11-30 09:00:00", "3")
        with self._at("2026-11-30 09:20:00"):
            ticket.channel_id.with_user(self.agent).message_post(
                body="On it", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        with self._at("2026-11-30 11:00:00"):
            ticket.action_resolve()
            ticket.invalidate_recordset(["sla_status"])
            self.assertEqual(ticket.sla_status, "met")
            self.assertIn(
                ticket, self.env["im_livechat.ticket"].search([("sla_status", "=", "met")])
            )

    def test_late_answer_is_breached_forever(self):
        ticket = self._ticket_at("2026-11-30 09:00:00", "3")
        with self._at("2026-11-30 10:10:00"):
            ticket.channel_id.with_user(self.agent).message_post(
                body="Sorry for the wait", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
            ticket.action_resolve()
            ticket.invalidate_recordset(["sla_status"])
            self.assertEqual(ticket.sla_status, "breached")

    def _answer(self, ticket, when, resolve_at=None):
        with self._at(when):
            ticket.channel_id.with_user(self.agent).message_post(
                body="On it", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        if resolve_at:
            with self._at(resolve_at):
                ticket.action_resolve()

    def test_search_finds_the_computed_status(self):
        """The search is a domain on stored fields (for the queue's indexes):
        it finds exactly the tickets of each computed status, and the others
        with "not in"."""
        Ticket = self.env["im_livechat.ticket"]
        tickets = self._ticket_at("2026-11-30 09:00:00", "0")  # none
        tickets |= self._ticket_at("2026-11-30 09:00:00", "3")  # breached: no answer by 10:00
        late = self._ticket_at("2026-11-30 09:00:00", "3")
        self._answer(late, "2026-11-30 10:10:00", resolve_at="2026-11-30 10:20:00")  # breached
        met = self._ticket_at("2026-11-30 09:00:00", "3")
        self._answer(met, "2026-11-30 09:20:00", resolve_at="2026-11-30 11:00:00")
        answered = self._ticket_at("2026-11-30 09:00:00", "1")
        self._answer(answered, "2026-11-30 09:30:00")  # on track: resolve by the next day
        tickets |= late | met | answered
        tickets |= self._ticket_at("2026-11-30 13:00:00", "3")  # at risk: answer by 14:00
        tickets |= self._ticket_at("2026-11-30 13:00:00", "1")  # on track: answer by 17:00
        with self._at("2026-11-30 13:15:00"):
            tickets.invalidate_recordset(["sla_status"])
            statuses = {ticket: ticket.sla_status for ticket in tickets}
            all_statuses = {"none", "on_track", "at_risk", "breached", "met"}
            self.assertEqual(set(statuses.values()), all_statuses)
            for status in all_statuses:
                expected = tickets.filtered(lambda t, status=status: statuses[t] == status)
                mine = [("id", "in", tickets.ids)]
                found = Ticket.search([*mine, ("sla_status", "=", status)])
                self.assertEqual(found, expected, status)
                self.assertEqual(
                    Ticket.search([*mine, ("sla_status", "not in", [status])]),
                    tickets - expected,
                    status,
                )
