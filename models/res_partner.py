from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    ticket_company_sharing = fields.Boolean(
        "Share Support Tickets",
        help="Employees of this customer company see each other's support tickets on the portal.",
    )
    livechat_ticket_ids = fields.One2many("im_livechat.ticket", "partner_id", string="Support Tickets")
    livechat_ticket_count = fields.Integer("Tickets", compute="_compute_livechat_ticket_count")

    def _compute_livechat_ticket_count(self):
        groups = self.env["im_livechat.ticket"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.livechat_ticket_count = counts.get(partner.id, 0)
