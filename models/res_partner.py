from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    ticket_company_sharing = fields.Boolean(
        "Share Support Tickets",
        help="Employees of this customer company see each other's support tickets on the portal.",
    )
    ticket_email_notify = fields.Boolean(
        "E-mail Unread Ticket Replies",
        default=True,
        help="While this customer is offline, agents' replies they have not read are e-mailed "
        "to them (after the team's delay, one e-mail per ticket).",
    )
    livechat_ticket_ids = fields.One2many(
        "im_livechat.ticket", "partner_id", string="Support Tickets"
    )
    livechat_ticket_count = fields.Integer("Tickets", compute="_compute_livechat_ticket_count")

    def _compute_livechat_ticket_count(self):
        # a company counts its contacts' tickets too, as its smart button lists them
        partners = self.with_context(active_test=False).search_fetch(
            [("id", "child_of", self.ids)], ["parent_id"]
        )
        groups = self.env["im_livechat.ticket"]._read_group(
            [("partner_id", "in", partners.ids)], ["partner_id"], ["__count"]
        )
        self.livechat_ticket_count = 0
        for partner, count in groups:
            while partner:
                if partner in self:
                    partner.livechat_ticket_count += count
                partner = partner.parent_id
