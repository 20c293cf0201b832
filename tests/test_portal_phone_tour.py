from odoo.tests import tagged
from odoo.tools import plaintext2html

from odoo.addons.bus.models.bus import dispatch
from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures
from .test_portal_chat_tour import ScriptedAgent

# Texts shared with static/tests/tours/ticket_portal_phone_tour.js
SUBJECT = "Phone: the rear light is loose"
FIRST_MESSAGE = "It rattles on every bump."
CUSTOMER_MESSAGE = "Sent from my phone with the Enter key"
AGENT_REPLY = "A new clip is on its way"


@tagged("post_install", "-at_install")
class TestPortalPhoneTour(TicketFixtures, WebsocketCase):
    """The customer's pages on a small phone (375x667, touch), in a real
    browser: the list, the new-ticket form and the live chat fit the screen
    (no sideways scrolling, the composer on screen), every field has an
    accessible name, a message goes with the Enter key, and the agent's
    answer is read out through the chat's live region (author and text),
    the customer's own message is not."""

    browser_size = "375x667"
    touch_enabled = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._new_ticket(
            cls.customer_a,
            "An earlier ticket whose subject is long enough to need two lines on a phone",
            "The saddle clamp slips.",
        )
        cls.last_channel_id = max(cls.env["discuss.channel"].search([]).ids)

    def _new_conversation_followed(self):
        """A websocket follows a conversation created after the setup: the
        ticket the tour opened shows its live chat."""
        db_name = self.registry.db_name
        return any(
            len(key) == 3
            and key[:2] == (db_name, "discuss.channel")
            and key[2] > self.last_channel_id
            for key in list(dispatch._channels_to_ws)
        )

    def _tour_ticket(self, env):
        return env["im_livechat.ticket"].search(
            [("partner_id", "=", self.customer_a.partner_id.id), ("name", "=", SUBJECT)]
        )

    def _comments(self, channel, text):
        return channel.message_ids.filtered(
            lambda m: m.message_type == "comment" and text in (m.body or "")
        )

    def test_phone_list_form_and_chat(self):
        def customer_wrote(env):
            ticket = self._tour_ticket(env)
            return ticket and self._comments(ticket.channel_id, CUSTOMER_MESSAGE)

        def reply(env):
            channel = self._tour_ticket(env).channel_id
            channel.with_user(self.agent).message_post(
                body=plaintext2html(AGENT_REPLY),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            return [channel]

        agent = ScriptedAgent(
            self, [(customer_wrote, reply)], page_is_live=self._new_conversation_followed
        )
        agent.play_beside(
            "im_livechat_ticket_portal_phone_tour",
            "/my/tickets",
            self.customer_a.login,
            timeout=60,
        )

        self.env.invalidate_all()
        ticket = self._tour_ticket(self.env)
        self.assertEqual(len(ticket), 1, "the form opened one ticket")
        self.assertEqual(ticket.user_id, self.agent)
        self.assertEqual(len(self._comments(ticket.channel_id, FIRST_MESSAGE)), 1)
        sent = self._comments(ticket.channel_id, CUSTOMER_MESSAGE)
        self.assertEqual(len(sent), 1, "the Enter key sent the message once")
        self.assertEqual(sent.author_id, self.customer_a.partner_id)
        self.assertEqual(len(self._comments(ticket.channel_id, AGENT_REPLY)), 1)
