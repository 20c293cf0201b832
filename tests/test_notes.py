"""Internal notes of a ticket: stored on the ticket (never in the customer's
conversation), notify the agents named in them, and reach a customer through
no route, RPC, bus event, e-mail or transcript."""

import json

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures

SECRET = "SECRET-NOTE refund approved by finance"


@tagged("post_install", "-at_install")
class TestTicketNotes(TicketFixtures, WebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket("Broken brake", "The brake squeaks.")
        cls.agent_2.notification_type = "inbox"
        cls.note = cls._write_note(cls.ticket, SECRET)

    @classmethod
    def _write_note(cls, ticket, body, author=None, partners=None):
        """A note as the form's composer writes it, naming ``partners``
        (default: the second agent and, wrongly, the customer)."""
        partners = partners if partners is not None else cls.agent_2 | cls.customer_a
        return ticket.with_user(author or cls.agent).message_post(
            body=body,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            partner_ids=partners.partner_id.ids,
        )

    def setUp(self):
        super().setUp()
        self.env.cr.precommit.run()  # the bus notifications of the fixtures first
        self.last_bus_id = self.env["bus.bus"]._bus_last_id()

    def _post_note_route(self, body, partners):
        """Post a note through the route the form's composer uses."""
        return self.make_jsonrpc_request(
            "/mail/message/post",
            {
                "thread_model": "im_livechat.ticket",
                "thread_id": self.ticket.id,
                "post_data": {
                    "body": body,
                    "message_type": "comment",
                    "subtype_xmlid": "mail.mt_note",
                    "partner_ids": partners.partner_id.ids,
                },
                "context": {"mail_post_autofollow": False},
            },
        )

    def _assert_no_secret(self, value, route):
        text = value if isinstance(value, str) else json.dumps(value)
        self.assertNotIn("SECRET-NOTE", text, f"{route} leaked a note to the customer")

    # ------------------------------------------------------------
    # Model
    # ------------------------------------------------------------

    def test_note_is_a_message_of_the_ticket_not_of_the_conversation(self):
        self.assertEqual((self.note.model, self.note.res_id), (self.ticket._name, self.ticket.id))
        self.assertEqual(self.note.subtype_id, self.env.ref("mail.mt_note"))
        self.assertEqual(self.note.message_type, "comment")
        self.assertFalse(
            self.channel.message_ids.filtered(lambda m: "SECRET-NOTE" in (m.body or "")),
            "nothing of the note in the customer's channel",
        )
        self.assertEqual(self.ticket._get_notes(), self.note)

    def test_mention_notifies_the_agent_never_the_customer(self):
        notified = self.note.notification_ids.res_partner_id
        self.assertIn(self.agent_2.partner_id, notified, "the named agent is notified")
        self.assertNotIn(self.customer_a.partner_id, notified)
        self.assertNotIn(self.customer_a.partner_id, self.note.partner_ids)
        # the agent's Discuss inbox has it
        inbox = (
            self.env["mail.message"]
            .with_user(self.agent_2)
            .search([("needaction", "=", True), ("id", "=", self.note.id)])
        )
        self.assertEqual(inbox, self.note)

    def test_customer_cannot_write_a_note(self):
        with self.assertRaises(AccessError):
            self._write_note(self.ticket, "customer note", author=self.customer_a, partners=None)

    def test_note_not_in_away_email_nor_transcript(self):
        self.customer_a.partner_id.email = "anna@customer.example.com"
        self.team.ticket_email_delay = 0
        self.channel.with_user(self.agent).message_post(
            body="Please try the new pads.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self._write_note(self.ticket, "SECRET-NOTE after the reply")
        candidates = dict(self.env["im_livechat.ticket"]._get_away_mail_candidates())
        self.assertIn(self.ticket, candidates)
        for messages in candidates.values():
            self._assert_no_secret(" ".join(messages.mapped("body")), "away e-mail candidates")
        body = self.env["ir.qweb"]._render(
            "im_livechat_ticket.ticket_mail_away",
            self.ticket._prepare_away_mail_values(candidates[self.ticket]),
        )
        self._assert_no_secret(str(body), "away e-mail")
        self.assertIn("new pads", str(body))
        html, _type = self.env["ir.actions.report"]._render_qweb_html(
            "im_livechat_ticket.action_report_ticket_transcript", self.ticket.ids
        )
        self._assert_no_secret(html.decode(), "transcript")
        self.assertIn("The brake squeaks.", html.decode())

    # ------------------------------------------------------------
    # HTTP: posting through the composer's route
    # ------------------------------------------------------------

    def test_agent_posts_note_through_the_composer_route(self):
        self._login(self.agent)
        channel_messages = self.channel.message_ids
        result = self._post_note_route("<p>SECRET-NOTE from the form</p>", self.agent_2)
        message = self.env["mail.message"].browse(result["mail.message"][0]["id"])
        self.assertEqual((message.model, message.res_id), (self.ticket._name, self.ticket.id))
        self.assertTrue(message.is_internal or message.subtype_id.internal)
        self.assertIn(self.agent_2.partner_id, message.notification_ids.res_partner_id)
        self.assertEqual(self.channel.message_ids, channel_messages, "no channel message")
        notes = self.make_jsonrpc_request(
            "/im_livechat_ticket/notes", {"ticket_id": self.ticket.id}
        )
        self.assertIn(message.id, notes["messages"])
        self.assertIn(self.note.id, notes["messages"])

    def test_customer_cannot_post_a_note_through_the_route(self):
        self._login(self.customer_a)
        with self.assertRaises(Exception):  # noqa: B017 - the route answers with an error
            self._post_note_route("<p>SECRET-NOTE from a customer</p>", self.agent)
        self.assertEqual(self.ticket._get_notes(), self.note)

    # ------------------------------------------------------------
    # Hostile: a customer reads no note anywhere
    # ------------------------------------------------------------

    def test_customer_reads_no_note_through_any_route(self):
        self._login(self.customer_a)
        page = self.url_open(f"/my/tickets/{self.ticket.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("The brake squeaks.", page.text)
        self._assert_no_secret(page.text, "/my/tickets/<id>")
        for model, res_id in (
            ("im_livechat.ticket", self.ticket.id),
            ("discuss.channel", self.channel.id),
        ):
            result = self.make_jsonrpc_request(
                "/mail/thread/messages", {"thread_model": model, "thread_id": res_id}
            )
            self._assert_no_secret(result, f"/mail/thread/messages on {model}")
            self.assertNotIn(self.note.id, result["messages"])
        result = self.make_jsonrpc_request(
            "/discuss/channel/messages", {"channel_id": self.channel.id}
        )
        self._assert_no_secret(result, "/discuss/channel/messages")
        for fetch_route, params in (
            ("/mail/data", {"init_messaging": {}, "failures": True, "channels_as_member": True}),
            ("/mail/inbox/messages", {}),
            ("/mail/history/messages", {}),
        ):
            self._assert_no_secret(self.make_jsonrpc_request(fetch_route, params), fetch_route)
        # the portal's chatter of the ticket: refused or without notes
        response = self.url_open(
            "/mail/chatter_fetch",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {"thread_model": "im_livechat.ticket", "thread_id": self.ticket.id},
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self._assert_no_secret(response.text, "/mail/chatter_fetch")
        # the notes route is for agents
        with self.assertRaises(Exception):  # noqa: B017 - 404
            self.make_jsonrpc_request("/im_livechat_ticket/notes", {"ticket_id": self.ticket.id})

    def test_customer_reads_no_note_through_orm_rpc(self):
        self._login(self.customer_a)

        def call_kw(method, args, kwargs=None):
            return self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {"model": "mail.message", "method": method, "args": args, "kwargs": kwargs or {}},
            )

        with self.assertRaises(Exception):  # noqa: B017 - AccessError answered as an error
            result = call_kw("read", [[self.note.id], ["body"]])
            self._assert_no_secret(result, "mail.message read")
        for domain in (
            [("id", "=", self.note.id)],
            [("body", "ilike", "SECRET-NOTE")],
            [("model", "=", "im_livechat.ticket"), ("res_id", "=", self.ticket.id)],
        ):
            result = call_kw("search_read", [domain], {"fields": ["body"]})
            self._assert_no_secret(result, f"mail.message search_read {domain}")
        # ORM-level, as the customer
        Message = self.env["mail.message"].with_user(self.customer_a)
        self.assertFalse(Message.search([("id", "=", self.note.id)]))
        with self.assertRaises(AccessError):
            Message.browse(self.note.id).read(["body"])

    def test_customer_socket_gets_no_note(self):
        customer = self._login(self.customer_a)
        socket = self.websocket_connect(cookie=f"session_id={customer.sid}")
        # even asking for the ticket's and the channel's bus channels
        self.subscribe(
            socket,
            [f"discuss.channel_{self.channel.id}", f"im_livechat.ticket_{self.ticket.id}"],
            self.last_bus_id,
        )
        self._login(self.agent)
        self._post_note_route("<p>SECRET-NOTE live</p>", self.agent_2 | self.customer_a)
        with self.registry.test_lock:  # the sockets' threads share our transaction
            self.trigger_notification_dispatching(
                [
                    self.channel,
                    (self.channel, "members"),
                    self.customer_a.partner_id,
                    self.env.ref("im_livechat.im_livechat_group_user"),
                ]
            )
            self.customer_a.partner_id._bus_send("test/marker", {})
            self.trigger_notification_dispatching([self.customer_a.partner_id])
        received = []
        while not any(n["message"]["type"] == "test/marker" for n in received):
            received += json.loads(socket.recv())
        self._assert_no_secret(received, "the customer's websocket")
        self.assertNotIn("im_livechat.ticket/note", [n["message"]["type"] for n in received])

    def test_agent_socket_hears_of_a_new_note(self):
        agent_2 = self._login(self.agent_2)
        socket = self.websocket_connect(cookie=f"session_id={agent_2.sid}")
        self.subscribe(socket, [], self.last_bus_id)
        self._login(self.agent)
        self._post_note_route("<p>SECRET-NOTE live</p>", self.agent_2)
        with self.registry.test_lock:
            self.trigger_notification_dispatching(
                [self.env.ref("im_livechat.im_livechat_group_user")]
            )
        received = []
        while not any(n["message"]["type"] == "im_livechat.ticket/note" for n in received):
            received += json.loads(socket.recv())
        event = next(n for n in received if n["message"]["type"] == "im_livechat.ticket/note")
        self.assertEqual(event["message"]["payload"]["id"], self.ticket.id)
