"""What customers do with their tickets, and the guards on it: opening one
from the portal form, reopening it, the rate limits, and the checks on what
they write and upload (wherever it comes in)."""

from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.mimetypes import guess_mimetype

from .im_livechat_ticket_data import (
    ALLOWED_MIMETYPES,
    DEFAULT_MAX_UPLOAD_MB,
    DEFAULT_RATE_LIMITS,
    MAX_FILES_PER_MESSAGE,
    MESSAGE_MAX_LENGTH,
    PRIORITIES,
    SERVER_SET,
)


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    can_customer_reopen = fields.Boolean(
        compute="_compute_can_customer_reopen",
        compute_sudo=True,
        help="The customer may still reopen this resolved ticket from the portal.",
    )
    portal_request_key = fields.Char(
        help="Key of the portal form that created the ticket: submitting the same form "
        "twice opens the ticket it created instead of a second one.",
        **SERVER_SET,
    )

    _sql_constraints = [
        (
            "portal_request_key_uniq",
            "unique(partner_id, portal_request_key)",
            "This form was already submitted.",
        ),
    ]

    @api.depends("state", "resolved_date", "livechat_channel_id.ticket_reopen_days")
    def _compute_can_customer_reopen(self):
        now = fields.Datetime.now()
        for ticket in self:
            days = ticket.livechat_channel_id.ticket_reopen_days
            ticket.can_customer_reopen = bool(
                ticket.state == "resolved"
                and days > 0
                and ticket.resolved_date
                and now - ticket.resolved_date <= timedelta(days=days)
            )

    def _portal_reopen(self):
        """Reopen for the customer, within the team's reopen window. The caller
        has checked that the current user may access the ticket."""
        self.ensure_one()
        if self.state != "resolved":
            raise UserError(self.env._("This ticket is not resolved: it is still being worked on."))
        if not self.can_customer_reopen:
            raise UserError(
                self.env._("This ticket can no longer be reopened: please open a new ticket.")
            )
        # sudo: im_livechat.ticket - customers reopen through this checked path only
        return self.sudo().action_reopen()

    @api.model
    def _get_portal_domain(self):
        """The tickets listed on /my/tickets; record rules narrow it further
        (own tickets, or the company's when it shares them)."""
        return [("commercial_partner_id", "=", self.env.user.partner_id.commercial_partner_id.id)]

    @api.model
    def _get_portal_unread_count(self):
        """Messages of the user's ticket conversations they have not seen."""
        if not self.has_access("read"):
            return 0
        # one query from the user's own memberships: a sharing company's
        # coworkers may list thousands of tickets but are members of their own
        members = self.env["discuss.channel.member"].search(
            [
                ("is_self", "=", True),
                (
                    "channel_id.livechat_ticket_ids.commercial_partner_id",
                    "=",
                    self.env.user.partner_id.commercial_partner_id.id,
                ),
            ]
        )
        return sum(members.mapped("message_unread_counter"))

    def _get_portal_agent_names(self):
        """{agent id: the name customers see}: the agent's chat name if any."""
        # sudo: res.users - the agents' names shown to their customers
        return {agent.id: agent.livechat_username or agent.name for agent in self.user_id.sudo()}

    @api.model
    def _portal_create_ticket(self, name, message, priority=None, attachments=(), request_key=None):
        """Open a ticket for the current (portal) user, who becomes its
        customer. Checks every input and raises a translated ``UserError``
        for bad input, creating nothing.

        :param attachments: list of ``(filename, raw bytes)``
        :param request_key: the form's one-time key; a second submit of the
            same form returns the ticket the first one created
        """
        request_key = (request_key or "").strip()[:64] or None
        existing = self._find_portal_request(request_key)
        if existing:
            return existing
        name, message = self._check_portal_ticket_input(name, message, priority)
        priority = priority or "1"
        mimetypes = self._check_uploads(attachments)
        self._check_rate_limit("tickets")
        vals = self._prepare_portal_ticket_values(name, priority)
        vals["portal_request_key"] = request_key
        try:
            with self.env.cr.savepoint():
                # sudo: im_livechat.ticket - customers have no create right; values are
                # checked above
                ticket = (
                    self.sudo()
                    .with_context(im_livechat_ticket_first_message_follows=True)
                    .create(vals)
                )
        except psycopg2.errors.UniqueViolation as error:
            if request_key and "portal_request_key" in str(error):
                # The same form submitted twice at once: the other request
                # created the ticket. Retry like any serialisation conflict;
                # the retried request finds that ticket above.
                raise psycopg2.errors.SerializationFailure(
                    "duplicate ticket form submit"
                ) from error
            raise
        ticket.with_env(self.env)._post_customer_message(
            message, attachments, checked_mimetypes=mimetypes
        )
        return ticket.with_env(self.env)

    @api.model
    def _find_portal_request(self, request_key):
        """The ticket an earlier submit of the same form created, if any."""
        if not request_key:
            return self.browse()
        # sudo: im_livechat.ticket - the caller's own earlier submit
        existing = self.sudo().search(
            [
                ("partner_id", "=", self.env.user.partner_id.id),
                ("portal_request_key", "=", request_key),
            ],
            limit=1,
        )
        return existing.with_env(self.env)

    @api.model
    def _check_portal_ticket_input(self, name, message, priority):
        """Refuse a bad subject, message or priority; returns the subject and
        the message cleaned."""
        # PostgreSQL refuses NUL characters in text: drop them, don't crash
        name = (name or "").replace("\x00", "").strip()
        message = (message or "").replace("\x00", "").strip()
        if not name:
            raise UserError(self.env._("Please enter a subject."))
        self._check_subject_length(name)
        self._check_customer_message(
            message, empty_error=self.env._("Please describe your request.")
        )
        if (priority or "1") not in dict(PRIORITIES):
            raise UserError(self.env._("Unknown priority."))
        return name, message

    @api.model
    def _prepare_portal_ticket_values(self, name, priority):
        return {
            "name": name,
            "priority": priority,
            "partner_id": self.env.user.partner_id.id,
            "company_id": self.env.user.company_id.id,
        }

    @api.model
    def _get_rate_limit(self, kind):
        """(count, seconds) allowed per customer for ``kind`` ("messages",
        "tickets"), from ``im_livechat_ticket.rate_limit_<kind>`` ("30/60");
        None when disabled ("0")."""
        # sudo: ir.config_parameter - reading a non-sensitive limit
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(f"im_livechat_ticket.rate_limit_{kind}", DEFAULT_RATE_LIMITS[kind])
        )
        try:
            count, _sep, seconds = str(value).partition("/")
            count, seconds = int(count), int(seconds or 60)
        except ValueError:
            count, _sep, seconds = DEFAULT_RATE_LIMITS[kind].partition("/")
            count, seconds = int(count), int(seconds)
        return (count, seconds) if count > 0 and seconds > 0 else None

    @api.model
    def _check_rate_limit(self, kind):
        """Refuse a customer's message or ticket beyond the configured rate."""
        if not self.env.user.share:
            return
        limit = self._get_rate_limit(kind)
        if not limit:
            return
        count, seconds = limit
        since = fields.Datetime.now() - timedelta(seconds=seconds)
        partner = self.env.user.partner_id
        if kind == "tickets":
            # sudo: im_livechat.ticket - counting the caller's own tickets
            used = self.sudo().search_count(
                [("partner_id", "=", partner.id), ("create_date", ">=", since)]
            )
        else:
            # one range of mail_message_ticket_rate_limit_idx (mail_message.py),
            # without the ORM's domain: this runs for every customer post
            self.env["mail.message"].flush_model(
                ["author_id", "create_date", "message_type", "model"]
            )
            self.env.cr.execute(
                """
                SELECT count(*) FROM mail_message
                 WHERE author_id = %s AND create_date >= %s
                   AND message_type = 'comment' AND model = 'discuss.channel'
                """,
                [partner.id, since],
            )
            used = self.env.cr.fetchone()[0]
        if used >= count:
            raise UserError(
                self.env._(
                    "You are sending too fast: please wait a moment and try again "
                    "(at most %(count)s %(what)s in %(seconds)s seconds).",
                    count=count,
                    what=self.env._("tickets") if kind == "tickets" else self.env._("messages"),
                    seconds=seconds,
                )
            )

    @api.model
    def _check_customer_message(self, text, html="", with_files=False, empty_error=None):
        """The limits of what a customer writes, wherever it comes in (the
        portal's forms, Odoo's message post): not empty unless files come
        with it, at most ``MESSAGE_MAX_LENGTH`` characters of text and four
        times that of HTML (links and mentions add markup).

        :param text: the message as plain text, stripped
        :param html: the message as posted, when it is HTML
        :param empty_error: the refusal of an empty message, if not the usual
        """
        if not text and not with_files:
            raise UserError(empty_error or self.env._("The message is empty."))
        if len(text) > MESSAGE_MAX_LENGTH or len(html or "") > 4 * MESSAGE_MAX_LENGTH:
            raise UserError(
                self.env._(
                    "The message is too long (%(length)s characters, at most %(max)s).",
                    length=len(text),
                    max=MESSAGE_MAX_LENGTH,
                )
            )

    @api.model
    def _get_max_upload_bytes(self):
        # sudo: ir.config_parameter - reading a non-sensitive limit
        value = self.env["ir.config_parameter"].sudo().get_param("im_livechat_ticket.max_upload_mb")
        try:
            megabytes = float(value) if value else DEFAULT_MAX_UPLOAD_MB
        except ValueError:
            megabytes = DEFAULT_MAX_UPLOAD_MB
        return int(megabytes * 1024 * 1024)

    @api.model
    def _check_uploads(self, attachments):
        """Refuse too many, too large or disallowed files (type read from the
        content). Returns the mimetype of each file, in order."""
        if len(attachments) > MAX_FILES_PER_MESSAGE:
            raise UserError(
                self.env._("At most %(count)s files per message.", count=MAX_FILES_PER_MESSAGE)
            )
        max_bytes = self._get_max_upload_bytes()
        mimetypes = []
        for filename, content in attachments:
            if not content:
                raise UserError(self.env._("The file %(name)s is empty.", name=filename))
            if len(content) > max_bytes:
                raise UserError(
                    self.env._(
                        "The file %(name)s is too large (%(size).1f MB, at most %(max).0f MB).",
                        name=filename,
                        size=len(content) / 1024 / 1024,
                        max=max_bytes / 1024 / 1024,
                    )
                )
            mimetype = guess_mimetype(content, default="application/octet-stream")
            if mimetype not in ALLOWED_MIMETYPES:
                raise UserError(
                    self.env._(
                        "The file %(name)s is not allowed: send pictures (JPEG, PNG, GIF, WebP), "
                        "PDF, text or office documents.",
                        name=filename,
                    )
                )
            mimetypes.append(mimetype)
        return mimetypes
