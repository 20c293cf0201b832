import re

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..models.im_livechat_ticket_data import PUBLIC_FIELDS
from .common import TicketCommon


@tagged("post_install", "-at_install")
class TestTicketModel(TicketCommon):
    def test_create_makes_reference_conversation_and_first_message(self):
        ticket = self._new_ticket(self.customer_a, "E-bike battery", "It does not charge\nat all.")
        self.assertRegex(ticket.reference, r"^TCK-\d{5}$")
        self.assertEqual(ticket.display_name, f"{ticket.reference} E-bike battery")
        self.assertEqual(ticket.partner_id, self.customer_a.partner_id)
        self.assertEqual(ticket.commercial_partner_id, self.company_a)
        self.assertEqual(ticket.state, "new")
        self.assertEqual(ticket.priority, "1")
        self.assertEqual(ticket.user_id, self.agent, "default assignment: the team's default agent")
        channel = ticket.channel_id
        self.assertTrue(channel)
        self.assertEqual(channel.channel_type, "livechat")
        self.assertEqual(channel.livechat_channel_id, self.team)
        self.assertEqual(channel.livechat_operator_id, self.agent.partner_id)
        self.assertEqual(channel.livechat_ticket_ids, ticket)
        self.assertEqual(
            set(channel.channel_member_ids.partner_id.ids),
            {self.customer_a.partner_id.id, self.agent.partner_id.id},
        )
        comments = channel.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(len(comments), 1)
        self.assertEqual(comments.author_id, self.customer_a.partner_id)
        self.assertIn("It does not charge<br>at all.", comments.body)
        # the conversation's own last activity, which Discuss keeps per message
        self.assertEqual(ticket.last_activity_date, channel.last_interest_dt)
        self.assertGreaterEqual(ticket.last_activity_date, ticket.create_date)

    def test_references_are_unique_and_increasing(self):
        first = self._new_ticket(self.customer_a)
        second = self._new_ticket(self.customer_b)
        number = lambda t: int(re.search(r"\d+$", t.reference).group())  # noqa: E731
        self.assertGreater(number(second), number(first))

    def test_first_agent_reply_opens_the_ticket(self):
        ticket = self._new_ticket(self.customer_a)
        self.assertFalse(ticket.first_response_date)
        # a customer follow-up does not count as a response
        ticket.channel_id.with_user(self.customer_a).message_post(
            body="Any news?", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(ticket.state, "new")
        self.assertFalse(ticket.first_response_date)
        reply = ticket.channel_id.with_user(self.agent).message_post(
            body="Let me check.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(ticket.state, "open")
        self.assertEqual(ticket.first_response_date, reply.create_date)
        # a second reply keeps the first response date
        ticket.channel_id.with_user(self.agent).message_post(
            body="Found it.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(ticket.first_response_date, reply.create_date)

    def test_unread_counts_follow_member_state(self):
        ticket = self._new_ticket(self.customer_a)
        ticket.invalidate_recordset(["agent_unread_count", "customer_unread_count"])
        self.assertEqual(ticket.agent_unread_count, 1, "the agent has not seen the first message")
        self.assertEqual(ticket.customer_unread_count, 0)
        ticket.channel_id.with_user(self.agent).message_post(
            body="Hello!", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        ticket.invalidate_recordset(["agent_unread_count", "customer_unread_count"])
        self.assertEqual(ticket.agent_unread_count, 0, "posting marks the agent's view as seen")
        self.assertEqual(ticket.customer_unread_count, 1)

    def test_resolve_and_reopen(self):
        ticket = self._new_ticket(self.customer_a)
        ticket.with_user(self.agent).action_resolve()
        self.assertEqual(ticket.state, "resolved")
        self.assertTrue(ticket.resolved_date)
        self.assertFalse(ticket.channel_id.livechat_active)
        self.assertIn("resolved this ticket", ticket.channel_id.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "already resolved"):
            ticket.with_user(self.agent).action_resolve()
        with self.assertRaisesRegex(UserError, "was resolved"):
            ticket.channel_id.with_user(self.customer_a).message_post(
                body="Hello?", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
        ticket.with_user(self.agent).action_reopen()
        self.assertEqual(ticket.state, "new", "never answered: back to new")
        self.assertFalse(ticket.resolved_date)
        self.assertTrue(ticket.channel_id.livechat_active)
        with self.assertRaisesRegex(UserError, "only a resolved ticket can be reopened"):
            ticket.with_user(self.agent).action_reopen()

    def test_reopen_after_answer_goes_back_to_open(self):
        ticket = self._new_ticket(self.customer_a)
        ticket.channel_id.with_user(self.agent).message_post(
            body="Fixed.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        ticket.action_resolve()
        ticket.action_reopen()
        self.assertEqual(ticket.state, "open")

    def test_assign_moves_the_conversation(self):
        ticket = self._new_ticket(self.customer_a)
        ticket.with_user(self.agent_2).action_assign()
        self.assertEqual(ticket.user_id, self.agent_2)
        self.assertEqual(ticket.channel_id.livechat_operator_id, self.agent_2.partner_id)
        self.assertIn(self.agent_2.partner_id, ticket.channel_id.channel_member_ids.partner_id)
        ticket.action_assign(self.agent)
        self.assertEqual(ticket.user_id, self.agent)
        with self.assertRaises(ValidationError):
            ticket.action_assign(self.employee)
        ticket.action_resolve()
        with self.assertRaisesRegex(UserError, "reopen it before assigning"):
            ticket.action_assign(self.agent_2)

    def test_no_default_agent_leaves_ticket_unassigned(self):
        self.team.ticket_default_user_id = False
        ticket = self._new_ticket(self.customer_a)
        self.assertFalse(ticket.user_id)
        self.assertEqual(ticket.channel_id.livechat_operator_id, self.env.ref("base.partner_root"))
        self.assertEqual(
            ticket.channel_id.channel_member_ids.partner_id, self.customer_a.partner_id
        )
        ticket.with_user(self.agent_2).action_assign()
        self.assertEqual(ticket.channel_id.livechat_operator_id, self.agent_2.partner_id)

    def test_queue_order_priority_then_oldest(self):
        low = self._new_ticket(self.customer_a, "low", priority="0")
        urgent_old = self._new_ticket(self.customer_a, "urgent old", priority="3")
        normal = self._new_ticket(self.customer_a, "normal")
        urgent_new = self._new_ticket(self.customer_a, "urgent new", priority="3")
        tickets = self.env["im_livechat.ticket"].search(
            [("id", "in", (low | urgent_old | normal | urgent_new).ids)]
        )
        self.assertEqual(tickets, urgent_old | urgent_new | normal | low)

    def test_portal_create_refuses_bad_input(self):
        Ticket = self.env["im_livechat.ticket"].with_user(self.customer_a)
        count = Ticket.sudo().search_count([])
        bad_inputs = [
            ("", "message", None, (), "subject"),
            ("   ", "message", None, (), "subject"),
            ("x" * 201, "message", None, (), "too long"),
            ("subject", "  ", None, (), "describe"),
            ("subject", "y" * 10001, None, (), "too long"),
            ("subject", "message", "9", (), "Unknown priority"),
            (
                "subject",
                "message",
                None,
                [("evil.png", b"<html><script>alert(1)</script></html>")],
                "not allowed",
            ),
            (
                "subject",
                "message",
                None,
                [("tool.png", b"MZ\x90\x00\x03" + b"\x00" * 100)],
                "not allowed",
            ),
            ("subject", "message", None, [("empty.pdf", b"")], "empty"),
        ]
        for name, message, priority, attachments, error in bad_inputs:
            with (
                self.subTest(name=name[:10], error=error),
                self.assertRaisesRegex(UserError, error),
            ):
                Ticket._portal_create_ticket(name, message, priority, attachments)
        self.assertEqual(Ticket.sudo().search_count([]), count, "bad input creates nothing")

    def test_upload_size_limit_is_a_system_parameter(self):
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 4096
        self.env["ir.config_parameter"].set_param("im_livechat_ticket.max_upload_mb", "0.001")
        with self.assertRaisesRegex(UserError, "too large"):
            self._new_ticket(self.customer_a, attachments=[("photo.png", png)])
        self.env["ir.config_parameter"].set_param("im_livechat_ticket.max_upload_mb", "1")
        ticket = self._new_ticket(self.customer_a, attachments=[("photo.png", png)])
        attachment = ticket.channel_id.message_ids.attachment_ids
        self.assertEqual(attachment.name, "photo.png")
        self.assertEqual(attachment.mimetype, "image/png", "type read from the content")
        self.assertEqual(
            (attachment.res_model, attachment.res_id), ("discuss.channel", ticket.channel_id.id)
        )

    def test_public_values(self):
        ticket = self._new_ticket(self.customer_a)
        values = ticket._public_values()
        # the fields of design.md's contract, in one list for events and tests
        self.assertEqual(list(values), PUBLIC_FIELDS)
        self.assertEqual(values["id"], ticket.id)
        self.assertEqual(values["partner_id"], self.customer_a.partner_id.id)
        self.assertEqual(values["channel_id"], ticket.channel_id.id)
        self.assertIs(values["resolved_date"], False)
        self.assertEqual(values["user_id"], self.agent.id)
        self.assertIsInstance(values["create_date"], str)

    def test_queue_dashboard_counts(self):
        Ticket = self.env["im_livechat.ticket"].with_user(self.agent)
        before = Ticket.get_queue_dashboard()
        self._new_ticket(self.customer_a, priority="3")
        self.team.ticket_default_user_id = False
        waiting = self._new_ticket(self.customer_a)
        done = self._new_ticket(self.customer_a)
        done.action_assign(self.agent)
        done.action_resolve()
        after = Ticket.get_queue_dashboard()
        self.assertEqual(after["urgent"] - before["urgent"], 1)
        self.assertEqual(after["my_open"] - before["my_open"], 1)
        self.assertEqual(after["resolved_today"] - before["resolved_today"], 1)
        self.assertEqual(after["waiting"] - before["waiting"], 1)
        self.assertIn(
            waiting, Ticket.search([("user_id", "=", False), ("state", "!=", "resolved")])
        )

    def test_report_measures(self):
        ticket = self._new_ticket(self.customer_a)
        reply = ticket.channel_id.with_user(self.agent).message_post(
            body="Hello", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        ticket.action_resolve()
        ticket.flush_recordset()
        self.assertGreaterEqual(ticket.first_response_hours, 0)
        self.assertEqual(ticket.first_response_date, reply.create_date)
        self.assertTrue(ticket.sla_success, "no target: nothing was missed")
        groups = self.env["im_livechat.ticket"]._read_group(
            [("id", "=", ticket.id)], ["user_id"], ["resolution_hours:avg", "__count"]
        )
        self.assertEqual(groups[0][0], self.agent)
        self.assertEqual(groups[0][2], 1)

    def test_take_refuses_a_ticket_someone_took(self):
        self.team.ticket_default_user_id = False
        ticket = self._new_ticket(self.customer_a)
        ticket.with_user(self.agent_2).action_take()
        self.assertEqual(ticket.user_id, self.agent_2)
        ticket.with_user(self.agent_2).action_take()  # taking one's own again is harmless
        with self.assertRaisesRegex(UserError, "Bob Agent already took"):
            ticket.with_user(self.agent).action_take()
        self.assertEqual(ticket.user_id, self.agent_2)

    def test_ticket_filed_on_behalf_is_not_unread_for_its_author(self):
        ticket = (
            self.env["im_livechat.ticket"]
            .with_user(self.agent)
            .create(
                {
                    "name": "Phoned in",
                    "partner_id": self.customer_a.partner_id.id,
                    "first_message": "Per phone: chain",
                }
            )
        )
        comment = ticket.channel_id.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(comment.author_id, self.customer_a.partner_id)
        ticket.invalidate_recordset(["customer_unread_count", "agent_unread_count"])
        self.assertEqual(ticket.customer_unread_count, 0)

    def test_parties_see_each_others_presence(self):
        ticket = self._new_ticket(self.customer_a)
        members = ticket.channel_id.channel_member_ids
        for member in members:
            fields = member._get_store_partner_fields(["name"])
            self.assertIn("im_status", fields, member.partner_id.name)
            self.assertIn("name", fields)
        # one's own presence is not sent to oneself (each post stores the poster's member)
        own = members.filtered(lambda member: member.partner_id == self.customer_a.partner_id)
        agents = members - own
        self.assertNotIn("im_status", own.with_user(self.customer_a)._get_store_partner_fields([]))
        self.assertIn("name", own.with_user(self.customer_a)._get_store_partner_fields([]))
        self.assertIn(
            "im_status", agents[:1].with_user(self.customer_a)._get_store_partner_fields([])
        )
        # a plain live chat keeps hiding its visitor's details
        chat = self.env["discuss.channel"].create(
            {
                "name": "visitor chat",
                "channel_type": "livechat",
                "livechat_operator_id": self.agent.partner_id.id,
                "channel_member_ids": [(0, 0, {"partner_id": self.agent.partner_id.id})],
            }
        )
        for member in chat.channel_member_ids:
            self.assertNotIn("im_status", member._get_store_partner_fields(["name"]))
