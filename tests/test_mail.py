import io
import json
import logging
import time
import unittest
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from unittest.mock import patch

from odoo import fields, modules
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures

try:
    from .smtp_server import LocalSmtpServer
except ImportError:  # aiosmtpd: tools/dev.sh installs it
    LocalSmtpServer = None

_logger = logging.getLogger(__name__)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


class MailFixtures(TicketFixtures):
    """A real SMTP server on 127.0.0.1 (``tests/smtp_server.py``) that
    receives what Odoo sends, an ``ir.mail_server`` pointing at it and an
    alias domain, so that e-mails carry a catchall Reply-To.

    Odoo's test mode never connects to an SMTP server
    (``ir.mail_server.connect``/``send_email`` check
    ``odoo.modules.module.current_test``): ``real_smtp()`` lifts that for the
    few lines that send, as Odoo's own SMTP tests do for their whole class
    (odoo/addons/base/tests/test_ir_mail_server_smtpd.py); the only server
    there is is ours."""

    @classmethod
    def _setup_mail_fixtures(cls):
        cls._setup_ticket_fixtures()
        cls.smtp = LocalSmtpServer().start()
        cls.addClassCleanup(cls.smtp.stop)
        cls.env["ir.mail_server"].search([]).active = False
        cls.env["ir.mail_server"].create(
            {
                "name": "Local test SMTP",
                "smtp_host": "127.0.0.1",
                "smtp_port": cls.smtp.port,
                "smtp_encryption": "none",
            }
        )
        domain = cls.env["mail.alias.domain"].create(
            {
                "name": "tickets.example.com",
                "catchall_alias": "catchall",
                "bounce_alias": "bounce",
                "default_from": "notifications",
            }
        )
        cls.env.company.alias_domain_id = domain
        cls.team.ticket_email_delay = 5
        for user in (cls.customer_a, cls.customer_a2, cls.customer_b):
            user.partner_id.email = f"{user.login}@customer.example.com"
        cls.agent.partner_id.email = "alice@support.example.com"
        # the demo's tickets are not e-mailed in these tests
        last = cls.env["mail.message"].search([], order="id desc", limit=1)
        cls.env["im_livechat.ticket"].search([]).away_mail_message_id = last.id
        cls._flush_mail_queue()

    @classmethod
    def _flush_mail_queue(cls):
        """Send what the fixtures queued (invitations, ...) once, before any
        test, and forget it."""
        with patch.object(modules.module, "current_test", False):
            cls.env["mail.mail"].sudo().process_email_queue()
        cls.smtp.clear()

    @contextmanager
    def real_smtp(self):
        with patch.object(modules.module, "current_test", False):
            yield

    def _run_cron(self):
        """The cron's run, its e-mails sent to our SMTP server."""
        with self.real_smtp():
            self.env["im_livechat.ticket"]._cron_send_away_mails()
            self.env["mail.mail"].sudo().process_email_queue()

    def _agent_says(self, ticket, body, minutes_ago=0, **kwargs):
        message = ticket.channel_id.with_user(self.agent).message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_comment", **kwargs
        )
        if minutes_ago:
            self._age(message, minutes_ago)
        return message

    def _age(self, messages, minutes):
        messages.flush_recordset()
        self.env.cr.execute(
            "UPDATE mail_message SET create_date = %s WHERE id = ANY(%s)",
            [fields.Datetime.now() - timedelta(minutes=minutes), messages.ids],
        )
        messages.invalidate_recordset(["create_date"])

    def _away_mail(self, ticket):
        """Send the customer of ``ticket`` the away e-mail for an agent
        message; returns (the agent message, the e-mail received)."""
        message = self._agent_says(ticket, "<p>Please try the new chain.</p>", minutes_ago=10)
        self._run_cron()
        received = self.smtp.wait_for(1)
        self.assertEqual(len(received), 1, "one e-mail reached the SMTP server")
        return message, received[0][1]

    def _reply(self, original, from_addr, text, quote=True, attachments=()):
        """An RFC 822 reply to ``original`` (an e-mail received by our SMTP
        server), as a mail client writes it: quoted history below."""
        reply = EmailMessage()
        reply["From"] = from_addr
        reply["To"] = original["Reply-To"]
        reply["Subject"] = f"Re: {original['Subject']}"
        reply["Message-ID"] = make_msgid(domain="customer.example.com")
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = original["Message-ID"]
        quoted = "\n".join(
            f"> {line}" for line in "Please try the new chain.\n##- reply above -##".splitlines()
        )
        reply.set_content(f"{text}\n\nOn Monday, Support wrote:\n{quoted}\n" if quote else text)
        for name, content, maintype, subtype in attachments:
            reply.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
        return reply.as_bytes()

    def _gateway(self, raw):
        """Odoo's mail gateway, as the fetchmail or mailgate script calls it."""
        return self.env["mail.thread"].sudo().message_process(False, raw)

    def _conversation(self, ticket):
        return ticket.channel_id.message_ids.sorted("id")


@unittest.skipUnless(LocalSmtpServer, "aiosmtpd is not installed")
@tagged("post_install", "-at_install")
class TestTicketMail(MailFixtures, TransactionCase):
    """Away customers get the agents' unread messages by e-mail through a real
    SMTP server; their replies come back through Odoo's gateway."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_mail_fixtures()

    def setUp(self):
        super().setUp()
        self.smtp.clear()
        self.ticket = self._new_ticket(self.customer_a, "Chain keeps falling off")

    # ------------------------------------------------------------
    # Away e-mails
    # ------------------------------------------------------------

    def test_offline_customer_gets_one_email_for_three_agent_messages(self):
        texts = ["First: check the chain.", "Second: the derailleur.", "Third: send a photo."]
        for text in texts:
            self._agent_says(self.ticket, f"<p>{text}</p>")
        attachment = (
            self.env["ir.attachment"]
            .with_user(self.agent)
            .create(
                {"name": "manual.png", "raw": PNG, "res_model": "mail.compose.message", "res_id": 0}
            )
        )
        last = self._agent_says(self.ticket, "", attachment_ids=attachment.ids)
        self._run_cron()
        self.assertFalse(self.smtp.messages, "nothing before the team's delay")

        self._age(self._conversation(self.ticket), 6)
        start = time.monotonic()
        self._run_cron()
        received = self.smtp.wait_for(1)
        _logger.info("away e-mail: cron to SMTP server %.0f ms", (received[0][0] - start) * 1000)
        self._run_cron()  # a second run sends nothing more
        self.assertEqual(len(self.smtp.messages), 1)
        mail = self.smtp.messages[0]
        self.assertIn("ticket_customer_a@customer.example.com", mail["To"])
        self.assertIn("catchall@tickets.example.com", mail["Reply-To"])
        self.assertIn(self.ticket.reference, mail["Subject"])
        html = mail.get_body(("html",)).get_content()
        for text in texts:
            self.assertIn(text, html)
        self.assertIn(f"/my/tickets/{self.ticket.id}", html)
        self.assertIn("manual.png", html)
        self.assertIn(f"%2Fweb%2Fcontent%2F{attachment.id}", html)
        self.assertNotIn("The chain came off.", html, "the customer's own message is not sent")
        self.assertEqual(self.ticket.away_mail_message_id, last.id)
        # the e-mail is the ticket's message: replies thread back to the ticket
        sent = self.ticket.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("im_livechat_ticket.mt_ticket_away_mail")
        )
        self.assertEqual(sent.message_id, mail["Message-ID"])

        # a later agent message: a second e-mail with that message only
        self._agent_says(self.ticket, "<p>Fourth: any news?</p>", minutes_ago=6)
        self._run_cron()
        self.assertEqual(len(self.smtp.messages), 2)
        html = self.smtp.messages[1].get_body(("html",)).get_content()
        self.assertIn("Fourth: any news?", html)
        self.assertNotIn("First: check the chain.", html)

    def test_team_alias_is_the_reply_to(self):
        self.team.alias_name = "bikes-support"
        self._away_mail(self.ticket)
        self.assertIn("bikes-support@tickets.example.com", self.smtp.messages[0]["Reply-To"])

    def test_delay_zero_sends_at_once(self):
        self.team.ticket_email_delay = 0
        self._agent_says(self.ticket, "<p>Right away.</p>")
        self._run_cron()
        self.assertEqual(len(self.smtp.wait_for(1)), 1)

    def test_online_customer_gets_no_email(self):
        self.env["bus.presence"].create({"user_id": self.customer_a.id, "status": "online"})
        self._agent_says(self.ticket, "<p>Are you there?</p>", minutes_ago=10)
        self._run_cron()
        self.assertFalse(self.smtp.messages)

    def test_customer_who_just_left_gets_no_email_yet(self):
        # a socket closed: offline, but another tab may report presence within a minute
        self.env["bus.presence"].create(
            {"user_id": self.customer_a.id, "status": "offline", "last_poll": fields.Datetime.now()}
        )
        self._agent_says(self.ticket, "<p>Are you there?</p>", minutes_ago=10)
        self._run_cron()
        self.assertFalse(self.smtp.messages)

    def test_read_messages_are_not_emailed(self):
        message = self._agent_says(self.ticket, "<p>Read me.</p>", minutes_ago=10)
        member = self.ticket.channel_id.channel_member_ids.filtered(
            lambda m: m.partner_id == self.customer_a.partner_id
        )
        member._mark_as_read(message.id)
        self._run_cron()
        self.assertFalse(self.smtp.messages)

    def test_customer_can_turn_emails_off(self):
        self.customer_a.partner_id.ticket_email_notify = False
        self._agent_says(self.ticket, "<p>Hello?</p>", minutes_ago=10)
        self._run_cron()
        self.assertFalse(self.smtp.messages)

    def test_internal_notes_never_go_out(self):
        self.ticket.with_user(self.agent).message_post(
            body="<p>Secret: customer is difficult.</p>",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        self._agent_says(self.ticket, "<p>Public answer.</p>", minutes_ago=10)
        self._run_cron()
        self.assertEqual(len(self.smtp.messages), 1)
        for mail in self.smtp.messages:
            self.assertNotIn("Secret", mail.as_string())

    def test_resolve_notice_is_emailed(self):
        self.ticket.with_user(self.agent).action_resolve()
        self._age(self._conversation(self.ticket), 10)
        self._run_cron()
        self.assertEqual(len(self.smtp.messages), 1)
        html = self.smtp.messages[0].get_body(("html",)).get_content()
        self.assertIn("resolved this ticket", html)

    def test_email_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["im_livechat_ticket"], ["de_DE"])
        self.registry.clear_cache("default", "templates")
        self.customer_a.partner_id.lang = "de_DE"
        self._away_mail(self.ticket)
        mail = self.smtp.messages[0]
        self.assertIn("neue Antworten", mail["Subject"])
        self.assertIn("Ticket öffnen", mail.get_body(("html",)).get_content())

    # ------------------------------------------------------------
    # Replies by e-mail
    # ------------------------------------------------------------

    def test_reply_lands_in_the_conversation_as_the_customer(self):
        _message, mail = self._away_mail(self.ticket)
        note_count = len(self.ticket.message_ids)
        raw = self._reply(
            mail,
            "Anna Customer <ticket_customer_a@customer.example.com>",
            "The new chain works, thank you!",
            attachments=[("chain.png", PNG, "image", "png")],
        )
        self._gateway(raw)
        reply = self._conversation(self.ticket)[-1]
        self.assertEqual(reply.author_id, self.customer_a.partner_id)
        self.assertEqual(reply.message_type, "comment")
        self.assertIn("The new chain works, thank you!", reply.body)
        self.assertNotIn("Please try the new chain", reply.body, "quoted history stripped")
        self.assertNotIn("wrote", reply.body)
        self.assertEqual(reply.attachment_ids.mapped("name"), ["chain.png"])
        self.assertEqual(reply.attachment_ids.mimetype, "image/png")
        self.assertEqual(len(self.ticket.message_ids), note_count, "not stored on the ticket too")

    def test_reply_with_a_refused_file_is_answered_not_posted(self):
        _message, mail = self._away_mail(self.ticket)
        count = len(self._conversation(self.ticket))
        raw = self._reply(
            mail,
            "ticket_customer_a@customer.example.com",
            "See the page.",
            attachments=[("page.html", b"<script>alert(1)</script>", "text", "html")],
        )
        self._gateway(raw)
        self.assertEqual(len(self._conversation(self.ticket)), count)
        with self.real_smtp():
            self.env["mail.mail"].sudo().process_email_queue()
        answer = self.smtp.wait_for(2)[-1][1]
        self.assertIn("ticket_customer_a@customer.example.com", answer["To"])
        self.assertIn("not allowed", answer.get_body(("html",)).get_content())

    def test_forged_reply_never_posts_as_the_customer(self):
        _message, mail = self._away_mail(self.ticket)
        count = len(self._conversation(self.ticket))
        raw = self._reply(mail, "ticket_customer_b@customer.example.com", "I am Anna, honest.")
        self._gateway(raw)
        self.assertEqual(len(self._conversation(self.ticket)), count, "nothing in the chat")
        note = self.ticket.message_ids[0]
        self.assertIn("I am Anna, honest.", note.body)
        self.assertTrue(note.subtype_id.internal, "a note for the agents")
        self.assertNotEqual(note.author_id, self.customer_a.partner_id)
        self.assertFalse(
            self.ticket.with_user(self.customer_a)
            ._get_portal_messages()
            .filtered(lambda m: "honest" in (m.body or ""))
        )
        # an unknown address too
        self._gateway(self._reply(mail, "mallory@evil.example.com", "Give me the data."))
        self.assertEqual(len(self._conversation(self.ticket)), count)
        self.assertIn("Give me the data.", self.ticket.message_ids[0].body)

    def test_coworker_reply_posts_as_the_coworker_with_sharing(self):
        _message, mail = self._away_mail(self.ticket)
        raw = self._reply(mail, "ticket_customer_a2@customer.example.com", "Colleague here.")
        count = len(self._conversation(self.ticket))
        self._gateway(raw)
        self.assertEqual(len(self._conversation(self.ticket)), count, "no sharing: a note")
        self.company_a.ticket_company_sharing = True
        raw = self._reply(mail, "ticket_customer_a2@customer.example.com", "Colleague again.")
        self._gateway(raw)
        reply = self._conversation(self.ticket)[-1]
        self.assertIn("Colleague again.", reply.body)
        self.assertEqual(reply.author_id, self.customer_a2.partner_id)

    def test_reply_to_resolved_ticket_within_window_reopens_it(self):
        _message, mail = self._away_mail(self.ticket)
        self.ticket.with_user(self.agent).action_resolve()
        self._gateway(self._reply(mail, "ticket_customer_a@customer.example.com", "Broken again."))
        self.assertEqual(self.ticket.state, "open")
        self.assertIn("Broken again.", self._conversation(self.ticket)[-1].body)

    def test_reply_to_resolved_ticket_outside_window_gets_an_answer(self):
        _message, mail = self._away_mail(self.ticket)
        self.ticket.with_user(self.agent).action_resolve()
        self.ticket.resolved_date = fields.Datetime.now() - timedelta(days=30)
        count = len(self._conversation(self.ticket))
        self._gateway(self._reply(mail, "ticket_customer_a@customer.example.com", "Hello?"))
        self.assertEqual(self.ticket.state, "resolved")
        self.assertEqual(len(self._conversation(self.ticket)), count)
        with self.real_smtp():
            self.env["mail.mail"].sudo().process_email_queue()
        answer = self.smtp.wait_for(2)[-1][1]
        html = answer.get_body(("html",)).get_content()
        self.assertIn("/my/tickets/new", html)
        self.assertIn("can no longer be reopened", html)

    def test_reply_text_without_quotes(self):
        Ticket = self.env["im_livechat.ticket"]
        html = (
            "<div>Thanks!<br>Works now, see <a href='https://x.example/a'>this</a>.</div>"
            "<div class='gmail_quote'><div class='gmail_attr'>On Mon, Support wrote:</div>"
            "<blockquote>old text</blockquote></div>"
        )
        text = Ticket._get_email_reply_text(html)
        self.assertIn("Works now, see this (https://x.example/a).", text)
        self.assertNotIn("old text", text)
        self.assertNotIn("wrote", text)
        self.assertEqual(Ticket._get_email_reply_text("<p>Top</p><p>##- above -##</p>old"), "Top")

    # ------------------------------------------------------------
    # New tickets by e-mail
    # ------------------------------------------------------------

    def _new_email(self, from_addr, subject, text):
        mail = EmailMessage()
        mail["From"] = from_addr
        mail["To"] = "bikes@tickets.example.com"
        mail["Subject"] = subject
        mail["Message-ID"] = make_msgid(domain="customer.example.com")
        mail.set_content(text)
        return mail.as_bytes()

    def test_new_ticket_by_email_from_a_known_customer(self):
        self.team.write({"alias_name": "bikes", "ticket_email_create": True})
        raw = self._new_email(
            "Ben <ticket_customer_b@customer.example.com>", "Bell rings", "It rings by itself."
        )
        with self.real_smtp():
            ticket_id = self._gateway(raw)
        ticket = self.env["im_livechat.ticket"].browse(ticket_id)
        self.assertEqual(ticket.name, "Bell rings")
        self.assertEqual(ticket.partner_id, self.customer_b.partner_id)
        self.assertEqual(ticket.livechat_channel_id, self.team)
        self.assertEqual(ticket.user_id, self.agent)
        first = self._conversation(ticket)[0]
        self.assertIn("It rings by itself.", first.body)
        self.assertEqual(first.author_id, self.customer_b.partner_id)
        self.assertFalse(ticket.message_ids.filtered(lambda m: "rings" in (m.body or "")))

    def test_new_ticket_by_email_refused_points_to_the_portal(self):
        self.team.alias_name = "bikes"
        count = self.env["im_livechat.ticket"].search_count([])
        raw = self._new_email("ticket_customer_b@customer.example.com", "Bell", "Rings.")
        with self.real_smtp():
            self._gateway(raw)  # the team takes no tickets by e-mail (default)
        self.team.ticket_email_create = True
        raw = self._new_email("stranger@example.org", "Hello", "Help me.")
        with self.real_smtp():
            self._gateway(raw)  # an unknown sender
        self.assertEqual(self.env["im_livechat.ticket"].search_count([]), count)
        bounces = [mail for _at, mail in self.smtp.wait_for(2)]
        self.assertEqual(len(bounces), 2)
        for bounce in bounces:
            self.assertIn("customer portal", bounce.get_body(("html",)).get_content())
        self.assertNotEqual(self.team.alias_id.alias_status, "invalid")

    # ------------------------------------------------------------
    # Transcript
    # ------------------------------------------------------------

    def _conversation_with_a_note(self):
        self._agent_says(self.ticket, "<p>Agent says: try the new chain.</p>")
        self.ticket.with_user(self.customer_a)._post_customer_message("Customer says: done.")
        self.ticket.with_user(self.agent).message_post(
            body="<p>Secret note: refund later.</p>",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )

    def test_transcript_holds_every_message_and_no_note(self):
        self._conversation_with_a_note()
        report = self.env["ir.actions.report"].with_user(self.customer_a)
        html = (
            report.sudo()
            ._render_qweb_html(
                "im_livechat_ticket.action_report_ticket_transcript", self.ticket.ids
            )[0]
            .decode()
        )
        for text in (
            "The chain came off.",
            "Agent says: try the new chain.",
            "Customer says: done.",
        ):
            self.assertIn(text, html)
        self.assertNotIn("Secret note", html)

    def test_transcript_emailed_on_resolve_when_the_team_says_so(self):
        self._conversation_with_a_note()
        self.ticket.with_user(self.agent).action_resolve()
        self.assertFalse(self.smtp.messages, "off by default")
        self.team.ticket_transcript_on_resolve = True
        ticket = self._new_ticket(self.customer_a, "Second problem")
        with self.real_smtp():
            ticket.with_user(self.agent).action_resolve()
        mail = self.smtp.wait_for(1)[0][1]
        self.assertIn("ticket_customer_a@customer.example.com", mail["To"])
        names = [part.get_filename() for part in mail.iter_attachments()]
        self.assertEqual(names, [f"{ticket.reference}.pdf"])


@unittest.skipUnless(LocalSmtpServer, "aiosmtpd is not installed")
@tagged("post_install", "-at_install")
class TestTicketMailPortal(TicketFixtures, HttpCase):
    """The ticket page: the transcript download and the e-mail switch, for
    the ticket's customer only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket_fixtures()
        cls.ticket = cls._new_ticket(cls.customer_a, "Flat tyre", "The tyre is flat again.")

    def test_transcript_route(self):
        self.authenticate(self.customer_a.login, self.customer_a.login)
        response = self.url_open(f"/my/tickets/{self.ticket.id}/transcript")
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response.headers.get("Content-Disposition", ""))
        # in test mode Odoo renders reports as HTML instead of running wkhtmltopdf
        self.assertIn("The tyre is flat again.", response.text)
        self.authenticate(self.customer_b.login, self.customer_b.login)
        response = self.url_open(f"/my/tickets/{self.ticket.id}/transcript")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("The tyre is flat again.", response.text)

    def test_transcript_pdf_holds_every_message_and_no_note(self):
        """The real PDF, through wkhtmltopdf (an HttpCase: wkhtmltopdf loads
        the report's styles from the test server, which shares our
        transaction)."""
        self.ticket.channel_id.with_user(self.agent).message_post(
            body="<p>Agent says: pump it up.</p>",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.ticket.with_user(self.agent).message_post(
            body="<p>Secret note: refund later.</p>",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        pdf = self.ticket.with_context(force_report_rendering=True)._render_transcript()
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = "".join(page.extract_text() for page in PdfFileReader(io.BytesIO(pdf)).pages)
        text = " ".join(text.split())
        if not text:
            # Debian's wkhtmltopdf (unpatched Qt) gave pages without text here;
            # the same template's HTML is checked in TestTicketMail
            self.skipTest("wkhtmltopdf rendered no text (unpatched Qt?)")
        for words in ("The tyre is flat again.", "Agent says: pump it up.", self.ticket.reference):
            self.assertIn(words, text)
        self.assertNotIn("Secret", text)

    def test_email_switch(self):
        partner = self.customer_a.partner_id
        self.authenticate(self.customer_a.login, self.customer_a.login)
        page = self.url_open(f"/my/tickets/{self.ticket.id}").text
        self.assertIn("o_im_livechat_ticket_email_toggle", page)
        self.assertIn(f"/my/tickets/{self.ticket.id}/transcript", page)
        response = self.url_open(
            f"/my/tickets/{self.ticket.id}/email_notifications",
            data={"enabled": "0", "csrf_token": http_csrf(self)},
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(partner.ticket_email_notify)
        self.assertIn("Replies are not e-mailed to you.", response.text)
        # another customer's ticket: refused, nothing changes
        self.authenticate(self.customer_b.login, self.customer_b.login)
        response = self.url_open(
            f"/my/tickets/{self.ticket.id}/email_notifications",
            data={"enabled": "0", "csrf_token": http_csrf(self)},
        )
        self.assertEqual(response.status_code, 404)
        self.assertTrue(self.customer_b.partner_id.ticket_email_notify)


def http_csrf(case):
    """A CSRF token of the session the case is signed in with."""
    page = case.url_open("/my/tickets/new").text
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@unittest.skipUnless(LocalSmtpServer, "aiosmtpd is not installed")
@tagged("post_install", "-at_install")
class TestTicketMailRealtime(MailFixtures, WebsocketCase):
    """An e-mailed reply reaches the agent's websocket like any message."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_mail_fixtures()
        cls.ticket = cls._new_ticket(cls.customer_a, "Squeaky brakes", "They squeak.")
        cls._flush_mail_queue()

    def test_emailed_reply_reaches_the_agents_websocket(self):
        _message, mail = self._away_mail(self.ticket)
        raw = self._reply(mail, "ticket_customer_a@customer.example.com", "Replying from my phone.")
        last_id = self.env["bus.bus"]._bus_last_id()
        session = self.authenticate(self.agent.login, self.agent.login)
        websocket = self.websocket_connect(cookie=f"session_id={session.sid}")
        self.subscribe(websocket, [], last_id)
        start = time.perf_counter()
        with self.registry.test_lock:  # the socket's thread shares our transaction
            self._gateway(raw)
            # what the commit does: the bus rows, then NOTIFY wakes the socket
            self.env.cr.precommit.run()
            self.trigger_notification_dispatching([self.ticket.channel_id])
        bodies = []
        while "Replying from my phone." not in "".join(bodies):
            for notification in json.loads(websocket.recv()):
                message = notification["message"]
                if message["type"] == "discuss.channel/new_message":
                    bodies += [m["body"] for m in message["payload"]["data"]["mail.message"]]
        elapsed = time.perf_counter() - start
        _logger.info("e-mailed reply: gateway to the agent's websocket %.0f ms", elapsed * 1000)
        self.assertLess(elapsed, 10)
