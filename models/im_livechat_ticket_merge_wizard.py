"""The "Merge into…" dialog of the ticket form: the agent picks the ticket
to keep among the customer's open tickets, the model does the rest
(``im_livechat.ticket.action_merge_into``)."""

from odoo import api, fields, models


class ImLivechatTicketMerge(models.TransientModel):
    _name = "im_livechat.ticket.merge"
    _description = "Merge a Duplicate Ticket"

    ticket_id = fields.Many2one(
        "im_livechat.ticket",
        string="Duplicate",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    partner_id = fields.Many2one(related="ticket_id.partner_id")
    commercial_partner_id = fields.Many2one(related="ticket_id.commercial_partner_id")
    target_id = fields.Many2one(
        "im_livechat.ticket",
        string="Merge Into",
        required=True,
        ondelete="cascade",
        help="The ticket to keep: the duplicate's conversation is carried into it.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if not values.get("ticket_id") and self.env.context.get("active_model") == (
            "im_livechat.ticket"
        ):
            values["ticket_id"] = self.env.context.get("active_id")
        return values

    def action_merge(self):
        self.ensure_one()
        self.ticket_id.action_merge_into(self.target_id.id)
        return {
            "type": "ir.actions.act_window",
            "res_model": "im_livechat.ticket",
            "res_id": self.target_id.id,
            "views": [[False, "form"]],
            "target": "current",
        }
