import re

from odoo.tests import HttpCase, tagged

from .common import TicketFixtures

ENGLISH_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}


@tagged("post_install", "-at_install")
class TestPortalLanguage(TicketFixtures, HttpCase):
    """A signed-in customer sees the portal in their profile's language, as
    their e-mails are, whatever the browser or its ``frontend_lang`` cookie
    says; a language picked in the page's selector goes to the profile."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_german()
        cls._setup_ticket_fixtures()
        cls.customer_a.lang = "de_DE"
        cls._new_ticket(cls.customer_a, "Akku lädt nicht", "Seit gestern.")

    def _get(self, url):
        return self.url_open(url, headers=ENGLISH_BROWSER, allow_redirects=False)

    def _assert_german(self, response, text="Neues Ticket"):
        self.assertEqual(response.status_code, 200)
        self.assertIn('<html lang="de-DE"', response.text)
        self.assertIn(text, response.text)
        self.assertNotIn("New ticket", response.text)

    def _assert_english(self, response):
        self.assertEqual(response.status_code, 200)
        self.assertIn('<html lang="en-US"', response.text)
        self.assertIn("New ticket", response.text)

    def test_profile_language_over_browser_and_cookie(self):
        self.authenticate(self.customer_a.login, self.customer_a.login)
        self.opener.cookies["frontend_lang"] = "en_US"
        response = self._get("/my/tickets")
        self._assert_german(response)
        # the cookie follows the page, for the frontend's JavaScript
        self.assertEqual(response.cookies.get("frontend_lang"), "de_DE")
        self._assert_german(self._get("/my"), "Bitten Sie um Hilfe")
        self.assertEqual(self.customer_a.lang, "de_DE")

    def test_language_selector_saves_the_choice(self):
        self.authenticate(self.customer_a.login, self.customer_a.login)
        page = self._get("/my/tickets")
        self._assert_german(page)
        self.assertIn('href="/en/my/tickets"', page.text, "the selector offers English")

        self._assert_english(self._get("/en/my/tickets"))
        self.assertEqual(self.customer_a.lang, "en_US", "the choice is saved to the profile")
        self.opener.cookies["frontend_lang"] = "de_DE"
        self._assert_english(self._get("/my/tickets"))

        # and back to German, a language other than the default one
        self._assert_german(self._get("/de/my/tickets"))
        self.assertEqual(self.customer_a.lang, "de_DE")
        self._assert_german(self._get("/my/tickets"))

    def test_profile_changed_during_the_session(self):
        """The session remembers the language the profile had at login; a
        change made since (by the customer elsewhere, or an administrator)
        shows on the next page."""
        self.authenticate(self.customer_a.login, self.customer_a.login)
        self._assert_german(self._get("/my/tickets"))
        self.customer_a.lang = "en_US"
        self._assert_english(self._get("/my/tickets"))
        self.assertEqual(self.customer_a.lang, "en_US")

    def test_no_saving_outside_a_page_view(self):
        """Only a page asked with GET saves the choice: not a form posted to
        a prefixed URL, nor a read-only route."""
        self.authenticate(self.customer_a.login, self.customer_a.login)
        form = self._get("/my/tickets/new")
        csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        refused = self.url_open(
            "/en/my/tickets/new",
            data={"csrf_token": csrf_token, "name": "", "message": "Hello", "priority": "1"},
            headers=ENGLISH_BROWSER,
        )
        self.assertIn("Please enter a subject.", refused.text, "the page in the language asked")
        self.assertEqual(self.customer_a.lang, "de_DE")

        response = self.url_open(
            "/en/website/translations/any?mods=im_livechat_ticket", headers=ENGLISH_BROWSER
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["lang_parameters"]["code"], "en_US")
        self.assertEqual(self.customer_a.lang, "de_DE")

    def test_signed_out_visitors_keep_odoo_choice(self):
        """Without a session Odoo's own order holds: the cookie decides."""
        self.authenticate(None, None)
        self.opener.cookies["frontend_lang"] = "de_DE"
        response = self._get("/website/translations/any")
        self.assertIn(response.status_code, (302, 303))
        self.assertTrue(response.headers["Location"].endswith("/de/website/translations/any"))
