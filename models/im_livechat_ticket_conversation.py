"""The ticket's conversation: the live chat discuss.channel created with it,
messages posted in it for the customer and the system, its unread counts, and
what an agent's message does to the ticket."""

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

from .im_livechat_ticket_data import CheckedAttachmentIds


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    first_message = fields.Text(
        compute="_compute_first_message",
        readonly=False,
        help="The customer's first message, posted in the conversation on creation.",
    )
    customer_unread_count = fields.Integer(
        compute="_compute_unread_counts",
        compute_sudo=True,
        help="Messages of the conversation the customer has not seen yet.",
    )
    agent_unread_count = fields.Integer(
        compute="_compute_unread_counts",
        compute_sudo=True,
        help="Messages of the conversation the assigned agent has not seen yet.",
    )
    message_count = fields.Integer(
        "Conversation Messages",
        compute="_compute_conversation_message_count",
        compute_sudo=True,
    )

    def _compute_first_message(self):
        # Write-only: the message lives in the conversation, never twice.
        self.first_message = False

    @api.depends("channel_id", "partner_id", "user_id")
    def _compute_unread_counts(self):
        # sudo: discuss.channel.member - unread counters of the ticket's parties only
        members = (
            self.env["discuss.channel.member"]
            .sudo()
            .search([("channel_id", "in", self.channel_id.ids)])
        )
        counter = {
            (member.channel_id.id, member.partner_id.id): member.message_unread_counter
            for member in members
        }
        for ticket in self:
            channel_id = ticket.channel_id.id
            ticket.customer_unread_count = counter.get((channel_id, ticket.partner_id.id), 0)
            ticket.agent_unread_count = counter.get((channel_id, ticket.user_id.partner_id.id), 0)

    def _compute_conversation_message_count(self):
        # sudo: mail.message - counting the conversation's messages of readable tickets
        groups = (
            self.env["mail.message"]
            .sudo()
            ._read_group(
                [
                    ("model", "=", "discuss.channel"),
                    ("res_id", "in", self.channel_id.ids),
                    ("message_type", "=", "comment"),
                ],
                ["res_id"],
                ["__count"],
            )
        )
        counts = dict(groups)
        for ticket in self:
            ticket.message_count = counts.get(ticket.channel_id.id, 0)

    def _prepare_channel_values(self):
        self.ensure_one()
        members = [Command.create({"partner_id": self.partner_id.id})]
        if self.user_id and self.user_id.partner_id != self.partner_id:
            members.append(Command.create({"partner_id": self.user_id.partner_id.id}))
        return {
            "name": f"{self.reference} {self.name}",
            "channel_type": "livechat",
            "livechat_channel_id": self.livechat_channel_id.id,
            # A livechat session needs an operator (check constraint); a ticket
            # waiting for an agent shows the bot until someone takes it.
            "livechat_operator_id": (
                self.user_id.partner_id or self.env.ref("base.partner_root")
            ).id,
            "livechat_active": True,
            # customers upload through Odoo's own route; our checks guard it
            "allow_public_upload": True,
            "channel_member_ids": members,
        }

    def _create_conversation(self):
        for ticket in self.filtered(lambda t: not t.channel_id):
            # sudo: discuss.channel - customers cannot create livechat sessions themselves
            channel = self.env["discuss.channel"].sudo().create(ticket._prepare_channel_values())
            # sudo: im_livechat.ticket - the conversation is set by the system only
            ticket.sudo().channel_id = channel

    def _sync_conversation_agent(self):
        """Make the assigned agent the operator and a member of the conversation."""
        for ticket in self.filtered("channel_id"):
            # sudo: discuss.channel - membership of the ticket's conversation is managed here
            channel = ticket.channel_id.sudo()
            if ticket.user_id:
                channel.livechat_operator_id = ticket.user_id.partner_id
                if ticket.user_id.partner_id not in channel.channel_member_ids.partner_id:
                    channel.add_members(partner_ids=ticket.user_id.partner_id.ids)
            else:
                channel.livechat_operator_id = self.env.ref("base.partner_root")

    def _post_customer_message(self, body, attachments=(), checked_mimetypes=None):
        """Post ``body`` (plain text) with ``attachments`` (a list of
        ``(filename, raw bytes)``) in the conversation as the customer.

        :param checked_mimetypes: what ``_check_uploads`` returned for
            ``attachments`` if the caller checked them already
        """
        self.ensure_one()
        body = (body or "").replace("\x00", "").strip()
        self._check_customer_message(body, with_files=bool(attachments))
        if self.state == "resolved":
            raise UserError(
                self.env._("This ticket was resolved: reopen it to send a new message.")
            )
        if not self.channel_id:
            raise UserError(self.env._("This ticket has no conversation any more."))
        # sudo: discuss.channel - the caller has been checked to access the ticket
        channel = self.channel_id.sudo()
        attachment_ids = self._create_customer_attachments(attachments, checked_mimetypes)
        # An agent filing a ticket writes on the customer's behalf.
        author = self.partner_id if self.env.user._is_internal() else self.env.user.partner_id
        message = channel.message_post(
            author_id=author.id,
            body=plaintext2html(body) if body else "",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            attachment_ids=attachment_ids,
            ticket_checked_attachment_ids=CheckedAttachmentIds(attachment_ids),
        )
        if author != self.env.user.partner_id:
            # written on the author's behalf: it is not unread for them
            member = channel.channel_member_ids.filtered(lambda m: m.partner_id == author)
            member._set_last_seen_message(message, notify=False)
            member._set_new_message_separator(message.id + 1)
        return message

    def _create_customer_attachments(self, attachments, checked_mimetypes=None):
        """Store the customer's files, each checked once on its content in
        memory, as pending uploads; returns their ids."""
        if not attachments:
            return []
        mimetypes = checked_mimetypes or self._check_uploads(attachments)
        # sudo: ir.attachment - customers cannot create attachments themselves
        return (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": filename,
                        "raw": content,
                        # the type read from the content, not the name
                        "mimetype": mimetype,
                        # pending, as Odoo's upload does: message_post moves
                        # them to the conversation (and only takes the
                        # caller's own pending files for portal users)
                        "res_model": "mail.compose.message",
                        "res_id": 0,
                    }
                    for (filename, content), mimetype in zip(attachments, mimetypes, strict=True)
                ]
            )
            .ids
        )

    def _get_portal_messages(self):
        """The conversation as its customer sees it: public messages with a
        body or files, oldest first. The caller has checked access to the
        ticket."""
        self.ensure_one()
        # sudo: mail.message - the customer sees the conversation's public messages only
        return (
            self.channel_id.message_ids.sudo()
            .filtered(
                lambda message: (
                    (message.body or message.attachment_ids)
                    and not message.is_internal
                    and not message.subtype_id.internal
                )
            )
            .sorted(lambda message: (message.date, message.id))
        )

    def _get_portal_attachment_tokens(self, messages):
        """{attachment id: access token} of ``messages``' files, so that the
        customer's browser may load them."""
        attachments = messages.attachment_ids
        # sudo: ir.attachment - files of a conversation whose ticket the caller may access
        tokens = attachments.sudo().generate_access_token()
        return dict(zip(attachments.ids, tokens, strict=True))

    def _portal_mark_as_read(self):
        """The current user saw the conversation: clear their unread counter."""
        self.ensure_one()
        channel = self.channel_id
        if not channel:
            return
        member = self.env["discuss.channel.member"].search(
            [("channel_id", "=", channel.id), ("is_self", "=", True)]
        )
        # sudo: discuss.channel - message ids of the conversation of a ticket the user may see
        last_message_id = max(channel.sudo().message_ids.ids, default=0)
        if member and last_message_id:
            member._mark_as_read(last_message_id)

    def _post_notice(self, text, customer_notice=False):
        """Post a system notice (no author) in the conversation.

        :param customer_notice: an agent's notice that an away customer is
            e-mailed like an agent's message (resolve, reopen)
        """
        flag = {"ticket_customer_notice": True} if customer_notice else {}
        for ticket in self.filtered("channel_id"):
            # sudo: discuss.channel - notices are posted by the system
            ticket.channel_id.sudo().message_post(
                author_id=self.env.ref("base.partner_root").id,
                body=Markup('<div class="o_mail_notification">%s</div>') % text,
                message_type="notification",
                subtype_xmlid="mail.mt_comment",
                **flag,
            )

    @api.model
    def _get_resolved_conversation_ids(self, channel_ids):
        """Which of ``channel_ids`` are the conversations of resolved tickets:
        one query on the ticket's channel index, for each socket's subscribe."""
        if not channel_ids:
            return set()
        self.flush_model(["channel_id", "state"])
        self.env.cr.execute(
            """
            SELECT channel_id FROM im_livechat_ticket
             WHERE state = 'resolved' AND channel_id = ANY(%s)
            """,
            [list(channel_ids)],
        )
        return {channel_id for (channel_id,) in self.env.cr.fetchall()}

    def _on_agent_message(self, message):
        """An agent wrote in the conversation: the ticket is being worked on."""
        for ticket in self:
            vals = {}
            if not ticket.first_response_date:
                vals["first_response_date"] = message.create_date or fields.Datetime.now()
            if ticket.state == "new":
                vals["state"] = "open"
            if vals:
                # sudo: im_livechat.ticket - state follows the conversation
                ticket.sudo().write(vals)

    def _demo_post_reply(self, user_id, body):
        """Demo data: post ``body`` (plain text) as the user ``user_id`` in
        each ticket's conversation, as an agent replying from Discuss."""
        user = self.env["res.users"].browse(user_id)
        for ticket in self.filtered("channel_id"):
            ticket.channel_id.with_user(user).message_post(
                body=plaintext2html(body),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
