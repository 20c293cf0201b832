import io
import json
from unittest.mock import patch

import odoo
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import TicketFixtures


def _png_bytes():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@tagged("post_install", "-at_install")
class TestTicketUploads(TicketFixtures, HttpCase):
    """Every way a customer can bring a file into a ticket's conversation
    applies the same size limit and content-type allow-list."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket("Scratched frame", "See the photo.")

    def _upload_response(self, filename, content):
        """Upload as Discuss does (``/mail/attachment/upload``), pending until posted."""
        return self.url_open(
            "/mail/attachment/upload",
            data={
                "csrf_token": odoo.http.Request.csrf_token(self),
                "is_pending": "true",
                "thread_id": self.channel.id,
                "thread_model": "discuss.channel",
            },
            files={"ufile": (filename, io.BytesIO(content))},
        )

    def _upload(self, filename, content):
        response = self._upload_response(filename, content)
        response.raise_for_status()
        return json.loads(response.content)

    def _post(self, body, attachment_ids=(), attachment_tokens=()):
        return self._post_to_conversation(
            self.channel, body, attachment_ids=attachment_ids, tokens=attachment_tokens
        )

    def _attachment_count(self):
        return self.env["ir.attachment"].sudo().search_count([])

    def test_customer_uploads_a_photo_and_posts_it(self):
        self._login(self.customer_a)
        result = self._upload("bike.png", _png_bytes())
        attachment_data = result["data"]["ir.attachment"][0]
        attachment = self.env["ir.attachment"].sudo().browse(attachment_data["id"])
        self.assertEqual(attachment.mimetype, "image/png")
        self._post("Here it is", [attachment.id], [attachment_data["access_token"]])
        message = self.channel.message_ids[0]
        self.assertEqual(message.attachment_ids, attachment)
        self.assertEqual(message.author_id, self.customer_a.partner_id)
        self.assertEqual(
            (attachment.res_model, attachment.res_id), ("discuss.channel", self.channel.id)
        )

    def test_refused_uploads_store_nothing(self):
        self._login(self.customer_a)
        self.env["ir.config_parameter"].sudo().set_param("im_livechat_ticket.max_upload_mb", "0.01")
        refused = {
            "huge.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20000, "too large"),
            "setup.png": (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "not allowed"),
            "page.html": (b"<html><body><script>alert(1)</script></body></html>", "not allowed"),
            "logo.svg": (
                b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                "not allowed",
            ),
        }
        before = self._attachment_count()
        for filename, (content, error) in refused.items():
            with self.subTest(filename=filename):
                result = self._upload(filename, content)
                self.assertNotIn("data", result)
                self.assertIn(error, result["error"])
        self.assertEqual(self._attachment_count(), before)

    @mute_logger("odoo.http")
    def test_another_customers_attachment_cannot_be_attached(self):
        other_ticket = self._new_ticket(
            self.customer_b, "B's ticket", "B's photo", attachments=[("b.png", _png_bytes())]
        )
        foreign = other_ticket.channel_id.message_ids.attachment_ids
        self.assertTrue(foreign)
        self._login(self.customer_a)
        messages_before = len(self.channel.message_ids)
        with self.assertRaises(JsonRpcException):
            self._post("stealing", [foreign.id], ["not-the-token"])
        self.assertEqual(len(self.channel.message_ids), messages_before)
        self.assertEqual(foreign.res_id, other_ticket.channel_id.id, "the file stays where it was")

    @mute_logger("odoo.http")
    def test_upload_to_resolved_ticket_is_refused(self):
        self.ticket.action_resolve()
        self._login(self.customer_a)
        before = self._attachment_count()
        response = self._upload_response("bike.png", _png_bytes())
        self.assertNotEqual(response.status_code, 200)
        self.assertEqual(self._attachment_count(), before)
        with self.assertRaises(JsonRpcException):
            self._post("hello?")
        self.assertNotIn("hello?", "".join(self.channel.message_ids.mapped("body")))

    def test_portal_files_are_checked_once(self):
        """The portal's forms check each file once, on its content in memory:
        not again when the message is posted, nor read back from storage."""
        Ticket = type(self.env["im_livechat.ticket"])
        original = Ticket._check_uploads
        files = [("front.png", _png_bytes()), ("back.png", _png_bytes())]
        with patch.object(Ticket, "_check_uploads", autospec=True, side_effect=original) as spy:
            ticket = self._new_ticket(
                self.customer_a, "Two photos", "Front and back", attachments=files
            )
        self.assertEqual(spy.call_count, 1)
        self.assertEqual(
            [name for name, _content in spy.call_args.args[1]], ["front.png", "back.png"]
        )
        self.assertEqual(len(ticket.channel_id.message_ids.attachment_ids), 2)
        with patch.object(Ticket, "_check_uploads", autospec=True, side_effect=original) as spy:
            ticket.with_user(self.customer_a)._post_customer_message(
                "One more", [("side.png", _png_bytes())]
            )
        self.assertEqual(spy.call_count, 1)
        # files attached by id (Odoo's upload route, then a post) are checked at post time
        attachment_ids = ticket.channel_id.message_ids.attachment_ids[:1].ids
        with patch.object(Ticket, "_check_uploads", autospec=True, side_effect=original) as spy:
            ticket.channel_id.with_user(self.customer_a).message_post(
                body="by id", message_type="comment", attachment_ids=attachment_ids
            )
        self.assertEqual(spy.call_count, 1)
        self.assertEqual(len(spy.call_args.args[1]), 1)
