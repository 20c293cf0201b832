"""E-mail coming in for tickets, through Odoo's mail gateway: a customer's
reply to an away e-mail (routed by In-Reply-To / References to the ticket's
``message_update``) goes into the conversation as their own message after the
portal's checks; another sender's becomes a note; an e-mail to the team's
alias may open a ticket (``message_new``). The e-mails going out are in
im_livechat_ticket_mail.py."""

import logging
import re

import lxml.html
from lxml import etree
from markupsafe import Markup

from odoo import api, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import email_normalize, html2plaintext

from .im_livechat_ticket_data import REPLY_MARKER

_logger = logging.getLogger(__name__)

# Lines that introduce a quoted e-mail ("On ... wrote:", German, French).
QUOTE_HEADER_RE = re.compile(
    r"^(on\s.+wrote:|am\s.+schrieb.*:|le\s.+a\s+écrit\s*:|-+\s*original message\s*-+)$",
    re.IGNORECASE,
)


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    # ------------------------------------------------------------
    # New tickets by e-mail
    # ------------------------------------------------------------

    @api.model
    def _get_email_ticket_input(self, msg_dict):
        """(subject, first message, files) of a new ticket from an e-mail."""
        text = self._get_email_reply_text(msg_dict.get("body"))
        files = [
            (attachment.fname, self._get_email_attachment_content(attachment))
            for attachment in msg_dict.get("attachments") or ()
        ]
        subject = (msg_dict.get("subject") or "").strip()[:200] or text[:80]
        return subject, text or subject, files

    @api.model
    def _get_email_customer_user(self, msg_dict):
        """The portal user whose address sent the e-mail, if exactly one."""
        email = email_normalize(msg_dict.get("email_from") or "")
        if not email:
            return self.env["res.users"]
        # sudo: res.users - finding the customer who sent the e-mail
        users = (
            self.env["res.users"]
            .sudo()
            .search([("email_normalized", "=", email), ("share", "=", True)], limit=2)
        )
        return users if len(users) == 1 else self.env["res.users"]

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """A known customer's e-mail to the team's alias opens a ticket as if
        they used the portal form: same checks, same first message."""
        user = self._get_email_customer_user(msg_dict)
        if not user:
            raise UserError(self.env._("Only customers with a portal account can open tickets."))
        team_id = (custom_values or {}).get("livechat_channel_id")
        subject, text, files = self._get_email_ticket_input(msg_dict)
        ticket = (
            self.with_user(user)
            .with_context(ticket_email_team_id=team_id)
            ._portal_create_ticket(subject, text, attachments=files)
        )
        msg_dict["ticket_email_handled"] = True
        return ticket.sudo()

    @api.model
    def _prepare_portal_ticket_values(self, name, priority):
        values = super()._prepare_portal_ticket_values(name, priority)
        if self.env.context.get("ticket_email_team_id"):
            values["livechat_channel_id"] = self.env.context["ticket_email_team_id"]
        return values

    # ------------------------------------------------------------
    # Replies by e-mail
    # ------------------------------------------------------------

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, **kwargs):
        # the mail gateway posts every reply on the ticket after message_update:
        # a reply that went into the conversation (or was answered) is not
        # stored a second time
        if kwargs.pop("ticket_email_handled", False):
            return self.env["mail.message"]
        return super().message_post(**kwargs)

    def message_update(self, msg_dict, update_vals=None):
        result = super().message_update(msg_dict, update_vals=update_vals)
        for ticket in self:
            # answers and refusals in the customer's language
            ticket.with_context(lang=ticket.partner_id.lang or self.env.lang)._receive_email_reply(
                msg_dict
            )
        return result

    def _receive_email_reply(self, msg_dict):
        """An e-mail replying to one of the ticket's e-mails came in (the
        gateway runs this as superuser): the customer's reply goes into the
        conversation as theirs; anyone else's becomes a note for the agents."""
        self.ensure_one()
        sender = self._get_email_reply_sender(msg_dict)
        if not sender or not self.channel_id:
            self._make_email_reply_a_note(msg_dict)
            return
        if self.state == "resolved" and not self.can_customer_reopen:
            self._send_email_reply_answer(
                msg_dict,
                self.env._(
                    "This ticket was resolved and can no longer be reopened, so your message "
                    "was not added to it. If you still need help, please open a new ticket."
                ),
            )
            msg_dict["ticket_email_handled"] = True
            return
        # the customer's own rights, as on the portal: a user of theirs, or
        # (a contact without a portal login) the system writing on their behalf
        user = sender.with_context(active_test=False).user_ids.filtered("share")[:1]
        ticket = self.with_user(user or self.env.ref("base.user_root"))
        text = self._get_email_reply_text(msg_dict.get("body"))
        files = [
            (attachment.fname, self._get_email_attachment_content(attachment))
            for attachment in msg_dict.get("attachments") or ()
        ]
        try:
            with self.env.cr.savepoint():
                if ticket.state == "resolved":
                    ticket._portal_reopen()
                ticket._post_customer_message(text, files)
        except (UserError, ValidationError, AccessError) as error:
            _logger.info("Ticket %s: e-mailed reply refused: %s", self.reference, error.args[0])
            self._send_email_reply_answer(msg_dict, error.args[0])
        msg_dict["ticket_email_handled"] = True

    def _get_email_reply_sender(self, msg_dict):
        """The customer (or a coworker who follows the ticket through company
        sharing) whose address sent the e-mail; None for any other address."""
        email = email_normalize(msg_dict.get("email_from") or "")
        if not email:
            return None
        partners = self._get_customer_partners().filtered(
            lambda partner: partner.email_normalized == email
        )
        if self.partner_id in partners:
            return self.partner_id
        # a coworker writes as themselves, never as the ticket's customer
        return partners.filtered(
            lambda partner: partner.with_context(active_test=False).user_ids.filtered("share")
        )[:1]

    def _make_email_reply_a_note(self, msg_dict):
        """The e-mail did not come from the ticket's customer: the gateway
        stores it on the ticket as an internal note, which customers never
        see, with what it is and without the files the checks refuse."""
        msg_dict["is_internal"] = True
        sender_is_agent = any(
            not user.share
            for user in self.env["res.partner"].browse(msg_dict.get("author_id")).user_ids
        )
        if not sender_is_agent:
            warning = Markup("<p><strong>%s</strong></p>") % self.env._(
                "Received by e-mail from %(sender)s, who is not this ticket's customer: "
                "kept as a note, the customer does not see it.",
                sender=msg_dict.get("email_from") or "?",
            )
            msg_dict["body"] = warning + Markup(msg_dict.get("body") or "")
        kept = []
        for attachment in msg_dict.get("attachments") or ():
            try:
                self._check_uploads(
                    [(attachment.fname, self._get_email_attachment_content(attachment))]
                )
            except UserError:
                _logger.info(
                    "Ticket %s: file %s of an e-mail refused", self.reference, attachment.fname
                )
                continue
            kept.append(attachment)
        msg_dict["attachments"] = kept

    def _send_email_reply_answer(self, msg_dict, text):
        """Tell the sender why their e-mail did not reach the conversation,
        in their language, from the team."""
        sender = email_normalize(msg_dict.get("email_from") or "")
        if not sender:
            return
        body = self.env["ir.qweb"]._render(
            "im_livechat_ticket.ticket_mail_reply_refused",
            {
                "ticket": self,
                "text": text,
                "ticket_url": f"{self.get_base_url()}/my/tickets/{self.id}",
                "new_ticket_url": f"{self.get_base_url()}/my/tickets/new",
            },
        )
        # sudo: mail.mail - the gateway answers the sender
        self.env["mail.mail"].sudo().create(
            {
                "subject": self.env._("Re: %(subject)s", subject=msg_dict.get("subject") or ""),
                "body_html": body,
                "email_from": self.livechat_channel_id._get_ticket_email_from(self.company_id),
                "email_to": msg_dict.get("email_from"),
                "references": msg_dict.get("message_id"),
                "auto_delete": True,
                # RFC 3834: auto-responders do not answer this answer
                "headers": repr({"Auto-Submitted": "auto-replied"}),
            }
        )

    @api.model
    def _get_email_attachment_content(self, attachment):
        content = attachment.content
        return content.encode() if isinstance(content, str) else content

    @api.model
    def _get_email_reply_text(self, html):
        """The new text of an e-mailed reply, as plain text: without the
        quoted e-mail under it (tagged by Odoo's parser or by the mail
        client), nor what follows our reply marker."""
        if not html:
            return ""
        try:
            root = lxml.html.fromstring(str(html))
        except (etree.ParserError, ValueError):
            return html2plaintext(html).split(REPLY_MARKER, 1)[0].strip()
        quoted = root.xpath(
            "//*[@data-o-mail-quote] | //blockquote"
            " | //*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
            " | //*[contains(concat(' ', normalize-space(@class), ' '), ' moz-cite-prefix ')]"
        )
        for node in quoted:
            if node.getparent() is not None:
                node.drop_tree()
        # keep the addresses of links: html2plaintext would list them at the end
        for link in root.xpath("//a[@href]"):
            href = link.get("href")
            label = link.text_content().strip()
            link.attrib.pop("href")
            if href and href != label and not href.startswith("mailto:"):
                link.tail = f" ({href})" + (link.tail or "")
        text = html2plaintext(lxml.html.tostring(root, encoding="unicode"))
        text = text.split(REPLY_MARKER, 1)[0]
        lines = text.rstrip().splitlines()
        # a plain text e-mail quotes with "> " lines, under a header line
        while lines and (
            not lines[-1].strip()
            or lines[-1].lstrip().startswith(">")
            or QUOTE_HEADER_RE.match(lines[-1].strip())
        ):
            lines.pop()
        return "\n".join(lines).strip()
