from datetime import UTC, timedelta

from odoo import api, fields, models


class ImLivechatChannel(models.Model):
    _inherit = "im_livechat.channel"

    ticket_assignment = fields.Selection(
        [
            ("default", "Default agent"),
            ("round_robin", "Round robin"),
            ("balanced", "Balanced"),
        ],
        default="default",
        required=True,
        help="How new tickets of this team get their agent.\n"
        "Default agent: every ticket goes to the team's default agent.\n"
        "Round robin: the online operators of the team in turn.\n"
        "Balanced: the online operator with the fewest open tickets (ties in turn).\n"
        "When no operator is online the ticket waits in the queue.",
    )
    ticket_default_user_id = fields.Many2one(
        "res.users",
        string="Default Agent",
        domain="[('id', 'in', user_ids)]",
        help="The agent who takes every new ticket of this team.",
    )
    ticket_max_open = fields.Integer(
        "Open Tickets per Agent",
        default=0,
        help="An agent with this many open tickets gets no new one until one is resolved "
        "(0: no limit).",
    )
    ticket_turn_sequence_id = fields.Many2one(
        "ir.sequence",
        string="Round Robin Counter",
        readonly=True,
        copy=False,
        help="Counts the team's assignments in turn: a database sequence survives restarts "
        "and gives concurrent ticket creations distinct turns without locking.",
    )
    ticket_reassign_minutes = fields.Integer(
        "Reassign Unanswered After (minutes)",
        default=0,
        help="A new ticket whose agent has not answered within this time goes to another "
        "available operator, with a note in the conversation (0: never).",
    )
    ticket_manager_id = fields.Many2one(
        "res.users",
        string="Team Manager",
        domain=lambda self: [
            ("groups_id", "in", self.env.ref("im_livechat.im_livechat_group_user").id)
        ],
        help="Follows up on poor ratings: a rating of 1 or 2 gives this person an activity.",
    )
    ticket_reopen_days = fields.Integer(
        "Customer Reopen Window (days)",
        default=7,
        help="For how many days after resolution customers may reopen a ticket themselves "
        "(0: never). Agents may always reopen.",
    )
    ticket_sla_ids = fields.One2many(
        "im_livechat.ticket.sla",
        "livechat_channel_id",
        string="Service Levels",
        copy=True,
    )
    ticket_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Hours",
        default=lambda self: self.env.company.resource_calendar_id,
        help="Service level deadlines count these working hours only.",
    )
    ticket_sla_risk_hours = fields.Float(
        "At Risk Before (hours)",
        default=1.0,
        help="A ticket is at risk when a service level deadline is this close.",
    )
    ticket_customer_calls = fields.Boolean(
        "Customers Can Call",
        default=True,
        help="Customers may start a voice or video call from their ticket page; it rings the "
        "ticket's agent. Agents can always call customers.",
    )
    ticket_ids = fields.One2many("im_livechat.ticket", "livechat_channel_id", string="Tickets")
    ticket_open_count = fields.Integer("Open Tickets", compute="_compute_ticket_open_count")

    def _compute_ticket_open_count(self):
        groups = self.env["im_livechat.ticket"]._read_group(
            [("livechat_channel_id", "in", self.ids), ("state", "!=", "resolved")],
            ["livechat_channel_id"],
            ["__count"],
        )
        counts = {team.id: count for team, count in groups}
        for team in self:
            team.ticket_open_count = counts.get(team.id, 0)

    @api.onchange("user_ids")
    def _onchange_user_ids_ticket_default_user(self):
        if self.ticket_default_user_id and self.ticket_default_user_id not in self.user_ids:
            self.ticket_default_user_id = False

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "im_livechat_ticket.action_ticket_queue"
        )
        action["domain"] = [("livechat_channel_id", "=", self.id)]
        action["context"] = {"default_livechat_channel_id": self.id}
        return action

    # ------------------------------------------------------------
    # Assignment
    # ------------------------------------------------------------

    def _get_ticket_agent(self, exclude=None):
        """The agent the next ticket of this team goes to, or an empty
        recordset when nobody can take it now (it then waits in the queue).

        Moves the round robin forward: call it only to assign a ticket."""
        self.ensure_one()
        users = self.env["res.users"]
        if self.ticket_assignment == "default":
            agent = self.ticket_default_user_id
            return agent if agent and not self._agents_at_capacity(agent) else users
        if self.ticket_max_open:
            # Capacity counts open tickets, which concurrent creations do not
            # see of each other: touch the team's row so that a concurrent
            # assignment fails to serialise and Odoo retries it with fresh
            # counts. Without a capacity nothing is locked (turns come from a
            # sequence), so creations never wait for each other.
            self.env.cr.execute(
                "UPDATE im_livechat_channel SET write_date = write_date WHERE id = %s", [self.id]
            )
        candidates = self._get_ticket_candidates(exclude)
        if not candidates:
            return users
        if self.ticket_assignment == "balanced":
            open_counts = self._get_open_ticket_counts(candidates)
            fewest = min(open_counts[user.id] for user in candidates)
            candidates = candidates.filtered(lambda user: open_counts[user.id] == fewest)
        return self._next_in_turn(candidates)

    def _ticket_deadline(self, start, hours):
        """``start`` plus ``hours`` working hours of the team's calendar
        (plain hours without a calendar); False without a target."""
        self.ensure_one()
        if not hours:
            return False
        calendar = self.ticket_calendar_id
        if not calendar:
            return start + timedelta(hours=hours)
        deadline = calendar.plan_hours(hours, start.replace(tzinfo=UTC), compute_leaves=True)
        return deadline.astimezone(UTC).replace(tzinfo=None) if deadline else False

    def _get_ticket_candidates(self, exclude=None):
        """Operators who may take a ticket now: online, not at capacity."""
        operators = self.user_ids.filtered(lambda user: user.active and not user.share)
        if exclude:
            operators -= exclude
        online = operators.filtered(lambda user: user._is_user_available())
        return (online - self._agents_at_capacity(online)).sorted("id")

    def _get_open_ticket_counts(self, users):
        groups = (
            self.env["im_livechat.ticket"]
            .sudo()
            ._read_group(
                [("user_id", "in", users.ids), ("state", "!=", "resolved")],
                ["user_id"],
                ["__count"],
            )
        )
        counts = dict.fromkeys(users.ids, 0)
        counts.update({user.id: count for user, count in groups})
        return counts

    def _agents_at_capacity(self, users):
        if not self.ticket_max_open or not users:
            return self.env["res.users"]
        counts = self._get_open_ticket_counts(users)
        return users.filtered(lambda user: counts[user.id] >= self.ticket_max_open)

    def _next_in_turn(self, candidates):
        """The candidate whose turn it is: the team's counter, modulo the
        candidates (ordered by id)."""
        turn = self._next_turn_number()
        return candidates.sorted("id")[(turn - 1) % len(candidates)]

    def _next_turn_number(self):
        self.ensure_one()
        # sudo: ir.sequence - the team's round robin counter, moved by whoever creates a ticket
        sequence = self.sudo().ticket_turn_sequence_id
        if not sequence:
            sequence = (
                self.env["ir.sequence"]
                .sudo()
                .create(
                    {
                        "name": f"Ticket turns: {self.name}",
                        "implementation": "standard",
                        "padding": 0,
                    }
                )
            )
            # sudo: im_livechat.channel - linking the counter, once per team
            self.sudo().ticket_turn_sequence_id = sequence
        # nextval: outside transactions, never the same number twice
        return int(sequence.next_by_id())

    def _assign_waiting_tickets(self, agent=None):
        """Give the team's waiting tickets (highest priority, then oldest)
        to whoever can take them now; with ``agent``, to that agent only."""
        assigned = self.env["im_livechat.ticket"]
        for team in self:
            # sudo: im_livechat.ticket - the queue is served whatever the caller may read
            waiting = (
                self.env["im_livechat.ticket"]
                .sudo()
                .search(
                    [
                        ("livechat_channel_id", "=", team.id),
                        ("user_id", "=", False),
                        ("state", "!=", "resolved"),
                    ]
                )
            )
            if agent and not team._may_take_waiting_ticket(agent):
                continue
            for ticket in waiting:
                if agent:
                    if team._agents_at_capacity(agent):
                        break
                    chosen = agent
                else:
                    chosen = team._get_ticket_agent()
                    if not chosen:
                        break
                ticket.user_id = chosen
                ticket._post_notice(
                    self.env._("%(agent)s took this ticket from the queue.", agent=chosen.name)
                )
                assigned |= ticket
        return assigned

    def _may_take_waiting_ticket(self, agent):
        self.ensure_one()
        if self.ticket_assignment == "default":
            return agent == self.ticket_default_user_id
        return agent in self.user_ids and agent._is_user_available()

    @api.model
    def _cron_assign_waiting_tickets(self):
        """Serve the queue of every team, e.g. when operators came online,
        and move tickets whose agent did not answer in time."""
        teams = self.search(
            [("ticket_ids.user_id", "=", False), ("ticket_ids.state", "!=", "resolved")]
        )
        teams._assign_waiting_tickets()
        self.search([("ticket_reassign_minutes", ">", 0)])._reassign_unanswered_tickets()

    def _reassign_unanswered_tickets(self):
        reassigned = self.env["im_livechat.ticket"]
        for team in self.filtered(
            lambda t: t.ticket_reassign_minutes > 0 and t.ticket_assignment != "default"
        ):
            deadline = fields.Datetime.now() - timedelta(minutes=team.ticket_reassign_minutes)
            # sudo: im_livechat.ticket - the queue is served whatever the caller may read
            late = (
                self.env["im_livechat.ticket"]
                .sudo()
                .search(
                    [
                        ("livechat_channel_id", "=", team.id),
                        ("state", "=", "new"),
                        ("user_id", "!=", False),
                        ("first_response_date", "=", False),
                        ("assign_date", "<", deadline),
                    ]
                )
            )
            for ticket in late:
                previous = ticket.user_id
                agent = team._get_ticket_agent(exclude=previous)
                if not agent:
                    continue
                ticket.user_id = agent
                ticket._post_notice(
                    self.env._(
                        "%(previous)s did not answer within %(minutes)s minutes: "
                        "%(agent)s takes over.",
                        previous=previous.name,
                        minutes=team.ticket_reassign_minutes,
                        agent=agent.name,
                    )
                )
                reassigned |= ticket
        return reassigned
