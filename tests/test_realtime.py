import json
import logging
import statistics
import time

from odoo.tests import tagged

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures

_logger = logging.getLogger(__name__)

NEW_MESSAGE = "discuss.channel/new_message"


@tagged("post_install", "-at_install")
class TestTicketRealtime(TicketFixtures, WebsocketCase):
    """Messages of a ticket's conversation travel from one party's HTTP post
    to the other party's real websocket through Odoo's bus.

    In a test the transaction is never committed, so PostgreSQL's NOTIFY that
    wakes the websockets in production does not fire: the test dispatches
    right after the post returns, which is what NOTIFY does after commit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket("Wobbly wheel", "The front wheel wobbles.")

    def _connect(self, session, channels=(), last=None):
        websocket = self.websocket_connect(cookie=f"session_id={session.sid}")
        self.subscribe(websocket, list(channels), self.last_bus_id if last is None else last)
        return websocket

    def setUp(self):
        super().setUp()
        # read before any socket opens: the sockets' server threads share the
        # test transaction, so the test reads the ORM only while they are idle
        self.last_bus_id = self.env["bus.bus"]._bus_last_id()

    def _post(self, session, body):
        return self._post_to_conversation(self.channel, body, session)

    def _receive(self, websocket):
        return json.loads(websocket.recv())

    def _new_messages(self, notifications):
        return [
            n["message"]["payload"]
            for n in notifications
            if n["message"]["type"] == NEW_MESSAGE
            and n["message"]["payload"]["id"] == self.channel.id
        ]

    def _message_bodies(self, payloads):
        bodies = []
        for payload in payloads:
            for message in payload["data"]["mail.message"]:
                bodies.append(message["body"])
        return bodies

    def _timed_exchange(self, sender_session, receiver_socket, body):
        start = time.perf_counter()
        self._post(sender_session, body)
        with self.registry.test_lock:  # the sockets' threads share our transaction
            self.trigger_notification_dispatching([self.channel])
        # the receiver also gets its own earlier posts: wait for this one
        while body not in "".join(
            self._message_bodies(self._new_messages(self._receive(receiver_socket)))
        ):
            pass
        return time.perf_counter() - start

    def test_messages_reach_the_other_party_live(self):
        """Each post reaches the other party's socket (a socket that gets
        nothing times out in recv). The latency is logged for information;
        its figures come from `make bench`, on a production-like server."""
        customer = self._login(self.customer_a)
        agent = self._login(self.agent)
        customer_socket = self._connect(customer)
        agent_socket = self._connect(agent)
        to_agent, to_customer = [], []
        for i in range(5):
            to_agent.append(self._timed_exchange(customer, agent_socket, f"customer says {i}"))
            to_customer.append(self._timed_exchange(agent, customer_socket, f"agent says {i}"))
        for label, latencies in (("customer->agent", to_agent), ("agent->customer", to_customer)):
            _logger.info(
                "%s latency over %s messages: median %.1f ms, max %.1f ms",
                label,
                len(latencies),
                statistics.median(latencies) * 1000,
                max(latencies) * 1000,
            )
        self._close_websockets()
        self.ticket.invalidate_recordset()
        self.assertEqual(self.ticket.state, "open", "the agent's reply opened the ticket")

    def test_other_customer_cannot_subscribe_to_the_conversation(self):
        intruder = self._login(self.customer_b)
        intruder_socket = self._connect(intruder, channels=[f"discuss.channel_{self.channel.id}"])
        customer = self._login(self.customer_a)
        agent = self._login(self.agent)
        self._post(customer, "my address is secret street 1")
        self._post(agent, "thanks, noted")
        with self.registry.test_lock:
            self.trigger_notification_dispatching([self.channel, (self.channel, "members")])
            self.customer_b.partner_id._bus_send("test/marker", {})
            self.trigger_notification_dispatching([self.customer_b.partner_id])
        received = self._receive(intruder_socket)
        self.assertEqual([n["message"]["type"] for n in received], ["test/marker"])

    def test_reconnect_with_last_id_receives_missed_messages_once(self):
        customer = self._login(self.customer_a)
        agent = self._login(self.agent)
        last_seen = self.last_bus_id
        agent_socket = self._connect(agent)
        agent_socket.close()
        self.wait_remaining_websocket_connections()
        for i in range(3):
            self._post(customer, f"while you were away {i}")
        agent_socket = self._connect(agent, last=last_seen)
        with self.registry.test_lock:
            self.trigger_notification_dispatching([self.channel])
        notifications = self._receive(agent_socket)
        ids = [n["id"] for n in notifications]
        self.assertEqual(len(ids), len(set(ids)), "no notification twice")
        bodies = self._message_bodies(self._new_messages(notifications))
        for i in range(3):
            self.assertEqual(sum(f"while you were away {i}" in body for body in bodies), 1)
