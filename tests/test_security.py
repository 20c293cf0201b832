"""Hostile probes: customers of other companies, a coworker with company
sharing off and on, a public visitor and an employee outside live chat try
every door of the tickets (portal pages, JSON-RPC, Discuss' routes, file
routes, the bus). Each probe asserts the precise refusal and that nothing
changed in the database; a few positive controls prove the doors open for
those who may pass, so the refusals do not pass for the wrong reason.

A probe that finds a hole it is not this module's job to fix is skipped with
``VULNERABILITY: ...`` (or ``GAP: ...`` for a missing limit) as its reason,
after asserting everything that does hold."""

import io
import json

from PIL import Image

import odoo
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.bus.tests.common import WebsocketCase

from ..models.im_livechat_ticket_data import MESSAGE_MAX_LENGTH, SUBJECT_MAX_LENGTH
from .common import TicketFixtures

# Expected server-side complaints of refused requests.
REFUSAL_LOGGERS = (
    "odoo.http",
    "odoo.addons.base.models.ir_rule",
    "odoo.models",
    "odoo.sql_db",
    "odoo.addons.base.models.ir_model",
)
NEW_MESSAGE = "discuss.channel/new_message"
XSS_SUBJECT = "<script>xss_subject()</script>"
XSS_MESSAGE = "<script>xss_message()</script><img src=x onerror=xss_img()>"
XSS_FILE = "<script>xss_file()</script>.png"


def _png(color):
    buffer = io.BytesIO()
    Image.new("RGB", (6, 6), color).save(buffer, format="PNG")
    return buffer.getvalue()


PNG_A = _png((10, 200, 10))
PNG_B = _png((200, 10, 10))
HTML_FILE = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@tagged("post_install", "-at_install")
class TestSecurityProbes(TicketFixtures, WebsocketCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ICP = cls.env["ir.config_parameter"].sudo()
        # the probes post and open more than a customer usually does
        ICP.set_param("im_livechat_ticket.rate_limit_messages", "1000/60")
        ICP.set_param("im_livechat_ticket.rate_limit_tickets", "1000/60")
        cls.livechat_group = cls.env.ref("im_livechat.im_livechat_group_user")

        cls.ticket_a = cls._new_ticket(
            cls.customer_a, "Anna bike", "A-SECRET-MESSAGE", attachments=[("a.png", PNG_A)]
        )
        cls.ticket_b = cls._new_ticket(
            cls.customer_b, "Ben bike", "B-SECRET-MESSAGE", attachments=[("b.png", PNG_B)]
        )
        cls.channel_a = cls.ticket_a.channel_id
        cls.channel_b = cls.ticket_b.channel_id
        cls.attachment_a = cls.channel_a.message_ids.attachment_ids
        cls.attachment_b = cls.channel_b.message_ids.attachment_ids
        cls.message_b = cls.channel_b.message_ids.filtered(lambda m: m.message_type == "comment")
        cls.channel_b.with_user(cls.agent).message_post(
            body="B-SECRET-AGENT-REPLY", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        # resolved tickets: B's (reopen/rate probes), A's (hostile ratings)
        cls.ticket_b_resolved = cls._new_ticket(cls.customer_b, "Ben resolved", "B-RESOLVED-SECRET")
        cls.ticket_a_resolved = cls._new_ticket(
            cls.customer_a, "Anna resolved", "A resolved message"
        )
        (cls.ticket_b_resolved | cls.ticket_a_resolved).with_user(cls.agent).action_resolve()
        # a ticket of A waiting for an agent (action_take probes)
        cls.ticket_a_waiting = cls._new_ticket(cls.customer_a, "Anna waiting", "Nobody yet")
        cls.ticket_a_waiting.user_id = False
        # write the pending tracking messages now, not during a probe
        cls.env.flush_all()
        cls.env.cr.precommit.run()

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _use(self, session):
        self.session = session
        self.opener.cookies["session_id"] = session.sid

    def _csrf(self):
        return odoo.http.Request.csrf_token(self)

    def _form(self, url, data=None, files=None, csrf=True):
        data = dict(data or {})
        if csrf is True:
            data["csrf_token"] = self._csrf()
        elif csrf:
            data["csrf_token"] = csrf
        # a form without fields still goes as a POST
        data.setdefault("_probe", "1")
        return self.url_open(url, data=data, files=files, allow_redirects=False)

    def _get(self, url):
        return self.url_open(url, allow_redirects=False)

    def _jsonrpc(self, route, params):
        """The decoded JSON-RPC answer (``result`` or ``error``), asserting
        the HTTP layer itself answered 200."""
        response = self.url_open(
            route,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        return response.json()

    def _assert_rpc_error(self, answer, *names):
        """``answer`` is a JSON-RPC error whose exception is one of ``names``
        (any error when none given); returns the error's data."""
        self.assertIn("error", answer, f"expected a refusal, got {str(answer)[:300]}")
        self.assertNotIn("result", answer)
        data = answer["error"].get("data", {})
        if names:
            self.assertIn(data.get("name"), names, answer["error"])
        return data

    def _call_kw(self, model, method, args, kwargs=None):
        return self._jsonrpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def _post_message(self, channel_id, body="hello", **extra):
        params = {
            "thread_model": "discuss.channel",
            "thread_id": channel_id,
            "post_data": {
                "body": body,
                "message_type": "comment",
                "subtype_xmlid": "mail.mt_comment",
                **extra.pop("post_data", {}),
            },
            **extra,
        }
        return self._jsonrpc("/mail/message/post", params)

    def _upload(self, channel_id, filename, content):
        return self.url_open(
            "/mail/attachment/upload",
            data={
                "csrf_token": self._csrf(),
                "is_pending": "true",
                "thread_id": channel_id,
                "thread_model": "discuss.channel",
            },
            files={"ufile": (filename, io.BytesIO(content))},
        )

    def _snapshot(self):
        """What a refused probe must not change."""
        self.env.invalidate_all()
        tickets = self.env["im_livechat.ticket"].sudo().search([])
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search([("res_model", "in", ("discuss.channel", "mail.compose.message"))])
        )
        return {
            "tickets": {
                t.id: (
                    t.name,
                    t.state,
                    t.priority,
                    t.user_id.id,
                    t.partner_id.id,
                    t.channel_id.id,
                    t.company_id.id,
                )
                for t in tickets
            },
            "messages": set(
                self.env["mail.message"].sudo().with_context(active_test=False).search([]).ids
            ),
            "attachments": {a.id: (a.res_model, a.res_id, a.name) for a in attachments},
            "members": self.env["discuss.channel.member"].sudo().search_count([]),
            "followers": self.env["mail.followers"].sudo().search_count([]),
            "ratings": {
                r.id: (r.rating, r.feedback, r.consumed)
                for r in self.env["rating.rating"].sudo().search([])
            },
            "channels": {
                c.id: (c.livechat_active, c.name)
                for c in (self.channel_a | self.channel_b | self.ticket_b_resolved.channel_id)
            },
            "partners": {
                p.id: (p.parent_id.id, p.ticket_company_sharing)
                for p in (
                    self.company_a
                    | self.company_b
                    | self.customer_a.partner_id
                    | self.customer_b.partner_id
                )
            },
        }

    def _assert_unchanged(self, before):
        after = self._snapshot()
        new_messages = (
            self.env["mail.message"].sudo().browse(sorted(after["messages"] - before["messages"]))
        )
        self.assertFalse(
            new_messages,
            "messages created: "
            f"{[(m.model, m.res_id, m.message_type, m.body) for m in new_messages]}",
        )
        for key, value in before.items():
            self.assertEqual(after[key], value, f"{key} changed")

    def _comment_bodies(self, channel):
        self.env.invalidate_all()
        return "".join(channel.message_ids.mapped("body"))

    # ------------------------------------------------------------
    # Positive controls
    # ------------------------------------------------------------

    def test_control_customer_reads_own_ticket_and_posts(self):
        self._login(self.customer_a)
        listing = self._get("/my/tickets")
        self.assertEqual(listing.status_code, 200)
        self.assertIn("Anna bike", listing.text)
        self.assertNotIn("Ben bike", listing.text)
        page = self._get(f"/my/tickets/{self.ticket_a.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Anna bike", page.text)
        answer = self._post_message(self.channel_a.id, "control: my own channel")
        self.assertIn("result", answer)
        self.assertIn("control: my own channel", self._comment_bodies(self.channel_a))
        own = self._call_kw("im_livechat.ticket", "read", [[self.ticket_a.id], ["name", "state"]])
        self.assertEqual(own["result"][0]["name"], "Anna bike")
        messages = self._jsonrpc(
            "/mail/thread/messages",
            {"thread_model": "discuss.channel", "thread_id": self.channel_a.id},
        )
        self.assertIn("A-SECRET-MESSAGE", json.dumps(messages["result"]))

    def test_control_customer_downloads_own_attachment_with_its_token(self):
        token = self.attachment_a.sudo().generate_access_token()[0]
        self._login(self.customer_a)
        response = self._get(f"/web/content/{self.attachment_a.id}?access_token={token}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, PNG_A)
        response = self._get(f"/web/image/{self.attachment_a.id}?access_token={token}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, PNG_A)

    # ------------------------------------------------------------
    # Portal pages (HTTP)
    # ------------------------------------------------------------

    @mute_logger(*REFUSAL_LOGGERS)
    def test_portal_foreign_ticket_pages_not_found(self):
        self._login(self.customer_a)
        for url in (
            f"/my/tickets/{self.ticket_b.id}",
            f"/my/tickets/{self.ticket_b.id}/status",
            f"/my/tickets/{self.ticket_b_resolved.id}",
        ):
            with self.subTest(url=url):
                response = self._get(url)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("Ben", response.text)
                self.assertNotIn("B-SECRET", response.text)
                self.assertNotIn("Traceback", response.text)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_portal_odd_ticket_ids_not_found(self):
        self._login(self.customer_a)
        missing = (
            self.env["im_livechat.ticket"].sudo().search([], order="id desc", limit=1).id + 1000
        )
        odd_ids = (0, missing, -1, -self.ticket_a.id, 2**31, 2**63, 10**30)
        odd_ids += ("abc", "1abc", "1.0", "0x1", "1%20", "%2e%2e")
        for ticket_id in odd_ids:
            with self.subTest(ticket_id=ticket_id):
                response = self._get(f"/my/tickets/{ticket_id}")
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("Traceback", response.text)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_portal_post_message_to_foreign_ticket_not_found(self):
        self._login(self.customer_a)
        before = self._snapshot()
        response = self._form(
            f"/my/tickets/{self.ticket_b.id}/message",
            {"message": "let me in"},
            files=[("attachments", ("x.png", PNG_A, "image/png"))],
        )
        self.assertEqual(response.status_code, 404)
        self._assert_unchanged(before)
        self.assertNotIn("let me in", self._comment_bodies(self.channel_b))

    @mute_logger(*REFUSAL_LOGGERS)
    def test_portal_reopen_foreign_ticket_not_found(self):
        self._login(self.customer_a)
        before = self._snapshot()
        response = self._form(f"/my/tickets/{self.ticket_b_resolved.id}/reopen")
        self.assertEqual(response.status_code, 404)
        self._assert_unchanged(before)
        self.assertEqual(self.ticket_b_resolved.state, "resolved")

    @mute_logger(*REFUSAL_LOGGERS)
    def test_portal_rate_foreign_ticket_not_found(self):
        self._login(self.customer_a)
        before = self._snapshot()
        response = self._form(
            f"/my/tickets/{self.ticket_b_resolved.id}/rate", {"score": "1", "feedback": "bad"}
        )
        self.assertEqual(response.status_code, 404)
        self._assert_unchanged(before)
        self.assertFalse(self.ticket_b_resolved._get_customer_rating())

    def test_portal_rate_own_ticket_hostile_scores_refused(self):
        self._login(self.customer_a)
        url = f"/my/tickets/{self.ticket_a_resolved.id}/rate"
        before = self._snapshot()
        for score in ("0", "6", "-1", "abc", "1e3", "", "3.5", "99999999999999999999"):
            with self.subTest(score=score):
                response = self._form(url, {"score": score, "feedback": "x"})
                self.assertEqual(response.status_code, 200)
                self.assertIn("Please choose a rating from 1 to 5.", response.text)
                self.assertNotIn("Traceback", response.text)
        response = self._form(url, {"score": "5", "feedback": "y" * (MESSAGE_MAX_LENGTH + 1)})
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your comment is too long.", response.text)
        self._assert_unchanged(before)
        self.assertFalse(self.ticket_a_resolved._get_customer_rating())

    @mute_logger(*REFUSAL_LOGGERS)
    def test_portal_forms_without_or_with_wrong_csrf_refused(self):
        self._login(self.customer_a)
        forms = {
            "new": ("/my/tickets/new", {"name": "Forged", "message": "Forged request"}),
            "message": (f"/my/tickets/{self.ticket_a.id}/message", {"message": "Forged message"}),
            "reopen": (f"/my/tickets/{self.ticket_a_resolved.id}/reopen", {}),
            "rate": (f"/my/tickets/{self.ticket_a_resolved.id}/rate", {"score": "1"}),
        }
        before = self._snapshot()
        # a token of another session (B's) is as wrong as a made-up one
        session_a = self.session
        self._login(self.customer_b)
        token_of_b = self._csrf()
        self._use(session_a)
        for label, (url, data) in forms.items():
            for csrf in (False, "0" * 40 + "o9999999999", token_of_b):
                with self.subTest(form=label, csrf=csrf and csrf[:8]):
                    response = self._form(url, data, csrf=csrf)
                    self.assertEqual(response.status_code, 400)
        self._assert_unchanged(before)

    def test_portal_new_ticket_oversize_input_refused(self):
        self._login(self.customer_a)
        before = self._snapshot()
        cases = {
            "subject": (
                {"name": "s" * (SUBJECT_MAX_LENGTH + 1), "message": "fine"},
                "The subject is too long",
            ),
            "message": (
                {"name": "fine", "message": "m" * (MESSAGE_MAX_LENGTH + 1)},
                "The message is too long",
            ),
            "both huge": (
                {"name": "s" * 100000, "message": "m" * 1000000},
                "The subject is too long",
            ),
        }
        for label, (data, error) in cases.items():
            with self.subTest(case=label):
                response = self._form("/my/tickets/new", data)
                self.assertEqual(response.status_code, 200)
                self.assertIn(error, response.text)
        response = self._form(
            f"/my/tickets/{self.ticket_a.id}/message", {"message": "m" * (MESSAGE_MAX_LENGTH + 1)}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("The message is too long", response.text)
        self._assert_unchanged(before)

    def test_portal_new_ticket_ignores_forged_fields(self):
        self._login(self.customer_a)
        other_team = self.env["im_livechat.channel"].create({"name": "Other team"})
        response = self._form(
            "/my/tickets/new",
            {
                "name": "Forged fields",
                "message": "hello",
                "partner_id": self.customer_b.partner_id.id,
                "user_id": self.agent_2.id,
                "state": "resolved",
                "channel_id": self.channel_b.id,
                "reference": "TCK-HACKED",
                "company_id": 999999,
                "livechat_channel_id": other_team.id,
                "portal_request_key": "x",
            },
        )
        self.assertEqual(response.status_code, 303)
        ticket = self.env["im_livechat.ticket"].sudo().search([("name", "=", "Forged fields")])
        self.assertEqual(len(ticket), 1)
        self.assertEqual(ticket.partner_id, self.customer_a.partner_id)
        self.assertEqual(
            ticket.user_id, self.agent, "the team's assignment, not the form, picks the agent"
        )
        self.assertEqual(ticket.state, "new")
        self.assertNotEqual(ticket.channel_id, self.channel_b)
        self.assertNotEqual(ticket.reference, "TCK-HACKED")
        self.assertEqual(ticket.livechat_channel_id, self.team)
        self.assertNotIn("hello", self._comment_bodies(self.channel_b))

    def test_portal_html_in_subject_message_and_file_name_neutralised(self):
        self._login(self.customer_a)
        response = self._form(
            "/my/tickets/new",
            {"name": XSS_SUBJECT, "message": XSS_MESSAGE},
            files=[("attachments", (XSS_FILE, PNG_A, "image/png"))],
        )
        self.assertEqual(response.status_code, 303)
        ticket = self.env["im_livechat.ticket"].sudo().search([("name", "=", XSS_SUBJECT)])
        self.assertEqual(len(ticket), 1, "the subject is stored as typed")
        raw_markers = (
            "<script>xss_subject()",
            "<script>xss_message()",
            "<img src=x onerror",
            "<script>xss_file()",
        )
        pages = {
            "list": "/my/tickets",
            "ticket": f"/my/tickets/{ticket.id}",
            "status": f"/my/tickets/{ticket.id}/status",
        }
        for label, url in pages.items():
            with self.subTest(page=label):
                html = self._get(url).text
                for marker in raw_markers:
                    self.assertNotIn(marker, html)
                self.assertIn("&lt;script&gt;xss_subject()", html, "the subject is shown, escaped")
        # the agent's side: the backend page, the ticket's data, the conversation
        self._login(self.agent)
        backend = self._get(f"/odoo/action-im_livechat_ticket.action_ticket_queue/{ticket.id}")
        self.assertEqual(backend.status_code, 200)
        html = backend.text
        for marker in raw_markers:
            self.assertNotIn(marker, html)
        data = self._call_kw(
            "im_livechat.ticket", "web_read", [[ticket.id]], {"specification": {"name": {}}}
        )
        self.assertEqual(
            data["result"][0]["name"], XSS_SUBJECT, "plain data; the web client escapes it"
        )
        messages = json.dumps(
            self._jsonrpc("/discuss/channel/messages", {"channel_id": ticket.channel_id.id})[
                "result"
            ]
        )
        self.assertNotIn("<script>xss_message()", messages)
        self.assertNotIn("<img src=x onerror", messages)
        self.assertIn("&lt;script&gt;xss_message()", messages)

    def test_portal_html_posted_over_rpc_sanitised(self):
        self._login(self.customer_a)
        answer = self._post_message(
            self.channel_a.id, XSS_MESSAGE + "<a href='javascript:xss_link()'>x</a>"
        )
        self.assertIn("result", answer)
        self.env.invalidate_all()
        body = self.channel_a.message_ids[0].body
        self.assertNotIn("<script", body)
        self.assertNotIn("onerror", body)
        self.assertNotIn("javascript:", body)
        html = self._get(f"/my/tickets/{self.ticket_a.id}").text
        self.assertNotIn("<script>xss_message()", html)
        self.assertNotIn("onerror=xss_img()", html)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_portal_nul_bytes_do_not_crash(self):
        self._login(self.customer_a)
        crashed = []
        for label, (url, data) in {
            "subject": ("/my/tickets/new", {"name": "nul\x00subject", "message": "fine"}),
            "message": ("/my/tickets/new", {"name": "nul message", "message": "nul\x00message"}),
            "reply": (f"/my/tickets/{self.ticket_a.id}/message", {"message": "nul\x00reply"}),
        }.items():
            with self.subTest(field=label):
                before = self._snapshot()
                response = self._form(url, data)
                self.assertNotIn("Traceback", response.text)
                self.assertIn(response.status_code, (200, 303, 500))
                if response.status_code != 303:
                    self._assert_unchanged(before)
                if response.status_code == 500:
                    crashed.append(label)
        if crashed:
            self.fail(
                f"GAP: a NUL byte in the portal form field(s) {crashed} of POST /my/tickets/new "
                "gives a 500 error page (PostgreSQL refuses the string) instead of the form with "
                "an error"
            )

    @mute_logger(*REFUSAL_LOGGERS)
    def test_portal_nul_byte_in_url(self):
        self._login(self.customer_a)
        for url in ("/my/tickets/%00", "/my/tickets/1%00", "/no-such-page-%00", "/web/content/%00"):
            with self.subTest(url=url):
                response = self._get(url)
                self.assertNotIn("Traceback", response.text)
                self.assertEqual(response.status_code, 404)

    # ------------------------------------------------------------
    # Coworker of the same company (sharing off / on)
    # ------------------------------------------------------------

    @mute_logger(*REFUSAL_LOGGERS)
    def test_coworker_without_sharing_sees_nothing(self):
        self.assertFalse(self.company_a.ticket_company_sharing)
        self._login(self.customer_a2)
        before = self._snapshot()
        listing = self._get("/my/tickets")
        self.assertEqual(listing.status_code, 200)
        self.assertNotIn("Anna bike", listing.text)
        for url in (f"/my/tickets/{self.ticket_a.id}", f"/my/tickets/{self.ticket_a.id}/status"):
            self.assertEqual(self._get(url).status_code, 404, url)
        self.assertEqual(
            self._form(f"/my/tickets/{self.ticket_a.id}/message", {"message": "hi"}).status_code,
            404,
        )
        self.assertEqual(
            self._form(f"/my/tickets/{self.ticket_a_resolved.id}/reopen").status_code, 404
        )
        self.assertEqual(
            self._form(f"/my/tickets/{self.ticket_a_resolved.id}/rate", {"score": "1"}).status_code,
            404,
        )
        self._assert_rpc_error(
            self._call_kw("im_livechat.ticket", "read", [[self.ticket_a.id], ["name"]]),
            "odoo.exceptions.AccessError",
        )
        self._assert_rpc_error(
            self._post_message(self.channel_a.id, "coworker"), "werkzeug.exceptions.NotFound"
        )
        self.assertEqual(self._get(f"/web/content/{self.attachment_a.id}").status_code, 404)
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_coworker_with_sharing_sees_company_tickets_only(self):
        self.company_a.ticket_company_sharing = True
        self._login(self.customer_a2)
        listing = self._get("/my/tickets")
        self.assertIn("Anna bike", listing.text, "control: sharing shows the coworker's ticket")
        self.assertNotIn("Ben bike", listing.text)
        self.assertEqual(self._get(f"/my/tickets/{self.ticket_a.id}").status_code, 200)
        self.assertEqual(self._get(f"/my/tickets/{self.ticket_b.id}").status_code, 404)
        before = self._snapshot()
        # only the customer who opened the ticket rates it
        response = self._form(f"/my/tickets/{self.ticket_a_resolved.id}/rate", {"score": "1"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("Only the customer who opened the ticket can rate it.", response.text)
        self._assert_rpc_error(
            self._call_kw("im_livechat.ticket", "write", [[self.ticket_a.id], {"priority": "3"}]),
            "odoo.exceptions.AccessError",
        )
        self._assert_rpc_error(
            self._call_kw("im_livechat.ticket", "read", [[self.ticket_b.id], ["name"]]),
            "odoo.exceptions.AccessError",
        )
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_coworker_attachment_token_after_sharing_is_turned_off(self):
        self.company_a.ticket_company_sharing = True
        self._login(self.customer_a2)
        page = self._get(f"/my/tickets/{self.ticket_a.id}")
        self.assertEqual(page.status_code, 200)
        token = self.attachment_a.sudo().access_token
        self.assertIn(
            token, page.text, "the shared ticket's page hands the coworker the file's token"
        )
        a = self.attachment_a.id
        urls = (
            f"/web/content/{a}?access_token={token}",
            f"/web/content/{a}?download=true&access_token={token}",
            f"/web/image/{a}?access_token={token}",
            f"/web/image/{a}/400x300?access_token={token}",
            f"/web/content/ir.attachment/{a}/raw?access_token={token}",
        )
        for url in urls:
            with self.subTest(sharing=True, url=url):
                self.assertEqual(
                    self._get(url).content, PNG_A, "control: sharing on, the token opens it"
                )
        self.company_a.ticket_company_sharing = False
        self.env.flush_all()
        self.assertEqual(self._get(f"/my/tickets/{self.ticket_a.id}").status_code, 404)
        for url in urls:
            with self.subTest(sharing=False, url=url):
                response = self._get(url)
                # a refused /web/image answers Odoo's placeholder picture
                self.assertIn(
                    response.status_code, (200, 403, 404) if "/web/image" in url else (403, 404)
                )
                self.assertNotEqual(response.content, PNG_A)
        zipped = self.url_open(
            "/mail/attachment/zip",
            data={"csrf_token": self._csrf(), "file_ids": str(a), "zip_name": "a.zip"},
            allow_redirects=False,
        )
        self.assertIn(zipped.status_code, (403, 404))
        self.assertNotIn(PNG_A, zipped.content)
        # control: the ticket's own customer still opens it with the token
        self._login(self.customer_a)
        self.assertEqual(self._get(urls[0]).content, PNG_A)

    # ------------------------------------------------------------
    # Public visitor
    # ------------------------------------------------------------

    @mute_logger(*REFUSAL_LOGGERS)
    def test_public_visitor_is_sent_to_login(self):
        self._login(None)
        before = self._snapshot()
        for url in ("/my/tickets", f"/my/tickets/{self.ticket_a.id}", "/my/tickets/new"):
            with self.subTest(url=url):
                response = self._get(url)
                self.assertIn(response.status_code, (302, 303))
                self.assertIn("/web/login", response.headers["Location"])
        for url, data in (
            ("/my/tickets/new", {"name": "anon", "message": "anon"}),
            (f"/my/tickets/{self.ticket_a.id}/message", {"message": "anon"}),
            (f"/my/tickets/{self.ticket_a_resolved.id}/reopen", {}),
        ):
            with self.subTest(url=url):
                response = self._form(url, data)
                self.assertIn(response.status_code, (302, 303, 400))
                self.assertNotIn("Anna", response.text)
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_public_visitor_rpc_refused(self):
        self._login(None)
        before = self._snapshot()
        self._assert_rpc_error(
            self._post_message(self.channel_a.id, "anon"), "werkzeug.exceptions.NotFound"
        )
        answer = self._jsonrpc(
            "/mail/thread/messages",
            {"thread_model": "discuss.channel", "thread_id": self.channel_a.id},
        )
        self._assert_rpc_error(answer, "odoo.http.SessionExpiredException")
        self._assert_rpc_error(
            self._jsonrpc("/discuss/channel/messages", {"channel_id": self.channel_a.id}),
            "werkzeug.exceptions.NotFound",
        )
        self._assert_rpc_error(
            self._call_kw("im_livechat.ticket", "search_read", [[]], {"fields": ["name"]}),
            "odoo.http.SessionExpiredException",
        )
        response = self._upload(self.channel_a.id, "anon.png", PNG_A)
        self.assertEqual(response.status_code, 404)
        data = self._jsonrpc(
            "/mail/thread/data",
            {"thread_model": "discuss.channel", "thread_id": self.channel_a.id, "request_list": []},
        )
        self.assertNotIn("A-SECRET", json.dumps(data))
        self.assertNotIn("Anna bike", json.dumps(data))
        self._assert_unchanged(before)

    # ------------------------------------------------------------
    # Internal user without the live chat group
    # ------------------------------------------------------------

    @mute_logger(*REFUSAL_LOGGERS)
    def test_employee_without_livechat_group_refused(self):
        self._login(self.employee)
        before = self._snapshot()
        listing = self._get("/my/tickets")
        self.assertEqual(listing.status_code, 200)
        self.assertNotIn("Anna bike", listing.text)
        self.assertEqual(self._get(f"/my/tickets/{self.ticket_a.id}").status_code, 404)
        self.assertEqual(
            self._form(f"/my/tickets/{self.ticket_a.id}/message", {"message": "x"}).status_code, 404
        )
        for method, args, kwargs in (
            ("search_read", [[]], {"fields": ["name"]}),
            ("read", [[self.ticket_a.id], ["name"]], {}),
            ("write", [[self.ticket_a.id], {"priority": "3"}], {}),
            ("action_take", [[self.ticket_a_waiting.id]], {}),
            ("get_queue_dashboard", [], {}),
        ):
            with self.subTest(method=method):
                answer = self._call_kw("im_livechat.ticket", method, args, kwargs)
                self._assert_rpc_error(answer, "odoo.exceptions.AccessError")
        self._assert_rpc_error(
            self._post_message(self.channel_a.id, "employee"), "werkzeug.exceptions.NotFound"
        )
        messages = self._jsonrpc(
            "/mail/thread/messages",
            {"thread_model": "discuss.channel", "thread_id": self.channel_a.id},
        )["result"]
        self.assertEqual(messages["messages"], [])
        self.assertNotIn("A-SECRET", json.dumps(messages))
        self.assertEqual(self._get(f"/web/content/{self.attachment_a.id}").status_code, 404)
        self._assert_unchanged(before)

    # ------------------------------------------------------------
    # JSON-RPC on the models (/web/dataset/call_kw)
    # ------------------------------------------------------------

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_write_protected_fields_of_own_ticket_refused(self):
        self._login(self.customer_a)
        before = self._snapshot()
        for vals in (
            {"user_id": self.agent_2.id},
            {"user_id": False},
            {"state": "resolved"},
            {"priority": "3"},
            {"partner_id": self.customer_b.partner_id.id},
            {"channel_id": self.channel_b.id},
            {"company_id": self.env.company.id},
            {"name": "renamed"},
            {"reference": "TCK-HACKED"},
        ):
            with self.subTest(vals=vals):
                answer = self._call_kw("im_livechat.ticket", "write", [[self.ticket_a.id], vals])
                # the customer of a ticket with a conversation never changes
                # (UserError, checked before the access rights)
                expected = ["odoo.exceptions.AccessError"]
                if "partner_id" in vals:
                    expected.append("odoo.exceptions.UserError")
                self._assert_rpc_error(answer, *expected)
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_create_and_unlink_tickets_refused(self):
        self._login(self.customer_a)
        before = self._snapshot()
        for vals in (
            {"name": "for B", "partner_id": self.customer_b.partner_id.id},
            {"name": "for me", "partner_id": self.customer_a.partner_id.id},
        ):
            with self.subTest(create=vals["name"]):
                answer = self._call_kw("im_livechat.ticket", "create", [vals])
                self._assert_rpc_error(answer, "odoo.exceptions.AccessError")
        for ticket in (self.ticket_a, self.ticket_b):
            with self.subTest(unlink=ticket.name):
                self._assert_rpc_error(
                    self._call_kw("im_livechat.ticket", "unlink", [[ticket.id]]),
                    "odoo.exceptions.AccessError",
                )
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_read_foreign_ticket_refused(self):
        self._login(self.customer_a)
        for method in ("read", "web_read"):
            with self.subTest(method=method):
                kwargs = (
                    {"specification": {"name": {}}}
                    if method == "web_read"
                    else {"fields": ["name"]}
                )
                answer = self._call_kw("im_livechat.ticket", method, [[self.ticket_b.id]], kwargs)
                self._assert_rpc_error(answer, "odoo.exceptions.AccessError")
        found = self._call_kw(
            "im_livechat.ticket",
            "search_read",
            [[("partner_id", "=", self.customer_b.partner_id.id)]],
            {"fields": ["name"]},
        )["result"]
        self.assertEqual(found, [])
        found = self._call_kw("im_livechat.ticket", "search_read", [[]], {"fields": ["name"]})[
            "result"
        ]
        self.assertEqual(
            {row["id"] for row in found},
            {self.ticket_a.id, self.ticket_a_resolved.id, self.ticket_a_waiting.id},
        )
        groups = self._call_kw(
            "im_livechat.ticket", "read_group", [[], ["partner_id"], ["partner_id"]], {}
        )["result"]
        self.assertEqual([g["partner_id"][0] for g in groups], [self.customer_a.partner_id.id])
        self.assertNotIn("Ben", json.dumps(groups))

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_agent_actions_refused(self):
        self._login(self.customer_a)
        before = self._snapshot()
        probes = [
            ("action_resolve", self.ticket_a, [], {}),
            ("action_resolve", self.ticket_b, [], {}),
            ("action_assign", self.ticket_a, [self.agent_2.id], {}),
            ("action_assign", self.ticket_b, [], {}),
            ("action_take", self.ticket_a_waiting, [], {}),
            ("action_take", self.ticket_b, [], {}),
            ("action_reopen", self.ticket_a_resolved, [], {}),
            ("action_reopen", self.ticket_b_resolved, [], {}),
            ("message_post", self.ticket_a, [], {"body": "chatter", "message_type": "comment"}),
            ("message_post", self.ticket_b, [], {"body": "chatter", "message_type": "comment"}),
            (
                "message_subscribe",
                self.ticket_a,
                [],
                {"partner_ids": [self.customer_b.partner_id.id]},
            ),
            ("rating_apply", self.ticket_a_resolved, [1], {"token": "guessed"}),
            ("rating_apply", self.ticket_b_resolved, [1], {"token": "guessed"}),
        ]
        for method, ticket, args, kwargs in probes:
            with self.subTest(method=method, ticket=ticket.name):
                answer = self._call_kw("im_livechat.ticket", method, [[ticket.id], *args], kwargs)
                self._assert_rpc_error(answer, "odoo.exceptions.AccessError")
        # following B's ticket is silently refused (Odoo answers False)
        answer = self._call_kw(
            "im_livechat.ticket",
            "message_subscribe",
            [[self.ticket_b.id]],
            {"partner_ids": [self.customer_a.partner_id.id]},
        )
        self.assertFalse(answer.get("result"))
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_private_methods_refused(self):
        self._login(self.customer_a)
        before = self._snapshot()
        for method, ticket, args in (
            ("_portal_rate", self.ticket_a_resolved, [5, "great"]),
            ("_portal_rate", self.ticket_b_resolved, [1, "bad"]),
            ("_portal_reopen", self.ticket_a_resolved, []),
            ("_post_customer_message", self.ticket_b, ["private post"]),
            ("_demo_post_reply", self.ticket_b, [self.agent.id, "posing as the agent"]),
            ("_send_ticket_event", self.ticket_b, ["resolved"]),
            ("_assign_agent", self.ticket_a_waiting, []),
            ("_sync_conversation_agent", self.ticket_b, []),
            ("_portal_create_ticket", None, ["via rpc", "via rpc"]),
        ):
            with self.subTest(method=method):
                ids = [[ticket.id]] if ticket else []
                answer = self._call_kw("im_livechat.ticket", method, [*ids, *args])
                data = self._assert_rpc_error(answer, "odoo.exceptions.AccessError")
                self.assertIn("Private methods", data["message"])
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_join_foreign_channel_refused(self):
        member_a = self.channel_a.channel_member_ids.filtered(
            lambda m: m.partner_id == self.customer_a.partner_id
        )
        self._login(self.customer_a)
        before = self._snapshot()
        probes = [
            ("discuss.channel.member", "write", [[member_a.id], {"channel_id": self.channel_b.id}]),
            (
                "discuss.channel.member",
                "write",
                [[member_a.id], {"partner_id": self.customer_b.partner_id.id}],
            ),
            (
                "discuss.channel.member",
                "create",
                [{"channel_id": self.channel_b.id, "partner_id": self.customer_a.partner_id.id}],
            ),
            (
                "discuss.channel.member",
                "create",
                [{"channel_id": self.channel_a.id, "partner_id": self.customer_b.partner_id.id}],
            ),
            (
                "discuss.channel",
                "add_members",
                [[self.channel_b.id], [self.customer_a.partner_id.id]],
            ),
            (
                "discuss.channel",
                "add_members",
                [[self.channel_a.id], [self.customer_b.partner_id.id]],
            ),
            ("discuss.channel", "write", [[self.channel_b.id], {"name": "hijacked"}]),
            ("discuss.channel", "read", [[self.channel_b.id], ["name"]]),
        ]
        for model, method, args in probes:
            with self.subTest(model=model, method=method, args=str(args)[:60]):
                self._assert_rpc_error(
                    self._call_kw(model, method, args), "odoo.exceptions.AccessError"
                )
        self._assert_unchanged(before)
        self.assertNotIn(self.customer_a.partner_id, self.channel_b.channel_member_ids.partner_id)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_convert_foreign_channel_to_ticket_refused(self):
        self._login(self.customer_a)
        before = self._snapshot()
        for method in ("execute_command_ticket", "action_convert_to_ticket"):
            with self.subTest(method=method):
                answer = self._call_kw("discuss.channel", method, [[self.channel_b.id]])
                if "result" in answer:
                    self.assertFalse(answer["result"])
                else:
                    self._assert_rpc_error(answer, "odoo.exceptions.AccessError")
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_rating_write_refused(self):
        self.ticket_a_resolved.with_user(self.customer_a)._portal_rate(4, "fine")
        rating = self.ticket_a_resolved._get_customer_rating()
        self.assertTrue(rating)
        self._login(self.customer_a)
        before = self._snapshot()
        for vals in (
            {"rating": 1},
            {"feedback": "changed"},
            {"consumed": False},
            {"res_id": self.ticket_b.id},
        ):
            with self.subTest(vals=vals):
                self._assert_rpc_error(
                    self._call_kw("rating.rating", "write", [rating.ids, vals]),
                    "odoo.exceptions.AccessError",
                )
        self._assert_rpc_error(
            self._call_kw(
                "rating.rating",
                "create",
                [{"res_model": "im_livechat.ticket", "res_id": self.ticket_b.id, "rating": 1}],
            ),
            "odoo.exceptions.AccessError",
        )
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_customer_cannot_move_into_other_company_or_share(self):
        self._login(self.customer_a)
        before = self._snapshot()
        probes = [
            ("res.partner", "write", [self.company_a.ids, {"ticket_company_sharing": True}]),
            (
                "res.partner",
                "write",
                [self.customer_a.partner_id.ids, {"parent_id": self.company_b.id}],
            ),
            ("res.users", "write", [self.customer_a.ids, {"parent_id": self.company_b.id}]),
            ("res.partner", "write", [self.company_b.ids, {"ticket_company_sharing": True}]),
        ]
        for model, method, args in probes:
            with self.subTest(model=model, vals=args[1]):
                self._assert_rpc_error(
                    self._call_kw(model, method, args), "odoo.exceptions.AccessError"
                )
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_read_foreign_messages_and_attachments_refused(self):
        self._login(self.customer_a)
        before = self._snapshot()
        message_ids = self.channel_b.message_ids.ids
        self._assert_rpc_error(
            self._call_kw("mail.message", "read", [message_ids, ["body"]]),
            "odoo.exceptions.AccessError",
        )
        found = self._call_kw(
            "mail.message",
            "search_read",
            [[("model", "=", "discuss.channel"), ("res_id", "=", self.channel_b.id)]],
            {"fields": ["body"]},
        )["result"]
        self.assertEqual(found, [])
        for method, args in (
            ("read", [self.attachment_b.ids, ["datas"]]),
            ("search_read", [[("id", "=", self.attachment_b.id)]]),
            ("write", [self.attachment_b.ids, {"res_id": self.channel_a.id}]),
            ("unlink", [self.attachment_b.ids]),
        ):
            with self.subTest(model="ir.attachment", method=method):
                self._assert_rpc_error(
                    self._call_kw("ir.attachment", method, args), "odoo.exceptions.AccessError"
                )
        self._assert_unchanged(before)

    # ------------------------------------------------------------
    # Discuss' routes (/mail/..., /discuss/...)
    # ------------------------------------------------------------

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_post_to_foreign_threads_not_found(self):
        self._login(self.customer_a)
        before = self._snapshot()
        for thread_model, thread_id in (
            ("discuss.channel", self.channel_b.id),
            ("discuss.channel", self.ticket_b_resolved.channel_id.id),
            ("im_livechat.ticket", self.ticket_b.id),
            ("im_livechat.ticket", self.ticket_a.id),
            ("res.partner", self.customer_b.partner_id.id),
        ):
            with self.subTest(thread_model=thread_model, thread_id=thread_id):
                answer = self._jsonrpc(
                    "/mail/message/post",
                    {
                        "thread_model": thread_model,
                        "thread_id": thread_id,
                        "post_data": {"body": "intrusion", "message_type": "comment"},
                    },
                )
                self._assert_rpc_error(answer, "werkzeug.exceptions.NotFound")
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_post_malformed_params_refused(self):
        self._login(self.customer_a)
        before = self._snapshot()
        good = {"body": "malformed", "message_type": "comment"}
        cases = {
            "missing thread_id": {"thread_model": "discuss.channel", "post_data": good},
            "missing post_data": {
                "thread_model": "discuss.channel",
                "thread_id": self.channel_b.id,
            },
            "string id": {"thread_model": "discuss.channel", "thread_id": "abc", "post_data": good},
            "string of B's id": {
                "thread_model": "discuss.channel",
                "thread_id": str(self.channel_b.id),
                "post_data": good,
            },
            "list of ids": {
                "thread_model": "discuss.channel",
                "thread_id": [self.channel_a.id, self.channel_b.id],
                "post_data": good,
            },
            "huge id": {"thread_model": "discuss.channel", "thread_id": 2**62, "post_data": good},
            "huger id": {"thread_model": "discuss.channel", "thread_id": 10**30, "post_data": good},
            "negative id": {
                "thread_model": "discuss.channel",
                "thread_id": -self.channel_b.id,
                "post_data": good,
            },
            "null id": {"thread_model": "discuss.channel", "thread_id": None, "post_data": good},
            "post_data string": {
                "thread_model": "discuss.channel",
                "thread_id": self.channel_b.id,
                "post_data": "x",
            },
            "post_data list": {
                "thread_model": "discuss.channel",
                "thread_id": self.channel_b.id,
                "post_data": [good],
            },
            "unknown model": {"thread_model": "no.such.model", "thread_id": 1, "post_data": good},
            "abstract model": {
                "thread_model": "mail.thread",
                "thread_id": self.channel_b.id,
                "post_data": good,
            },
        }
        for label, params in cases.items():
            with self.subTest(case=label):
                self._assert_rpc_error(self._jsonrpc("/mail/message/post", params))
        self._assert_unchanged(before)
        self.assertNotIn("malformed", self._comment_bodies(self.channel_b))

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_post_empty_body(self):
        self._login(self.customer_a)
        before = self._snapshot()
        answer = self._post_message(self.channel_a.id, "")
        self.env.invalidate_all()
        if "result" in answer:
            after = len(self.env["mail.message"].sudo().search([]))
            self.assertLessEqual(after - len(before["messages"]), 1)
            page = self._get(f"/my/tickets/{self.ticket_a.id}")
            self.assertEqual(page.status_code, 200)
            if after > len(before["messages"]):
                self.fail(
                    "GAP: /mail/message/post accepts an empty customer message in a ticket "
                    "conversation (an empty comment is stored; it shows as nothing)"
                )
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_post_oversize_body(self):
        self._login(self.customer_a)
        before = self._snapshot()
        body = "o" * (MESSAGE_MAX_LENGTH * 10)
        answer = self._post_message(self.channel_b.id, body)
        self._assert_rpc_error(answer, "werkzeug.exceptions.NotFound")
        self._assert_unchanged(before)
        answer = self._post_message(self.channel_a.id, body)
        if "result" in answer:
            self.fail(
                f"GAP: /mail/message/post stores a {len(body)}-character customer message in a "
                "ticket "
                f"conversation; the portal form limits messages to {MESSAGE_MAX_LENGTH}"
            )
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_post_with_foreign_attachments_refused(self):
        # B's pending upload, not yet posted
        self._login(self.customer_b)
        upload = self._upload(self.channel_b.id, "pending-b.png", PNG_B).json()
        pending = upload["data"]["ir.attachment"][0]
        self._login(self.customer_a)
        before = self._snapshot()
        for label, attachment_id, tokens in (
            ("posted, no token", self.attachment_b.id, None),
            ("posted, wrong token", self.attachment_b.id, ["not-the-token"]),
            ("posted, empty token", self.attachment_b.id, [""]),
            ("pending, wrong token", pending["id"], ["0" * 32]),
            ("missing id", 2**31 - 1, ["x"]),
        ):
            with self.subTest(case=label):
                extra = {"attachment_tokens": tokens} if tokens is not None else {}
                answer = self._post_message(
                    self.channel_a.id,
                    "stealing",
                    post_data={"attachment_ids": [attachment_id]},
                    **extra,
                )
                self._assert_rpc_error(answer, "odoo.exceptions.UserError")
        self._assert_unchanged(before)
        self.assertEqual(
            (self.attachment_b.res_model, self.attachment_b.res_id),
            ("discuss.channel", self.channel_b.id),
        )
        pending_record = self.env["ir.attachment"].sudo().browse(pending["id"])
        self.assertEqual(
            (pending_record.res_model, pending_record.res_id), ("mail.compose.message", 0)
        )
        self.assertNotIn("stealing", self._comment_bodies(self.channel_a))

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_message_post_with_raw_files_checked(self):
        """message_post called over JSON-RPC with file contents (``attachments``)
        instead of uploaded ids: the same content checks."""
        self._login(self.customer_a)
        before = self._snapshot()
        for label, files in (
            ("html", [["page.png", HTML_FILE.decode()]]),
            ("eleven files", [[f"p{i}.png", "x"] for i in range(11)]),
            ("malformed", ["page.png"]),
        ):
            with self.subTest(case=label):
                answer = self._call_kw(
                    "discuss.channel",
                    "message_post",
                    [[self.channel_a.id]],
                    {"body": "raw files", "message_type": "comment", "attachments": files},
                )
                self._assert_rpc_error(answer)
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_rpc_forged_checked_files_marker_ignored(self):
        """The marker by which the server skips re-reading files it checked
        itself cannot be sent by a client: the files are checked anyway."""
        self._login(self.customer_a)
        # 10 bytes: smaller than A's picture
        self.env["ir.config_parameter"].sudo().set_param(
            "im_livechat_ticket.max_upload_mb", "0.00001"
        )
        before = self._snapshot()
        answer = self._call_kw(
            "discuss.channel",
            "message_post",
            [[self.channel_a.id]],
            {
                "body": "forged",
                "message_type": "comment",
                "attachment_ids": self.attachment_a.ids,
                "ticket_checked_attachment_ids": self.attachment_a.ids,
            },
        )
        data = self._assert_rpc_error(answer, "odoo.exceptions.UserError")
        self.assertIn("too large", data.get("message", ""))
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_post_cannot_impersonate_or_notify_others(self):
        self._login(self.customer_a)
        answer = self._post_message(
            self.channel_a.id,
            "who am I",
            post_data={
                "author_id": self.agent.partner_id.id,
                "email_from": "agent@example.com",
                "partner_ids": [self.customer_b.partner_id.id],
                "model": "discuss.channel",
                "res_id": self.channel_b.id,
                "record_name": "forged",
            },
        )
        self.assertIn("result", answer)
        self.env.invalidate_all()
        message = self.channel_a.message_ids[0]
        self.assertIn("who am I", message.body)
        self.assertEqual(message.author_id, self.customer_a.partner_id)
        self.assertEqual((message.model, message.res_id), ("discuss.channel", self.channel_a.id))
        self.assertNotIn(self.customer_b.partner_id, message.partner_ids)
        self.assertNotIn("who am I", self._comment_bodies(self.channel_b))
        self.assertEqual(
            self.ticket_a.state, "new", "a customer's message does not count as the agent's"
        )

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_post_reply_to_foreign_message_does_not_leak_it(self):
        self._login(self.customer_a)
        answer = self._post_message(
            self.channel_a.id, "replying", post_data={"parent_id": self.message_b.id}
        )
        self.assertNotIn("B-SECRET-MESSAGE", json.dumps(answer), "the answer to the post")
        self.env.invalidate_all()
        if "result" in answer:
            message = self.channel_a.message_ids[0]
            self.assertIn("replying", message.body)
            self.assertNotEqual(
                message.parent_id,
                self.message_b,
                "a reply links to a message of its own conversation only",
            )
        later = json.dumps(
            self._jsonrpc("/discuss/channel/messages", {"channel_id": self.channel_a.id})
        )
        self.assertNotIn("B-SECRET-MESSAGE", later, "A's conversation as fetched afterwards")

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_post_non_comment_types_get_no_way_around_the_checks(self):
        """A resolved ticket takes no new customer message, and the message
        rate limit holds, whatever ``message_type`` the client claims."""
        resolved_channel = self.ticket_a_resolved.channel_id
        self._login(self.customer_a)
        before = self._snapshot()
        data = self._assert_rpc_error(
            self._post_message(resolved_channel.id, "comment after resolve"),
            "odoo.exceptions.UserError",
        )
        self.assertIn("This ticket was resolved", data["message"])
        self._assert_unchanged(before)
        sneaked_resolved = []
        for message_type in ("notification", "email", "auto_comment"):
            answer = self._post_message(
                resolved_channel.id,
                f"sneaked {message_type}",
                post_data={"message_type": message_type},
            )
            if "result" in answer:
                sneaked_resolved.append(message_type)
        # the rate limit, on an open ticket: the customer's earlier messages use it up
        self.env["ir.config_parameter"].sudo().set_param(
            "im_livechat_ticket.rate_limit_messages", "1/3600"
        )
        before = self._snapshot()
        data = self._assert_rpc_error(
            self._post_message(self.channel_a.id, "one too many"), "odoo.exceptions.UserError"
        )
        self.assertIn("You are sending too fast", data["message"])
        self._assert_unchanged(before)
        sneaked_limit = []
        for message_type in ("notification", "email", "auto_comment"):
            answer = self._post_message(
                self.channel_a.id, f"flood {message_type}", post_data={"message_type": message_type}
            )
            if "result" in answer:
                sneaked_limit.append(message_type)
        if sneaked_resolved or sneaked_limit:
            self.fail(
                "VULNERABILITY: POST /mail/message/post {thread_model: 'discuss.channel', "
                "thread_id: <own ticket "
                "channel>, post_data: {body, message_type: "
                "'notification'|'email'|'auto_comment'}} is stored: "
                f"into a resolved ticket ({sneaked_resolved}) and past the message rate limit "
                f"({sneaked_limit}); "
                "models/discuss_channel.py message_post checks only message_type == 'comment'"
            )
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_read_foreign_channel_refused(self):
        self._login(self.customer_a)
        before = self._snapshot()
        result = self._jsonrpc(
            "/mail/thread/messages",
            {"thread_model": "discuss.channel", "thread_id": self.channel_b.id},
        )["result"]
        self.assertEqual(result["messages"], [])
        self.assertNotIn("B-SECRET", json.dumps(result))
        result = self._jsonrpc(
            "/mail/thread/messages",
            {
                "thread_model": "discuss.channel",
                "thread_id": self.channel_b.id,
                "search_term": "SECRET",
                "around": self.message_b.id,
            },
        )["result"]
        self.assertEqual(result["messages"], [])
        self.assertNotIn("B-SECRET", json.dumps(result))
        result = self._jsonrpc(
            "/mail/thread/messages",
            {"thread_model": "im_livechat.ticket", "thread_id": self.ticket_b.id},
        )["result"]
        self.assertEqual(result["messages"], [])
        self._assert_rpc_error(
            self._jsonrpc("/discuss/channel/messages", {"channel_id": self.channel_b.id}),
            "werkzeug.exceptions.NotFound",
        )
        for route, params in (
            (
                "/mail/thread/data",
                {
                    "thread_model": "discuss.channel",
                    "thread_id": self.channel_b.id,
                    "request_list": ["attachments", "followers"],
                },
            ),
            (
                "/mail/thread/data",
                {
                    "thread_model": "im_livechat.ticket",
                    "thread_id": self.ticket_b.id,
                    "request_list": ["attachments"],
                },
            ),
            ("/discuss/channel/info", {"channel_id": self.channel_b.id}),
            ("/discuss/channel/attachments", {"channel_id": self.channel_b.id}),
            ("/discuss/channel/pinned_messages", {"channel_id": self.channel_b.id}),
        ):
            with self.subTest(route=route, model=params.get("thread_model")):
                dump = json.dumps(self._jsonrpc(route, params))
                self.assertNotIn("B-SECRET", dump)
                self.assertNotIn("Ben", dump)
                self.assertNotIn("b.png", dump)
        self._assert_unchanged(before)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_internal_note_on_own_ticket_hidden_from_customer(self):
        self.ticket_a.with_user(self.agent).message_post(
            body="INTERNAL-NOTE-ABOUT-ANNA", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self._login(self.customer_a)
        result = self._jsonrpc(
            "/mail/thread/messages",
            {"thread_model": "im_livechat.ticket", "thread_id": self.ticket_a.id},
        )["result"]
        self.assertNotIn("INTERNAL-NOTE-ABOUT-ANNA", json.dumps(result))
        self.assertNotIn(
            "INTERNAL-NOTE-ABOUT-ANNA", self._get(f"/my/tickets/{self.ticket_a.id}").text
        )

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_mark_as_read_and_typing_on_foreign_channel_refused(self):
        member_b = self.channel_b.channel_member_ids.filtered(
            lambda m: m.partner_id == self.customer_b.partner_id
        )
        seen_before = (member_b.seen_message_id.id, member_b.new_message_separator)
        self._login(self.customer_a)
        before = self._snapshot()
        answer = self._jsonrpc(
            "/discuss/channel/mark_as_read",
            {"channel_id": self.channel_b.id, "last_message_id": self.channel_b.message_ids[0].id},
        )
        self.assertIsNone(answer.get("result"))
        self._assert_rpc_error(
            self._jsonrpc(
                "/discuss/channel/notify_typing",
                {"channel_id": self.channel_b.id, "is_typing": True},
            ),
            "werkzeug.exceptions.NotFound",
        )
        self._assert_rpc_error(
            self._jsonrpc(
                "/discuss/channel/mark_as_unread",
                {"channel_id": self.channel_b.id, "message_id": self.message_b.id},
            ),
            "werkzeug.exceptions.NotFound",
        )
        # marking one's own channel read up to B's message id is harmless but must not join B
        self._jsonrpc(
            "/discuss/channel/mark_as_read",
            {"channel_id": self.channel_a.id, "last_message_id": self.message_b.id},
        )
        self._assert_unchanged(before)
        member_b.invalidate_recordset()
        self.assertEqual((member_b.seen_message_id.id, member_b.new_message_separator), seen_before)
        self.assertNotIn(self.customer_a.partner_id, self.channel_b.channel_member_ids.partner_id)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_upload_to_foreign_channel_refused(self):
        self._login(self.customer_a)
        before = self._snapshot()
        response = self._upload(self.channel_b.id, "intruder.png", PNG_A)
        self.assertEqual(response.status_code, 404)
        response_abc = self._upload("abc", "intruder.png", PNG_A)
        self.assertIn(response_abc.status_code, (400, 404, 500))
        response_html = self._upload(self.channel_b.id, "intruder.html", HTML_FILE)
        self.assertNotIn('"data"', response_html.text)
        self._assert_unchanged(before)
        if response_html.status_code == 200:
            self.fail(
                "GAP: /mail/attachment/upload checks the file's type before the caller's access "
                "to the "
                "channel: a refused file on another customer's ticket channel answers 200 "
                f"{response_html.text[:80]!r} (tells ticket channels apart) instead of 404"
            )
        self.assertEqual(response_html.status_code, 404)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_mail_update_and_delete_foreign_content_refused(self):
        agent_message = self.channel_a.with_user(self.agent).message_post(
            body="AGENT-ORIGINAL", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self._login(self.customer_a)
        before = self._snapshot()
        for label, message in (
            ("B's message", self.message_b),
            ("agent's message in A's channel", agent_message),
        ):
            with self.subTest(update=label):
                answer = self._jsonrpc(
                    "/mail/message/update_content",
                    {"message_id": message.id, "body": "EDITED", "attachment_ids": []},
                )
                self._assert_rpc_error(answer, "werkzeug.exceptions.NotFound")
        for label, params in (
            ("B's posted attachment", {"attachment_id": self.attachment_b.id}),
            (
                "B's posted attachment, token",
                {"attachment_id": self.attachment_b.id, "access_token": "guess"},
            ),
        ):
            with self.subTest(delete=label):
                answer = self._jsonrpc("/mail/attachment/delete", params)
                self._assert_rpc_error(
                    answer, "werkzeug.exceptions.NotFound", "odoo.exceptions.AccessError"
                )
        self._assert_unchanged(before)
        self.env.invalidate_all()
        self.assertIn("AGENT-ORIGINAL", agent_message.body)
        self.assertIn("B-SECRET-MESSAGE", self.message_b.body)

    @mute_logger(*REFUSAL_LOGGERS)
    def test_livechat_routes_on_foreign_channel_do_nothing(self):
        self._login(self.customer_a)
        before = self._snapshot()
        mails = self.env["mail.mail"].sudo().search_count([])
        for route, params in (
            (
                "/im_livechat/feedback",
                {"channel_id": self.channel_b.id, "rate": 1, "reason": "bad"},
            ),
            ("/im_livechat/visitor_leave_session", {"channel_id": self.channel_b.id}),
            (
                "/im_livechat/email_livechat_transcript",
                {"channel_id": self.channel_b.id, "email": "thief@example.com"},
            ),
            (
                "/im_livechat/history",
                {
                    "channel_id": self.channel_b.id,
                    "pid": self.customer_b.partner_id.id,
                    "page_history": ["x"],
                },
            ),
        ):
            with self.subTest(route=route):
                answer = self._jsonrpc(route, params)
                # the routes look the channel up with the caller's rights: not found, nothing done
                self.assertNotIn("error", answer)
                self.assertFalse(answer.get("result"))
        self._assert_unchanged(before)
        self.assertEqual(self.env["mail.mail"].sudo().search_count([]), mails)
        self.assertTrue(self.channel_b.livechat_active)

    # ------------------------------------------------------------
    # File routes (/web/content, /web/image)
    # ------------------------------------------------------------

    @mute_logger(*REFUSAL_LOGGERS)
    def test_web_content_foreign_attachment_refused(self):
        token_a = self.attachment_a.sudo().generate_access_token()[0]
        token_b = self.attachment_b.sudo().generate_access_token()[0]
        b = self.attachment_b.id
        for actor in (self.customer_a, self.customer_a2, self.employee, None):
            self._login(actor)
            for url in (
                f"/web/content/{b}",
                f"/web/content/{b}?download=true",
                f"/web/content/{b}?access_token=guessed",
                f"/web/content/{b}?access_token={token_a}",
                f"/web/content/{b}?access_token={token_b[:-1]}",
                f"/web/content/{b}?access_token=",
                # B's real token, forwarded: a token alone opens no ticket's file
                f"/web/content/{b}?access_token={token_b}",
                f"/web/content/ir.attachment/{b}/raw?access_token={token_b}",
                f"/web/content/ir.attachment/{b}/datas",
                f"/web/content/ir.attachment/{b}/raw",
                f"/web/content/ir.attachment/{b}/datas?access_token={token_a}",
                f"/web/image/{b}?download=true",
            ):
                with self.subTest(actor=actor and actor.login, url=url):
                    response = self._get(url)
                    self.assertIn(response.status_code, (403, 404))
                    self.assertNotEqual(response.content, PNG_B)
            image_urls = (
                f"/web/image/{b}",
                f"/web/image/{b}?access_token={token_a}",
                f"/web/image/{b}?access_token={token_b}",
                f"/web/image/ir.attachment/{b}/datas",
            )
            for url in image_urls:
                with self.subTest(actor=actor and actor.login, url=url):
                    response = self._get(url)
                    # Odoo answers a placeholder image to a refused /web/image
                    self.assertIn(response.status_code, (200, 403, 404))
                    self.assertNotEqual(response.content, PNG_B)
        # control: B's token opens it for B
        self._login(self.customer_b)
        response = self._get(f"/web/content/{b}?access_token={token_b}")
        self.assertEqual(response.content, PNG_B)

    # ------------------------------------------------------------
    # Websocket (bus)
    # ------------------------------------------------------------

    def _ws_connect(self, session, channels=()):
        websocket = self.websocket_connect(cookie=f"session_id={session.sid}")
        self.subscribe(websocket, list(channels), self.last_bus_id)
        return websocket

    def _ws_post(self, session, channel, body):
        self._use(session)
        answer = self._post_message(channel.id, body)
        self.assertIn("result", answer)

    def _ws_receive_until(self, websocket, predicate, attempts=10):
        received = []
        for _attempt in range(attempts):
            notifications = json.loads(websocket.recv())
            received.extend(notifications)
            if predicate(received):
                return received
        self.fail(f"never received the expected notification: {received}")

    def _ws_marker(self, target, websocket):
        """Send a marker to ``target`` (a record or "broadcast") and return
        everything ``websocket`` receives with it. The sockets' threads share
        the test cursor: touch the ORM only under the test lock."""
        with self.registry.test_lock:
            if target == "broadcast":
                self.env["bus.bus"]._sendone("broadcast", "test/marker", {})
            else:
                target._bus_send("test/marker", {})
            self.trigger_notification_dispatching([target])
        return json.loads(websocket.recv())

    def _setup_ws(self):
        self.env.flush_all()
        self.last_bus_id = self.env["bus.bus"]._bus_last_id()

    def test_ws_other_customer_subscribing_receives_nothing(self):
        self._setup_ws()
        intruder_partner = self.customer_b.partner_id
        intruder = self._login(self.customer_b)
        intruder_socket = self._ws_connect(
            intruder,
            [
                f"discuss.channel_{self.channel_a.id}",
                f"discuss.channel_{self.channel_a.id}_members",
                f"odoo-presence-res.partner_{self.customer_a.partner_id.id}",
                f"res.partner_{self.customer_a.partner_id.id}",
                f"res.groups_{self.livechat_group.id}",
                "im_livechat.ticket",
            ],
        )
        customer = self._login(self.customer_a)
        agent = self._login(self.agent)
        agent_socket = self._ws_connect(agent)
        self._ws_post(customer, self.channel_a, "WS-SECRET-FROM-A")
        self._ws_post(agent, self.channel_a, "WS-SECRET-FROM-AGENT")
        with self.registry.test_lock:
            self.trigger_notification_dispatching([self.channel_a, (self.channel_a, "members")])
        # control: the agent, a member, gets them
        self._ws_receive_until(agent_socket, lambda got: "WS-SECRET-FROM-AGENT" in json.dumps(got))
        received = self._ws_marker(intruder_partner, intruder_socket)
        self.assertEqual([n["message"]["type"] for n in received], ["test/marker"])
        self.assertNotIn("WS-SECRET", json.dumps(received))

    def test_ws_public_subscribing_receives_nothing(self):
        self._setup_ws()
        public = self._login(None)
        public_socket = self._ws_connect(
            public,
            [
                f"discuss.channel_{self.channel_a.id}",
                f"odoo-presence-res.partner_{self.customer_a.partner_id.id}",
                f"res.partner_{self.customer_a.partner_id.id}",
            ],
        )
        customer = self._login(self.customer_a)
        customer_socket = self._ws_connect(customer)
        agent = self._login(self.agent)
        self._ws_post(agent, self.channel_a, "WS-SECRET-TO-PUBLIC")
        with self.registry.test_lock:
            self.trigger_notification_dispatching([self.channel_a, (self.channel_a, "members")])
        self._ws_receive_until(
            customer_socket, lambda got: "WS-SECRET-TO-PUBLIC" in json.dumps(got)
        )
        received = self._ws_marker("broadcast", public_socket)
        self.assertEqual([n["message"]["type"] for n in received], ["test/marker"])

    def test_ws_ticket_events_reach_only_agents_and_the_customer(self):
        self._setup_ws()
        channels = [f"res.groups_{self.livechat_group.id}", f"discuss.channel_{self.channel_a.id}"]
        outsiders = {
            "employee": self.employee,
            "coworker, sharing off": self.customer_a2,
            "other customer": self.customer_b,
        }
        partners = {label: user.partner_id for label, user in outsiders.items()}
        customer_partner = self.customer_a.partner_id
        sockets = {
            label: self._ws_connect(self._login(user), channels)
            for label, user in outsiders.items()
        }
        customer_socket = self._ws_connect(self._login(self.customer_a))
        agent_2_socket = self._ws_connect(self._login(self.agent_2))
        self._login(self.agent)
        answer = self._call_kw(
            "im_livechat.ticket", "write", [[self.ticket_a.id], {"priority": "3"}]
        )
        self.assertIn("result", answer)
        with self.registry.test_lock:
            self.trigger_notification_dispatching(
                [self.livechat_group, customer_partner, self.channel_a]
            )

        def got_update(received):
            return any(
                n["message"]["type"] == "im_livechat.ticket/updated"
                and n["message"]["payload"]["id"] == self.ticket_a.id
                for n in received
            )

        # controls: every agent (not only the assigned one) and the customer get it
        self._ws_receive_until(agent_2_socket, got_update)
        self._ws_receive_until(customer_socket, got_update)
        for label in outsiders:
            with self.subTest(actor=label):
                received = self._ws_marker(partners[label], sockets[label])
                self.assertEqual([n["message"]["type"] for n in received], ["test/marker"])
