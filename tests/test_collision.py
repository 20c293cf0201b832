"""Who else is on a ticket: the agents who have its form open and who types,
sent to the agents over Odoo's bus, never to customers; taking over."""

import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from odoo.addons.bus.tests.common import WebsocketCase

from .common import QUEUE_URL, TicketFixtures

VIEWERS = "im_livechat.ticket/viewers"


@tagged("post_install", "-at_install")
class TestTicketCollision(TicketFixtures, WebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket = cls._new_ticket(cls.customer_a, "Flat tyre", "The rear tyre is flat.")
        cls.agents_group = cls.env.ref("im_livechat.im_livechat_group_user")

    def setUp(self):
        super().setUp()
        self.env.cr.precommit.run()  # the bus notifications of the fixtures first
        self.last_bus_id = self.env["bus.bus"]._bus_last_id()

    def _viewer_users(self, viewers):
        return [viewer["user_id"] for viewer in viewers]

    def _viewers_events(self):
        self.env.cr.precommit.run()  # the bus rows are written by a pre-commit hook
        notifications = self.env["bus.bus"].search([("id", ">", self.last_bus_id)])
        return [
            json.loads(n.message)["payload"]
            for n in notifications
            if json.loads(n.message)["type"] == VIEWERS
        ]

    # ------------------------------------------------------------
    # Model
    # ------------------------------------------------------------

    def test_viewing_is_stored_and_sent_to_the_agents(self):
        viewers = self.ticket.with_user(self.agent_2)._set_viewing()
        self.assertEqual(self._viewer_users(viewers), [self.agent_2.id])
        self.assertFalse(viewers[0]["is_assignee"])
        events = self._viewers_events()
        self.assertEqual(events[-1], {"id": self.ticket.id, "viewers": viewers})
        channels = self.env["bus.bus"].search([("id", ">", self.last_bus_id)]).mapped("channel")
        self.assertTrue(channels)
        for channel in channels:
            self.assertIn("res.groups", channel, "sent to the agents' group only")
        byticket = self.env["im_livechat.ticket"].with_user(self.agent).get_ticket_viewers()
        self.assertEqual(self._viewer_users(byticket[self.ticket.id]), [self.agent_2.id])
        # the goodbye
        self.assertEqual(self.ticket.with_user(self.agent_2)._set_viewing(False), [])
        self.assertNotIn(
            self.ticket.id,
            self.env["im_livechat.ticket"].with_user(self.agent).get_ticket_viewers(),
        )

    def test_a_closed_tab_expires(self):
        self.ticket.with_user(self.agent_2)._set_viewing()
        viewer = self.env["im_livechat.ticket.viewer"].search([("ticket_id", "=", self.ticket.id)])
        viewer.last_seen = fields.Datetime.now() - timedelta(seconds=60)
        self.assertEqual(self.ticket._get_viewers_values(), [])
        viewers = self.ticket.with_user(self.agent)._set_viewing()
        self.assertEqual(self._viewer_users(viewers), [self.agent.id])
        self.assertTrue(viewers[0]["is_assignee"])

    def test_typing_in_the_conversation_marks_the_agent(self):
        member = self.ticket.channel_id.channel_member_ids.filtered(
            lambda m: m.partner_id == self.agent.partner_id
        )
        member.with_user(self.agent)._notify_typing(True)
        viewers = self.ticket._get_viewers_values()
        self.assertEqual(self._viewer_users(viewers), [self.agent.id])
        self.assertTrue(viewers[0]["is_typing"])
        member.with_user(self.agent)._notify_typing(False)
        self.assertFalse(self.ticket._get_viewers_values()[0]["is_typing"])
        # the customer's typing is no agent's
        customer_member = self.ticket.channel_id.channel_member_ids.filtered(
            lambda m: m.partner_id == self.customer_a.partner_id
        )
        customer_member.with_user(self.customer_a)._notify_typing(True)
        self.assertEqual(self._viewer_users(self.ticket._get_viewers_values()), [self.agent.id])

    def test_customers_and_employees_get_no_viewers(self):
        for user in (self.customer_a, self.employee):
            with self.assertRaises(AccessError):
                self.env["im_livechat.ticket"].with_user(user).get_ticket_viewers()
            with self.assertRaises(AccessError):
                self.ticket.with_user(user)._set_viewing()

    def test_take_over_with_a_note_to_the_previous_agent(self):
        self.assertEqual(self.ticket.user_id, self.agent)
        self.ticket.with_user(self.agent_2).with_context(
            ticket_expected_user_id=self.agent.id
        ).action_take_over()
        self.assertEqual(self.ticket.user_id, self.agent_2)
        note = self.ticket._get_notes(limit=1)
        self.assertIn("took over this ticket from Alice Agent", note.body)
        self.assertIn(self.agent.partner_id, note.notification_ids.res_partner_id)
        # someone else took it meanwhile: refused
        with self.assertRaises(UserError):
            self.ticket.with_user(self.agent).with_context(
                ticket_expected_user_id=self.agent.id
            ).action_take_over()

    # ------------------------------------------------------------
    # HTTP and websocket
    # ------------------------------------------------------------

    def test_viewing_route(self):
        self._login(self.agent_2)
        result = self.make_jsonrpc_request(
            "/im_livechat_ticket/viewing", {"ticket_id": self.ticket.id}
        )
        self.assertEqual(self._viewer_users(result["viewers"]), [self.agent_2.id])
        self.assertEqual(result["heartbeat"], 20)
        result = self.make_jsonrpc_request(
            "/im_livechat_ticket/viewing", {"ticket_id": self.ticket.id, "viewing": False}
        )
        self.assertEqual(result["viewers"], [])
        self._login(self.customer_a)
        with self.assertRaises(Exception):  # noqa: B017 - 404 for customers
            self.make_jsonrpc_request("/im_livechat_ticket/viewing", {"ticket_id": self.ticket.id})
        self.assertEqual(self.ticket._get_viewers_values(), [])

    def test_agent_b_hears_agent_a_viewing_a_customer_never(self):
        agent_b = self._login(self.agent_2)
        customer = self._login(self.customer_a)
        agent_b_socket = self.websocket_connect(cookie=f"session_id={agent_b.sid}")
        self.subscribe(agent_b_socket, [], self.last_bus_id)
        customer_socket = self.websocket_connect(cookie=f"session_id={customer.sid}")
        self.subscribe(customer_socket, [], self.last_bus_id)
        self._login(self.agent)
        self.make_jsonrpc_request("/im_livechat_ticket/viewing", {"ticket_id": self.ticket.id})
        with self.registry.test_lock:  # the sockets' threads share our transaction
            self.trigger_notification_dispatching([self.agents_group])
            self.customer_a.partner_id._bus_send("test/marker", {})
            self.trigger_notification_dispatching([self.customer_a.partner_id])
        received = []
        while not any(n["message"]["type"] == VIEWERS for n in received):
            received += json.loads(agent_b_socket.recv())
        payload = next(n["message"]["payload"] for n in received if n["message"]["type"] == VIEWERS)
        self.assertEqual(payload["id"], self.ticket.id)
        self.assertEqual(self._viewer_users(payload["viewers"]), [self.agent.id])
        received = []
        while not any(n["message"]["type"] == "test/marker" for n in received):
            received += json.loads(customer_socket.recv())
        self.assertNotIn(VIEWERS, [n["message"]["type"] for n in received])


@tagged("post_install", "-at_install")
class TestTicketNotesTour(TicketFixtures, HttpCase):
    """In a browser: a note written in the form shows as internal and never
    on the customer's page; another agent on the ticket shows in the form."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._new_customer("tour_note_customer", "Carla Customer")
        cls.ticket = cls._new_ticket(cls.customer, "Battery", "My e-bike battery does not charge")

    def _ticket_url(self):
        return f"/odoo/action-im_livechat_ticket.action_ticket_queue/{self.ticket.id}"

    def _other_agent_views(self, agent):
        """``agent`` has the form open, for the length of the tour."""
        self.ticket.with_user(agent)._set_viewing()
        self.env["im_livechat.ticket.viewer"].search(
            [("ticket_id", "=", self.ticket.id), ("user_id", "=", agent.id)]
        ).last_seen = fields.Datetime.now() + timedelta(minutes=10)

    def test_note_and_collision_tour(self):
        self._other_agent_views(self.agent_2)
        self.start_tour(self._ticket_url(), "im_livechat_ticket_note_tour", login=self.agent.login)
        note = self.ticket._get_notes(limit=1)
        self.assertIn("Internal: the charger was replaced", note.body)
        self.assertFalse(
            self.ticket.channel_id.message_ids.filtered(lambda m: "charger was replaced" in m.body)
        )
        self.start_tour(
            f"/my/tickets/{self.ticket.id}",
            "im_livechat_ticket_note_customer_tour",
            login=self.customer.login,
        )

    def test_queue_card_tour(self):
        self._other_agent_views(self.agent_2)
        self.start_tour(
            QUEUE_URL,
            "im_livechat_ticket_queue_viewers_tour",
            login=self.agent.login,
        )

    def test_reply_warning_tour(self):
        # a former agent of the ticket is still in its conversation
        self.ticket.action_assign(self.agent_2)
        self.ticket.action_assign(self.agent)
        self.assertIn(self.agent_2.partner_id, self.ticket.channel_id.channel_member_ids.partner_id)
        self.start_tour(
            self._ticket_url(), "im_livechat_ticket_reply_warning_tour", login=self.agent_2.login
        )
        replies = self.ticket.channel_id.message_ids.filtered(
            lambda m: m.author_id == self.agent_2.partner_id and "another socket" in m.body
        )
        self.assertEqual(len(replies), 1, "sent once, after the confirmation")

    def test_take_over_tour(self):
        self._other_agent_views(self.agent)
        self.start_tour(
            self._ticket_url(), "im_livechat_ticket_take_over_tour", login=self.agent_2.login
        )
        self.assertEqual(self.ticket.user_id, self.agent_2)
