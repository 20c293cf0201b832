from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import TicketCommon

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@tagged("post_install", "-at_install")
class TestTicketAccess(TicketCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket_a = cls._new_ticket(
            cls.customer_a, "A's bike", "A's secret", attachments=[("a.png", PNG)]
        )
        cls.ticket_b = cls._new_ticket(
            cls.customer_b, "B's bike", "B's secret", attachments=[("b.png", PNG)]
        )
        cls.attachment_b = cls.ticket_b.channel_id.message_ids.attachment_ids

    def test_customer_sees_only_own_tickets(self):
        Ticket = self.env["im_livechat.ticket"].with_user(self.customer_a)
        self.assertEqual(Ticket.search([]), self.ticket_a)
        self.assertEqual(self.ticket_a.with_user(self.customer_a).name, "A's bike")
        with self.assertRaises(AccessError):
            self.ticket_b.with_user(self.customer_a).read(["name"])

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.models")
    def test_customer_cannot_write_create_or_unlink(self):
        with self.assertRaises(AccessError):
            self.ticket_a.with_user(self.customer_a).write({"priority": "3"})
        with self.assertRaises(AccessError):
            self.ticket_a.with_user(self.customer_a).write({"user_id": self.agent_2.id})
        with self.assertRaises(AccessError):
            self.ticket_b.with_user(self.customer_a).write({"name": "mine now"})
        with self.assertRaises(AccessError):
            self.env["im_livechat.ticket"].with_user(self.customer_a).create(
                {"name": "x", "partner_id": self.customer_b.partner_id.id}
            )
        with self.assertRaises(AccessError):
            self.ticket_a.with_user(self.customer_a).unlink()

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.models")
    def test_customer_cannot_reach_other_conversation(self):
        channel_b = self.ticket_b.channel_id
        with self.assertRaises(AccessError):
            channel_b.with_user(self.customer_a).read(["name"])
        with self.assertRaises(AccessError):
            channel_b.with_user(self.customer_a).message_post(
                body="let me in", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        messages_b = channel_b.message_ids
        with self.assertRaises(AccessError):
            messages_b.with_user(self.customer_a).read(["body"])
        self.assertFalse(
            self.env["mail.message"]
            .with_user(self.customer_a)
            .search([("id", "in", messages_b.ids)])
        )
        with self.assertRaises(AccessError):
            self.attachment_b.with_user(self.customer_a).read(["datas"])
        with self.assertRaises(AccessError):
            self.env["ir.attachment"].with_user(self.customer_a).search(
                [("id", "=", self.attachment_b.id)]
            )
        # the own conversation and its messages stay readable (portal users
        # never read ir.attachment through the ORM: files go through routes)
        own = self.ticket_a.channel_id.with_user(self.customer_a)
        self.assertIn("A's secret", own.message_ids.mapped("body")[-1])
        self.assertEqual(own.message_ids.attachment_ids.sudo().mapped("name"), ["a.png"])

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.models")
    def test_customer_cannot_post_into_other_ticket_through_model(self):
        with self.assertRaises(AccessError):
            self.ticket_b.with_user(self.customer_a)._post_customer_message("hello")
        self.assertNotIn("hello", "".join(self.ticket_b.channel_id.message_ids.mapped("body")))

    def test_company_sharing_is_off_by_default(self):
        self.assertFalse(self.company_a.ticket_company_sharing)
        Ticket = self.env["im_livechat.ticket"].with_user(self.customer_a2)
        self.assertFalse(Ticket.search([]))
        with self.assertRaises(AccessError):
            self.ticket_a.with_user(self.customer_a2).read(["name"])

    def test_company_sharing_shows_coworkers_tickets_only(self):
        self.company_a.ticket_company_sharing = True
        Ticket = self.env["im_livechat.ticket"].with_user(self.customer_a2)
        self.assertEqual(Ticket.search([]), self.ticket_a)
        with self.assertRaises(AccessError):
            self.ticket_b.with_user(self.customer_a2).read(["name"])
        # sharing in company B does not open B's tickets to company A
        self.company_b.ticket_company_sharing = True
        self.assertEqual(
            self.env["im_livechat.ticket"].with_user(self.customer_a).search([]), self.ticket_a
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.models")
    def test_internal_user_without_livechat_group_sees_nothing(self):
        with self.assertRaises(AccessError):
            self.env["im_livechat.ticket"].with_user(self.employee).search([])
        with self.assertRaises(AccessError):
            self.ticket_a.with_user(self.employee).read(["name"])
        with self.assertRaises(AccessError):
            self.ticket_a.channel_id.with_user(self.employee).read(["name"])

    def test_agents_read_every_ticket_and_its_conversation(self):
        # agent_2 is not assigned to (nor a member of) ticket_a's conversation
        self.assertNotIn(
            self.agent_2.partner_id, self.ticket_a.channel_id.channel_member_ids.partner_id
        )
        tickets = self.env["im_livechat.ticket"].with_user(self.agent_2).search([])
        self.assertIn(self.ticket_a, tickets)
        self.assertIn(self.ticket_b, tickets)
        channel = self.ticket_a.channel_id.with_user(self.agent_2)
        self.assertIn("A's secret", "".join(channel.message_ids.mapped("body")))
        # but cannot delete tickets; managers can
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            self.ticket_b.with_user(self.agent_2).unlink()
        self.ticket_b.with_user(self.manager).unlink()
        self.assertFalse(self.ticket_b.exists())

    def test_customer_reopens_only_through_checked_route(self):
        self.ticket_a.action_resolve()
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            self.ticket_a.with_user(self.customer_a).action_reopen()
        with self.assertRaises(UserError):
            self.ticket_a.with_user(self.customer_a)._post_customer_message("still broken")

    def test_customer_reads_unread_counts_without_reading_agents(self):
        # portal users cannot read the agent's user or partner: the counters
        # must not need that (a cold cache, as in a fresh request)
        self.env.invalidate_all()
        ticket = self.env["im_livechat.ticket"].with_user(self.customer_a).search([])
        self.assertEqual(ticket, self.ticket_a)
        self.assertEqual(ticket.customer_unread_count, 0)
        self.assertEqual(ticket.agent_unread_count, 1)
