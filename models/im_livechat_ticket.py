"""The support ticket: its fields, queue order, lifecycle (create, resolve,
reopen, assign) and domain events. The other concerns of the same model live
beside this file, each ``_inherit``-ing it (as mail's res_partner does):

- im_livechat_ticket_service_level.py: deadlines, status, report measures
- im_livechat_ticket_conversation.py: the discuss.channel, posting, unread counts
- im_livechat_ticket_portal.py: what customers do (create, reopen, limits, uploads)
- im_livechat_ticket_rating.py: the customer's rating
- im_livechat_ticket_mail.py, im_livechat_ticket_mail_gateway.py: e-mail out and in
- im_livechat_ticket_call.py: calls in the conversation
- im_livechat_ticket_data.py: constants and limits
"""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.sql import create_index

from .im_livechat_ticket_data import (
    EVENT_FIELDS,
    PRIORITIES,
    PUBLIC_FIELDS,
    SERVER_SET,
    STATES,
    SUBJECT_MAX_LENGTH,
)


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
    reference = fields.Char(index=True, default="/", **SERVER_SET)
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
    loaded_user_id = fields.Many2one(
        "res.users",
        string="Agent When Loaded",
        compute="_compute_loaded_user_id",
        help="The agent as the form showed it: a save that changes the agent is refused "
        "when someone else reassigned the ticket since (never stored).",
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
        index="btree_not_null",
        ondelete="set null",
        **SERVER_SET,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    priority = fields.Selection(PRIORITIES, default="1", required=True, index=True, tracking=True)
    state = fields.Selection(
        STATES, default="new", required=True, index=True, tracking=True, **SERVER_SET
    )
    resolved_date = fields.Datetime(index="btree_not_null", **SERVER_SET)
    assign_date = fields.Datetime(
        "Assigned On", help="When the current agent got the ticket.", **SERVER_SET
    )
    first_response_date = fields.Datetime(**SERVER_SET)
    # Discuss keeps it on the conversation with every message: the ticket
    # does not write its own row per message (ordering by it joins the channel)
    last_activity_date = fields.Datetime(
        related="channel_id.last_interest_dt",
        string="Last Activity Date",
        help="Date of the last message in the conversation.",
    )

    _sql_constraints = [
        ("reference_uniq", "unique(reference)", "The ticket reference must be unique."),
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
        # every ticket, in the queue's order (the list without filters)
        create_index(self.env.cr, "im_livechat_ticket_queue_order_idx", self._table, queue_order)
        return res

    def _compute_access_url(self):
        # every ticket gets its own URL: portal.mixin's default has nothing to add
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"

    @api.depends("user_id")
    def _compute_loaded_user_id(self):
        for ticket in self:
            ticket.loaded_user_id = ticket.user_id

    @api.depends("reference", "name")
    def _compute_display_name(self):
        for ticket in self:
            ticket.display_name = (
                f"{ticket.reference} {ticket.name}"
                if ticket.reference and ticket.reference != "/"
                else ticket.name
            )

    @api.constrains("name")
    def _check_name(self):
        for ticket in self:
            if not (ticket.name or "").strip():
                raise ValidationError(self.env._("A ticket needs a subject."))
            ticket._check_subject_length(ticket.name)

    @api.model
    def _check_subject_length(self, name):
        if len(name) > SUBJECT_MAX_LENGTH:
            raise ValidationError(
                self.env._(
                    "The subject is too long (%(length)s characters, at most %(max)s).",
                    length=len(name),
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
        vals = dict(vals)
        # the agent the caller saw: the form sends it as loaded_user_id, actions in the context
        expected = vals.pop("loaded_user_id", self.env.context.get("ticket_expected_user_id"))
        if "user_id" in vals:
            if expected is not None:
                self._check_expected_agent(vals["user_id"], expected)
            vals["assign_date"] = fields.Datetime.now() if vals["user_id"] else False
        if "partner_id" in vals and any(ticket.channel_id for ticket in self):
            for ticket in self:
                if ticket.partner_id.id != vals["partner_id"] and ticket.channel_id:
                    raise UserError(
                        self.env._(
                            "The customer of a ticket cannot change once it has a conversation."
                        )
                    )
        agents_before = {ticket: ticket.user_id for ticket in self}
        reopened = (
            self.filtered(lambda ticket: ticket.state == "resolved")
            if vals.get("state") not in (None, "resolved")
            else self.browse()
        )
        result = super().write(vals)
        if "user_id" in vals:
            for ticket in self:
                if ticket.user_id != agents_before[ticket]:
                    ticket._sync_conversation_agent()
        if EVENT_FIELDS & set(vals):
            self._send_ticket_event(
                "resolved" if vals.get("state") == "resolved" else "updated", reopened=reopened
            )
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
                self.env._("%(user)s resolved this ticket.", user=self.env.user.name),
                customer_notice=self.env.user._is_internal(),
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
                self.env._("%(user)s reopened this ticket.", user=self.env.user.name),
                customer_notice=self.env.user._is_internal(),
            )
        return True

    def action_assign(self, user=None):
        """Assign the tickets to ``user`` (a res.users record or id), by default
        the current user ("Assign to me").

        The caller may say which agent it saw on the tickets, in the context
        key ``ticket_expected_user_id`` (a user id, ``False`` for none): a
        ticket that someone else reassigned meanwhile is then refused with a
        clear message instead of being taken over (``_check_expected_agent``,
        as for a change of the Agent field in the form)."""
        if isinstance(user, int):
            user = self.env["res.users"].browse(user)
        user = user or self.env.user
        for ticket in self:
            if ticket.state == "resolved":
                raise UserError(
                    self.env._(
                        "Ticket %(reference)s is resolved: reopen it before assigning it.",
                        reference=ticket.reference,
                    )
                )
        self.write({"user_id": user.id})
        return True

    def _check_expected_agent(self, user_id, expected_user_id):
        """Refuse to give the tickets to ``user_id`` when one of them is no
        longer with ``expected_user_id``, the agent the caller saw (someone
        else reassigned it meanwhile). Two assignments at once write the same
        row: the second fails to serialise, Odoo replays it after the first
        committed, and it is refused here."""
        for ticket in self:
            if ticket.user_id.id not in (expected_user_id or False, user_id or False):
                raise UserError(
                    self.env._(
                        "Ticket %(reference)s was just assigned to %(agent)s by someone else: "
                        "reload it to see the change.",
                        reference=ticket.reference,
                        agent=ticket.user_id.name or self.env._("nobody"),
                    )
                )

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

    def _assign_agent(self):
        """Give every unassigned ticket of ``self`` an agent picked by its
        team's assignment method; a ticket nobody can take stays unassigned."""
        for ticket in self.filtered(lambda t: not t.user_id and t.state != "resolved"):
            agent = ticket.livechat_channel_id._get_ticket_agent()
            if agent:
                ticket.user_id = agent

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

    def _send_ticket_event(self, event, reopened=()):
        """Send ``im_livechat.ticket/<event>`` with the public fields to the
        agents and the customer. Written to bus.bus in this transaction,
        delivered by Odoo's bus after commit. The tickets in ``reopened``
        (resolved until now) say so: agents' sockets then listen to their
        conversation again (ir_websocket.py)."""
        notification_type = f"im_livechat.ticket/{event}"
        for ticket in self:
            payload = ticket._public_values()
            if ticket in reopened:
                payload["reopened"] = True
            ticket._bus_send(notification_type, payload)
            for partner in ticket._get_customer_partners():
                partner._bus_send(notification_type, payload)

    def _public_values(self):
        """The ticket's public fields (PUBLIC_FIELDS) as plain JSON: bus payloads, portal."""
        self.ensure_one()
        values = {}
        for name in PUBLIC_FIELDS:
            value = self[name]
            if self._fields[name].type == "many2one":
                value = value.id or False
            elif self._fields[name].type == "datetime":
                value = fields.Datetime.to_string(value) if value else False
            values[name] = value
        return values
