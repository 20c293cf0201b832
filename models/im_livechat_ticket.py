from datetime import timedelta

import psycopg2.errors
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import plaintext2html
from odoo.tools.mimetypes import guess_mimetype
from odoo.tools.sql import create_index

PRIORITIES = [
    ("0", "Low"),
    ("1", "Normal"),
    ("2", "High"),
    ("3", "Urgent"),
]
STATES = [
    ("new", "New"),
    ("open", "Open"),
    ("resolved", "Resolved"),
]
# Fields sent in bus notifications and shown to customers: nothing internal.
PUBLIC_FIELDS = [
    "id",
    "reference",
    "name",
    "state",
    "priority",
    "partner_id",
    "user_id",
    "channel_id",
    "create_date",
    "resolved_date",
]
SLA_STATUSES = [
    ("none", "No target"),
    ("on_track", "On track"),
    ("at_risk", "At risk"),
    ("breached", "Breached"),
    ("met", "Met"),
]
# A change of one of these fields is a domain event ("updated" or "resolved").
EVENT_FIELDS = {"state", "priority", "user_id", "name", "livechat_channel_id"}
SUBJECT_MAX_LENGTH = 200
MESSAGE_MAX_LENGTH = 10000
MAX_FILES_PER_MESSAGE = 10
DEFAULT_MAX_UPLOAD_MB = 10
# "count/seconds" per customer, overridable by system parameters
DEFAULT_RATE_LIMITS = {
    "messages": "30/60",
    "tickets": "10/3600",
}
# Checked on the content, never on the file name: what a customer may upload.
ALLOWED_MIMETYPES = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}


class CheckedAttachmentIds(frozenset):
    """Ids of files the server created after checking their content: passed
    to ``message_post`` so that it does not read them again. A Python object:
    no JSON-RPC call can pass one."""


class ImLivechatTicket(models.Model):
    _name = "im_livechat.ticket"
    _description = "Support Ticket"
    # rating.mixin inherits mail.thread: it must come first for the MRO.
    _inherit = [
        "rating.mixin",
        "mail.thread",
        "mail.activity.mixin",
        "portal.mixin",
        "bus.listener.mixin",
    ]
    _order = "priority desc, create_date asc, id asc"
    _rec_names_search = ["name", "reference"]

    def _default_livechat_channel_id(self):
        return self.env.ref(
            "im_livechat_ticket.im_livechat_channel_customer_support",
            raise_if_not_found=False,
        )

    name = fields.Char("Subject", required=True, tracking=True)
    reference = fields.Char(readonly=True, copy=False, index=True, default="/")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id",
        string="Customer Company",
        store=True,
        index=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Agent",
        index=True,
        tracking=True,
        domain=lambda self: [
            ("groups_id", "in", self.env.ref("im_livechat.im_livechat_group_user").id)
        ],
    )
    livechat_channel_id = fields.Many2one(
        "im_livechat.channel",
        string="Support Team",
        required=True,
        index=True,
        tracking=True,
        default=_default_livechat_channel_id,
    )
    channel_id = fields.Many2one(
        "discuss.channel",
        string="Conversation",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    priority = fields.Selection(PRIORITIES, default="1", required=True, index=True, tracking=True)
    state = fields.Selection(
        STATES, default="new", required=True, index=True, readonly=True, tracking=True, copy=False
    )
    resolved_date = fields.Datetime(readonly=True, copy=False, index="btree_not_null")
    assign_date = fields.Datetime(
        "Assigned On",
        readonly=True,
        copy=False,
        help="When the current agent got the ticket.",
    )
    first_response_date = fields.Datetime(readonly=True, copy=False)
    last_activity_date = fields.Datetime(
        readonly=True,
        copy=False,
        index=True,
        help="Date of the last message in the conversation.",
    )
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
    sla_response_deadline = fields.Datetime(
        "First Response Deadline",
        compute="_compute_sla_deadlines",
        store=True,
        index=True,
    )
    sla_resolution_deadline = fields.Datetime(
        "Resolution Deadline",
        compute="_compute_sla_deadlines",
        store=True,
        index=True,
    )
    sla_status = fields.Selection(
        SLA_STATUSES,
        string="Service Level",
        compute="_compute_sla_status",
        compute_sudo=True,
        search="_search_sla_status",
        help="Met: every target was met. On track: targets pending, not close. "
        "At risk: a pending deadline is close. Breached: a target was missed.",
    )
    sla_target_missed = fields.Boolean(
        "Service Level Target Missed",
        compute="_compute_report_measures",
        store=True,
        help="The first response or the resolution came after its deadline.",
    )
    sla_success = fields.Boolean(
        "Service Level Met",
        compute="_compute_report_measures",
        store=True,
        aggregator="bool_and",
        help="Resolved with every service level target met.",
    )
    sla_success_rate = fields.Float(
        "Service Level Met (%)",
        compute="_compute_report_measures",
        store=True,
        aggregator="avg",
        help="100 for a ticket resolved with every target met, else 0: averages to a success rate.",
    )
    first_response_hours = fields.Float(
        "Hours to First Response",
        compute="_compute_report_measures",
        store=True,
        aggregator="avg",
    )
    resolution_hours = fields.Float(
        "Hours to Resolution",
        compute="_compute_report_measures",
        store=True,
        aggregator="avg",
    )
    can_customer_reopen = fields.Boolean(
        compute="_compute_can_customer_reopen",
        compute_sudo=True,
        help="The customer may still reopen this resolved ticket from the portal.",
    )
    message_count = fields.Integer(
        "Conversation Messages",
        compute="_compute_conversation_message_count",
        compute_sudo=True,
    )

    portal_request_key = fields.Char(
        readonly=True,
        copy=False,
        help="Key of the portal form that created the ticket: submitting the same form "
        "twice opens the ticket it created instead of a second one.",
    )

    _sql_constraints = [
        ("reference_uniq", "unique(reference)", "The ticket reference must be unique."),
        (
            "portal_request_key_uniq",
            "unique(partner_id, portal_request_key)",
            "This form was already submitted.",
        ),
    ]

    def init(self):
        res = super().init()
        # The queue lists open tickets in _order: these give its first page
        # and its counts without sorting or reading the resolved ones. The
        # condition matches the "Open" filter and the dashboard's domains;
        # state and company_id (the multi-company rule is in every query)
        # let the counts read the index alone.
        open_tickets = "state IN ('new', 'open')"
        queue_order = ["priority DESC", "create_date", "id"]
        create_index(
            self.env.cr,
            "im_livechat_ticket_user_queue_open_idx",
            self._table,
            ["user_id", *queue_order, "state", "company_id"],
            where=open_tickets,
        )
        create_index(
            self.env.cr,
            "im_livechat_ticket_queue_open_idx",
            self._table,
            [*queue_order, "state", "company_id"],
            where=open_tickets,
        )
        # the dashboard's service level counts of open tickets (_get_sla_status_domain)
        create_index(
            self.env.cr,
            "im_livechat_ticket_sla_open_idx",
            self._table,
            [
                "sla_response_deadline",
                "sla_resolution_deadline",
                "first_response_date",
                "resolved_date",
                "sla_target_missed",
                "livechat_channel_id",
                "company_id",
            ],
            where=open_tickets,
        )
        # every ticket, in the queue's order (the list without filters)
        create_index(self.env.cr, "im_livechat_ticket_queue_order_idx", self._table, queue_order)
        # /my/tickets: a customer company's tickets, latest activity first
        create_index(
            self.env.cr,
            "im_livechat_ticket_commercial_activity_idx",
            self._table,
            ["commercial_partner_id", "last_activity_date DESC", "id DESC"],
        )
        return res

    def _compute_access_url(self):
        # every ticket gets its own URL: portal.mixin's default has nothing to add
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"

    @api.depends("reference", "name")
    def _compute_display_name(self):
        for ticket in self:
            ticket.display_name = (
                f"{ticket.reference} {ticket.name}"
                if ticket.reference and ticket.reference != "/"
                else ticket.name
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

    @api.depends(
        "create_date",
        "priority",
        "livechat_channel_id.ticket_calendar_id",
        "livechat_channel_id.ticket_sla_ids.first_response_hours",
        "livechat_channel_id.ticket_sla_ids.resolution_hours",
        "livechat_channel_id.ticket_sla_ids.priority",
    )
    def _compute_sla_deadlines(self):
        for ticket in self:
            team = ticket.livechat_channel_id
            slas = {sla.priority: sla for sla in team.ticket_sla_ids}
            sla = slas.get(ticket.priority, self.env["im_livechat.ticket.sla"])
            start = ticket.create_date or fields.Datetime.now()
            ticket.sla_response_deadline = team._ticket_deadline(start, sla.first_response_hours)
            ticket.sla_resolution_deadline = team._ticket_deadline(start, sla.resolution_hours)

    @api.depends(
        "sla_response_deadline",
        "sla_resolution_deadline",
        "first_response_date",
        "resolved_date",
        "livechat_channel_id.ticket_sla_risk_hours",
    )
    def _compute_sla_status(self):
        now = fields.Datetime.now()
        for ticket in self:
            targets = [
                (ticket.sla_response_deadline, ticket.first_response_date),
                (ticket.sla_resolution_deadline, ticket.resolved_date),
            ]
            targets = [(deadline, done) for deadline, done in targets if deadline]
            risk = timedelta(hours=ticket.livechat_channel_id.ticket_sla_risk_hours)
            if not targets:
                status = "none"
            elif any((done or now) > deadline for deadline, done in targets):
                status = "breached"
            elif all(done for _deadline, done in targets):
                status = "met"
            elif any(not done and deadline - now <= risk for deadline, done in targets):
                status = "at_risk"
            else:
                status = "on_track"
            ticket.sla_status = status

    def _search_sla_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Unsupported search on the service level."))
        statuses = {value} if isinstance(value, str) else set(value)
        if operator in ("!=", "not in"):
            # the statuses split the tickets: "not" is the others
            statuses = set(dict(SLA_STATUSES)) - statuses
        statuses &= set(dict(SLA_STATUSES))
        return (
            expression.OR([self._get_sla_status_domain(status) for status in statuses])
            or expression.FALSE_DOMAIN
        )

    @api.model
    def _get_sla_status_domain(self, status):
        """The rules of _compute_sla_status as a domain on stored, indexed
        fields (the status depends on the current time, so it is not stored):
        the queue's filters and counts use the indexes of the open tickets."""
        now = fields.Datetime.now()
        # each target as (the date that meets it, its deadline); a target is
        # pending while it has a deadline and that date is not set
        targets = [
            ("first_response_date", "sla_response_deadline"),
            ("resolved_date", "sla_resolution_deadline"),
        ]

        def some_pending_due(operator, limit):
            """A pending target whose deadline is ``operator`` ``limit``."""
            return expression.OR(
                [[(done, "=", False), (deadline, operator, limit)] for done, deadline in targets]
            )

        def no_pending_due(operator, limit):
            """Every target met, without a deadline, or due ``operator`` ``limit``:
            the complement of some_pending_due, given the opposite operator."""
            return expression.AND(
                [
                    expression.OR(
                        [
                            [(done, "!=", False)],
                            [(deadline, "=", False)],
                            [(deadline, operator, limit)],
                        ]
                    )
                    for done, deadline in targets
                ]
            )

        if status == "none":
            return [(deadline, "=", False) for _done, deadline in targets]
        if status == "breached":
            return expression.OR([[("sla_target_missed", "=", True)], some_pending_due("<", now)])
        not_breached = expression.AND(
            [[("sla_target_missed", "=", False)], no_pending_due(">=", now)]
        )
        if status == "met":
            # a target, and none pending
            return expression.AND(
                [
                    not_breached,
                    expression.OR([[(deadline, "!=", False)] for _done, deadline in targets]),
                ]
                + [
                    expression.OR([[(deadline, "=", False)], [(done, "!=", False)]])
                    for done, deadline in targets
                ]
            )
        # at risk: a pending deadline within the team's risk hours
        teams_by_risk = {}
        # sudo: im_livechat.channel - the teams' risk thresholds, whichever teams the user reads
        teams = self.env["im_livechat.channel"].sudo().with_context(active_test=False).search([])
        for team in teams:
            teams_by_risk.setdefault(team.ticket_sla_risk_hours or 0.0, []).append(team.id)
        if status == "at_risk":
            at_risk = expression.OR(
                [
                    expression.AND(
                        [
                            [("livechat_channel_id", "in", team_ids)],
                            some_pending_due("<=", now + timedelta(hours=hours)),
                        ]
                    )
                    for hours, team_ids in teams_by_risk.items()
                ]
            )
            return expression.AND([not_breached, at_risk])
        # on track: a target pending, none breached or at risk
        not_at_risk = expression.AND(
            [
                expression.OR(
                    [
                        [("livechat_channel_id", "not in", team_ids)],
                        no_pending_due(">", now + timedelta(hours=hours)),
                    ]
                )
                for hours, team_ids in teams_by_risk.items()
            ]
        )
        pending = expression.OR(
            [[(deadline, "!=", False), (done, "=", False)] for done, deadline in targets]
        )
        return expression.AND([not_breached, pending, not_at_risk])

    @api.depends(
        "create_date",
        "first_response_date",
        "resolved_date",
        "sla_response_deadline",
        "sla_resolution_deadline",
    )
    def _compute_report_measures(self):
        # Elapsed (calendar) hours for reports; facts only, final once resolved.
        for ticket in self:
            start = ticket.create_date
            ticket.first_response_hours = (
                (ticket.first_response_date - start).total_seconds() / 3600
                if start and ticket.first_response_date
                else 0.0
            )
            ticket.resolution_hours = (
                (ticket.resolved_date - start).total_seconds() / 3600
                if start and ticket.resolved_date
                else 0.0
            )
            ticket.sla_success = bool(
                ticket.resolved_date
                and (
                    not ticket.sla_response_deadline
                    or (
                        ticket.first_response_date
                        and ticket.first_response_date <= ticket.sla_response_deadline
                    )
                )
                and (
                    not ticket.sla_resolution_deadline
                    or ticket.resolved_date <= ticket.sla_resolution_deadline
                )
            )
            ticket.sla_success_rate = 100.0 if ticket.sla_success else 0.0
            ticket.sla_target_missed = bool(
                (
                    ticket.sla_response_deadline
                    and ticket.first_response_date
                    and ticket.first_response_date > ticket.sla_response_deadline
                )
                or (
                    ticket.sla_resolution_deadline
                    and ticket.resolved_date
                    and ticket.resolved_date > ticket.sla_resolution_deadline
                )
            )

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

    @api.constrains("name")
    def _check_name(self):
        for ticket in self:
            if not (ticket.name or "").strip():
                raise ValidationError(self.env._("A ticket needs a subject."))
            if len(ticket.name) > SUBJECT_MAX_LENGTH:
                raise ValidationError(
                    self.env._(
                        "The subject is too long (%(length)s characters, at most %(max)s).",
                        length=len(ticket.name),
                        max=SUBJECT_MAX_LENGTH,
                    )
                )

    @api.constrains("user_id")
    def _check_user_id(self):
        for ticket in self.filtered("user_id"):
            if not ticket.user_id.has_group("im_livechat.im_livechat_group_user"):
                raise ValidationError(
                    self.env._(
                        "%(user)s is not a live chat operator and cannot work on tickets.",
                        user=ticket.user_id.name,
                    )
                )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        first_messages = []
        for vals in vals_list:
            first_messages.append(vals.pop("first_message", False))
            if not vals.get("reference") or vals["reference"] == "/":
                vals["reference"] = (
                    self.env["ir.sequence"].next_by_code("im_livechat.ticket") or "/"
                )
            if not vals.get("user_id"):
                team = self.env["im_livechat.channel"].browse(
                    vals.get("livechat_channel_id") or self._default_livechat_channel_id().id
                )
                vals["user_id"] = team.exists() and team._get_ticket_agent().id
            if vals.get("user_id"):
                vals["assign_date"] = fields.Datetime.now()
        tickets = super().create(vals_list)
        for ticket, first_message in zip(tickets, first_messages, strict=True):
            ticket._create_conversation()
            if first_message:
                ticket._post_customer_message(first_message)
            elif not self.env.context.get("im_livechat_ticket_first_message_follows"):
                ticket._post_notice(
                    Markup(self.env._("Ticket %(reference)s created: follow it on %(link)s."))
                    % {
                        "reference": ticket.reference,
                        "link": Markup('<a href="/my/tickets/%s">%s</a>')
                        % (ticket.id, ticket.reference),
                    }
                )
        tickets._send_ticket_event("created")
        return tickets

    def write(self, vals):
        if "user_id" in vals:
            vals = {**vals, "assign_date": fields.Datetime.now() if vals["user_id"] else False}
        if "partner_id" in vals and any(ticket.channel_id for ticket in self):
            for ticket in self:
                if ticket.partner_id.id != vals["partner_id"] and ticket.channel_id:
                    raise UserError(
                        self.env._(
                            "The customer of a ticket cannot change once it has a conversation."
                        )
                    )
        agents_before = {ticket: ticket.user_id for ticket in self}
        result = super().write(vals)
        if "user_id" in vals:
            for ticket in self:
                if ticket.user_id != agents_before[ticket]:
                    ticket._sync_conversation_agent()
        if EVENT_FIELDS & set(vals):
            self._send_ticket_event("resolved" if vals.get("state") == "resolved" else "updated")
        return result

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_resolve(self):
        for ticket in self:
            if ticket.state == "resolved":
                raise UserError(
                    self.env._(
                        "Ticket %(reference)s is already resolved.", reference=ticket.reference
                    )
                )
        self.write({"state": "resolved", "resolved_date": fields.Datetime.now()})
        for ticket in self:
            if ticket.channel_id:
                # sudo: discuss.channel - agents may not write livechat sessions they do not own
                ticket.channel_id.sudo().livechat_active = False
            ticket._post_notice(
                self.env._("%(user)s resolved this ticket.", user=self.env.user.name)
            )
        # ask the customer for a rating: the request is created now, the
        # customer answers on the ticket page or through the rating link
        for ticket in self:
            ticket._rating_get_access_token()
        # the freed agents take the next waiting tickets of their teams
        for ticket in self.filtered("user_id"):
            ticket.livechat_channel_id._assign_waiting_tickets(agent=ticket.user_id)
        return True

    def action_reopen(self):
        for ticket in self:
            if ticket.state != "resolved":
                raise UserError(
                    self.env._(
                        "Ticket %(reference)s is not resolved: only a resolved ticket can be "
                        "reopened.",
                        reference=ticket.reference,
                    )
                )
        for ticket in self:
            ticket.write(
                {
                    "state": "open" if ticket.first_response_date else "new",
                    "resolved_date": False,
                }
            )
            if ticket.channel_id:
                # sudo: discuss.channel - reopening makes the conversation active again
                ticket.channel_id.sudo().livechat_active = True
            ticket._post_notice(
                self.env._("%(user)s reopened this ticket.", user=self.env.user.name)
            )
        return True

    def action_assign(self, user=None):
        """Assign the tickets to ``user`` (a res.users record or id), by default
        the current user ("Assign to me").

        The caller may say which agent it saw on the tickets, in the context
        key ``ticket_expected_user_id`` (a user id, ``False`` for none): a
        ticket that someone else reassigned meanwhile is then refused with a
        clear message instead of being taken over. Two assignments at once
        write the same row: the second fails to serialise, Odoo replays it
        after the first committed, and it is refused here."""
        if isinstance(user, int):
            user = self.env["res.users"].browse(user)
        user = user or self.env.user
        expected = self.env.context.get("ticket_expected_user_id")
        for ticket in self:
            if ticket.state == "resolved":
                raise UserError(
                    self.env._(
                        "Ticket %(reference)s is resolved: reopen it before assigning it.",
                        reference=ticket.reference,
                    )
                )
            if (
                "ticket_expected_user_id" in self.env.context
                and ticket.user_id.id != (expected or False)
                and ticket.user_id != user
            ):
                raise UserError(
                    self.env._(
                        "Ticket %(reference)s was just assigned to %(agent)s by someone else: "
                        "reload it to see the change.",
                        reference=ticket.reference,
                        agent=ticket.user_id.name or self.env._("nobody"),
                    )
                )
        self.write({"user_id": user.id})
        return True

    @api.model
    def get_queue_dashboard(self):
        """Counts for the agents' queue header; each is one indexed count."""
        # the open tickets' partial indexes (init) match this condition
        open_domain = [("state", "in", ("new", "open"))]
        today = fields.Datetime.to_datetime(fields.Date.context_today(self))
        # the user's midnight, in UTC as stored
        tz_today = fields.Datetime.context_timestamp(self, today).replace(tzinfo=None)
        midnight_utc = today - (tz_today - today)
        domains = {
            "waiting": [*open_domain, ("user_id", "=", False)],
            "my_open": [*open_domain, ("user_id", "=", self.env.uid)],
            "urgent": [*open_domain, ("priority", "=", "3")],
            "sla_at_risk": [*open_domain, ("sla_status", "=", "at_risk")],
            "sla_breached": [*open_domain, ("sla_status", "=", "breached")],
            "resolved_today": [("state", "=", "resolved"), ("resolved_date", ">=", midnight_utc)],
        }
        return {key: self.search_count(domain) for key, domain in domains.items()}

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

    def _portal_rate(self, score, feedback=None):
        """Rate the help received, once, as the ticket's own customer."""
        self.ensure_one()
        if self.env.user.partner_id != self.partner_id:
            raise AccessError(self.env._("Only the customer who opened the ticket can rate it."))
        if self.state != "resolved":
            raise UserError(self.env._("You can rate a ticket once it is resolved."))
        try:
            score = int(score)
        except (TypeError, ValueError):
            score = 0
        if score not in (1, 2, 3, 4, 5):
            raise UserError(self.env._("Please choose a rating from 1 to 5."))
        feedback = (feedback or "").strip()
        if len(feedback) > MESSAGE_MAX_LENGTH:
            raise UserError(self.env._("Your comment is too long."))
        if self._get_customer_rating():
            raise UserError(self.env._("You have already rated this ticket. Thank you!"))
        # sudo: rating.rating - customers apply their own rating request only
        token = self.sudo()._rating_get_access_token()
        return self.sudo().rating_apply(score, token=token, feedback=feedback or None)

    def _get_customer_rating(self):
        """The customer's rating of this ticket, if they gave one."""
        self.ensure_one()
        # sudo: rating.rating - the ticket's own ratings
        return self.sudo().rating_ids.filtered(
            lambda rating: rating.consumed and rating.partner_id == self.partner_id
        )[:1]

    def rating_apply(
        self,
        rate,
        token=None,
        rating=None,
        feedback=None,
        subtype_xmlid=None,
        notify_delay_send=False,
    ):
        rating = super().rating_apply(
            rate,
            token=token,
            rating=rating,
            feedback=feedback,
            subtype_xmlid=subtype_xmlid,
            notify_delay_send=notify_delay_send,
        )
        if rating.rating and rating.rating <= 2:
            self._schedule_low_rating_activity(rating)
        return rating

    def _rating_get_parent_field_name(self):
        return "livechat_channel_id"

    def _schedule_low_rating_activity(self, rating):
        """A poor rating asks the team's manager to follow up."""
        for ticket in self:
            team = ticket.livechat_channel_id
            manager = (
                team.ticket_manager_id
                or team.ticket_default_user_id
                or self.env.ref("base.user_admin")
            )
            # sudo: mail.activity - scheduled for the manager whoever rated
            ticket.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=manager.id,
                summary=self.env._(
                    "Poor rating (%(score)s/5) on %(ticket)s",
                    score=int(rating.rating),
                    ticket=ticket.display_name,
                ),
                note=rating.feedback or "",
            )

    def action_take(self):
        """Take unassigned tickets: refused with a clear message when another
        agent was quicker (concurrent takes serialise on the ticket's row)."""
        for ticket in self:
            if ticket.user_id and ticket.user_id != self.env.user:
                raise UserError(
                    self.env._(
                        "%(agent)s already took ticket %(reference)s.",
                        agent=ticket.user_id.name,
                        reference=ticket.reference,
                    )
                )
        return self.filtered(lambda t: not t.user_id).action_assign(self.env.user)

    def action_open_conversation(self):
        """Open the ticket's conversation in Discuss."""
        self.ensure_one()
        if not self.channel_id:
            raise UserError(self.env._("This ticket has no conversation."))
        return {
            "type": "ir.actions.client",
            "tag": "mail.action_discuss",
            "params": {"active_id": self.channel_id.id},
        }

    # ------------------------------------------------------------
    # Business
    # ------------------------------------------------------------

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
        if request_key:
            # sudo: im_livechat.ticket - the caller's own earlier submit
            existing = self.sudo().search(
                [
                    ("partner_id", "=", self.env.user.partner_id.id),
                    ("portal_request_key", "=", request_key),
                ],
                limit=1,
            )
            if existing:
                return existing.with_env(self.env)
        # PostgreSQL refuses NUL characters in text: drop them, don't crash
        name = (name or "").replace("\x00", "").strip()
        message = (message or "").replace("\x00", "").strip()
        if not name:
            raise UserError(self.env._("Please enter a subject."))
        if len(name) > SUBJECT_MAX_LENGTH:
            raise UserError(
                self.env._(
                    "The subject is too long (%(length)s characters, at most %(max)s).",
                    length=len(name),
                    max=SUBJECT_MAX_LENGTH,
                )
            )
        self._check_customer_message(
            message, empty_error=self.env._("Please describe your request.")
        )
        priority = priority or "1"
        if priority not in dict(PRIORITIES):
            raise UserError(self.env._("Unknown priority."))
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
            # sudo: mail.message - counting the caller's own messages in ticket conversations
            used = (
                self.env["mail.message"]
                .sudo()
                .search_count(
                    [
                        ("author_id", "=", partner.id),
                        ("model", "=", "discuss.channel"),
                        ("message_type", "=", "comment"),
                        ("create_date", ">=", since),
                    ]
                )
            )
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

    def _assign_agent(self):
        """Give every unassigned ticket of ``self`` an agent picked by its
        team's assignment method; a ticket nobody can take stays unassigned."""
        for ticket in self.filtered(lambda t: not t.user_id and t.state != "resolved"):
            agent = ticket.livechat_channel_id._get_ticket_agent()
            if agent:
                ticket.user_id = agent

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
        attachment_ids = []
        if attachments:
            # each file is checked once, on its content in memory
            mimetypes = checked_mimetypes or self._check_uploads(attachments)
            # sudo: ir.attachment - customers cannot create attachments themselves
            attachment_ids = (
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
                        for (filename, content), mimetype in zip(
                            attachments, mimetypes, strict=True
                        )
                    ]
                )
                .ids
            )
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

    def _post_notice(self, text):
        """Post a system notice (no author) in the conversation."""
        for ticket in self.filtered("channel_id"):
            # sudo: discuss.channel - notices are posted by the system
            ticket.channel_id.sudo().message_post(
                author_id=self.env.ref("base.partner_root").id,
                body=Markup('<div class="o_mail_notification">%s</div>') % text,
                message_type="notification",
                subtype_xmlid="mail.mt_comment",
            )

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

    def _bus_channel(self):
        # Domain events reach every agent: each agent's websocket listens to
        # the groups of its user.
        return self.env.ref("im_livechat.im_livechat_group_user")

    def _get_customer_partners(self):
        """Partners who follow this ticket on the portal: the customer, and
        the portal users of the customer company when it shares tickets."""
        self.ensure_one()
        partners = self.partner_id
        company = self.commercial_partner_id
        if company.ticket_company_sharing:
            # sudo: res.users - finding the portal users of the customer company
            users = (
                self.env["res.users"]
                .sudo()
                .search([("commercial_partner_id", "=", company.id), ("share", "=", True)])
            )
            partners |= users.partner_id
        return partners

    def _send_ticket_event(self, event):
        """Send ``im_livechat.ticket/<event>`` with the public fields to the
        agents and the customer. Written to bus.bus in this transaction,
        delivered by Odoo's bus after commit."""
        notification_type = f"im_livechat.ticket/{event}"
        for ticket in self:
            payload = ticket._public_values()
            ticket._bus_send(notification_type, payload)
            for partner in ticket._get_customer_partners():
                partner._bus_send(notification_type, payload)

    def _public_values(self):
        """The ticket's public fields as plain JSON (bus payloads, portal)."""
        self.ensure_one()
        return {
            "id": self.id,
            "reference": self.reference,
            "name": self.name,
            "state": self.state,
            "priority": self.priority,
            "partner_id": self.partner_id.id,
            "user_id": self.user_id.id or False,
            "channel_id": self.channel_id.id or False,
            "create_date": fields.Datetime.to_string(self.create_date),
            "resolved_date": fields.Datetime.to_string(self.resolved_date)
            if self.resolved_date
            else False,
        }

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
