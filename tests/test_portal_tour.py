from odoo.tests import HttpCase, tagged

from .common import TicketFixtures


@tagged("post_install", "-at_install")
class TestTicketPortalTour(TicketFixtures, HttpCase):
    """A customer opens a ticket from the portal home, in a browser."""

    def test_portal_ticket_tour(self):
        Ticket = self.env["im_livechat.ticket"]
        domain = [("partner_id", "=", self.customer_a.partner_id.id)]
        self.assertEqual(Ticket.search_count(domain), 0)

        self.start_tour("/my", "im_livechat_ticket_portal_tour", login=self.customer_a.login)

        ticket = Ticket.search(domain)
        self.assertEqual(len(ticket), 1, "the tour created exactly one ticket")
        self.assertEqual(ticket.name, "My bike is broken")
        self.assertEqual(ticket.priority, "2")
        self.assertEqual(ticket.user_id, self.agent)
        first_message = ticket.channel_id.message_ids.filtered(
            lambda m: m.message_type == "comment"
        )
        self.assertEqual(len(first_message), 1)
        self.assertEqual(first_message.author_id, self.customer_a.partner_id)
        self.assertIn("The chain keeps falling off.", first_message.body)
