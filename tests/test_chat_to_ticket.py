from odoo.tests import tagged

from .common import TicketCommon


@tagged("post_install", "-at_install")
class TestChatToTicket(TicketCommon):
    """A live chat with a logged-in customer becomes a ticket, history kept."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.chat = cls.env["discuss.channel"].create(
            {
                "name": "Anna / Alice",
                "channel_type": "livechat",
                "livechat_channel_id": cls.team.id,
                "livechat_operator_id": cls.agent.partner_id.id,
                "livechat_active": True,
                "channel_member_ids": [
                    (0, 0, {"partner_id": cls.agent.partner_id.id}),
                    (0, 0, {"partner_id": cls.customer_a.partner_id.id}),
                ],
            }
        )
        cls.chat.with_user(cls.customer_a).message_post(
            body="My saddle squeaks", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        cls.chat.with_user(cls.agent).message_post(
            body="Let me open a ticket for that",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    def test_ticket_command_converts_the_chat(self):
        history = self.chat.message_ids
        ticket_id = self.chat.with_user(self.agent).execute_command_ticket(
            body="/ticket Squeaky saddle"
        )
        ticket = self.env["im_livechat.ticket"].browse(ticket_id)
        self.assertEqual(ticket.name, "Squeaky saddle")
        self.assertEqual(ticket.channel_id, self.chat, "the conversation is kept, not copied")
        self.assertEqual(ticket.partner_id, self.customer_a.partner_id)
        self.assertEqual(ticket.user_id, self.agent)
        self.assertEqual(ticket.livechat_channel_id, self.team)
        self.assertLessEqual(history, self.chat.message_ids, "history kept")
        self.assertIn(
            f"/my/tickets/{ticket.id}",
            self.chat.message_ids[0].body,
            "customer told where to follow",
        )
        self.assertTrue(self.chat.allow_public_upload)
        # the customer now finds it on the portal
        self.assertEqual(
            self.env["im_livechat.ticket"]
            .with_user(self.customer_a)
            .search([("channel_id", "=", self.chat.id)]),
            ticket,
        )

    def test_default_subject_and_no_second_ticket(self):
        ticket_id = self.chat.with_user(self.agent).execute_command_ticket(body="/ticket")
        ticket = self.env["im_livechat.ticket"].browse(ticket_id)
        self.assertEqual(ticket.name, "My saddle squeaks")
        self.assertFalse(
            self.chat.with_user(self.agent).execute_command_ticket(body="/ticket again")
        )
        self.assertEqual(
            self.env["im_livechat.ticket"].search_count([("channel_id", "=", self.chat.id)]), 1
        )

    def test_guest_chat_cannot_become_a_ticket(self):
        guest = self.env["mail.guest"].create({"name": "Visitor 42"})
        chat = self.env["discuss.channel"].create(
            {
                "name": "Visitor 42",
                "channel_type": "livechat",
                "livechat_channel_id": self.team.id,
                "livechat_operator_id": self.agent.partner_id.id,
                "channel_member_ids": [(0, 0, {"partner_id": self.agent.partner_id.id})],
            }
        )
        chat.add_members(guest_ids=guest.ids)
        self.assertFalse(chat.with_user(self.agent).execute_command_ticket(body="/ticket"))
        self.assertFalse(chat.livechat_ticket_ids)

    def test_only_operators_convert(self):
        self.assertFalse(
            self.chat.with_user(self.customer_a).execute_command_ticket(body="/ticket")
        )
        self.assertFalse(self.chat.livechat_ticket_ids)
