"""The ticket's calls: Odoo's own Discuss calls (``discuss.channel.rtc.session``)
on the ticket's conversation, with the ticket's rules on top: who may join,
no call on a resolved ticket (resolving ends one), how often a customer may
ring, the notices a call leaves in the conversation, and the ICE servers
ticket calls use.

The Discuss side calls in here from ``discuss_channel_call.py`` (joining,
leaving, the call's notices) and ``discuss_channel_rtc_session.py`` (a
call's end)."""

from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import AccessError, UserError

from .im_livechat_ticket_data import SERVER_SET

# seconds between two calls a customer starts, overridable by a system parameter
DEFAULT_CALL_RING_INTERVAL = 60
CALL_RING_INTERVAL_PARAM = "im_livechat_ticket.call_ring_interval"
# "1": with no ICE server configured, ticket calls use host candidates only
CALL_HOST_CANDIDATES_PARAM = "im_livechat_ticket.call_host_candidates_only"


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    call_start_date = fields.Datetime(
        "Call Started On",
        help="When the running call of the conversation started (empty: no call).",
        **SERVER_SET,
    )
    call_answer_date = fields.Datetime(
        "Call Answered On",
        help="When the other side joined the running call (empty: still ringing).",
        **SERVER_SET,
    )
    call_ring_partner_id = fields.Many2one(
        "res.partner",
        string="Last Customer Ringing",
        index="btree_not_null",
        help="The customer who last started a call on this ticket (the ring limit).",
        **SERVER_SET,
    )
    call_ring_date = fields.Datetime("Last Customer Ring", **SERVER_SET)

    def write(self, vals):
        result = super().write(vals)
        if vals.get("state") == "resolved":
            # resolving ends the running call, whatever resolved the ticket
            self._end_call()
        return result

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_call_customer(self):
        """The queue card's *Call*: open the ticket's form, which starts the
        call in its conversation (the browser's call service does the call)."""
        self.ensure_one()
        if self.state == "resolved":
            raise UserError(
                self.env._(
                    "Ticket %(reference)s is resolved: no call on a resolved ticket.",
                    reference=self.reference,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            # one call per click: the form starts it once for this key
            "context": {"im_livechat_ticket_start_call": f"{self.id}-{fields.Datetime.now()}"},
        }

    def action_answer_call(self):
        """*Answer* on the ring of a customer's call on an unassigned ticket:
        take the ticket (refused when another agent was quicker), then open
        its form, which joins the customer's call."""
        self.ensure_one()
        # sudo: discuss.channel.rtc.session - whether the customer is still calling
        if not self.channel_id.sudo().rtc_session_ids:
            raise UserError(
                self.env._(
                    "The customer hung up: the call on ticket %(reference)s has ended.",
                    reference=self.reference,
                )
            )
        if self.user_id != self.env.user:
            self.action_take()
        return self.action_call_customer()

    # ------------------------------------------------------------
    # Rules
    # ------------------------------------------------------------

    def _is_call_customer(self, partner):
        """Whether ``partner`` takes part in calls as the customer's side."""
        self.ensure_one()
        return partner in self._get_customer_partners()

    def _check_call_join(self, member):
        """Refuse ``member`` (a ``discuss.channel.member`` of the ticket's
        conversation, joining for the current user) a place in its call:
        only the ticket's customers (the customer, colleagues when the
        company shares tickets) and live chat agents who may read the
        ticket, never on a resolved ticket; a customer who starts a call
        rings at most once per interval, if the team takes calls."""
        self.ensure_one()
        user = self.env.user
        partner = member.partner_id
        if not partner or partner != user.partner_id:
            raise AccessError(self.env._("Only signed-in people can join the call of a ticket."))
        is_customer = self._is_call_customer(partner)
        if not is_customer and not user.has_group("im_livechat.im_livechat_group_user"):
            raise AccessError(self.env._("Only the ticket's customer and its agents can call."))
        if not self.with_user(user).has_access("read"):
            raise AccessError(self.env._("Only the ticket's customer and its agents can call."))
        if self.state == "resolved":
            raise UserError(
                self.env._(
                    "Ticket %(reference)s is resolved: no call on a resolved ticket.",
                    reference=self.reference,
                )
            )
        # sudo: discuss.channel.rtc.session - whether a call is running on the conversation
        others = self.channel_id.sudo().rtc_session_ids - member.rtc_session_ids
        if is_customer and not others:
            self._check_customer_ring(partner)

    def _check_customer_ring(self, partner):
        """A customer starts a call: the team must take calls, an agent must
        be there to ring (the ticket's, or else one of the team's online
        agents), and the customer's last ring (on any ticket) must
        be older than the ring interval. Records this ring."""
        self.ensure_one()
        if not self.livechat_channel_id.ticket_customer_calls:
            raise UserError(
                self.env._("Your support team does not take calls: write a message instead.")
            )
        if not self._get_call_agent_members() and not self._get_call_team_agents():
            raise UserError(
                self.env._(
                    "No agent has taken your ticket yet: write a message, an agent will "
                    "answer or call you."
                )
            )
        interval = self._get_call_ring_interval()
        now = fields.Datetime.now()
        if interval:
            # sudo: im_livechat.ticket - the caller's own last rings, on any of their tickets
            last = (
                self.sudo()
                .search(
                    [
                        ("call_ring_partner_id", "=", partner.id),
                        ("call_ring_date", ">", now - timedelta(seconds=interval)),
                    ],
                    order="call_ring_date desc",
                    limit=1,
                )
                .call_ring_date
            )
            if last:
                wait = interval - int((now - last).total_seconds())
                raise UserError(
                    self.env._(
                        "You called a moment ago: you can call again in %(seconds)s seconds.",
                        seconds=max(wait, 1),
                    )
                )
        # sudo: im_livechat.ticket - the ring limit is kept by the system
        self.sudo().write({"call_ring_partner_id": partner.id, "call_ring_date": now})

    def _get_call_ring_interval(self):
        # sudo: ir.config_parameter - reading a non-sensitive limit
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(CALL_RING_INTERVAL_PARAM, DEFAULT_CALL_RING_INTERVAL)
        )
        try:
            return max(int(value), 0)
        except ValueError:
            return DEFAULT_CALL_RING_INTERVAL

    def _get_call_agent_members(self):
        """Members of the conversation on the agents' side (internal users)."""
        self.ensure_one()
        # sudo: discuss.channel.member - the conversation's members, for its call
        members = self.channel_id.sudo().channel_member_ids
        return members.filtered(
            lambda member: (
                member.partner_id
                and member.partner_id != self.env.ref("base.partner_root")
                and any(user._is_internal() for user in member.partner_id.user_ids)
            )
        )

    def _get_call_team_agents(self):
        """The team's agents who are online now: they are rung when a
        customer calls on a ticket no agent has taken yet."""
        self.ensure_one()
        # sudo: res.users - the team's operators and their presence
        operators = self.livechat_channel_id.sudo().user_ids
        return operators.filtered(
            lambda user: user.active and not user.share and user._is_user_available()
        )

    def _ring_team_agents(self, caller):
        """A customer calls and no agent is in the conversation: ring the
        team's online agents; the first to answer takes the ticket."""
        self.ensure_one()
        payload = dict(self._public_values(), caller=caller.name)
        for agent in self._get_call_team_agents():
            agent.partner_id._bus_send("im_livechat.ticket/call_ringing", payload)

    def _stop_ringing_team_agents(self):
        """The call of an unassigned ticket ended: the rings stop (once an
        agent answered, the ticket's ``updated`` event stops them)."""
        for ticket in self.filtered(lambda ticket: not ticket.user_id):
            # the team's operators, online or not: one may have gone offline meanwhile
            for agent in ticket.livechat_channel_id.sudo().user_ids:
                agent.partner_id._bus_send("im_livechat.ticket/call_ring_ended", {"id": ticket.id})

    # ------------------------------------------------------------
    # The call's life
    # ------------------------------------------------------------

    def _on_call_joined(self, member):
        """``member`` joined the call: note when it started, or when the
        other side answered."""
        self.ensure_one()
        # sudo: discuss.channel.rtc.session - the sessions of the conversation's call
        sessions = self.channel_id.sudo().rtc_session_ids
        now = fields.Datetime.now()
        # sudo: im_livechat.ticket - the call's dates are kept by the system
        ticket = self.sudo()
        if sessions == member.rtc_session_ids:
            ticket.write({"call_start_date": now, "call_answer_date": False})
            if self._is_call_customer(member.partner_id) and not self._get_call_agent_members():
                self._ring_team_agents(member.partner_id)
        elif not ticket.call_answer_date and self._call_has_both_sides(sessions):
            ticket.write({"call_answer_date": now})

    def _call_has_both_sides(self, sessions):
        customers = self._get_customer_partners()
        partners = sessions.partner_id
        return bool(partners & customers) and bool(partners - customers)

    def _on_call_left(self):
        """Someone left the call (hung up, declined): a ticket's call is
        between the customer and the agents, so it ends for everyone once
        one side has nobody left in it nor ringing."""
        self.ensure_one()
        # sudo: discuss.channel - the call of the conversation
        channel = self.channel_id.sudo()
        sessions = channel.rtc_session_ids
        if not sessions:
            return
        customers = self._get_customer_partners()
        ringing = channel.channel_member_ids.filtered("rtc_inviting_session_id").partner_id
        present = sessions.partner_id | ringing
        if not (present & customers) or not (present - customers):
            self._end_call()

    def _end_call(self):
        """End the running call of the conversations, for everyone."""
        # sudo: discuss.channel.rtc.session - ending the call of the ticket's conversation
        sessions = self.channel_id.sudo().rtc_session_ids
        if sessions:
            sessions.action_disconnect()

    def _on_call_ended(self):
        """The last one left the call: say so in the conversation, with its
        length once answered."""
        for ticket in self.sudo().filtered("call_start_date"):
            if ticket.call_answer_date:
                seconds = (fields.Datetime.now() - ticket.call_answer_date).total_seconds()
                minutes = round(seconds / 60)
                text = (
                    self.env._("Call ended, %(minutes)s min", minutes=minutes)
                    if minutes
                    else self.env._("Call ended, less than a minute")
                )
            else:
                text = self.env._("Call not answered")
            ticket.write({"call_start_date": False, "call_answer_date": False})
            ticket._post_notice(text)
            ticket._stop_ringing_team_agents()

    def _get_call_ice_servers(self):
        """The ICE servers of the ticket's calls: Odoo's (``mail.ice.server``,
        or Twilio's when set up). Without any, Odoo's client falls back to
        public STUN servers; with the system parameter
        ``im_livechat_ticket.call_host_candidates_only`` set, ticket calls
        then use the computers' own addresses only (one machine, a LAN, a
        demo without Internet). Returns None to keep Odoo's behaviour."""
        # sudo: ir.config_parameter - reading a non-sensitive setting
        host_only = self.env["ir.config_parameter"].sudo().get_param(CALL_HOST_CANDIDATES_PARAM, "")
        if host_only in ("", "0", "False", "false"):
            return None
        return None if self.env["mail.ice.server"]._get_ice_servers() else []
