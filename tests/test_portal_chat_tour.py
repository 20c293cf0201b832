import logging
import threading
import time

from odoo import api
from odoo.tests import tagged
from odoo.tools import plaintext2html

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures, sockets_following, wake_sockets

_logger = logging.getLogger(__name__)

# Texts shared with static/tests/tours/ticket_portal_chat_tour.js
FIRST_MESSAGE = "My e-bike battery does not charge."
PHOTO_TEXT = "Here is a photo of the charger"
AGENT_REPLY = "Thanks, the charger looks fine"
SOLVED_TEXT = "It charges again, thank you!"
PING_TEXT = "Ping before going offline"
AWAY_REPLY = "Posted while you were away"
ONLINE_REPLY = "I can see that you are online"

WAIT_TIMEOUT = 30
POLL_INTERVAL = 0.2


class ScriptedAgent(threading.Thread):
    """The agent's side of a conversation, played while a tour runs the
    customer's in a browser: each step waits (bounded) for a condition on the
    database, then acts, then tells the websockets, as PostgreSQL's NOTIFY
    would after a commit (tests never commit).

    The server threads serving the browser share the test transaction: every
    database access here holds the registry's test lock (a test cursor takes
    it), so it runs between two requests, never during one.

    :param steps: list of ``(condition, action)``; ``condition(env)`` returns
        whether the step may start, ``action(env)`` acts and returns the bus
        targets to dispatch (records or ``(record, subchannel)``), or None.
        Both get a superuser environment on a fresh test cursor.
    :param page_is_live: callable without argument telling, without the
        database, that the customer's page is live (by default: a websocket
        follows ``case.channel``).
    """

    def __init__(self, case, steps, page_is_live=None):
        super().__init__(name="im_livechat_ticket.scripted_agent", daemon=True)
        self.case = case
        self.steps = steps
        self.page_is_live = page_is_live or self._follows_case_channel
        self.error = None
        self.done = threading.Event()

    def run(self):
        try:
            self._wait_for_customer_websocket()
            for condition, action in self.steps:
                self._wait_for(condition)
                with self.case.registry.test_lock:
                    with self.case.registry.cursor() as cr:
                        targets = action(api.Environment(cr, api.SUPERUSER_ID, {}))
                    # the commit ran the precommit hooks: the bus.bus rows exist
                    if targets:
                        wake_sockets(self.case.registry.db_name, targets)
        except Exception as error:  # reported by the test
            _logger.exception("scripted agent failed")
            self.error = error
        finally:
            self.done.set()

    def play_beside(self, tour, url, login, timeout=WAIT_TIMEOUT):
        """Play the steps while the case runs ``tour`` from ``url`` as
        ``login``; then raise what failed on the agent's side, if anything."""
        self.start()
        self.case.addCleanup(self.done.wait, timeout)
        self.case.start_tour(url, tour, login=login)
        self.done.wait(timeout)
        if self.error:
            raise self.error

    def _follows_case_channel(self):
        return bool(sockets_following(self.case.registry.db_name, self.case.channel))

    def _wait_for_customer_websocket(self):
        """Touch no database before the customer's page is live: until then
        the test's own thread uses the test cursor (login, browser start)
        without the test lock. A websocket following the conversation means
        the page is loaded and its bus started."""
        deadline = time.monotonic() + WAIT_TIMEOUT
        while not self.page_is_live():
            if time.monotonic() > deadline:
                raise TimeoutError("the customer's page never followed the conversation")
            time.sleep(POLL_INTERVAL)

    def _wait_for(self, condition):
        deadline = time.monotonic() + WAIT_TIMEOUT
        while time.monotonic() < deadline:
            with self.case.registry.test_lock:
                with self.case.registry.cursor() as cr:
                    if condition(api.Environment(cr, api.SUPERUSER_ID, {})):
                        return
            time.sleep(POLL_INTERVAL)
        raise TimeoutError(f"the customer never did what {condition.__name__} waits for")


@tagged("post_install", "-at_install")
class TestPortalChatTour(TicketFixtures, WebsocketCase):
    """The live chat of the ticket page in a real browser, with its real
    websocket: the customer writes and uploads, the agent answers from
    another "session" (a background thread) and the answer shows without
    reloading; resolving switches the page to the resolved notice; after a
    dropped connection the missed message shows once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket("Battery", FIRST_MESSAGE)
        cls.customer_partner = cls.customer_a.partner_id

    def _tour_with_agent(self, tour, steps):
        """The customer runs ``tour`` on the ticket's page while the agent
        plays ``steps`` (see ScriptedAgent)."""
        ScriptedAgent(self, steps).play_beside(
            tour, f"/my/tickets/{self.ticket.id}", self.customer_a.login
        )

    def _customer_comments(self, env, text, domain=()):
        return env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "=", self.channel.id),
                ("message_type", "=", "comment"),
                ("author_id", "=", self.customer_partner.id),
                ("body", "ilike", text),
                *domain,
            ]
        )

    def _agent_post(self, env, body):
        channel = env["discuss.channel"].with_user(self.agent).browse(self.channel.id)
        return channel.message_post(
            body=plaintext2html(body), message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    def _comments(self, text):
        self.env.invalidate_all()
        return self.channel.message_ids.filtered(
            lambda m: m.message_type == "comment" and text in (m.body or "")
        )

    def test_portal_chat_tour(self):
        def customer_sent_photo(env):
            return self._customer_comments(env, PHOTO_TEXT, [("attachment_ids", "!=", False)])

        def reply(env):
            self._agent_post(env, AGENT_REPLY)
            return [self.channel]

        def customer_says_solved(env):
            return self._customer_comments(env, SOLVED_TEXT)

        def resolve(env):
            env["im_livechat.ticket"].with_user(self.agent).browse(self.ticket.id).action_resolve()
            # the notice in the conversation, the ticket event to the customer
            return [self.channel, self.customer_partner]

        self._tour_with_agent(
            "im_livechat_ticket_portal_chat_tour",
            [(customer_sent_photo, reply), (customer_says_solved, resolve)],
        )

        photo_message = self._comments(PHOTO_TEXT)
        self.assertEqual(len(photo_message), 1, "the message is stored once")
        self.assertEqual(photo_message.author_id, self.customer_partner)
        self.assertTrue(
            photo_message.ticket_client_key, "the portal chat keys its posts (retries store once)"
        )
        attachment = photo_message.attachment_ids
        self.assertEqual(attachment.mapped("name"), ["charger.png"], "the picture is stored once")
        self.assertEqual(attachment.mimetype, "image/png")
        self.assertEqual(
            (attachment.res_model, attachment.res_id), ("discuss.channel", self.channel.id)
        )
        self.assertEqual(len(self._comments(AGENT_REPLY)), 1)
        solved = self._comments(SOLVED_TEXT)
        self.assertEqual(len(solved), 1)
        self.assertEqual(solved.author_id, self.customer_partner)
        self.assertEqual(self.ticket.state, "resolved")

    def test_portal_chat_catch_up_after_reconnect(self):
        def customer_pinged(env):
            return self._customer_comments(env, PING_TEXT)

        def post_unnoticed_then_type(env):
            # The page must not learn about this message from the bus: drop
            # its notifications, as if they were lost with the connection.
            last_bus_id = env["bus.bus"]._bus_last_id()
            self._agent_post(env, AWAY_REPLY)
            env.cr.flush()
            env["bus.bus"].search([("id", ">", last_bus_id)]).unlink()
            # ... then a notification the page gets: the agent types
            agent_member = env["discuss.channel.member"].search(
                [
                    ("channel_id", "=", self.channel.id),
                    ("partner_id", "=", self.agent.partner_id.id),
                ]
            )
            agent_member._notify_typing(True)
            return [self.channel]

        self._tour_with_agent(
            "im_livechat_ticket_portal_chat_catchup_tour",
            [(customer_pinged, post_unnoticed_then_type)],
        )
        self.assertEqual(len(self._comments(AWAY_REPLY)), 1)
        self.assertEqual(len(self._comments(PING_TEXT)), 1)

    def _customer_presence(self):
        """The customer's presence as the agent's client reads it, from a
        fresh cursor under the test lock (the websocket's thread writes it)."""
        with self.registry.test_lock, self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            presence = env["bus.presence"].search([("user_id", "=", self.customer_a.id)])
            return presence.status, env["res.partner"].browse(self.customer_partner.id).im_status

    def test_customer_presence_follows_the_page(self):
        """Odoo's presence of the customer: online while their ticket page is
        open (as the agent sees it: ``im_status`` of their partner), offline
        once they left it."""
        self.assertNotEqual(self._customer_presence()[1], "online")

        def customer_online(env):
            presence = env["bus.presence"].search([("user_id", "=", self.customer_a.id)])
            partner = env["res.partner"].browse(self.customer_partner.id)
            return presence.status == "online" and partner.im_status == "online"

        def reply(env):
            self._agent_post(env, ONLINE_REPLY)
            return [self.channel]

        self._tour_with_agent("im_livechat_ticket_portal_presence_tour", [(customer_online, reply)])
        self.assertEqual(len(self._comments(ONLINE_REPLY)), 1)

        # the browser closed with the tour: its websocket too
        deadline = time.monotonic() + WAIT_TIMEOUT
        while self._customer_presence() != ("offline", "offline"):
            if time.monotonic() > deadline:
                self.fail(f"the customer is still {self._customer_presence()} after leaving")
            time.sleep(POLL_INTERVAL)
