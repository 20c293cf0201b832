from odoo.tests import HttpCase, tagged

from .common import TicketFixtures


@tagged("post_install", "-at_install")
class TestAgentConversationTour(TicketFixtures, HttpCase):
    """The conversation widget of the ticket form, driven in a browser: the
    assigned agent answers, another agent of the team reads, then takes it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reader = cls.agent_2  # of the team, not in the conversation
        # the tours check this customer's name and first message
        cls.customer = cls._new_customer("tour_customer", "Carla Customer")
        cls.ticket = cls._new_ticket(cls.customer, "Battery", "My e-bike battery does not charge")

    def _ticket_url(self):
        return f"/odoo/action-im_livechat_ticket.action_ticket_queue/{self.ticket.id}"

    def test_agent_replies_from_ticket_form(self):
        self.assertEqual(self.ticket.user_id, self.agent)
        self.assertEqual(self.ticket.state, "new")
        self.start_tour(
            self._ticket_url(), "im_livechat_ticket_agent_conversation_tour", login=self.agent.login
        )
        self.env.invalidate_all()
        replies = self.ticket.channel_id.message_ids.filtered(
            lambda m: m.author_id == self.agent.partner_id and m.message_type == "comment"
        )
        self.assertEqual(len(replies), 1)
        self.assertIn("please send me a photo", replies.body)
        self.assertTrue(
            replies.ticket_client_key, "the web client keys its posts (retries store once)"
        )
        self.assertEqual(self.ticket.state, "open")
        self.assertTrue(self.ticket.first_response_date)

    def test_non_member_agent_reads_then_takes_ticket(self):
        channel = self.ticket.channel_id
        self.assertNotIn(self.reader.partner_id, channel.channel_member_ids.partner_id)
        self.start_tour(
            self._ticket_url(),
            "im_livechat_ticket_agent_conversation_reader_tour",
            login=self.reader.login,
        )
        self.env.invalidate_all()
        self.assertEqual(self.ticket.user_id, self.reader)
        self.assertIn(self.reader.partner_id, channel.channel_member_ids.partner_id)
