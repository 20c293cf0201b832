import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import JsonRpcException, tagged

from odoo.addons.bus.tests.common import WebsocketCase

from ..models.im_livechat_ticket_call import CALL_HOST_CANDIDATES_PARAM
from .common import TicketFixtures

JOIN = "/mail/rtc/channel/join_call"
LEAVE = "/mail/rtc/channel/leave_call"


@tagged("post_install", "-at_install")
class TestTicketCalls(TicketFixtures, WebsocketCase):
    """The ticket's rules on Odoo's own Discuss calls, through Odoo's routes
    (``/mail/rtc/channel/join_call``, ``leave_call``) as the web client
    calls them, and the call's invitation on the parties' real websockets."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket_fixtures()
        cls._setup_ticket("No sound", "Can we talk?")

    def setUp(self):
        super().setUp()
        self.sessions = {}
        self.env.cr.precommit.run()  # the bus notifications of the fixtures first
        self.last_bus_id = self.env["bus.bus"]._bus_last_id()

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _session(self, user):
        if user not in self.sessions:
            # authenticate() deletes the previous session: keep every party's
            self.session = None
            self.sessions[user] = self.authenticate(user.login, user.login)
        return self.sessions[user]

    def _rpc(self, user, route, **params):
        self.opener.cookies["session_id"] = self._session(user).sid
        return self.make_jsonrpc_request(route, {"channel_id": self.channel.id, **params})

    def _join(self, user):
        return self._rpc(user, JOIN)

    def _leave(self, user):
        return self._rpc(user, LEAVE)

    def _sessions(self):
        self.env.invalidate_all()
        return self.channel.sudo().rtc_session_ids

    def _notices(self):
        self.env.invalidate_all()
        return self.channel.message_ids.filtered(
            lambda message: message.message_type == "notification"
        ).sorted("id")

    def _connect(self, user):
        websocket = self.websocket_connect(cookie=f"session_id={self._session(user).sid}")
        self.subscribe(websocket, [], self.last_bus_id)
        return websocket

    def _received_types(self, websocket):
        return [
            (notification["message"]["type"], notification["message"]["payload"])
            for notification in json.loads(websocket.recv())
        ]

    # ------------------------------------------------------------
    # Who may call
    # ------------------------------------------------------------

    def test_agent_calls_and_customer_answers(self):
        result = self._join(self.agent)
        self.assertEqual(self._sessions().partner_id, self.agent.partner_id)
        self.assertTrue(result["Rtc"]["selfSession"])
        member = self.channel.channel_member_ids.filtered(
            lambda m: m.partner_id == self.customer_a.partner_id
        )
        self.assertTrue(member.rtc_inviting_session_id, "the customer's page rings")
        self._join(self.customer_a)
        self.assertEqual(
            self._sessions().partner_id, self.agent.partner_id | self.customer_a.partner_id
        )
        self.assertTrue(self.ticket.call_answer_date)

    def test_other_customer_cannot_join(self):
        self._join(self.agent)
        for intruder in (self.customer_b, self.employee):
            with self.subTest(intruder=intruder.login), self.assertRaises(JsonRpcException):
                self._join(intruder)
        self.assertEqual(self._sessions().partner_id, self.agent.partner_id)
        self.assertNotIn(
            self.customer_b.partner_id,
            self.channel.channel_member_ids.partner_id,
            "a refused join leaves no membership behind",
        )

    def test_invitation_only_on_the_customers_socket(self):
        customer_socket = self._connect(self.customer_a)
        intruder_socket = self._connect(self.customer_b)
        self._join(self.agent)
        with self.registry.test_lock:  # the sockets' threads share our transaction
            self.customer_b.partner_id._bus_send("test/marker", {})
            self.trigger_notification_dispatching(
                [self.channel, self.customer_a.partner_id, self.customer_b.partner_id]
            )
        received = self._received_types(customer_socket)
        invitations = [
            payload
            for kind, payload in received
            if kind == "mail.record/insert"
            and any(
                channel.get("rtcInvitingSession") for channel in payload.get("discuss.channel", [])
            )
        ]
        self.assertTrue(invitations, f"no invitation on the customer's socket: {received}")
        self.assertEqual(
            [kind for kind, _payload in self._received_types(intruder_socket)], ["test/marker"]
        )

    # ------------------------------------------------------------
    # Resolved tickets
    # ------------------------------------------------------------

    def test_no_call_on_a_resolved_ticket(self):
        self.ticket.with_user(self.agent).action_resolve()
        for user in (self.agent, self.customer_a):
            with self.subTest(user=user.login):
                with self.assertRaises(JsonRpcException) as error:
                    self._join(user)
                self.assertIn("UserError", str(error.exception))
        self.assertFalse(self._sessions())

    def test_resolving_ends_the_call(self):
        self._join(self.agent)
        self._join(self.customer_a)
        self.ticket.with_user(self.agent).action_resolve()
        self.assertFalse(self._sessions())
        self.assertIn("Call ended", self._notices().mapped("body")[-2])

    # ------------------------------------------------------------
    # Hanging up
    # ------------------------------------------------------------

    def test_customer_hangs_up_ends_the_call_for_both(self):
        self._join(self.agent)
        self._join(self.customer_a)
        self.ticket.sudo().call_answer_date = fields.Datetime.now() - timedelta(minutes=4)
        self._leave(self.customer_a)
        self.assertFalse(self._sessions(), "the agent's session ended too")
        notices = self._notices()
        self.assertIn("started a live conference", notices[-2].body)
        self.assertEqual(notices[-2].author_id, self.agent.partner_id)
        self.assertFalse(notices[-2].subtype_id.internal, "the customer sees it too")
        self.assertIn("Call ended, 4 min", notices[-1].body)
        self.assertFalse(self.ticket.call_start_date)

    def test_customer_declines(self):
        self._join(self.agent)
        self._leave(self.customer_a)
        self.assertFalse(self._sessions(), "declined: the agent's call ends")
        self.assertIn("Call not answered", self._notices()[-1].body)

    def test_agent_hangs_up_while_ringing(self):
        self._join(self.agent)
        self._leave(self.agent)
        self.assertFalse(self._sessions())
        self.assertFalse(self.channel.channel_member_ids.rtc_inviting_session_id)

    # ------------------------------------------------------------
    # Customers starting calls
    # ------------------------------------------------------------

    def test_customer_calls_the_agent(self):
        self._join(self.customer_a)
        agent_member = self.channel.channel_member_ids.filtered(
            lambda m: m.partner_id == self.agent.partner_id
        )
        self.assertTrue(agent_member.rtc_inviting_session_id, "the agent's phone rings")
        notice = self._notices()[-1]
        self.assertIn("started a live conference", notice.body)
        self.assertEqual(notice.author_id, self.customer_a.partner_id)
        self.assertFalse(notice.subtype_id.internal)
        self.assertFalse(
            self.channel.message_ids.filtered(
                lambda m: m.message_type == "comment" and "live conference" in (m.body or "")
            ),
            "the customer's call is a notice, not a message they wrote",
        )

    def test_customer_rings_at_most_once_a_minute(self):
        self._join(self.customer_a)
        self._leave(self.customer_a)
        with self.assertRaises(JsonRpcException) as error:
            self._join(self.customer_a)
        self.assertIn("UserError", str(error.exception))
        self.assertFalse(self._sessions())
        # on another ticket of theirs too
        other = self._new_ticket(self.customer_a, "Second problem", "And another thing")
        with self.assertRaises(JsonRpcException):
            self._rpc(self.customer_a, JOIN, channel_id=other.channel_id.id)
        self.ticket.sudo().call_ring_date = fields.Datetime.now() - timedelta(seconds=61)
        self._join(self.customer_a)
        self.assertEqual(self._sessions().partner_id, self.customer_a.partner_id)

    def test_answering_is_not_ringing(self):
        """Accepting the agent's calls is never limited."""
        for _i in range(2):
            self._join(self.agent)
            self._join(self.customer_a)
            self._leave(self.customer_a)
        self.assertFalse(self._sessions())

    def test_team_without_customer_calls(self):
        self.team.ticket_customer_calls = False
        with self.assertRaises(JsonRpcException):
            self._join(self.customer_a)
        self._join(self.agent)
        self._join(self.customer_a)
        self.assertEqual(len(self._sessions()), 2, "customers still answer agents' calls")

    def test_no_agent_to_ring(self):
        self.team.ticket_default_user_id = False
        ticket = self._new_ticket(self.customer_a, "Waiting", "Nobody yet")
        self.assertFalse(ticket.user_id)
        with self.assertRaises(JsonRpcException):
            self._rpc(self.customer_a, JOIN, channel_id=ticket.channel_id.id)

    def _unassigned_ticket(self):
        self.team.ticket_default_user_id = False
        ticket = self._new_ticket(self.customer_a, "Waiting", "Nobody yet")
        self.assertFalse(ticket.user_id)
        self.env.cr.precommit.run()
        self.last_bus_id = self.env["bus.bus"]._bus_last_id()
        return ticket

    def _dispatch(self, partners):
        with self.registry.test_lock:  # the sockets' threads share our transaction
            for partner in partners:
                partner._bus_send("test/marker", {})
            self.trigger_notification_dispatching(partners)

    def _received_until_marker(self, websocket):
        received = []
        while ("test/marker", {}) not in received:
            received += self._received_types(websocket)
        return received

    def test_customer_loads_a_waiting_tickets_conversation(self):
        """The conversation of a ticket nobody took has OdooBot as operator:
        its customer's page loads it (no access error), and reads no other
        contact than before."""
        ticket = self._unassigned_ticket()
        info = self._rpc(self.customer_a, "/discuss/channel/info", channel_id=ticket.channel_id.id)
        operator = self.env.ref("base.partner_root")
        self.assertIn(operator.id, [partner["id"] for partner in info["res.partner"]])
        partners = self.env["res.partner"].with_context(active_test=False)
        readable = partners.with_user(self.customer_a).search([])
        own = partners.search([("id", "child_of", self.company_a.id)])
        self.assertEqual(readable - own, operator)

    def test_customer_call_on_unassigned_ticket_rings_the_teams_online_agents(self):
        ticket = self._unassigned_ticket()
        # read before the sockets poll: their threads share this test's cursor
        # meanwhile, and a query of ours could get their rows
        reference = ticket.reference
        self.env["bus.presence"].create({"user_id": self.agent_2.id, "status": "online"})
        online_socket = self._connect(self.agent_2)
        offline_socket = self._connect(self.agent)
        intruder_socket = self._connect(self.customer_b)
        self._rpc(self.customer_a, JOIN, channel_id=ticket.channel_id.id)
        self._dispatch([self.agent.partner_id, self.agent_2.partner_id, self.customer_b.partner_id])

        rings = [
            payload
            for kind, payload in self._received_until_marker(online_socket)
            if kind == "im_livechat.ticket/call_ringing"
        ]
        self.assertEqual(len(rings), 1, "the online agent's phone rings once")
        self.assertEqual(rings[0]["id"], ticket.id)
        self.assertEqual(rings[0]["caller"], "Anna Customer")
        self.assertEqual(rings[0]["reference"], reference)
        for socket in (offline_socket, intruder_socket):
            self.assertEqual(
                [kind for kind, _payload in self._received_types(socket)], ["test/marker"]
            )

        # the agent answers: takes the ticket, and the form joins the call
        self.opener.cookies["session_id"] = self._session(self.agent_2).sid
        action = self.make_jsonrpc_request(
            "/web/dataset/call_kw/im_livechat.ticket/action_answer_call",
            {
                "model": "im_livechat.ticket",
                "method": "action_answer_call",
                "args": [ticket.ids],
                "kwargs": {},
            },
        )
        self.assertEqual(action["res_id"], ticket.id)
        self.assertIn("im_livechat_ticket_start_call", action["context"])
        self.env.invalidate_all()
        self.assertEqual(ticket.user_id, self.agent_2)
        self._rpc(self.agent_2, JOIN, channel_id=ticket.channel_id.id)
        self.assertEqual(
            self.channel.browse(ticket.channel_id.id).sudo().rtc_session_ids.partner_id,
            self.customer_a.partner_id | self.agent_2.partner_id,
        )
        self.assertTrue(ticket.call_answer_date)

    def test_second_agent_cannot_answer_a_taken_call(self):
        ticket = self._unassigned_ticket()
        self.env["bus.presence"].create({"user_id": self.agent.id, "status": "online"})
        self._rpc(self.customer_a, JOIN, channel_id=ticket.channel_id.id)
        ticket.with_user(self.agent).action_answer_call()
        with self.assertRaisesRegex(UserError, "already took"):
            ticket.with_user(self.agent_2).action_answer_call()

    def test_unanswered_customer_call_stops_ringing(self):
        ticket = self._unassigned_ticket()
        self.env["bus.presence"].create({"user_id": self.agent.id, "status": "online"})
        self._rpc(self.customer_a, JOIN, channel_id=ticket.channel_id.id)
        agent_socket = self._connect(self.agent)
        self._rpc(self.customer_a, LEAVE, channel_id=ticket.channel_id.id)
        self._dispatch([self.agent.partner_id])
        received = self._received_until_marker(agent_socket)
        self.assertIn(("im_livechat.ticket/call_ring_ended", {"id": ticket.id}), received)
        self.assertIn("Call not answered", ticket.channel_id.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "hung up"):
            ticket.with_user(self.agent).action_answer_call()

    # ------------------------------------------------------------
    # Networking
    # ------------------------------------------------------------

    def test_ice_servers(self):
        result = self._join(self.agent)
        self.assertFalse(result["Rtc"]["iceServers"], "Odoo's own: none, the client's fallback")
        self._leave(self.agent)
        self.env["ir.config_parameter"].sudo().set_param(CALL_HOST_CANDIDATES_PARAM, "1")
        result = self._join(self.agent)
        self.assertEqual(result["Rtc"]["iceServers"], [], "host candidates only")
        self._leave(self.agent)
        self.env["mail.ice.server"].sudo().create(
            {"server_type": "turn", "uri": "turn.example:3478"}
        )
        result = self._join(self.agent)
        self.assertEqual(result["Rtc"]["iceServers"], [{"urls": "turn:turn.example:3478"}])

    def test_other_channels_keep_odoos_calls(self):
        chat = (
            self.env["discuss.channel"]
            .with_user(self.agent)
            .channel_get(partners_to=self.agent_2.partner_id.ids)
        )
        self.env["ir.config_parameter"].sudo().set_param(CALL_HOST_CANDIDATES_PARAM, "1")
        result = self._rpc(self.agent, JOIN, channel_id=chat.id)
        self.assertFalse(result["Rtc"]["iceServers"])
