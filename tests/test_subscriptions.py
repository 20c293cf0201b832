from odoo.tests import tagged

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures, receive_until, sockets_following

UPDATED = "im_livechat.ticket/updated"


@tagged("post_install", "-at_install")
class TestAgentSubscriptions(TicketFixtures, WebsocketCase):
    """An agent's socket listens to the conversations of their tickets that
    are not resolved (models/ir_websocket.py): a resolved ticket's history is
    not polled on every message they receive. Real sockets of the test server;
    what each follows is read from the server's bus dispatcher."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.open_ticket = cls._new_ticket(cls.customer_a, "Still open", "Hello")
        cls.resolved_ticket = cls._new_ticket(cls.customer_a, "Done", "Thanks")
        cls.resolved_ticket.with_user(cls.agent).action_resolve()

    def _socket_of(self, user, channels=()):
        self.session = None  # authenticate() would log the previous party out
        session = self.authenticate(user.login, user.login)
        websocket = self.websocket_connect(cookie=f"session_id={session.sid}")
        self.subscribe(websocket, list(channels), self.env["bus.bus"]._bus_last_id())
        return websocket

    def _updated_events(self, websocket, seconds=5):
        """The ``im_livechat.ticket/updated`` payloads the socket receives
        until one has come (or ``seconds`` without one)."""
        return [
            message["payload"]
            for message in receive_until(websocket, lambda m: m["type"] == UPDATED, seconds)
            if message["type"] == UPDATED
        ]

    def _wake_agents(self, ticket):
        self.env.cr.precommit.run()
        self.trigger_notification_dispatching([ticket._bus_channel()])

    def _followed(self, ticket):
        return len(sockets_following(self.env.cr.dbname, ticket.channel_id))

    def test_agent_follows_open_tickets_not_resolved_ones(self):
        self.assertEqual(self.open_ticket.user_id, self.agent)
        self.assertEqual(self.resolved_ticket.user_id, self.agent)
        members = self.resolved_ticket.channel_id.channel_member_ids.partner_id
        self.assertIn(self.agent.partner_id, members, "the agent is still a member")
        self._socket_of(self.agent)
        self.assertEqual(self._followed(self.open_ticket), 1)
        self.assertEqual(self._followed(self.resolved_ticket), 0)

    def test_a_conversation_the_client_asks_for_is_followed(self):
        self._socket_of(self.agent, [f"discuss.channel_{self.resolved_ticket.channel_id.id}"])
        self.assertEqual(self._followed(self.resolved_ticket), 1)

    def test_customers_sockets_are_left_as_odoo_makes_them(self):
        self._socket_of(self.customer_a)
        self.assertEqual(self._followed(self.open_ticket), 1)
        self.assertEqual(self._followed(self.resolved_ticket), 1)

    def test_reopening_tells_agents_to_subscribe_again(self):
        websocket = self._socket_of(self.agent)
        self.resolved_ticket.with_user(self.agent).action_reopen()
        self._wake_agents(self.resolved_ticket)
        events = self._updated_events(websocket)
        self.assertTrue(any(event.get("reopened") for event in events), events)
        # the web client answers with a new subscribe: now the conversation counts
        self.subscribe(websocket, [], self.env["bus.bus"]._bus_last_id())
        self.assertEqual(self._followed(self.resolved_ticket), 1)

    def test_other_updates_do_not_ask_to_subscribe_again(self):
        websocket = self._socket_of(self.agent)
        self.open_ticket.with_user(self.agent).write({"priority": "3"})
        self._wake_agents(self.open_ticket)
        events = self._updated_events(websocket)
        self.assertTrue(events)
        self.assertFalse(any(event.get("reopened") for event in events))
