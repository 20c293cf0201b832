from odoo import fields, models


class ImLivechatTicketSla(models.Model):
    _name = "im_livechat.ticket.sla"
    _description = "Support Ticket Service Level"
    _order = "livechat_channel_id, priority desc"

    livechat_channel_id = fields.Many2one(
        "im_livechat.channel",
        string="Support Team",
        required=True,
        ondelete="cascade",
        index=True,
    )
    priority = fields.Selection(
        [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")],
        required=True,
        default="1",
    )
    first_response_hours = fields.Float(
        "First Response (working hours)",
        help="Working hours of the team's calendar within which an agent must first answer "
        "(0: no target).",
    )
    resolution_hours = fields.Float(
        "Resolution (working hours)",
        help="Working hours of the team's calendar within which the ticket must be resolved "
        "(0: no target).",
    )

    _sql_constraints = [
        (
            "team_priority_uniq",
            "unique(livechat_channel_id, priority)",
            "A team has one service level per priority.",
        ),
        (
            "hours_positive",
            "CHECK(first_response_hours >= 0 AND resolution_hours >= 0)",
            "Service level targets cannot be negative.",
        ),
    ]
