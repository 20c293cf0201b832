from odoo.tests import HttpCase, tagged

from .common import TicketFixtures


@tagged("post_install", "-at_install")
class TestAgentFieldTour(TicketFixtures, HttpCase):
    """The Agent field of the ticket form is no silent overwrite: a form
    loaded before someone else reassigned the ticket cannot save another
    agent over it (the same refusal as "Assign to Me" and Take)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket = cls._new_ticket(cls.customer_a, "Wobbly saddle", "It turns when I ride.")

    def test_stale_agent_field_is_refused(self):
        self.assertEqual(self.ticket.user_id, self.agent)
        # the tour (as Bob) loads the form showing Alice, takes the ticket in
        # another request (as from a second tab), then picks Martha in the stale form
        self.start_tour(
            f"/odoo/action-im_livechat_ticket.action_ticket_queue/{self.ticket.id}",
            "im_livechat_ticket_agent_field_race_tour",
            login=self.agent_2.login,
        )
        self.env.invalidate_all()
        self.assertEqual(self.ticket.user_id, self.agent_2, "the reassignment stands")
