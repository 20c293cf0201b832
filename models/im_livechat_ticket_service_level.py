"""Service levels of the ticket: its deadlines from the team's targets and
calendar, its status (on track, at risk, breached, met) and the measures the
report averages."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools.sql import create_index

from .im_livechat_ticket_data import SLA_STATUSES

# Each target of a ticket: (the date that meets it, its deadline). A target is
# pending while it has a deadline and that date is not set.
SLA_TARGETS = [
    ("first_response_date", "sla_response_deadline"),
    ("resolved_date", "sla_resolution_deadline"),
]
# Both deadlines come from one compute (the team's targets and calendar), stored and indexed.
SLA_DEADLINE = {"compute": "_compute_sla_deadlines", "store": True, "index": True}
# The report's measures: stored, all set by one compute from the ticket's dates.
REPORT_MEASURE = {"compute": "_compute_report_measures", "store": True}


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    sla_response_deadline = fields.Datetime("First Response Deadline", **SLA_DEADLINE)
    sla_resolution_deadline = fields.Datetime("Resolution Deadline", **SLA_DEADLINE)
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
        help="The first response or the resolution came after its deadline.",
        **REPORT_MEASURE,
    )
    sla_success = fields.Boolean(
        "Service Level Met",
        aggregator="bool_and",
        help="Resolved with every service level target met.",
        **REPORT_MEASURE,
    )
    sla_success_rate = fields.Float(
        "Service Level Met (%)",
        aggregator="avg",
        help="100 for a ticket resolved with every target met, else 0: averages to a success rate.",
        **REPORT_MEASURE,
    )
    first_response_hours = fields.Float(
        "Hours to First Response", aggregator="avg", **REPORT_MEASURE
    )
    resolution_hours = fields.Float("Hours to Resolution", aggregator="avg", **REPORT_MEASURE)

    def init(self):
        res = super().init()
        open_tickets = "state IN ('new', 'open')"
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
        return res

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
        if status == "none":
            return [(deadline, "=", False) for _done, deadline in SLA_TARGETS]
        if status == "breached":
            return expression.OR(
                [[("sla_target_missed", "=", True)], self._sla_some_pending_due("<", now)]
            )
        not_breached = expression.AND(
            [[("sla_target_missed", "=", False)], self._sla_no_pending_due(">=", now)]
        )
        if status == "met":
            # a target, and none pending
            return expression.AND(
                [
                    not_breached,
                    expression.OR([[(deadline, "!=", False)] for _done, deadline in SLA_TARGETS]),
                ]
                + [
                    expression.OR([[(deadline, "=", False)], [(done, "!=", False)]])
                    for done, deadline in SLA_TARGETS
                ]
            )
        at_risk, not_at_risk = self._sla_risk_domains(now)
        if status == "at_risk":
            return expression.AND([not_breached, at_risk])
        # on track: a target pending, none breached or at risk
        pending = expression.OR(
            [[(deadline, "!=", False), (done, "=", False)] for done, deadline in SLA_TARGETS]
        )
        return expression.AND([not_breached, pending, not_at_risk])

    @api.model
    def _sla_some_pending_due(self, operator, limit):
        """A pending target whose deadline is ``operator`` ``limit``."""
        return expression.OR(
            [[(done, "=", False), (deadline, operator, limit)] for done, deadline in SLA_TARGETS]
        )

    @api.model
    def _sla_no_pending_due(self, operator, limit):
        """Every target met, without a deadline, or due ``operator`` ``limit``:
        the complement of _sla_some_pending_due, given the opposite operator."""
        return expression.AND(
            [
                expression.OR(
                    [
                        [(done, "!=", False)],
                        [(deadline, "=", False)],
                        [(deadline, operator, limit)],
                    ]
                )
                for done, deadline in SLA_TARGETS
            ]
        )

    @api.model
    def _sla_teams_by_risk_hours(self):
        """{risk hours: team ids}: each team says how close a deadline is at risk."""
        teams_by_risk = {}
        # sudo: im_livechat.channel - the teams' risk thresholds, whichever teams the user reads
        teams = self.env["im_livechat.channel"].sudo().with_context(active_test=False).search([])
        for team in teams:
            teams_by_risk.setdefault(team.ticket_sla_risk_hours or 0.0, []).append(team.id)
        return teams_by_risk

    @api.model
    def _sla_risk_domains(self, now):
        """(at risk, not at risk): a pending deadline within the team's risk
        hours, and its complement, built together from one read of the teams."""
        at_risk, not_at_risk = [], []
        for hours, team_ids in self._sla_teams_by_risk_hours().items():
            limit = now + timedelta(hours=hours)
            team = [("livechat_channel_id", "in", team_ids)]
            other_teams = [("livechat_channel_id", "not in", team_ids)]
            at_risk.append(expression.AND([team, self._sla_some_pending_due("<=", limit)]))
            not_at_risk.append(expression.OR([other_teams, self._sla_no_pending_due(">", limit)]))
        return expression.OR(at_risk), expression.AND(not_at_risk)

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
