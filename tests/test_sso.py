import importlib.util
import json
import os
import select
import subprocess
import sys
import time
import unittest
from urllib.parse import parse_qs, quote_plus, urlencode, urljoin, urlsplit

import lxml.html

from odoo import http
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import TicketFixtures

SIGNIN_LOGGER = "odoo.addons.auth_oauth.controllers.main"
PROVIDER_PROGRAM = os.path.join(os.path.dirname(__file__), "oidc_provider.py")
READY_TIMEOUT = 30


class LocalIdentityProvider:
    """Runs ``oidc_provider.py``, a real OAuth 2 / OpenID Connect provider, in
    a process of its own on 127.0.0.1 and a free port, until ``stop``.
    ``clients`` and ``users``: see that file."""

    def __init__(self, clients, users):
        self.config = {"clients": clients, "users": users}
        self.process = None
        self.base_url = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 - our own program, fixed arguments
            [sys.executable, PROVIDER_PROGRAM, json.dumps(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and self.process.poll() is None:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            line = self.process.stdout.readline() if ready else ""
            if line.startswith("listening on "):
                self.base_url = line.split()[-1]
                return
        self.stop()
        raise RuntimeError("the identity provider did not start")

    def stop(self):
        if not self.process:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.process = None

    def url(self, path):
        return self.base_url + path


def _signin_is_read_write():
    """Whether Odoo's ``/auth_oauth/signin`` asks for a read/write cursor.

    The sign-in writes (the user's token, a new user), but early Odoo 18.0
    declares the route ``auth='none'`` without ``readonly=False``, which makes
    it a read-only route; later 18.0 adds ``readonly=False``. Such a route still
    gets a read/write cursor from a server without a read replica (Odoo falls
    back to the primary), but a test run simulates read-only cursors and the
    sign-in fails there. With the early route, the tests run as such a server
    does: without that simulation."""
    # loaded with auth_oauth; without it the tests are skipped anyway
    controllers = sys.modules.get("odoo.addons.auth_oauth.controllers.main")
    if controllers is None:
        return True
    return controllers.OAuthController.signin.original_routing.get("readonly") is False


@tagged("post_install", "-at_install")
class TestSingleSignOn(TicketFixtures, HttpCase):
    """Customers sign in through an identity provider, as a browser does it:
    Odoo's login page, the provider's sign-in form, back to Odoo's
    ``/auth_oauth/signin``, then their tickets. The provider is a real OAuth 2 /
    OpenID Connect server in a process of its own (``oidc_provider.py``).

    Odoo's ``auth_oauth`` is not a dependency of the addon: ``make test``
    installs it into the test database; without it these tests are skipped."""

    @classmethod
    def setUpClass(cls):
        cls.readonly_enabled = _signin_is_read_write()
        super().setUpClass()
        if "auth.oauth.provider" not in cls.env:
            raise unittest.SkipTest("auth_oauth is not installed (make test installs it)")
        if not importlib.util.find_spec("authlib"):
            raise unittest.SkipTest("Authlib is not installed (make test installs it)")
        cls._setup_ticket_fixtures()
        cls.ticket_a = cls._new_ticket(cls.customer_a, "Squeaky brakes")
        cls.ticket_a2 = cls._new_ticket(cls.customer_a2, "Loose saddle")
        cls.ticket_b = cls._new_ticket(cls.customer_b, "Flat battery")
        cls.ben = new_test_user(
            cls.env,
            login="ben@bikes-b.example",
            name="Ben Bikes",
            groups="base.group_portal",
            parent_id=cls.company_b.id,
        )
        cls.ticket_ben = cls._new_ticket(cls.ben, "Broken spoke")

        redirect_uri = cls.base_url() + "/auth_oauth/signin"
        cls.idp = LocalIdentityProvider(
            clients=[
                {
                    "client_id": "odoo-portal",
                    "client_secret": "implicit-has-no-secret",
                    "redirect_uris": [redirect_uri],
                },
                {
                    "client_id": "odoo-portal-code",
                    "client_secret": "code-secret",
                    "redirect_uris": [redirect_uri],
                },
            ],
            users=[
                # Anna's account is already linked to the provider (oauth_uid below)
                cls._idp_user("anna", "idp-anna", "anna@bikes-a.example", "Anna Customer"),
                cls._idp_user("ben", "idp-ben", "ben@bikes-b.example", "Ben Bikes"),
                cls._idp_user("nora", "idp-nora", "nora@Bikes-A.example", "Nora Newcomer"),
                cls._idp_user("nina", "idp-nina", "nina@elsewhere.example", "Nina Nobody"),
                cls._idp_user("benc", "idp-benc", "ben@bikes-b.example", "Ben Customer"),
            ],
        )
        cls.idp.start()
        cls.addClassCleanup(cls.idp.stop)
        cls.provider = cls.env["auth.oauth.provider"].create(
            {
                "name": "Customer identity provider",
                "client_id": "odoo-portal",
                "auth_endpoint": cls.idp.url("/authorize"),
                "validation_endpoint": cls.idp.url("/userinfo"),
                "scope": "openid profile email",
                "body": "Sign in with your company account",
                "enabled": True,
            }
        )
        cls.customer_a.write({"oauth_provider_id": cls.provider.id, "oauth_uid": "idp-anna"})
        cls.company_a.ticket_email_domain = "bikes-a.example, bikes-a.de"
        cls._set_signup_scope("b2b")

    @staticmethod
    def _idp_user(username, sub, email, name):
        return {
            "username": username,
            "password": f"{username}-pw",
            "sub": sub,
            "email": email,
            "name": name,
        }

    @classmethod
    def _set_signup_scope(cls, scope):
        cls.env["ir.config_parameter"].set_param("auth_signup.invitation_scope", scope)
        cls.env.flush_all()

    # ------------------------------------------------------------
    # The browser's way through the sign-in
    # ------------------------------------------------------------

    def _provider_link(self, page_url, provider):
        """The sign-in link of ``provider`` on an Odoo login page."""
        response = self.url_open(page_url)
        self.assertEqual(response.status_code, 200)
        page = lxml.html.fromstring(response.text)
        links = [
            href
            for href in page.xpath("//a/@href")
            if href.startswith(provider.auth_endpoint + "?")
            and parse_qs(urlsplit(href).query)["client_id"] == [provider.client_id]
        ]
        self.assertEqual(len(links), 1, f"{page_url} offers the provider {provider.name}")
        return links[0]

    def _sign_in_at_provider(self, link, username, password=None):
        """Open the provider's sign-in form and send it; the provider's answer."""
        form_page = self.opener.get(link, timeout=10)
        self.assertEqual(form_page.status_code, 200)
        form = lxml.html.fromstring(form_page.text).forms[0]
        fields = dict(form.fields)
        fields.update(username=username, password=password or f"{username}-pw")
        # the form carries the authorization request on in hidden fields
        return self.opener.post(
            urljoin(link, form.action),
            data=fields,
            allow_redirects=False,
            timeout=10,
        )

    def _back_to_odoo(self, answer):
        """Follow the provider's redirect back to ``/auth_oauth/signin`` as a
        browser does; Odoo's answer to the sign-in."""
        self.assertEqual(answer.status_code, 302, answer.text)
        location = urlsplit(answer.headers["Location"])
        self.assertEqual(location.path, "/auth_oauth/signin")
        if location.fragment:
            # the implicit flow: the token is in the fragment, which a browser keeps to
            # itself. Odoo first answers a page whose script turns it into a query.
            page = self.url_open("/auth_oauth/signin")
            self.assertIn("l.hash.substring(1)", page.text)
            query = location.fragment
        else:
            query = location.query
        return self.url_open(f"/auth_oauth/signin?{query}", allow_redirects=False)

    def _sign_in(self, username, provider=None, start="/my/tickets"):
        """The whole way from ``start`` (a page that needs a signed-in user) to
        the signed-in user's page; Odoo's answer to the sign-in."""
        provider = provider or self.provider
        login_page = self.url_open(start)
        self.assertEqual(urlsplit(login_page.url).path, "/web/login")
        link = self._provider_link(login_page.url, provider)
        return self._back_to_odoo(self._sign_in_at_provider(link, username))

    def _session_uid(self):
        sid = self.opener.cookies.get("session_id")
        return sid and http.root.session_store.get(sid).uid

    def _assert_lands_on_tickets(self, response, user, shown=(), hidden=()):
        self.env.invalidate_all()  # the server wrote through its own environment
        self.assertEqual(response.status_code, 303, response.headers.get("Location"))
        self.assertEqual(urlsplit(response.headers["Location"]).path, "/my/tickets")
        self.assertEqual(self._session_uid(), user.id)
        page = self.url_open(response.headers["Location"], allow_redirects=False)
        self.assertEqual(page.status_code, 200)
        for ticket in shown:
            self.assertIn(ticket.reference, page.text)
        for ticket in hidden:
            self.assertNotIn(ticket.reference, page.text)
        return page

    def _assert_refused(self, response):
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 303)
        location = urlsplit(response.headers["Location"])
        self.assertEqual(location.path, "/web/login")
        self.assertIn("oauth_error", parse_qs(location.query))
        self.assertFalse(self._session_uid())
        page = self.url_open("/my/tickets")
        self.assertEqual(urlsplit(page.url).path, "/web/login", "no session")

    # ------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------

    def test_linked_customer_signs_in_to_own_tickets(self):
        """(a) A portal customer whose account is linked to the provider signs
        in there and sees their tickets, not their colleague's nor another
        company's."""
        response = self._sign_in("anna")
        self._assert_lands_on_tickets(
            response,
            self.customer_a,
            shown=[self.ticket_a],
            hidden=[self.ticket_a2, self.ticket_b, self.ticket_ben],
        )
        self.assertEqual(self.customer_a.oauth_uid, "idp-anna")

    def test_token_in_authorization_header(self):
        """Providers such as Microsoft Entra ID (Graph's userinfo) take the token
        in the ``Authorization`` header only: Odoo sends it there once the
        system parameter ``auth_oauth.authorization_header`` is set."""
        self.provider.validation_endpoint = self.idp.url("/userinfo/header-only")
        self.env.flush_all()
        with mute_logger(SIGNIN_LOGGER):
            self._assert_refused(self._sign_in("anna"))
        self.env["ir.config_parameter"].set_param("auth_oauth.authorization_header", "1")
        self.env.flush_all()
        self._assert_lands_on_tickets(self._sign_in("anna"), self.customer_a, shown=[self.ticket_a])

    def test_new_sign_in_ends_the_previous_session(self):
        """auth_oauth keeps one token per user and makes it part of the session
        token: signing in again, e.g. on a phone, ends the session before."""
        self._assert_lands_on_tickets(self._sign_in("anna"), self.customer_a)
        first_session = self.opener.cookies["session_id"]
        self.opener.cookies.clear()
        self._assert_lands_on_tickets(self._sign_in("anna"), self.customer_a)
        self.opener.cookies.clear()
        self.opener.cookies.set("session_id", first_session)
        page = self.url_open("/my/tickets")
        self.assertEqual(urlsplit(page.url).path, "/web/login")

    def test_existing_customer_links_through_invitation(self):
        """(a) An existing customer whose account is not linked yet: an identity
        with the same e-mail address is refused, even with sign-up open (no
        second account, no taking over an account by e-mail); the invitation
        link Odoo e-mails links the identity to the account, which then signs
        in directly."""
        self._set_signup_scope("b2c")
        users_before = self.env["res.users"].with_context(active_test=False).search_count([])
        # the login "ben@bikes-b.example" is taken: the sign-up fails on it
        with mute_logger("odoo.sql_db", SIGNIN_LOGGER):
            self._assert_refused(self._sign_in("ben"))
        self.assertEqual(
            self.env["res.users"].with_context(active_test=False).search_count([]), users_before
        )
        self.assertFalse(self.ben.oauth_uid)

        partner = self.ben.partner_id
        partner.signup_prepare(signup_type="reset")
        self.env.flush_all()
        invitation = partner._get_signup_url_for_action(url="/my/tickets")[partner.id]
        invitation = urlsplit(invitation)
        link = self._provider_link(f"{invitation.path}?{invitation.query}", self.provider)
        self.assertIn("t", json.loads(parse_qs(urlsplit(link).query)["state"][0]))
        response = self._back_to_odoo(self._sign_in_at_provider(link, "ben"))
        self._assert_lands_on_tickets(
            response, self.ben, shown=[self.ticket_ben], hidden=[self.ticket_a, self.ticket_b]
        )
        self.assertEqual(self.ben.oauth_uid, "idp-ben")
        self.assertEqual(self.ben.oauth_provider_id, self.provider)

        # linked: the next time goes straight in, without an invitation
        self.opener.cookies.clear()
        self._assert_lands_on_tickets(self._sign_in("ben"), self.ben, shown=[self.ticket_ben])

    def test_new_person_signs_up_into_company_by_email_domain(self):
        """(b) With free sign-up (b2c), a new person becomes a portal user on
        first sign-in, lands on their (empty) ticket list and is a contact of
        the customer company that lists their e-mail domain."""
        self._set_signup_scope("b2c")
        response = self._sign_in("nora")
        nora = self.env["res.users"].search([("oauth_uid", "=", "idp-nora")])
        self.assertEqual(len(nora), 1)
        self.assertTrue(nora._is_portal())
        self.assertEqual(nora.oauth_provider_id, self.provider)
        self.assertEqual(nora.partner_id.parent_id, self.company_a)
        self.assertEqual(nora.name, "Nora Newcomer")
        page = self._assert_lands_on_tickets(
            response, nora, hidden=[self.ticket_a, self.ticket_a2, self.ticket_b]
        )
        self.assertIn('href="/my/tickets/new"', page.text)

        # as an employee of Bikes A, she shares its tickets once the company does
        self.company_a.ticket_company_sharing = True
        self.env.flush_all()
        page = self.url_open("/my/tickets")
        self.assertIn(self.ticket_a.reference, page.text)
        self.assertIn(self.ticket_a2.reference, page.text)
        self.assertNotIn(self.ticket_b.reference, page.text)

    def test_new_person_of_unknown_domain_gets_no_company(self):
        self._set_signup_scope("b2c")
        response = self._sign_in("nina")
        nina = self.env["res.users"].search([("oauth_uid", "=", "idp-nina")])
        self._assert_lands_on_tickets(response, nina, hidden=[self.ticket_a, self.ticket_b])
        self.assertFalse(nina.partner_id.parent_id)

    def test_new_person_refused_without_free_signup(self):
        """Sign-up by invitation only (b2b, Odoo's default): a person without an
        account is refused, and no user is created."""
        with mute_logger(SIGNIN_LOGGER):
            self._assert_refused(self._sign_in("nora"))
        self.assertFalse(self.env["res.users"].search([("oauth_uid", "=", "idp-nora")]))

    def test_forged_token_is_refused(self):
        """(c) A token the provider did not issue opens no session."""
        state = {
            "d": self.env.cr.dbname,
            "p": self.provider.id,
            "r": quote_plus(self.base_url() + "/my/tickets"),
        }
        query = urlencode({"access_token": "forged-token", "state": json.dumps(state)})
        with mute_logger(SIGNIN_LOGGER):
            response = self.url_open(f"/auth_oauth/signin?{query}", allow_redirects=False)
        self._assert_refused(response)

    def test_password_signup_joins_no_company(self):
        """The company by e-mail domain needs an address an identity provider
        vouches for: whoever types a company's domain into the password sign-up
        form gets no access to its tickets."""
        self._set_signup_scope("b2c")
        login, _password = (
            self.env["res.users"]
            .sudo()
            .signup(
                {"login": "mallory@bikes-a.example", "name": "Mallory", "password": "Mallory-pw-1"}
            )
        )
        mallory = self.env["res.users"].search([("login", "=", login)])
        self.assertTrue(mallory._is_portal())
        self.assertFalse(mallory.partner_id.parent_id)

    def test_email_domain_setting(self):
        Partner = self.env["res.partner"]
        self.assertEqual(Partner._ticket_company_for_email("x@BIKES-A.example"), self.company_a)
        self.assertEqual(Partner._ticket_company_for_email("x@bikes-a.de"), self.company_a)
        self.assertFalse(Partner._ticket_company_for_email("x@sub.bikes-a.example"))
        self.assertFalse(Partner._ticket_company_for_email("x@a.example"))
        self.assertFalse(Partner._ticket_company_for_email("no-address"))
        self.company_b.ticket_email_domain = "@bikes-b.example"
        self.assertEqual(Partner._ticket_company_for_email("x@bikes-b.example"), self.company_b)
        with self.assertRaises(ValidationError):
            self.company_b.ticket_email_domain = "bikes-a.de"  # Bikes A's already
        with self.assertRaises(ValidationError):
            self.company_b.ticket_email_domain = "not a domain"
        with self.assertRaises(ValidationError):
            self.customer_b.partner_id.ticket_email_domain = "bikes-b.example"  # a person

    def test_authorization_code_flow_with_auth_oidc(self):
        """OCA's auth_oidc (optional): the authorization-code flow with PKCE;
        Odoo exchanges the code at the provider's token endpoint and checks the
        signed id_token against its published keys."""
        if "flow" not in self.env["auth.oauth.provider"]._fields:
            self.skipTest("auth_oidc is not installed (make test installs it from PyPI)")
        provider = self.env["auth.oauth.provider"].create(
            {
                "name": "Customer identity provider (OpenID Connect)",
                "flow": "id_token_code",
                "client_id": "odoo-portal-code",
                "client_secret": "code-secret",
                "auth_endpoint": self.idp.url("/authorize"),
                "token_endpoint": self.idp.url("/token"),
                "jwks_uri": self.idp.url("/jwks"),
                "validation_endpoint": self.idp.url("/userinfo"),
                "scope": "openid profile email",
                "body": "Sign in with OpenID Connect",
                "enabled": True,
            }
        )
        self.customer_b.write({"oauth_provider_id": provider.id, "oauth_uid": "idp-benc"})
        self.env.flush_all()
        link = self._provider_link("/web/login?redirect=/my/tickets", provider)
        params = parse_qs(urlsplit(link).query)
        self.assertEqual(params["response_type"], ["code"])
        self.assertEqual(params["code_challenge_method"], ["S256"])
        answer = self._sign_in_at_provider(link, "benc")
        self.assertIn("code", parse_qs(urlsplit(answer.headers["Location"]).query))
        response = self._back_to_odoo(answer)
        self._assert_lands_on_tickets(
            response, self.customer_b, shown=[self.ticket_b], hidden=[self.ticket_a]
        )

        # a code the provider never issued opens no session
        self.opener.cookies.clear()
        state = {"d": self.env.cr.dbname, "p": provider.id}
        query = urlencode({"code": "forged-code", "state": json.dumps(state)})
        with mute_logger(SIGNIN_LOGGER):
            response = self.url_open(f"/auth_oauth/signin?{query}", allow_redirects=False)
        self._assert_refused(response)
