from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html2plaintext

from .im_livechat_ticket_data import CheckedAttachmentIds


class DiscussChannel(models.Model):
    _inherit = "discuss.channel"

    livechat_ticket_ids = fields.One2many(
        "im_livechat.ticket",
        "channel_id",
        string="Tickets",
        readonly=True,
    )

    def _to_store(self, store):
        res = super()._to_store(store)
        # the web client keys every post to a ticket's conversation (retries store once),
        # wherever the agent writes from (Discuss, a chat window, the ticket form), and
        # offers customers a Call button when the ticket's team takes their calls
        for channel in self.filtered(lambda c: c.channel_type == "livechat"):
            # sudo: im_livechat.ticket - is it a ticket's conversation, and the team's setting
            ticket = channel.sudo().livechat_ticket_ids[:1]
            if ticket:
                store.add(
                    channel,
                    {
                        "isImLivechatTicket": True,
                        "ticketCustomerCalls": ticket.livechat_channel_id.ticket_customer_calls,
                    },
                )
        return res

    def _get_allowed_message_post_params(self):
        return super()._get_allowed_message_post_params() | {"ticket_client_key"}

    def _get_message_create_valid_field_names(self):
        return super()._get_message_create_valid_field_names() | {
            "ticket_client_key",
            "ticket_customer_notice",
        }

    @api.returns("mail.message", lambda value: value.id)
    def message_post(self, *, message_type="notification", **kwargs):
        client_key = kwargs.pop("ticket_client_key", None)
        if not self.env.su:
            # only the system marks its notices for away e-mails (_post_notice)
            kwargs.pop("ticket_customer_notice", None)
        checked_ids = kwargs.pop("ticket_checked_attachment_ids", None)
        if not isinstance(checked_ids, CheckedAttachmentIds):
            checked_ids = CheckedAttachmentIds()
        if client_key:
            client_key = str(client_key)[:64]
            # A retry of a post that was stored (lost response, double click)
            # returns the stored message. Concurrent duplicates cannot both
            # pass: every post updates this channel's row, so the second
            # transaction fails to serialise and Odoo retries it, landing here.
            # The look-up is one hit of the key's unique index (mail_message.py),
            # without the ORM's domain and rules: every post of a ticket runs it.
            self.env["mail.message"].flush_model(["model", "res_id", "ticket_client_key"])
            self.env.cr.execute(
                """
                SELECT id FROM mail_message
                 WHERE model = 'discuss.channel' AND res_id = %s AND ticket_client_key = %s
                """,
                [self.id, client_key],
            )
            existing = self.env["mail.message"].browse(row[0] for row in self.env.cr.fetchall())
            if existing:
                return existing
            # a field of mail.message: message_post writes it with the message's own row
            kwargs["ticket_client_key"] = client_key
        if not self.env.user._is_internal():
            # sudo: im_livechat.ticket - the state of the conversation's own ticket
            ticket = self.sudo().livechat_ticket_ids[:1]
            author_id = kwargs.get("author_id")
            if ticket and (not author_id or author_id == self.env.user.partner_id.id):
                # A customer writes: always a plain comment (a client-chosen
                # "notification" would pass for a system notice and dodge
                # the checks below), never empty, never huge.
                message_type = "comment"
                kwargs.pop("subtype_id", None)
                kwargs["subtype_xmlid"] = "mail.mt_comment"
                self._check_ticket_customer_post(ticket, kwargs, checked_ids)
        return super().message_post(message_type=message_type, **kwargs)

    def _check_ticket_customer_post(self, ticket, post_values, checked_ids=()):
        if ticket.state == "resolved":
            raise UserError(
                self.env._("This ticket was resolved: reopen it to send a new message.")
            )
        body = post_values.get("body") or ""
        files = self._get_ticket_raw_files(post_values.get("attachments"))
        ticket._check_customer_message(
            html2plaintext(body).strip() if body else "",
            html=body,
            with_files=bool(post_values.get("attachment_ids") or files),
        )
        if post_values.get("attachment_ids") or files:
            self._check_ticket_attachments(
                post_values.get("attachment_ids") or [], checked_ids, files
            )
        ticket._check_rate_limit("messages")

    def _get_ticket_raw_files(self, attachments):
        """``message_post``'s ``attachments`` (contents, not ids: only over
        JSON-RPC's call_kw) as ``(filename, bytes)``, for the upload checks."""
        files = []
        for attachment in attachments or ():
            if not isinstance(attachment, (list, tuple)) or len(attachment) not in (2, 3):
                raise UserError(self.env._("These files cannot be read."))
            name, content = attachment[0], attachment[1]
            files.append((str(name), content.encode() if isinstance(content, str) else content))
        return files

    def _check_ticket_attachments(self, attachment_ids, checked_ids=(), files=()):
        """Whatever route brought them in, files a customer attaches to a
        ticket's message pass the ticket's upload checks, all together (the
        count limit too): uploaded ones by id, except those the server itself
        created after checking them (``checked_ids``), and contents
        (``files``, as ``(filename, bytes)``)."""
        # sudo: ir.attachment - reading the files the caller is about to attach
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .browse(
                [
                    attachment_id
                    for attachment_id in attachment_ids
                    if attachment_id not in checked_ids
                ]
            )
            .exists()
        )
        files = [*files, *((attachment.name, attachment.raw) for attachment in attachments)]
        if files:
            self.env["im_livechat.ticket"]._check_uploads(files)

    def _message_post_after_hook(self, message, msg_vals):
        # sudo: im_livechat.ticket - an agent's reply drives its ticket's state and dates
        ticket = self.sudo().livechat_ticket_ids[:1]
        if ticket:
            if self._is_ticket_agent_message(ticket, message):
                ticket._on_agent_message(message)
        return super()._message_post_after_hook(message, msg_vals)

    def _is_ticket_agent_message(self, ticket, message):
        """Whether ``message`` is an agent's reply in ``ticket``'s conversation."""
        author = message.author_id
        if message.message_type != "comment" or not author or author == ticket.partner_id:
            return False
        if author == self.env.user.partner_id:  # the usual case: no look-up
            return self.env.user._is_internal()
        # sudo: res.users - whether the author is an employee (a customer may not read them)
        return any(user._is_internal() for user in author.sudo().user_ids)

    # ------------------------------------------------------------
    # Chat to ticket
    # ------------------------------------------------------------

    def execute_command_ticket(self, body="", **kwargs):
        """``/ticket [subject]`` in a live chat: the conversation becomes a
        ticket of its customer, keeping its whole history."""
        self.ensure_one()
        subject = body.removeprefix("/ticket").strip() if body else ""
        try:
            ticket = self._convert_to_ticket(subject)
        except (UserError, AccessError) as error:
            self.env.user._bus_send_transient_message(self, error.args[0])
            return False
        link = Markup('<a href="/odoo/action-im_livechat_ticket.action_ticket_queue/%s">%s</a>') % (
            ticket.id,
            ticket.display_name,
        )
        self.env.user._bus_send_transient_message(
            self, Markup(self.env._("This conversation is now ticket %(ticket)s.", ticket=link))
        )
        return ticket.id

    def action_convert_to_ticket(self):
        """Button: the same as the /ticket command, without a subject."""
        return self.execute_command_ticket()

    def _get_ticket_customer(self):
        """The logged-in customer of this live chat: the member who is
        neither the operator nor an internal user."""
        self.ensure_one()
        members = self.channel_member_ids.filtered(
            lambda member: (
                member.partner_id
                and member.partner_id != self.livechat_operator_id
                and member.partner_id.user_ids
                and all(user.share for user in member.partner_id.user_ids)
            )
        )
        return members[:1].partner_id

    def _convert_to_ticket(self, subject=""):
        self.ensure_one()
        if not self.env.user.has_group("im_livechat.im_livechat_group_user"):
            raise AccessError(self.env._("Only live chat operators can turn a chat into a ticket."))
        if self.channel_type != "livechat":
            raise UserError(self.env._("Only a live chat can become a ticket."))
        # sudo: im_livechat.ticket - checking whether the chat already is one
        existing = self.sudo().livechat_ticket_ids[:1]
        if existing:
            raise UserError(
                self.env._(
                    "This conversation already is ticket %(ticket)s.", ticket=existing.display_name
                )
            )
        customer = self._get_ticket_customer()
        if not customer:
            raise UserError(
                self.env._(
                    "Only the chat of a logged-in customer can become a ticket: "
                    "ask the visitor to sign in to the portal first."
                )
            )
        Ticket = self.env["im_livechat.ticket"]
        team = self.livechat_channel_id or Ticket._default_livechat_channel_id()
        first = self.message_ids.filtered(lambda m: m.message_type == "comment").sorted("id")[:1]
        subject = (
            subject
            or (first and first.preview)
            or self.env._("Live chat with %(name)s", name=customer.name)
        )
        agent = self.env.user
        # sudo: discuss.channel - the operator converts the session they work in
        self.sudo().write({"livechat_active": True, "allow_public_upload": True})
        ticket = Ticket.create(
            {
                "name": subject[:200],
                "partner_id": customer.id,
                "user_id": agent.id,
                "livechat_channel_id": team.id,
                "channel_id": self.id,
            }
        )
        ticket._sync_conversation_agent()
        return ticket
