from urllib.parse import urlencode

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, TransactionCase, tagged

from .common import QUEUE_URL, TicketFixtures


class SearchFixtures(TicketFixtures):
    """Tickets of two customers with unique words in their conversations, and
    an agent's internal note on one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket_a = cls._new_ticket(cls.customer_a, "Battery", "The battery does not charge.")
        cls.ticket_a2 = cls._new_ticket(cls.customer_a, "Chain", "My chain jumps off.")
        cls.ticket_a2._demo_post_reply(cls.agent.id, "Please check the rear sprocket & chain.")
        cls.ticket_b = cls._new_ticket(
            cls.customer_b, "Screen", "The zanzibarite display flickers."
        )
        # internal notes are messages of the ticket, never of the conversation
        cls.ticket_a.with_user(cls.agent).message_post(
            body="Customer is a quokkafriend, be nice.", subtype_xmlid="mail.mt_note"
        )


@tagged("post_install", "-at_install")
class TestTicketSearch(SearchFixtures, TransactionCase):
    def _search(self, words, user=None):
        Ticket = self.env["im_livechat.ticket"].with_user(user or self.agent)
        return Ticket.search([("message_search", "ilike", words)])

    def test_agent_finds_by_conversation_words(self):
        self.assertEqual(self._search("jumps off"), self.ticket_a2)
        self.assertEqual(self._search("SPROCKET"), self.ticket_a2, "case does not matter")
        self.assertEqual(self._search("sprocket & chain"), self.ticket_a2, "HTML-escaped words")
        self.assertEqual(self._search("zanzibarite"), self.ticket_b)
        self.assertFalse(self._search("nowhere-to-be-found"))

    def test_agent_finds_own_notes(self):
        self.assertEqual(self._search("quokkafriend"), self.ticket_a)

    def test_subject_search_unchanged(self):
        self.assertFalse(self._search("Screen"), "the subject is not the conversation")
        Ticket = self.env["im_livechat.ticket"].with_user(self.agent)
        self.assertEqual(Ticket.search([("name", "ilike", "Screen")]), self.ticket_b)

    def test_customer_never_finds_other_customers_words(self):
        self.assertFalse(self._search("zanzibarite", self.customer_a))
        self.assertEqual(self._search("zanzibarite", self.customer_b), self.ticket_b)
        self.assertEqual(self._search("sprocket", self.customer_a), self.ticket_a2)

    def test_customer_never_matches_internal_notes(self):
        self.assertFalse(self._search("quokkafriend", self.customer_a))
        # nor an internal message of the conversation
        self.ticket_a.channel_id.with_user(self.agent).message_post(
            body="Internal: platypusword", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.assertFalse(self._search("platypusword", self.customer_a))
        self.assertEqual(self._search("platypusword"), self.ticket_a)

    def test_company_sharing(self):
        self.assertFalse(self._search("sprocket", self.customer_a2))
        self.company_a.ticket_company_sharing = True
        self.assertEqual(self._search("sprocket", self.customer_a2), self.ticket_a2)

    def test_one_query(self):
        Ticket = self.env["im_livechat.ticket"].with_user(self.agent)
        Ticket.search([("message_search", "ilike", "warm-up")])
        self.env.flush_all()
        with self.assertQueryCount(1):
            Ticket.search([("message_search", "ilike", "sprocket")])._ids  # noqa: B018

    def test_unsupported_operator(self):
        with self.assertRaises(UserError):
            self.env["im_livechat.ticket"].search([("message_search", "=", "x")])

    def test_conversation_match(self):
        ticket = self.ticket_a2.with_user(self.agent)
        match = ticket.get_conversation_search_match("sprocket")
        message = self.env["mail.message"].browse(match)
        self.assertIn("sprocket", message.body)
        self.assertEqual(message.res_id, ticket.channel_id.id)
        self.assertFalse(ticket.get_conversation_search_match("zanzibarite"))
        with self.assertRaises(AccessError):
            self.ticket_a2.with_user(self.customer_a).get_conversation_search_match("sprocket")


@tagged("post_install", "-at_install")
class TestTicketSearchPortal(SearchFixtures, HttpCase):
    def _list(self, **params):
        response = self.url_open(f"/my/tickets?{urlencode(params)}")
        self.assertEqual(response.status_code, 200)
        return response.text

    def test_portal_search_bar(self):
        self._login(self.customer_a)
        page = self._list()
        self.assertIn("o_portal_search_panel", page)
        self.assertIn("Search in Conversation", page)

    def test_portal_search_bar_in_german(self):
        self._load_german()
        self.customer_a.lang = "de_DE"
        self._login(self.customer_a)
        page = self._list(search="zanzibarite")
        self.assertIn("In der Unterhaltung suchen", page)
        self.assertIn("Keine Tickets entsprechen Ihrer Suche.", page)

    def test_portal_search_conversation(self):
        self._login(self.customer_a)
        page = self._list(search="sprocket", search_in="message")
        self.assertIn(f'data-ticket-id="{self.ticket_a2.id}"', page)
        self.assertNotIn(f'data-ticket-id="{self.ticket_a.id}"', page)
        # everywhere (subject and conversation) by default
        page = self._list(search="Battery")
        self.assertIn(f'data-ticket-id="{self.ticket_a.id}"', page)
        page = self._list(search="sprocket", search_in="name")
        self.assertIn("No tickets match your search.", page)

    def test_portal_search_never_shows_others_words_or_notes(self):
        self._login(self.customer_a)
        for words in ("zanzibarite", "quokkafriend"):
            page = self._list(search=words, search_in="message")
            self.assertNotIn("data-ticket-id=", page)
            self.assertIn("No tickets match your search.", page)
            page = self._list(search=words)
            self.assertNotIn("data-ticket-id=", page)


@tagged("post_install", "-at_install")
class TestTicketSearchTour(SearchFixtures, HttpCase):
    def test_search_highlights_message(self):
        self.start_tour(
            QUEUE_URL,
            "im_livechat_ticket_search_tour",
            login=self.agent.login,
        )
