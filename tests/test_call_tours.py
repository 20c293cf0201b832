import base64
import json
import logging
import pathlib
import re
import threading
from unittest.mock import patch

from odoo.sql_db import TestCursor
from odoo.tests import tagged
from odoo.tests.common import HOST, ChromeBrowser
from odoo.tools import config

from odoo.addons.bus.models.bus import dispatch, hashable
from odoo.addons.bus.tests.common import WebsocketCase

from ..models.im_livechat_ticket_call import CALL_HOST_CANDIDATES_PARAM
from .common import QUEUE_URL, TicketFixtures, emulate_screen

_logger = logging.getLogger(__name__)

# how long one browser's tour may take, the other party included
TOUR_TIMEOUT = 180


class FakeMediaChrome(ChromeBrowser):
    """Odoo's headless Chrome with a fake camera and microphone, granted
    without asking: what a call needs in a test."""

    def _spawn_chrome(self, cmd):
        executable, *switches = cmd
        fake_media = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
        return super()._spawn_chrome([executable, *fake_media, *switches])


@tagged("post_install", "-at_install")
class TestTicketCallTours(TicketFixtures, WebsocketCase):
    """A real call between two browsers on one machine, peer to peer with
    host candidates only (no STUN or TURN server): the agent's backend and
    the customer's ticket page, each its own headless Chrome with fake
    media, run their tours side by side (static/tests/tours/ticket_call_*).

    Everything between them goes through Odoo's bus (the ring, the call's
    signalling). In production PostgreSQL's NOTIFY after each commit wakes
    the websockets; test cursors never commit, so here each request's
    "commit" wakes the sockets of the channels it notified."""

    browser_size = "1366x900"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket_fixtures()
        cls.env["ir.config_parameter"].sudo().set_param(CALL_HOST_CANDIDATES_PARAM, "1")
        cls.env["mail.ice.server"].sudo().search([]).unlink()
        cls._setup_ticket("Router blinks red", "Can you call me?")

    def setUp(self):
        super().setUp()
        self.browser_logs = []
        commit = TestCursor.commit

        def commit_and_wake_sockets(cursor):
            channels = list(cursor.postcommit.data.get("bus.bus.channels", ()))
            commit(cursor)
            websockets = set()
            for channel in channels:
                websockets.update(dispatch._channels_to_ws.get(hashable(channel), ()))
            for websocket in websockets:
                websocket.trigger_notification_dispatching()

        self.startPatcher(patch.object(TestCursor, "commit", commit_and_wake_sockets))

    def _new_session(self, user):
        # authenticate() deletes the previous session: keep every party's
        self.session = None
        return self.authenticate(user.login, user.login)

    def _new_browser(self, size):
        """A browser of its own (made in the main thread: Chrome's helper
        sets a signal handler) of ``size`` ("WIDTHxHEIGHT"), its console kept
        for the test; ``ticket call: screenshot <name>`` in it saves a
        screenshot as ``<name>.png`` in the test's screenshot folder."""
        self.browser_size = size
        browser = FakeMediaChrome(self, success_signal="tour succeeded")
        handle_console = browser._handle_console

        def keep_console(**params):
            text = " ".join(str(arg.get("value", "")) for arg in params.get("args") or [])
            self.browser_logs.append(text)
            match = re.match(r"ticket call: screenshot ([\w-]+)$", text)
            if match:
                self._save_screenshot(browser, match.group(1))
            return handle_console(**params)

        browser._handlers["Runtime.consoleAPICalled"] = keep_console
        return browser

    def _save_screenshot(self, browser, name):
        folder = pathlib.Path(config["screenshots"], self.env.cr.dbname, "call_screenshots")
        folder.mkdir(parents=True, exist_ok=True)

        def save(future):
            data = future.result(timeout=0).get("data")
            if data:
                (folder / f"{name}.png").write_bytes(base64.b64decode(data))
                _logger.info("ticket call: screenshot saved in %s", folder / f"{name}.png")

        # answered on the browser's receiving thread: not waited for here
        browser._websocket_send("Page.captureScreenshot", with_future=True).add_done_callback(save)

    def _run_tour(self, name, browser, session, url, tour, errors):
        """Run ``tour`` on ``url`` in ``browser``, signed in with ``session``;
        a failure goes to ``errors[name]``."""
        try:
            emulate_screen(browser, self._sizes[name])
            browser.set_cookie("session_id", session.sid, "/", HOST)
            browser.navigate_to(f"{self.base_url()}{url}", wait_stop=False)
            if not browser._wait_ready(f"odoo.isTourReady({tour!r})", timeout=60):
                raise AssertionError(f"{name}: tour {tour} never got ready")
            options = json.dumps({"stepDelay": 0, "startUrl": url})
            browser._wait_code_ok(f"odoo.startTour({tour!r}, {options})", TOUR_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - reported by the test
            _logger.exception("%s's browser failed", name)
            errors[name] = error

    def _run_call(self, agent_tour, customer_tour, customer_size="1366x900", ticket=None):
        """The agent on the ticket's form (on the queue when the ticket is
        unassigned) and the customer on the ticket's page, each in a
        browser, at the same time."""
        ticket = ticket or self.ticket
        agent_session = self._new_session(self.agent)
        customer_session = self._new_session(self.customer_a)
        self.cr.flush()
        self.cr.clear()
        errors = {}
        self._sizes = {"agent": "1366x900", "customer": customer_size}
        agent_url = QUEUE_URL
        if ticket.user_id:
            agent_url += f"/{ticket.id}"
        browsers = []
        try:
            browsers.append(self._new_browser("1366x900"))
            browsers.append(self._new_browser(customer_size))
            parties = [
                ("agent", browsers[0], agent_session, agent_url, agent_tour),
                (
                    "customer",
                    browsers[1],
                    customer_session,
                    f"/my/tickets/{ticket.id}",
                    customer_tour,
                ),
            ]
            threads = [
                threading.Thread(target=self._run_tour, args=(*party, errors), daemon=True)
                for party in parties
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(TOUR_TIMEOUT + 60)
            self.assertFalse(any(thread.is_alive() for thread in threads), "a browser hung")
        finally:
            for browser in reversed(browsers):
                browser.stop()
            self._wait_remaining_requests()
        self.assertFalse(errors, f"the call failed: {errors}")
        self.env.invalidate_all()
        self.assertFalse(ticket.channel_id.sudo().rtc_session_ids, "both call sessions ended")
        ended = ticket.channel_id.message_ids.filtered(lambda m: "Call ended" in (m.body or ""))
        self.assertEqual(len(ended), 1, "one 'Call ended' notice")

    def _accept_to_connected_ms(self):
        for line in self.browser_logs:
            match = re.search(r"accept to connected media in (\d+) ms", line)
            if match:
                return int(match.group(1))
        return None

    def test_agent_calls_customer_answers(self):
        self._run_call("ticket_call_agent_calls_tour", "ticket_call_customer_answers_tour")
        elapsed = self._accept_to_connected_ms()
        self.assertIsNotNone(elapsed, "the customer's page measured the call")
        _logger.info("ticket call: accept to connected media in %s ms", elapsed)

    def test_customer_calls_agent_answers(self):
        # the customer on a phone
        self._run_call(
            "ticket_call_agent_answers_tour", "ticket_call_customer_calls_tour", "375x812"
        )

    def test_customer_calls_on_unassigned_ticket_agent_answers_the_ring(self):
        self.team.ticket_default_user_id = False
        ticket = self._new_ticket(self.customer_a, "Nobody took it", "Can someone call me?")
        self.assertFalse(ticket.user_id)
        # the agent works the queue: online for the team
        self.env["bus.presence"].create({"user_id": self.agent.id, "status": "online"})
        self._run_call(
            "ticket_call_agent_answers_ring_tour",
            "ticket_call_customer_calls_team_tour",
            ticket=ticket,
        )
        self.assertEqual(ticket.user_id, self.agent, "answering took the ticket")
