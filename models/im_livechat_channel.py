from odoo import api, fields, models


class ImLivechatChannel(models.Model):
    _inherit = "im_livechat.channel"

    ticket_assignment = fields.Selection(
        [("default", "Default agent")],
        string="Ticket Assignment",
        default="default",
        required=True,
        help="How new tickets of this team get their agent.\n"
        "Default agent: every ticket goes to the team's default agent.",
    )
    ticket_default_user_id = fields.Many2one(
        "res.users",
        string="Default Agent",
        domain="[('id', 'in', user_ids)]",
        help="The agent who takes every new ticket of this team.",
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

    def _get_ticket_agent(self):
        """The agent a new ticket of this team goes to, or an empty recordset."""
        self.ensure_one()
        if self.ticket_assignment == "default":
            return self.ticket_default_user_id
        return self.env["res.users"]

    def action_view_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "im_livechat_ticket.action_ticket_queue"
        )
        action["domain"] = [("livechat_channel_id", "=", self.id)]
        action["context"] = {"default_livechat_channel_id": self.id}
        return action
