import ast
import json
from datetime import timedelta
from unittest.mock import patch

import lxml.html

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures, run_tour_beside, sockets_following
from .test_portal import by_class, make_png


class MergeFixtures(TicketFixtures):
    """Ticket A (kept) and its duplicate B of one customer, each with an
    answer of the agent, B written after A."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket_a = cls._new_ticket(cls.customer_a, "Battery", "The battery does not charge.")
        cls.ticket_b = cls._new_ticket(cls.customer_a, "Charger", "The charger light is red.")
        cls.ticket_a._demo_post_reply(cls.agent.id, "Which charger do you use?")
        cls.ticket_b._demo_post_reply(cls.agent.id, "Is the light red all the time?")

    @classmethod
    def _conversation(cls, ticket):
        return cls.env["mail.message"].search(
            [("model", "=", "discuss.channel"), ("res_id", "=", ticket.channel_id.id)],
            order="id",
        )


@tagged("post_install", "-at_install")
class TestTicketMerge(MergeFixtures, TransactionCase):
    def _merge(self, source=None, target=None, user=None):
        source = (source or self.ticket_b).with_user(user or self.agent)
        return source.action_merge_into((target or self.ticket_a).id)

    def test_merge_moves_history_in_order_with_notice(self):
        before_a = self._conversation(self.ticket_a)
        before_b = self._conversation(self.ticket_b)
        authors_b = {message.id: message.author_id for message in before_b}
        dates_b = {message.id: message.date for message in before_b}
        self._merge()
        after_a = self._conversation(self.ticket_a)
        self.assertLessEqual(before_a | before_b, after_a, "every message is kept, once")
        for message in before_b:
            self.assertEqual(message.res_id, self.ticket_a.channel_id.id)
            self.assertEqual(message.author_id, authors_b[message.id])
            self.assertEqual(message.date, dates_b[message.id])
        dates = [message.date for message in after_a]
        self.assertEqual(dates, sorted(dates), "the history reads in time order")
        notice = after_a[-1]
        self.assertIn(self.ticket_b.reference, notice.body)
        self.assertIn("merged into this ticket", notice.body)
        self.assertTrue(notice.ticket_customer_notice, "the customer is told (by e-mail if away)")
        # B keeps only its pointer to A
        left = self._conversation(self.ticket_b)
        self.assertEqual(len(left), 1)
        self.assertIn(f"/my/tickets/{self.ticket_a.id}", left.body)
        self.assertFalse(left.ticket_customer_notice, "one notice for the customer, not two")

    def test_merge_resolves_duplicate_as_merged(self):
        self._merge()
        self.assertEqual(self.ticket_b.state, "resolved")
        self.assertEqual(self.ticket_b.merged_into_id, self.ticket_a)
        self.assertTrue(self.ticket_b.resolved_date)
        self.assertEqual(self.ticket_a.merged_ticket_ids, self.ticket_b)
        self.assertEqual(self.ticket_a.state, "open")
        self.assertFalse(self.ticket_b.channel_id.livechat_active)
        self.assertFalse(self.ticket_b.rating_ids, "no rating request for a duplicate")
        self.assertFalse(self.ticket_b.can_customer_reopen)
        self.assertFalse(self.ticket_b.with_user(self.customer_a)._can_portal_rate())
        with self.assertRaises(UserError):
            self.ticket_b.with_user(self.agent).action_reopen()
        note = self.ticket_a.message_ids.filtered(lambda m: self.ticket_b.reference in m.body)
        self.assertTrue(note.subtype_id.internal, "agents see the merge in the chatter")

    def test_merge_moves_attachments(self):
        ticket = self._new_ticket(
            self.customer_a,
            "Photo",
            "Here is a photo.",
            attachments=[("charger.png", make_png())],
        )
        attachment = self._conversation(ticket).attachment_ids
        self.assertEqual(len(attachment), 1)
        ticket.with_user(self.agent).action_merge_into(self.ticket_a.id)
        self.assertEqual(attachment.res_model, "discuss.channel")
        self.assertEqual(attachment.res_id, self.ticket_a.channel_id.id)
        # the customer still reads it, in the kept conversation
        messages = self.ticket_a._get_portal_messages()
        self.assertIn(attachment, messages.attachment_ids)

    def test_read_messages_stay_read(self):
        for ticket in (self.ticket_a, self.ticket_b):
            member = ticket.channel_id.channel_member_ids.filtered(
                lambda m, ticket=ticket: m.partner_id == ticket.partner_id
            )
            member._mark_as_read(self._conversation(ticket)[-1].id)
        # B's answer came after A's: without care it would be unread in A
        self.assertGreater(
            self._conversation(self.ticket_b)[-1].id, self._conversation(self.ticket_a)[-1].id
        )
        self._merge()
        self.ticket_a.invalidate_recordset()
        self.assertEqual(self.ticket_a.customer_unread_count, 0, "read in B, read in A")

    def test_sla_not_breached_by_merge(self):
        self._set_queue_service_levels()
        source = self._new_ticket(self.customer_a, "Urgent", "Help!", priority="3")
        self.assertEqual(source.sla_status, "at_risk")
        self._breach_first_response(source)
        # an hour later, unanswered, it turns out to be a duplicate
        source.with_user(self.agent).action_merge_into(self.ticket_a.id)
        self.assertFalse(source.sla_response_deadline)
        self.assertFalse(source.sla_resolution_deadline)
        self.assertEqual(source.sla_status, "none")
        self.assertFalse(source.sla_target_missed)
        breached = self.env["im_livechat.ticket"].search([("sla_status", "=", "breached")])
        self.assertNotIn(source, breached)

    def test_sla_keeps_a_first_response_given_before(self):
        self._set_queue_service_levels()
        source = self._new_ticket(self.customer_a, "Urgent", "Help!", priority="3")
        source._demo_post_reply(self.agent.id, "On it.")
        self.assertTrue(source.first_response_date)
        source.with_user(self.agent).action_merge_into(self.ticket_a.id)
        self.assertTrue(source.sla_response_deadline, "a response given is a fact")
        self.assertFalse(source.sla_resolution_deadline, "the merge resolves nothing")
        self.assertEqual(source.sla_status, "met")

    def test_report_leaves_merged_tickets_out(self):
        self._merge()
        action = self.env.ref("im_livechat_ticket.action_ticket_report")
        self.assertEqual(ast.literal_eval(action.domain), [("merged_into_id", "=", False)])

    def test_merge_company_sharing(self):
        coworker_ticket = self._new_ticket(self.customer_a2, "Same charger", "Red light too.")
        with self.assertRaises(AccessError):
            coworker_ticket.with_user(self.agent).action_merge_into(self.ticket_a.id)
        self.company_a.ticket_company_sharing = True
        coworker_ticket.with_user(self.agent).action_merge_into(self.ticket_a.id)
        self.assertEqual(coworker_ticket.merged_into_id, self.ticket_a)

    def test_merge_refusals(self):
        other = self._new_ticket(self.customer_b, "Other", "Another customer.")
        with self.assertRaises(AccessError):
            self._merge(target=other)
        with self.assertRaises(UserError):
            self._merge(target=self.ticket_b)
        resolved = self._new_ticket(self.customer_a, "Done", "Solved already.")
        resolved.with_user(self.agent).action_resolve()
        with self.assertRaises(UserError):
            self._merge(target=resolved)
        with self.assertRaises(UserError):
            self._merge(source=resolved)
        self._merge()
        # no chains: B was merged, nothing goes into it nor out of it again
        third = self._new_ticket(self.customer_a, "Third", "Again the charger.")
        with self.assertRaisesRegex(UserError, self.ticket_a.reference):
            self._merge(source=third, target=self.ticket_b)
        with self.assertRaises(UserError):
            self._merge(target=third)
        self.assertEqual(third.state, "new")

    def test_only_agents_merge(self):
        for user in (self.customer_a, self.employee):
            with self.assertRaises(AccessError):
                self._merge(user=user)
        self.assertFalse(self.ticket_b.merged_into_id)

    def test_away_customer_told_once(self):
        self.ticket_a.livechat_channel_id.ticket_email_delay = 0
        self.customer_a.partner_id.email = "anna@example.com"
        # the customer got B's answer by e-mail already
        Ticket = self.env["im_livechat.ticket"]
        with patch.object(type(Ticket), "_is_customer_away", return_value=True):
            Ticket._cron_send_away_mails()
            self._merge()
            candidates = dict(Ticket._get_away_mail_candidates())
        messages = candidates.get(self.ticket_a)
        self.assertTrue(messages, "the merge notice is e-mailed")
        self.assertEqual(len(messages), 1, "once: not B's messages again")
        self.assertIn("merged into this ticket", messages.body)

    def test_wizard_merges_and_opens_kept_ticket(self):
        wizard = (
            self.env["im_livechat.ticket.merge"]
            .with_user(self.agent)
            .with_context(active_model="im_livechat.ticket", active_id=self.ticket_b.id)
            .create({"target_id": self.ticket_a.id})
        )
        self.assertEqual(wizard.ticket_id, self.ticket_b)
        action = wizard.action_merge()
        self.assertEqual(action["res_id"], self.ticket_a.id)
        self.assertEqual(self.ticket_b.merged_into_id, self.ticket_a)

    def test_merged_ticket_not_reopened_or_rated_by_customer(self):
        self._merge()
        customer_b = self.ticket_b.with_user(self.customer_a)
        with self.assertRaises(UserError):
            customer_b._portal_reopen()
        with self.assertRaises(UserError):
            customer_b._portal_rate(5)
        self.ticket_b.resolved_date = fields.Datetime.now() - timedelta(minutes=1)
        self.assertFalse(self.ticket_b.can_customer_reopen)


@tagged("post_install", "-at_install")
class TestTicketMergeHttp(MergeFixtures, HttpCase):
    def _rpc(self, model, method, args):
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {"model": model, "method": method, "args": args, "kwargs": {}},
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def test_merged_ticket_page_points_to_kept_ticket(self):
        self.ticket_b.with_user(self.agent).action_merge_into(self.ticket_a.id)
        self._login(self.customer_a)
        page = self.url_open(f"/my/tickets/{self.ticket_b.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_im_livechat_ticket_merged", page.text)
        self.assertIn(f'href="/my/tickets/{self.ticket_a.id}"', page.text)
        self.assertIn("merged into", page.text)
        self.assertNotIn("o_im_livechat_ticket_reopen", page.text)
        badge = by_class(lxml.html.fromstring(page.text), "o_im_livechat_ticket_state")[0]
        self.assertEqual(badge.text, "Merged")
        self.assertEqual(badge.get("data-state"), "resolved", "the live page sees it resolved")
        listing = self.url_open("/my/tickets").text
        self.assertIn(">Merged</span>", listing)
        kept = self.url_open(f"/my/tickets/{self.ticket_a.id}").text
        self.assertNotIn("o_im_livechat_ticket_merged", kept)
        for words in ("The charger light is red.", "Is the light red all the time?"):
            self.assertIn(words, kept, "the kept page shows the duplicate's history")

    def test_merged_ticket_page_in_german(self):
        self._load_german()
        self.customer_a.lang = "de_DE"
        self.ticket_b.with_user(self.agent).action_merge_into(self.ticket_a.id)
        self._login(self.customer_a)
        page = self.url_open(f"/my/tickets/{self.ticket_b.id}").text
        self.assertIn("Dieses Ticket wurde mit", page)
        self.assertIn("Die Unterhaltung geht dort weiter.", page)

    @mute_logger("odoo.http")
    def test_customer_rpc_cannot_merge(self):
        self._login(self.customer_a)
        answer = self._rpc(
            "im_livechat.ticket", "action_merge_into", [[self.ticket_b.id], self.ticket_a.id]
        )
        self.assertIn("error", answer)
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertFalse(self.ticket_b.merged_into_id)

    @mute_logger("odoo.http")
    def test_agent_rpc_cannot_merge_across_customers(self):
        other = self._new_ticket(self.customer_b, "Other", "Another customer.")
        self._login(self.agent)
        answer = self._rpc(
            "im_livechat.ticket", "action_merge_into", [[other.id], self.ticket_a.id]
        )
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertFalse(other.merged_into_id)
        self.assertTrue(self._conversation(other), "nothing moved")

    def test_merge_from_ticket_form_tour(self):
        url = f"/odoo/action-im_livechat_ticket.action_ticket_queue/{self.ticket_b.id}"
        self.start_tour(url, "im_livechat_ticket_merge_tour", login=self.agent.login)
        self.env.invalidate_all()
        self.assertEqual(self.ticket_b.merged_into_id, self.ticket_a)
        self.assertEqual(self.ticket_b.state, "resolved")


@tagged("post_install", "-at_install")
class TestTicketMergeLive(MergeFixtures, WebsocketCase):
    def test_customer_page_shows_merged_history_live(self):
        """The kept ticket's page, open in the customer's browser, gets the
        duplicate's history when an agent merges it, without a reload."""
        channel = self.ticket_a.channel_id
        Message = self.registry["mail.message"]
        message_fetch = Message._message_fetch
        fetches = []

        def message_fetch_spy(records, domain, *args, **kwargs):
            if ("res_id", "=", channel.id) in [tuple(term) for term in domain if len(term) == 3]:
                fetches.append(kwargs)
            return message_fetch(records, domain, *args, **kwargs)

        self.startPatcher(patch.object(Message, "_message_fetch", message_fetch_spy))
        db_name = self.registry.db_name
        source_id, target_id, agent_id = self.ticket_b.id, self.ticket_a.id, self.agent.id

        def merge(env):
            tickets = env["im_livechat.ticket"].with_user(agent_id)
            return tickets.browse(source_id).action_merge_into(target_id)

        merged = run_tour_beside(
            self,
            "im_livechat_ticket_merge_customer_tour",
            url=f"/my/tickets/{self.ticket_a.id}",
            login=self.customer_a.login,
            # the page loaded the conversation and follows it on its websocket
            ready=lambda: fetches and sockets_following(db_name, channel),
            action=merge,
            wake=[channel],
            settle=0.5,
        )
        self.assertTrue(merged, "the merge did not run")
        self.assertGreaterEqual(len(fetches), 2, "the page fetched the conversation again")
