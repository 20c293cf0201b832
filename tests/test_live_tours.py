import functools
import re
import threading
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import plaintext2html

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures, sockets_following

# Texts shared with static/tests/tours/ticket_agent_live_message_tour.js
LIVE_SUBJECT = "Live unread: the bell is mute"
FIRST_MESSAGE = "My bell does not ring any more."
AGENT_REPLY = "Did you try to tighten the clapper screw?"
CUSTOMER_MESSAGE = "Tightened it, still no ring at all"
# ... and with static/tests/tours/ticket_customer_rating_tour.js
RATING_SUBJECT = "Rated: the lights flicker"
RATING_COMMENT = "Quick answer, the lights shine again"


def _has_leaf(domain, leaf):
    return any(isinstance(term, (list, tuple)) and tuple(term) == leaf for term in domain or ())


@tagged("post_install", "-at_install")
class TestLiveTours(TicketFixtures, WebsocketCase):
    """Tours with the real websocket of the browser.

    In a test the transaction is never committed, so the NOTIFY that wakes
    the websockets in production never fires: the background thread posts
    under the test cursor (it serialises with the server threads), then
    dispatches the bus by hand, as NOTIFY would after the commit."""

    def _age_bus_notifications(self):
        """The setup happened a while ago: a fresh browser's bus replays the
        notifications of the last 50 seconds, which would reload the pages
        under the tour (the setup's ticket events, messages)."""
        self.env.flush_all()
        self.env.cr.precommit.run()  # the bus rows are written by a pre-commit hook
        self.env.cr.execute("UPDATE bus_bus SET create_date = create_date - interval '1 hour'")

    # ------------------------------------------------------------------
    # 1. the agent sees the customer's message arrive, unread then read
    # ------------------------------------------------------------------

    def _agent_member(self, ticket):
        return ticket.channel_id.channel_member_ids.filtered(
            lambda m: m.partner_id == self.agent.partner_id
        )

    def test_agent_live_message_unread(self):
        customer = self.customer_a
        ticket = self._new_ticket(customer, LIVE_SUBJECT, FIRST_MESSAGE)
        channel = ticket.channel_id
        self.assertEqual(ticket.user_id, self.agent, "assigned to the team's default agent")
        self.assertIn(self.agent.partner_id, channel.channel_member_ids.partner_id)
        # the agent answered: nothing is unread for them
        channel.with_user(self.agent).message_post(
            body=plaintext2html(AGENT_REPLY),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.env.invalidate_all()
        self.assertEqual(ticket.agent_unread_count, 0, "the agent has read everything")
        self.assertEqual(ticket.state, "open")
        self._age_bus_notifications()

        # The tour tells this thread where it is with the queue's searches:
        # it shows the waiting tickets, then its own open tickets again;
        # once that search returned (the card shows no unread badge), only
        # the bus can bring the badge to the screen.
        Ticket = self.registry["im_livechat.ticket"]
        web_read_group = Ticket.web_read_group
        web_search_read = Ticket.web_search_read
        showed_waiting = threading.Event()
        showed_mine_again = threading.Event()
        agent_id = self.agent.id

        # the grouped kanban reads its groups, then the records of each
        @functools.wraps(web_read_group)  # keeps the method's decorators
        def web_read_group_spy(records, domain, *args, **kwargs):
            if _has_leaf(domain, ("user_id", "=", False)):
                showed_waiting.set()
            return web_read_group(records, domain, *args, **kwargs)

        @functools.wraps(web_search_read)
        def web_search_read_spy(records, domain, *args, **kwargs):
            result = web_search_read(records, domain, *args, **kwargs)
            if _has_leaf(domain, ("user_id", "=", False)):
                showed_waiting.set()
            elif showed_waiting.is_set() and _has_leaf(domain, ("user_id", "=", agent_id)):
                showed_mine_again.set()
            return result

        self.startPatcher(patch.object(Ticket, "web_read_group", web_read_group_spy))
        self.startPatcher(patch.object(Ticket, "web_search_read", web_search_read_spy))
        db_name = self.registry.db_name

        def post_customer_message(env):
            customer_user = env["res.users"].browse(customer.id)
            return (
                env["discuss.channel"]
                .with_user(customer_user)
                .browse(channel.id)
                .message_post(
                    body=plaintext2html(CUSTOMER_MESSAGE),
                    message_type="comment",
                    subtype_xmlid="mail.mt_comment",
                )
                .id
            )

        message_id = self._run_queue_tour_beside(
            "im_livechat_ticket_agent_live_message_tour",
            # the queue showed the waiting tickets, then its own again, with
            # the agent's websocket following the conversation
            ready=lambda: showed_mine_again.is_set() and sockets_following(db_name, channel),
            action=post_customer_message,
            wake=[channel],
        )

        self.assertTrue(message_id, "the customer's message was not posted")
        self.env.invalidate_all()
        messages = channel.message_ids.filtered(
            lambda m: m.message_type == "comment" and CUSTOMER_MESSAGE in (m.body or "")
        )
        self.assertEqual(len(messages), 1, "the message is stored once")
        self.assertEqual(messages.id, message_id)
        self.assertEqual(messages.author_id, customer.partner_id)
        self.assertEqual(ticket.agent_unread_count, 0, "read by the agent in the browser")
        self.assertEqual(self._agent_member(ticket).seen_message_id, messages)

    # ------------------------------------------------------------------
    # 2. the customer rates the help of a resolved ticket
    # ------------------------------------------------------------------

    def _ratings(self, ticket):
        return self.env["rating.rating"].search(
            [
                ("res_model", "=", "im_livechat.ticket"),
                ("res_id", "=", ticket.id),
                ("consumed", "=", True),
            ]
        )

    def test_customer_rates_resolved_ticket(self):
        customer = self.customer_a
        ticket = self._new_ticket(customer, RATING_SUBJECT, "The front light flickers.")
        ticket.with_user(self.agent).action_resolve()
        self.assertEqual(ticket.state, "resolved")
        self.assertTrue(ticket.rating_ids, "resolving asks the customer for a rating")
        self.assertFalse(self._ratings(ticket))
        self._age_bus_notifications()

        self.start_tour(
            f"/my/tickets/{ticket.id}",
            "im_livechat_ticket_customer_rating_tour",
            login=customer.login,
        )

        self.env.invalidate_all()
        rating = self._ratings(ticket)
        self.assertEqual(len(rating), 1, "rated once")
        self.assertEqual(rating.rating, 4)
        self.assertEqual(rating.feedback, RATING_COMMENT)
        self.assertEqual(rating.partner_id, customer.partner_id)
        self.assertEqual((rating.res_model, rating.res_id), ("im_livechat.ticket", ticket.id))
        self.assertEqual(ticket._get_customer_rating(), rating)

        # a second rating, through the form's route, is refused
        self._login(customer)
        page = self.url_open(f"/my/tickets/{ticket.id}")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("o_im_livechat_ticket_rating_form", page.text, "no form once rated")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        self.assertTrue(csrf, "the page has a csrf token")
        response = self.url_open(
            f"/my/tickets/{ticket.id}/rate",
            data={"csrf_token": csrf.group(1), "score": "1", "feedback": "Changed my mind"},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 200, "the page again, with the error")
        self.assertIn("You have already rated this ticket.", response.text)
        self.env.invalidate_all()
        rating = self._ratings(ticket)
        self.assertEqual(len(rating), 1, "still rated once")
        self.assertEqual(rating.rating, 4)
        self.assertEqual(rating.feedback, RATING_COMMENT)
