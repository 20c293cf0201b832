import json

from odoo.tests import tagged

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures

# Written by `make test` (tools/dev.sh) with SQL before the addon is installed.
SNAPSHOT_KEY = "im_livechat_ticket.test_install_snapshot"
NEW_MESSAGE = "discuss.channel/new_message"


@tagged("-standard", "imlt_install")
class TestInstallIntoExistingLivechat(TicketFixtures, WebsocketCase):
    """The addon installed into a database that already had live chat:
    im_livechat's demo sessions, messages, ratings, operators and team.

    Not part of the normal suite: `make test` creates such a database, reads
    its live chat data with SQL, installs the addon with these tests
    (`--test-tags imlt_install`), then uninstalls it and runs stock tests.
    At install, right after the addon's data: no other module comes after it,
    and Odoo does not build every asset bundle first as it does before
    post-install browser tests.

    Its fixtures are that data, not the shared ones: the checks compare it
    with what the database held before the install."""

    @classmethod
    def _setup_ticket_fixtures(cls):
        snapshot = cls.env["ir.config_parameter"].sudo().get_param(SNAPSHOT_KEY)
        if not snapshot:
            raise AssertionError(f"no {SNAPSHOT_KEY}: run these tests through `make test`")
        cls.snapshot = json.loads(snapshot)
        cls.sessions = cls.env["discuss.channel"].browse(
            int(key) for key in cls.snapshot["sessions"]
        )
        cls.teams = cls.env["im_livechat.channel"].browse(int(key) for key in cls.snapshot["teams"])
        cls.team = cls.env.ref("im_livechat.im_livechat_channel_data")
        cls.operator = cls.env.ref("base.user_demo")

    def setUp(self):
        super().setUp()

        # The operators are online (no browser keeps their presence here).
        def _compute_available_operator_ids(teams):
            for team in teams:
                team.available_operator_ids = team.user_ids

        self.patch(
            type(self.env["im_livechat.channel"]),
            "_compute_available_operator_ids",
            _compute_available_operator_ids,
        )

    def test_snapshot_has_live_chat_data(self):
        self.assertIn(self.team, self.teams)
        self.assertGreaterEqual(
            len(self.sessions), 5, "im_livechat's demo sessions were there before"
        )
        self.assertTrue(any(team["counted_ratings"] for team in self.snapshot["teams"].values()))

    def test_sessions_kept_and_readable(self):
        for session in self.sessions:
            before = self.snapshot["sessions"][str(session.id)]
            self.assertTrue(session.exists())
            self.assertEqual(session.channel_type, "livechat")
            self.assertEqual(session.livechat_operator_id.id, before["operator"])
            self.assertEqual(len(session.channel_member_ids), before["members"])
            self.assertEqual(len(session.message_ids), before["messages"])
            self.assertFalse(session.livechat_ticket_ids, "an old chat does not become a ticket")
            operator = session.livechat_operator_id.user_ids[:1]
            if operator:
                # the operator reads the history as Discuss does
                messages = session.with_user(operator).message_ids
                self.assertEqual(len(messages), before["messages"])
                messages.read(["body", "author_id", "date"])
        self.assertEqual(
            self.env["im_livechat.ticket"].search_count([("channel_id", "in", self.sessions.ids)]),
            0,
        )

    def test_operator_posts_in_existing_session(self):
        session = self.sessions.filtered(
            lambda s: s.livechat_operator_id == self.operator.partner_id
        )[:1]
        session = session or self.sessions.filtered(lambda s: s.livechat_operator_id.user_ids)[:1]
        operator = session.livechat_operator_id.user_ids[:1]
        tickets = self.env["im_livechat.ticket"].search_count([])
        message = session.with_user(operator).message_post(
            body="Following up on our chat.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertEqual(message.author_id, operator.partner_id)
        self.assertIn(message, session.message_ids)
        self.assertEqual(
            self.env["im_livechat.ticket"].search_count([]), tickets, "a plain chat stays a chat"
        )

    def test_ratings_still_counted(self):
        for team in self.teams:
            before = self.snapshot["teams"][str(team.id)]
            ratings = self.env["rating.rating"].browse(int(key) for key in before["ratings"])
            self.assertEqual(len(ratings.exists()), len(before["ratings"]))
            for rating in ratings:
                self.assertEqual(rating.rating, before["ratings"][str(rating.id)])
                self.assertEqual(rating.res_model, "discuss.channel")
            self.assertEqual(team.rating_count, before["counted_ratings"])
            if before["counted_ratings"]:
                self.assertAlmostEqual(team.rating_avg, before["counted_rating_avg"], places=2)
        # the operators' own view of their ratings, as the Live Chat reports show it
        domain = [
            ("parent_res_model", "=", "im_livechat.channel"),
            ("parent_res_id", "=", self.team.id),
        ]
        self.assertEqual(
            self.env["rating.rating"].with_user(self.operator).search_count(domain),
            len(self.snapshot["teams"][str(self.team.id)]["ratings"]),
        )

    def test_operators_unchanged(self):
        group = self.env.ref("im_livechat.im_livechat_group_user")
        livechat_users = group.with_context(active_test=False).users
        for team in self.teams:
            before = self.snapshot["teams"][str(team.id)]
            # archived users (OdooBot) included, as the snapshot reads the table
            self.assertEqual(
                sorted(team.with_context(active_test=False).user_ids.ids), before["operators"]
            )
            self.assertLessEqual(set(before["operators"]), set(livechat_users.ids))
            # the addon's settings start neutral: no capacity, no reassignment
            self.assertEqual(team.ticket_max_open, 0)
            self.assertEqual(team.ticket_reassign_minutes, 0)
            self.assertFalse(team.ticket_sla_ids)

    def test_stock_live_chat_views_render(self):
        """Every window action of Live Chat loads its views for an operator
        (for an administrator where operators have no access), with the
        addon's inherited views applied."""
        actions = self.env["ir.model.data"].search(
            [("module", "=", "im_livechat"), ("model", "=", "ir.actions.act_window")]
        )
        self.assertTrue(actions)
        for data in actions:
            action = self.env["ir.actions.act_window"].browse(data.res_id)
            model = self.env[action.res_model].with_user(self.operator)
            if not model.has_access("read"):
                model = model.with_user(self.env.ref("base.user_admin"))
            views = [(view.view_id.id, view.view_mode) for view in action.view_ids]
            modes = set(action.view_mode.split(",")) - {mode for _id, mode in views}
            views += [
                (action.view_id.id if action.view_id.type == mode else False, mode)
                for mode in modes
            ]
            result = model.get_views(views, {"search_view_id": action.search_view_id.id})
            self.assertTrue(result["views"], action.name)
        form = self.team.with_user(self.operator).get_views([(False, "form")])["views"]["form"]
        self.assertIn("ticket_assignment", form["arch"], "the team form shows the ticket settings")

    def test_visitor_chats_with_existing_team(self):
        """A visitor opens a live chat on the old team and writes; the
        operator's websocket receives the message. No ticket is made."""
        tickets = self.env["im_livechat.ticket"].search_count([])
        last_bus_id = self.env["bus.bus"]._bus_last_id()
        data = self.make_jsonrpc_request(
            "/im_livechat/get_session",
            {
                "anonymous_name": "Visitor 77",
                "channel_id": self.team.id,
                "previous_operator_id": None,
            },
        )
        channel = self.env["discuss.channel"].browse(data["discuss.channel"][0]["id"])
        self.assertEqual(channel.livechat_channel_id, self.team)
        operator = channel.livechat_operator_id.user_ids[:1]
        self.assertIn(operator, self.team.user_ids)
        visitor = self.opener
        operator_session = self._login(operator)
        self.opener = visitor
        websocket = self.websocket_connect(cookie=f"session_id={operator_session.sid}")
        self.subscribe(websocket, [], last_bus_id)
        self._post_to_conversation(channel, "Do you ship to Austria?")
        message = channel.message_ids[:1]
        self.assertEqual(message.author_guest_id, channel.channel_member_ids.guest_id)
        with self.registry.test_lock:  # the socket's thread shares our transaction
            self.trigger_notification_dispatching([channel])
        bodies = []
        while "Do you ship to Austria?" not in "".join(bodies):
            for notification in json.loads(websocket.recv()):
                if notification["message"]["type"] == NEW_MESSAGE:
                    payload = notification["message"]["payload"]
                    bodies += [m["body"] for m in payload["data"]["mail.message"]]
        self.assertIn("Do you ship to Austria?", "".join(bodies))
        self.assertEqual(self.env["im_livechat.ticket"].search_count([]), tickets)
