import io
import json
import re

import lxml.html
from PIL import Image

from odoo.tests import HttpCase, tagged
from odoo.tools import html_escape, mute_logger

from .common import TicketFixtures


def make_png(width=8, height=8, color=(200, 30, 30)):
    """A small, real PNG image."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def by_class(node, css_class):
    """The descendants of ``node`` having the class ``css_class``."""
    return node.xpath(f".//*[contains(concat(' ', normalize-space(@class), ' '), ' {css_class} ')]")


@tagged("post_install", "-at_install")
class TestTicketPortal(TicketFixtures, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ticket_a = cls._new_ticket(
            cls.customer_a, "Squeaky brakes", "My brakes squeak when it rains.", priority="1"
        )
        cls.ticket_b = cls._new_ticket(
            cls.customer_b, "Flat battery", "The battery is empty after one hour.", priority="3"
        )

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _csrf_token(self, url="/my/tickets/new"):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        self.assertTrue(match, "the page carries a CSRF token")
        return match.group(1)

    def _post(self, url, data, files=None, csrf=True):
        data = dict(data)
        if csrf:
            data["csrf_token"] = self._csrf_token()
        return self.url_open(url, data=data, files=files, allow_redirects=False)

    def _ticket_count(self):
        return self.env["im_livechat.ticket"].sudo().search_count([])

    def _assert_same_images_as_admin(self, urls):
        """The current user gets the same images as an administrator."""
        images = {url: self.url_open(url).content for url in urls}
        self.authenticate("admin", "admin")
        placeholder = self.url_open("/web/static/img/placeholder.png").content
        for url, content in images.items():
            with self.subTest(url=url):
                admin_content = self.url_open(url).content
                self.assertNotEqual(admin_content, placeholder)
                self.assertEqual(content, admin_content)

    def _comments(self, ticket):
        self.env.invalidate_all()
        return ticket.channel_id.message_ids.filtered(lambda m: m.message_type == "comment")

    # ------------------------------------------------------------
    # List and home
    # ------------------------------------------------------------

    def test_list_shows_own_tickets_only(self):
        self._login(self.customer_a)
        response = self.url_open("/my/tickets")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.ticket_a.reference, response.text)
        self.assertIn("Squeaky brakes", response.text)
        self.assertIn(self.agent.name, response.text, "the agent's name is listed")
        self.assertNotIn(self.ticket_b.reference, response.text)
        self.assertNotIn("Flat battery", response.text)
        self.assertIn('href="/my/tickets/new"', response.text, "the list has a New ticket button")

        self._login(self.customer_b)
        response = self.url_open("/my/tickets")
        self.assertIn(self.ticket_b.reference, response.text)
        self.assertNotIn(self.ticket_a.reference, response.text)

    def test_list_filters_and_sortings(self):
        resolved = (
            self.env["im_livechat.ticket"]
            .with_user(self.customer_a)
            ._portal_create_ticket("Old question", "Solved already.", "0")
        )
        resolved.with_user(self.agent).action_resolve()
        self._login(self.customer_a)

        response = self.url_open("/my/tickets?filterby=resolved")
        self.assertIn(resolved.reference, response.text)
        self.assertNotIn(self.ticket_a.reference, response.text)

        response = self.url_open("/my/tickets?filterby=open")
        self.assertIn(self.ticket_a.reference, response.text)
        self.assertNotIn(resolved.reference, response.text)

        for sortby in ("activity", "date", "priority", "reference", "nonsense"):
            with self.subTest(sortby=sortby):
                response = self.url_open(f"/my/tickets?sortby={sortby}")
                self.assertEqual(response.status_code, 200)
                self.assertIn(self.ticket_a.reference, response.text)
                self.assertIn(resolved.reference, response.text)

        response = self.url_open("/my/tickets?sortby=date")
        self.assertLess(
            response.text.index(resolved.reference),
            response.text.index(self.ticket_a.reference),
            "Newest puts the latest ticket first",
        )
        response = self.url_open("/my/tickets?sortby=priority")
        self.assertLess(
            response.text.index(self.ticket_a.reference),
            response.text.index(resolved.reference),
            "Priority puts Normal before Low",
        )

    def test_list_marks_unread_tickets(self):
        self.ticket_a.channel_id.with_user(self.agent).message_post(
            body="Could you send a picture?",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self._login(self.customer_a)
        response = self.url_open("/my/tickets")
        self.assertIn("o_im_livechat_ticket_unread_badge", response.text)
        self.assertRegex(response.text, r'o_im_livechat_ticket_row o_im_livechat_ticket_unread"')

        # Reading the conversation clears the marker.
        self.url_open(f"/my/tickets/{self.ticket_a.id}")
        self.env.invalidate_all()
        self.assertEqual(self.ticket_a.customer_unread_count, 0)
        response = self.url_open("/my/tickets")
        self.assertNotIn("o_im_livechat_ticket_unread_badge", response.text)

    def test_home_shows_ticket_entry_and_count(self):
        self._login(self.customer_a)
        response = self.url_open("/my")
        self.assertEqual(response.status_code, 200)
        self.assertIn('href="/my/tickets"', response.text)
        self.assertIn('data-placeholder_count="ticket_count"', response.text)
        self.assertIn("Support Tickets", response.text)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["ticket_count"]})
        self.assertEqual(counters, {"ticket_count": 1})

        self.env["im_livechat.ticket"].with_user(self.customer_a)._portal_create_ticket(
            "Second one", "Another question.", "1"
        )
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["ticket_count"]})
        self.assertEqual(counters, {"ticket_count": 2})

    # ------------------------------------------------------------
    # New ticket
    # ------------------------------------------------------------

    def test_new_ticket_form(self):
        self._login(self.customer_a)
        response = self.url_open("/my/tickets/new")
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertIn('enctype="multipart/form-data"', html)
        self.assertIn('action="/my/tickets/new"', html)
        self.assertRegex(html, r'name="csrf_token" value="[^"]+"')
        self.assertRegex(html, r'<input[^>]*name="name"[^>]*maxlength="200"')
        self.assertRegex(html, r'<textarea id="o_im_livechat_ticket_message"[^>]* name="message"')
        self.assertRegex(html, r'<input[^>]*name="attachments"[^>]*multiple')
        self.assertRegex(html, r'<option value="1" selected="selected">Normal</option>')
        for value, label in (("0", "Low"), ("2", "High"), ("3", "Urgent")):
            self.assertIn(f'<option value="{value}">{label}</option>', html)

    def test_create_ticket(self):
        self._login(self.customer_a)
        count = self._ticket_count()
        png = make_png()
        response = self._post(
            "/my/tickets/new",
            {"name": "Broken pedal", "message": "The left pedal fell off.", "priority": "2"},
            files=[
                ("attachments", ("pedal.png", png, "image/png")),
                # an empty file input (no file chosen) is ignored
                ("attachments", ("", b"", "application/octet-stream")),
            ],
        )
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._ticket_count(), count + 1)
        ticket = self.env["im_livechat.ticket"].sudo().search([], order="id desc", limit=1)
        self.assertTrue(response.headers["Location"].endswith(f"/my/tickets/{ticket.id}"))
        self.assertEqual(ticket.name, "Broken pedal")
        self.assertEqual(ticket.priority, "2")
        self.assertEqual(ticket.partner_id, self.customer_a.partner_id)
        self.assertEqual(ticket.user_id, self.agent)
        self.assertTrue(ticket.channel_id)
        message = self._comments(ticket)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.author_id, self.customer_a.partner_id)
        self.assertIn("The left pedal fell off.", message.body)
        self.assertEqual(message.attachment_ids.mapped("name"), ["pedal.png"])
        self.assertEqual(message.attachment_ids.mimetype, "image/png")
        self.assertEqual(message.attachment_ids.raw, png)

        # The ticket page shows it all, and the customer's browser can load the picture.
        response = self.url_open(f"/my/tickets/{ticket.id}")
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertIn("Broken pedal", html)
        self.assertIn(ticket.reference, html)
        self.assertIn("The left pedal fell off.", html)
        self.assertIn(self.agent.name, html)
        attachment = message.attachment_ids
        match = re.search(rf'src="(/web/image/{attachment.id}/[^"]*access_token=[^"]+)"', html)
        self.assertTrue(match, "the picture is shown with an access token")
        image = self.url_open(match.group(1).replace("&amp;", "&"))
        self.assertEqual(image.status_code, 200)
        self.assertEqual(image.headers["Content-Type"], "image/png")

    def test_double_submit_of_one_form_opens_one_ticket(self):
        self._login(self.customer_a)
        form = self.url_open("/my/tickets/new").text
        key = re.search(r'name="request_key" value="([0-9a-f]{32})"', form).group(1)
        again = self.url_open("/my/tickets/new").text
        self.assertNotIn(key, again, "every form shown gets its own key")
        count = self._ticket_count()
        data = {"name": "Double click", "message": "Sent twice.", "request_key": key}
        first = self._post("/my/tickets/new", data)
        second = self._post("/my/tickets/new", data)
        self.assertEqual((first.status_code, second.status_code), (303, 303))
        self.assertEqual(
            first.headers["Location"], second.headers["Location"], "both open the same ticket"
        )
        self.assertEqual(self._ticket_count(), count + 1)

    @mute_logger("odoo.http")
    def test_create_ticket_without_csrf_refused(self):
        self._login(self.customer_a)
        count = self._ticket_count()
        response = self._post(
            "/my/tickets/new",
            {"name": "No token", "message": "Forged request", "priority": "1"},
            csrf=False,
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._ticket_count(), count)

        response = self.url_open(
            "/my/tickets/new",
            data={
                "name": "Bad token",
                "message": "Forged request",
                "csrf_token": "0" * 40 + "o9999999999",
            },
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._ticket_count(), count)

    def test_create_ticket_bad_input(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "im_livechat_ticket.max_upload_mb", "0.001"
        )
        self._login(self.customer_a)
        html_file = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
        cases = [
            ("empty subject", {"name": "  ", "message": "Hello"}, None, "Please enter a subject."),
            (
                "long subject",
                {"name": "x" * 201, "message": "Hello"},
                None,
                "The subject is too long (201",
            ),
            (
                "empty message",
                {"name": "Subject kept", "message": ""},
                None,
                "Please describe your request.",
            ),
            (
                "unknown priority",
                {"name": "Subject kept", "message": "Hello", "priority": "9"},
                None,
                "Unknown priority.",
            ),
            (
                "html as png",
                {"name": "Subject kept", "message": "Hello"},
                [("attachments", ("photo.png", html_file, "image/png"))],
                "photo.png is not allowed",
            ),
            (
                "too large",
                {"name": "Subject kept", "message": "Hello"},
                [
                    (
                        "attachments",
                        ("big.png", make_png(200, 200, (1, 2, 3)) + b"\0" * 2048, "image/png"),
                    )
                ],
                "big.png is too large",
            ),
        ]
        count = self._ticket_count()
        for label, data, files, error in cases:
            with self.subTest(case=label):
                response = self._post("/my/tickets/new", data, files=files)
                self.assertEqual(response.status_code, 200)
                html = response.text
                self.assertIn("o_im_livechat_ticket_error", html)
                self.assertIn(str(html_escape(error)), html)
                self.assertIn('<form action="/my/tickets/new"', html, "the form is shown again")
                if data["name"].strip():
                    self.assertIn(f'value="{data["name"]}"', html, "the subject typed is kept")
                if data["message"]:
                    self.assertIn(
                        f">{data['message']}</textarea>", html, "the message typed is kept"
                    )
                if files:
                    self.assertIn("Please select your files again.", html)
                self.assertNotIn("Traceback", html)
                self.assertEqual(self._ticket_count(), count, "nothing was created")
        self.assertFalse(
            self.env["ir.attachment"]
            .sudo()
            .search_count([("name", "in", ["photo.png", "big.png"])])
        )

    # ------------------------------------------------------------
    # Ticket page
    # ------------------------------------------------------------

    def test_ticket_page(self):
        channel = self.ticket_a.channel_id
        channel.with_user(self.agent).message_post(
            body="Hello, which model is it?",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self._login(self.customer_a)
        response = self.url_open(f"/my/tickets/{self.ticket_a.id}")
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertIn(self.ticket_a.reference, html)
        self.assertIn("Squeaky brakes", html)
        self.assertRegex(
            html,
            rf'class="o_im_livechat_ticket_conversation card"\s+data-channel-id="{channel.id}"\s+'
            rf'data-ticket-id="{self.ticket_a.id}"',
        )
        # oldest first; the customer's own message and the agent's are told apart
        conversation = by_class(lxml.html.fromstring(html), "o_im_livechat_ticket_conversation")[0]
        messages = by_class(conversation, "o_im_livechat_ticket_message")
        self.assertEqual(
            [
                (
                    message.get("class").split()[-1],
                    by_class(message, "o_im_livechat_ticket_body")[0].text_content().strip(),
                )
                for message in messages
            ],
            [
                ("o_im_livechat_ticket_message_own", "My brakes squeak when it rains."),
                ("o_im_livechat_ticket_message_other", "Hello, which model is it?"),
            ],
        )
        self.assertEqual(
            [
                by_class(message, "o_im_livechat_ticket_author")[0].text_content()
                for message in messages
            ],
            [self.customer_a.name, self.agent.name],
        )
        self.assertIn("o_im_livechat_ticket_day", html)
        self.assertIn(f'src="/web/image/res.partner/{self.agent.partner_id.id}/avatar_128"', html)
        self.assertIn(f'action="/my/tickets/{self.ticket_a.id}/message#ticket_bottom"', html)
        self.assertNotIn("o_im_livechat_ticket_reopen", html)

        # The avatars shown are the real ones (as an administrator gets them),
        # not the placeholder that /web/image serves when access is denied.
        avatar_urls = set(re.findall(r'src="(/web/image/res\.partner/\d+/avatar_128)"', html))
        self.assertEqual(
            avatar_urls,
            {
                f"/web/image/res.partner/{self.customer_a.partner_id.id}/avatar_128",
                f"/web/image/res.partner/{self.agent.partner_id.id}/avatar_128",
            },
        )
        self._assert_same_images_as_admin(avatar_urls)

    def test_ticket_page_agent_avatar_before_first_reply(self):
        self._login(self.customer_a)
        html = self.url_open(f"/my/tickets/{self.ticket_a.id}").text
        url = f"/web/image/res.partner/{self.agent.partner_id.id}/avatar_128"
        self.assertIn(f'src="{url}"', html)
        self._assert_same_images_as_admin({url})

    def test_ticket_page_shows_notices(self):
        self.ticket_a.with_user(self.agent).action_resolve()
        self._login(self.customer_a)
        response = self.url_open(f"/my/tickets/{self.ticket_a.id}")
        self.assertIn("o_im_livechat_ticket_notice", response.text)
        self.assertIn("resolved this ticket", response.text)
        self.assertIn("This ticket was resolved.", response.text)
        self.assertIn("o_im_livechat_ticket_reopen", response.text)
        self.assertNotIn("o_im_livechat_ticket_composer", response.text)

    def _chat_props(self, html):
        """The props of the page's live chat (an OWL component)."""
        components = lxml.html.fromstring(html).xpath(
            "//owl-component[@name='im_livechat_ticket.ticket_chat']"
        )
        self.assertEqual(len(components), 1, "the page mounts the live chat once")
        return json.loads(components[0].get("props"))

    def test_ticket_page_live_chat(self):
        self._login(self.customer_a)
        html = self.url_open(f"/my/tickets/{self.ticket_a.id}").text
        props = self._chat_props(html)
        self.assertEqual(props["ticketId"], self.ticket_a.id)
        self.assertEqual(props["channelId"], self.ticket_a.channel_id.id)
        self.assertEqual(props["ticketState"], self.ticket_a.state)
        self.assertEqual(props["agentPartnerId"], self.agent.partner_id.id)
        # what Discuss gets from a web client session: the user, and the agent's presence
        store = props["storeData"]
        self.assertEqual(
            store["Store"]["self"], {"id": self.customer_a.partner_id.id, "type": "partner"}
        )
        agent_data = next(p for p in store["res.partner"] if p["id"] == self.agent.partner_id.id)
        self.assertIn(agent_data["im_status"], ("online", "away", "offline"))
        self.assertEqual(agent_data["name"], self.agent.name)
        # the server-rendered history and form stay for browsers without JavaScript
        self.assertIn("My brakes squeak when it rains.", html)
        self.assertIn("o_im_livechat_ticket_composer", html)

    def test_resolved_ticket_page_without_javascript(self):
        """A resolved ticket's page, as the server renders it: the notice with
        Reopen and the rating form instead of the composer."""
        self.ticket_a.with_user(self.agent).action_resolve()
        self._login(self.customer_a)
        html = self.url_open(f"/my/tickets/{self.ticket_a.id}").text
        footer = by_class(lxml.html.fromstring(html), "o_im_livechat_ticket_footer")[0]
        notice = by_class(footer, "o_im_livechat_ticket_resolved")
        self.assertEqual(len(notice), 1)
        self.assertIn("This ticket was resolved.", notice[0].text_content())
        self.assertTrue(by_class(notice[0], "o_im_livechat_ticket_reopen"), "a Reopen button")
        self.assertTrue(by_class(notice[0], "o_im_livechat_ticket_rating_form"), "the rating form")
        self.assertFalse(footer.xpath(".//form[contains(@action, '/message')]"), "no composer")
        self.assertFalse(footer.xpath(".//textarea[@name='message']"))
        self.assertNotIn("o_im_livechat_ticket_composer", html)
        self.assertEqual(self._chat_props(html)["ticketState"], "resolved")

    @mute_logger("odoo.http")
    def test_ticket_status_parts(self):
        """The parts of the page the live page swaps in on ticket events."""
        self._login(self.customer_a)
        response = self.url_open(f"/my/tickets/{self.ticket_a.id}/status")
        self.assertEqual(response.status_code, 200)
        status = lxml.html.fromstring(response.text)
        self.assertIn("o_im_livechat_ticket_status", status.get("class"))
        self.assertTrue(by_class(status, "o_im_livechat_ticket_header"))
        self.assertTrue(by_class(status, "o_im_livechat_ticket_footer"))
        self.assertFalse(by_class(status, "o_im_livechat_ticket_resolved"))
        agent = by_class(status, "o_im_livechat_ticket_agent")[0]
        self.assertEqual(agent.get("data-partner-id"), str(self.agent.partner_id.id))

        self.ticket_a.with_user(self.agent).action_resolve()
        response = self.url_open(f"/my/tickets/{self.ticket_a.id}/status")
        status = lxml.html.fromstring(response.text)
        self.assertEqual(
            by_class(status, "o_im_livechat_ticket_state")[0].get("data-state"), "resolved"
        )
        self.assertTrue(by_class(status, "o_im_livechat_ticket_reopen"))

        response = self.url_open(f"/my/tickets/{self.ticket_b.id}/status")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("Flat battery", response.text)

    def test_home_unread_counter(self):
        self._login(self.customer_a)
        self.assertIn("o_im_livechat_ticket_home_unread", self.url_open("/my").text)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["ticket_unread_count"]})
        self.assertEqual(counters, {"ticket_unread_count": 0})
        self.ticket_a.channel_id.with_user(self.agent).message_post(
            body="Any news?", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["ticket_unread_count"]})
        self.assertEqual(counters, {"ticket_unread_count": 1})

    @mute_logger("odoo.http")
    def test_other_customer_ticket_not_found(self):
        self._login(self.customer_a)
        missing_id = (
            self.env["im_livechat.ticket"].sudo().search([], order="id desc", limit=1).id + 1000
        )
        for ticket_id in (self.ticket_b.id, missing_id):
            with self.subTest(ticket_id=ticket_id):
                response = self.url_open(f"/my/tickets/{ticket_id}", allow_redirects=False)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("Flat battery", response.text)
                self.assertNotIn("Traceback", response.text)

        comments = len(self._comments(self.ticket_b))
        response = self._post(f"/my/tickets/{self.ticket_b.id}/message", {"message": "Sneaky"})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(len(self._comments(self.ticket_b)), comments)

    def test_post_message(self):
        self._login(self.customer_a)
        png = make_png(4, 4, (0, 128, 0))
        response = self._post(
            f"/my/tickets/{self.ticket_a.id}/message",
            {"message": "Here is a photo of the brakes."},
            files=[("attachments", ("brakes.png", png, "image/png"))],
        )
        self.assertEqual(response.status_code, 303)
        self.assertIn(f"/my/tickets/{self.ticket_a.id}", response.headers["Location"])
        comments = self._comments(self.ticket_a)
        self.assertEqual(len(comments), 2)
        last = comments.sorted("id")[-1]
        self.assertEqual(last.author_id, self.customer_a.partner_id)
        self.assertIn("Here is a photo of the brakes.", last.body)
        self.assertEqual(last.attachment_ids.mapped("name"), ["brakes.png"])

        response = self.url_open(f"/my/tickets/{self.ticket_a.id}")
        self.assertIn("Here is a photo of the brakes.", response.text)
        self.assertRegex(response.text, rf'/web/image/{last.attachment_ids.id}/[^"]*access_token=')

    def test_post_message_bad_input(self):
        self._login(self.customer_a)
        comments = len(self._comments(self.ticket_a))
        response = self._post(f"/my/tickets/{self.ticket_a.id}/message", {"message": "   "})
        self.assertEqual(response.status_code, 200)
        self.assertIn("The message is empty.", response.text)
        self.assertIn("o_im_livechat_ticket_composer", response.text)

        response = self._post(
            f"/my/tickets/{self.ticket_a.id}/message",
            {"message": "Look at this"},
            files=[("attachments", ("evil.png", b"<html><script>x</script></html>", "image/png"))],
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("evil.png is not allowed", response.text)
        self.assertIn(">Look at this</textarea>", response.text, "the text typed is kept")
        self.assertEqual(len(self._comments(self.ticket_a)), comments)
        self.assertFalse(self.env["ir.attachment"].sudo().search_count([("name", "=", "evil.png")]))

    def test_post_message_to_resolved_ticket_refused(self):
        self.ticket_a.with_user(self.agent).action_resolve()
        self._login(self.customer_a)
        comments = len(self._comments(self.ticket_a))
        response = self._post(
            f"/my/tickets/{self.ticket_a.id}/message", {"message": "One more thing"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn(
            str(html_escape("This ticket was resolved: reopen it to send a new message.")),
            response.text,
        )
        self.assertIn("o_im_livechat_ticket_reopen", response.text)
        self.assertEqual(len(self._comments(self.ticket_a)), comments)

    @mute_logger("odoo.http")
    def test_reopen(self):
        self.ticket_a.with_user(self.agent).action_resolve()
        self.ticket_b.with_user(self.agent).action_resolve()

        self._login(self.customer_b)
        response = self._post(f"/my/tickets/{self.ticket_a.id}/reopen", {})
        self.assertEqual(response.status_code, 404)
        self.env.invalidate_all()
        self.assertEqual(self.ticket_a.state, "resolved")

        self._login(self.customer_a)
        response = self._post(f"/my/tickets/{self.ticket_a.id}/reopen", {})
        self.assertEqual(response.status_code, 303)
        self.assertIn(f"/my/tickets/{self.ticket_a.id}", response.headers["Location"])
        self.env.invalidate_all()
        self.assertEqual(self.ticket_a.state, "new")
        self.assertFalse(self.ticket_a.resolved_date)
        self.assertEqual(self.ticket_b.state, "resolved")

        # reopened: the customer can write again
        response = self._post(
            f"/my/tickets/{self.ticket_a.id}/message", {"message": "Still squeaking"}
        )
        self.assertEqual(response.status_code, 303)
        self.assertIn("Still squeaking", self._comments(self.ticket_a).sorted("id")[-1].body)

        # reopening an open ticket is refused with a message, not a traceback
        response = self._post(f"/my/tickets/{self.ticket_a.id}/reopen", {})
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_im_livechat_ticket_error", response.text)
        self.assertNotIn("Traceback", response.text)
        self.env.invalidate_all()
        self.assertEqual(self.ticket_a.state, "new")

    def test_reopen_window_closed(self):
        self.team.ticket_reopen_days = 0
        self.ticket_a.with_user(self.agent).action_resolve()
        self._login(self.customer_a)
        html = self.url_open(f"/my/tickets/{self.ticket_a.id}").text
        self.assertIn("This ticket was resolved.", html)
        self.assertNotIn(
            "o_im_livechat_ticket_reopen", html, "no Reopen button once the window is closed"
        )
        self.assertIn(
            '<a href="/my/tickets/new" class="o_translate_inline">Open a new ticket</a>', html
        )

        response = self._post(f"/my/tickets/{self.ticket_a.id}/reopen", {})
        self.assertEqual(response.status_code, 200)
        self.assertIn("can no longer be reopened", response.text)
        self.env.invalidate_all()
        self.assertEqual(self.ticket_a.state, "resolved")

    # ------------------------------------------------------------
    # Rating
    # ------------------------------------------------------------

    def test_rating_form_only_when_resolved(self):
        self._login(self.customer_a)
        html = self.url_open(f"/my/tickets/{self.ticket_a.id}").text
        self.assertNotIn("o_im_livechat_ticket_rating_form", html)
        response = self._post(f"/my/tickets/{self.ticket_a.id}/rate", {"score": "5"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("You can rate a ticket once it is resolved.", response.text)
        self.assertFalse(self.ticket_a._get_customer_rating())

    @mute_logger("odoo.http")
    def test_rate_resolved_ticket(self):
        self.ticket_a.with_user(self.agent).action_resolve()
        self._login(self.customer_b)
        response = self._post(f"/my/tickets/{self.ticket_a.id}/rate", {"score": "1"})
        self.assertEqual(response.status_code, 404)

        self._login(self.customer_a)
        html = self.url_open(f"/my/tickets/{self.ticket_a.id}").text
        self.assertIn("o_im_livechat_ticket_rating_form", html)
        self.assertIn(f'action="/my/tickets/{self.ticket_a.id}/rate#ticket_bottom"', html)
        inputs = re.findall(r"<input [^>]*>", html)
        for score in range(1, 6):
            [star] = [tag for tag in inputs if 'name="score"' in tag and f'value="{score}"' in tag]
            self.assertIn('class="visually-hidden"', star)
            self.assertIn('required="required"', star)

        response = self._post(
            f"/my/tickets/{self.ticket_a.id}/rate", {"score": "9", "feedback": "Keep me"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Please choose a rating from 1 to 5.", response.text)
        self.assertIn(">Keep me</textarea>", response.text)
        self.assertFalse(self.ticket_a._get_customer_rating())

        response = self._post(
            f"/my/tickets/{self.ticket_a.id}/rate", {"score": "4", "feedback": "Quick and friendly"}
        )
        self.assertEqual(response.status_code, 303)
        self.env.invalidate_all()
        rating = self.ticket_a._get_customer_rating()
        self.assertEqual(rating.rating, 4)
        self.assertEqual(rating.feedback, "Quick and friendly")

        html = self.url_open(f"/my/tickets/{self.ticket_a.id}").text
        self.assertNotIn("o_im_livechat_ticket_rating_form", html)
        self.assertIn("o_im_livechat_ticket_rating_done", html)
        self.assertIn("Quick and friendly", html)
        rating_done = by_class(lxml.html.fromstring(html), "o_im_livechat_ticket_rating_done")[0]
        self.assertEqual(len(by_class(rating_done, "fa-star")), 4, "four lit stars")
        self.assertEqual(len(by_class(rating_done, "fa-star-o")), 1)

        response = self._post(f"/my/tickets/{self.ticket_a.id}/rate", {"score": "1"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("You have already rated this ticket.", response.text)
        self.env.invalidate_all()
        self.assertEqual(self.ticket_a._get_customer_rating().rating, 4)
