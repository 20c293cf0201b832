from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import TicketCommon


@tagged("post_install", "-at_install")
class TestTicketRating(TicketCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.ticket_manager_id = cls.manager
        cls.ticket = cls._new_ticket(cls.customer_a)

    def _as_customer(self, user=None):
        return self.ticket.with_user(user or self.customer_a)

    def test_resolve_requests_a_rating(self):
        self.assertFalse(self.ticket.rating_ids)
        self.ticket.with_user(self.agent).action_resolve()
        request = self.ticket.sudo().rating_ids
        self.assertEqual(len(request), 1)
        self.assertFalse(request.consumed)
        self.assertEqual(request.partner_id, self.customer_a.partner_id)
        self.assertEqual(request.rated_partner_id, self.agent.partner_id)
        self.assertEqual(request.parent_res_model, "im_livechat.channel")
        self.assertEqual(request.parent_res_id, self.team.id)

    def test_not_before_resolve(self):
        with self.assertRaisesRegex(UserError, "once it is resolved"):
            self._as_customer()._portal_rate(5)

    def test_rate_once_only_by_the_customer(self):
        self.ticket.action_resolve()
        with self.assertRaises(AccessError):
            self._as_customer(self.customer_a2)._portal_rate(5)
        with self.assertRaisesRegex(UserError, "from 1 to 5"):
            self._as_customer()._portal_rate(9)
        with self.assertRaisesRegex(UserError, "from 1 to 5"):
            self._as_customer()._portal_rate("abc")
        rating = self._as_customer()._portal_rate(4, "Quick and friendly")
        self.assertEqual(rating.rating, 4)
        self.assertEqual(rating.feedback, "Quick and friendly")
        self.assertEqual(self.ticket._get_customer_rating(), rating)
        self.assertEqual(self.ticket.rating_last_value, 4)
        self.assertIn(rating, self.ticket.message_ids.rating_ids, "posted on the ticket")
        with self.assertRaisesRegex(UserError, "already rated"):
            self._as_customer()._portal_rate(1)
        self.assertEqual(rating.rating, 4)
        self.assertFalse(self.ticket.activity_ids, "a good rating asks nothing of the manager")

    def test_low_rating_creates_an_activity_for_the_manager(self):
        self.ticket.action_resolve()
        self._as_customer()._portal_rate(1, "Nobody helped")
        activity = self.ticket.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.manager)
        self.assertIn("1/5", activity.summary)

    def test_customer_reopen_window(self):
        self.team.ticket_reopen_days = 3
        self.ticket.action_resolve()
        self.assertTrue(self.ticket.can_customer_reopen)
        self._as_customer()._portal_reopen()
        self.assertEqual(self.ticket.state, "new")
        self.ticket.action_resolve()
        self.ticket.resolved_date = fields.Datetime.now() - timedelta(days=4)
        self.assertFalse(self.ticket.can_customer_reopen)
        with self.assertRaisesRegex(UserError, "can no longer be reopened"):
            self._as_customer()._portal_reopen()
        # agents always can
        self.ticket.with_user(self.agent).action_reopen()
        self.assertEqual(self.ticket.state, "new")

    def test_reopen_disabled(self):
        self.team.ticket_reopen_days = 0
        self.ticket.action_resolve()
        with self.assertRaises(UserError):
            self._as_customer()._portal_reopen()
