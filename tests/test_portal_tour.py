from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestTicketPortalTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env,
            login="ticket_tour_agent",
            groups="base.group_user,im_livechat.im_livechat_group_user",
            name="Tess Tour-Agent",
        )
        team = cls.env.ref("im_livechat_ticket.im_livechat_channel_customer_support")
        team.write(
            {"user_ids": [Command.link(cls.agent.id)], "ticket_default_user_id": cls.agent.id}
        )
        company = cls.env["res.partner"].create({"name": "Tour Bikes", "is_company": True})
        cls.customer = new_test_user(
            cls.env,
            login="ticket_tour_customer",
            groups="base.group_portal",
            name="Toby Tour-Customer",
            parent_id=company.id,
        )

    def test_portal_ticket_tour(self):
        Ticket = self.env["im_livechat.ticket"]
        domain = [("partner_id", "=", self.customer.partner_id.id)]
        self.assertEqual(Ticket.search_count(domain), 0)

        self.start_tour("/my", "im_livechat_ticket_portal_tour", login=self.customer.login)

        ticket = Ticket.search(domain)
        self.assertEqual(len(ticket), 1, "the tour created exactly one ticket")
        self.assertEqual(ticket.name, "My bike is broken")
        self.assertEqual(ticket.priority, "2")
        self.assertEqual(ticket.user_id, self.agent)
        first_message = ticket.channel_id.message_ids.filtered(
            lambda m: m.message_type == "comment"
        )
        self.assertEqual(len(first_message), 1)
        self.assertEqual(first_message.author_id, self.customer.partner_id)
        self.assertIn("The chain keeps falling off.", first_message.body)
