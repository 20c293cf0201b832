import json

from odoo.tests import tagged

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures


@tagged("post_install", "-at_install")
class TestTicketBusEvents(TicketFixtures, WebsocketCase):
    """Domain events travel through Odoo's bus to a real websocket."""

    def _connect(self, user):
        # every party stays logged in at once: their sockets stay open
        session = self._login(user)
        websocket = self.websocket_connect(cookie=f"session_id={session.sid}")
        with self.registry.test_lock:  # the sockets' threads share our transaction
            last = self.env["bus.bus"]._bus_last_id()
        self.subscribe(websocket, [], last)
        return websocket

    def _receive(self, websocket):
        return [n["message"] for n in json.loads(websocket.recv())]

    def _dispatch(self):
        # the sockets' server threads share our transaction: not while they work
        with self.registry.test_lock:
            self.trigger_notification_dispatching(
                [
                    self.env.ref("im_livechat.im_livechat_group_user"),
                    self.customer_a.partner_id,
                    self.customer_b.partner_id,
                ]
            )

    def test_created_reaches_agents_and_customer(self):
        agent_socket = self._connect(self.agent_2)
        customer_socket = self._connect(self.customer_a)
        with self.registry.test_lock:
            ticket = self._new_ticket(self.customer_a, "Flat tyre", priority="2")
        self._dispatch()
        for websocket in (agent_socket, customer_socket):
            created = [
                m for m in self._receive(websocket) if m["type"] == "im_livechat.ticket/created"
            ]
            self.assertEqual(len(created), 1)
            payload = created[0]["payload"]
            self.assertEqual(payload["id"], ticket.id)
            self.assertEqual(payload["reference"], ticket.reference)
            self.assertEqual(payload["name"], "Flat tyre")
            self.assertEqual(payload["priority"], "2")
            self.assertEqual(payload["state"], "new")
            self.assertEqual(payload["user_id"], self.agent.id)
            self.assertEqual(payload["channel_id"], ticket.channel_id.id)

    def test_updated_and_resolved(self):
        ticket = self._new_ticket(self.customer_a)
        agent_socket = self._connect(self.agent_2)
        with self.registry.test_lock:
            ticket.priority = "3"
        self._dispatch()
        updated = [
            m for m in self._receive(agent_socket) if m["type"] == "im_livechat.ticket/updated"
        ]
        self.assertEqual([m["payload"]["priority"] for m in updated], ["3"])
        with self.registry.test_lock:
            ticket.action_resolve()
        self._dispatch()
        resolved = [
            m for m in self._receive(agent_socket) if m["type"] == "im_livechat.ticket/resolved"
        ]
        self.assertEqual(len(resolved), 1)
        self.assertEqual(resolved[0]["payload"]["state"], "resolved")
        self.assertTrue(resolved[0]["payload"]["resolved_date"])

    def test_other_customer_receives_nothing(self):
        other_socket = self._connect(self.customer_b)
        with self.registry.test_lock:
            self._new_ticket(self.customer_a, "Private matter")
        self._dispatch()
        # a marker sent after the ticket: the first thing B receives must be it
        with self.registry.test_lock:
            self.customer_b.partner_id._bus_send("test/marker", {"n": 1})
        self._dispatch()
        received = self._receive(other_socket)
        self.assertEqual([m["type"] for m in received], ["test/marker"])
