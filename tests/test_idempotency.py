from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import TicketCommon


@tagged("post_install", "-at_install")
class TestTicketIdempotency(TicketCommon):
    """Retrying a post or a ticket form stores one message, one ticket."""

    def test_same_client_key_posts_once(self):
        ticket = self._new_ticket(self.customer_a)
        channel = ticket.channel_id.with_user(self.customer_a)
        first = channel.message_post(
            body="Only once",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            ticket_client_key="k-1",
        )
        again = channel.message_post(
            body="Only once",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            ticket_client_key="k-1",
        )
        self.assertEqual(first, again)
        self.assertEqual(first.ticket_client_key, "k-1")
        bodies = ticket.channel_id.message_ids.mapped("body")
        self.assertEqual(sum("Only once" in body for body in bodies), 1)
        other = channel.message_post(
            body="Only once",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            ticket_client_key="k-2",
        )
        self.assertNotEqual(other, first, "another key is another message")

    def test_client_key_is_an_allowed_post_param(self):
        self.assertIn(
            "ticket_client_key", self.env["discuss.channel"]._get_allowed_message_post_params()
        )

    def test_same_form_key_creates_one_ticket(self):
        Ticket = self.env["im_livechat.ticket"].with_user(self.customer_a)
        first = Ticket._portal_create_ticket("Brakes", "They squeal", request_key="form-1")
        again = Ticket._portal_create_ticket("Brakes", "They squeal", request_key="form-1")
        self.assertEqual(first, again)
        self.assertEqual(Ticket.search_count([("name", "=", "Brakes")]), 1)
        self.assertEqual(
            len(first.channel_id.message_ids.filtered(lambda m: m.message_type == "comment")), 1
        )
        # another customer may use the same key (keys are per customer)
        other = (
            self.env["im_livechat.ticket"]
            .with_user(self.customer_b)
            ._portal_create_ticket("Brakes", "Mine too", request_key="form-1")
        )
        self.assertNotEqual(other, first)


@tagged("post_install", "-at_install")
class TestTicketRateLimits(TicketCommon):
    def test_message_rate_limit(self):
        self.env["ir.config_parameter"].set_param("im_livechat_ticket.rate_limit_messages", "3/60")
        ticket = self._new_ticket(self.customer_a)  # its first message counts
        channel = ticket.channel_id.with_user(self.customer_a)
        for i in range(2):
            channel.message_post(
                body=f"msg {i}", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        with self.assertRaisesRegex(UserError, "too fast"):
            channel.message_post(
                body="one too many", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        # agents are never limited
        ticket.channel_id.with_user(self.agent).message_post(
            body="agent reply", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        # "0" disables the limit
        self.env["ir.config_parameter"].set_param("im_livechat_ticket.rate_limit_messages", "0")
        channel.message_post(
            body="now fine", message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    def test_ticket_rate_limit(self):
        self.env["ir.config_parameter"].set_param("im_livechat_ticket.rate_limit_tickets", "2/3600")
        self._new_ticket(self.customer_a)
        self._new_ticket(self.customer_a)
        count = self.env["im_livechat.ticket"].search_count([])
        with self.assertRaisesRegex(UserError, "too fast"):
            self._new_ticket(self.customer_a)
        self.assertEqual(self.env["im_livechat.ticket"].search_count([]), count)
        self._new_ticket(self.customer_b)  # per customer

    def test_bad_parameter_falls_back_to_default(self):
        self.env["ir.config_parameter"].set_param("im_livechat_ticket.rate_limit_tickets", "lots")
        self.assertEqual(self.env["im_livechat.ticket"]._get_rate_limit("tickets"), (10, 3600))
