from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestAgentConversationTour(HttpCase):
    """The conversation widget of the ticket form, driven in a browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env,
            login="tour_agent",
            password="tour_agent",
            name="Theo Agent",
            groups="base.group_user,im_livechat.im_livechat_group_user",
        )
        cls.reader = new_test_user(
            cls.env,
            login="tour_reader",
            password="tour_reader",
            name="Rita Reader",
            groups="base.group_user,im_livechat.im_livechat_group_user",
        )
        cls.team = cls.env.ref("im_livechat_ticket.im_livechat_channel_customer_support")
        cls.team.write(
            {
                "user_ids": [(4, cls.agent.id), (4, cls.reader.id)],
                "ticket_assignment": "default",
                "ticket_default_user_id": cls.agent.id,
            }
        )
        cls.customer = new_test_user(
            cls.env,
            login="tour_customer",
            name="Carla Customer",
            groups="base.group_portal",
        )
        cls.ticket = cls.env["im_livechat.ticket"].create(
            {
                "name": "Battery",
                "partner_id": cls.customer.partner_id.id,
                "livechat_channel_id": cls.team.id,
                "first_message": "My e-bike battery does not charge",
            }
        )

    def _ticket_url(self):
        return f"/odoo/action-im_livechat_ticket.action_ticket_queue/{self.ticket.id}"

    def test_agent_replies_from_ticket_form(self):
        self.assertEqual(self.ticket.user_id, self.agent)
        self.assertEqual(self.ticket.state, "new")
        self.start_tour(
            self._ticket_url(), "im_livechat_ticket_agent_conversation_tour", login="tour_agent"
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
            login="tour_reader",
        )
        self.env.invalidate_all()
        self.assertEqual(self.ticket.user_id, self.reader)
        self.assertIn(self.reader.partner_id, channel.channel_member_ids.partner_id)
