import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# one domain of an e-mail address: labels separated by dots, no spaces or "@"
EMAIL_DOMAIN_RE = re.compile(r"^[^\s@.,;]+(\.[^\s@.,;]+)+$")


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
    ticket_email_domain = fields.Char(
        "Sign-up E-mail Domains",
        help="People who sign up through an identity provider with an e-mail address at one of "
        "these domains become contacts of this company, e.g. bikes-a.example. Separate "
        "several domains with commas.",
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

    @api.constrains("ticket_email_domain", "is_company")
    def _check_ticket_email_domain(self):
        for partner in self.filtered("ticket_email_domain"):
            if not partner.is_company:
                raise ValidationError(
                    self.env._("Only a company can have sign-up e-mail domains: %s", partner.name)
                )
            for domain in partner._ticket_email_domains():
                if not EMAIL_DOMAIN_RE.match(domain):
                    raise ValidationError(
                        self.env._("%s is not an e-mail domain, e.g. bikes-a.example.", domain)
                    )
                other = self._ticket_company_for_email_domain(domain) - partner
                if other:
                    raise ValidationError(
                        self.env._(
                            "The e-mail domain %(domain)s already belongs to %(company)s.",
                            domain=domain,
                            company=other[0].display_name,
                        )
                    )

    def _ticket_email_domains(self):
        """The e-mail domains of this company, in lower case."""
        self.ensure_one()
        parts = re.split(r"[\s,;]+", (self.ticket_email_domain or "").lower())
        return [part.lstrip("@") for part in parts if part.lstrip("@")]

    @api.model
    def _ticket_company_for_email_domain(self, domain):
        """The companies that list the e-mail domain ``domain``."""
        domain = domain.lower()
        # sudo: res.partner - the domain of any customer company counts, whatever the caller reads
        candidates = self.sudo().search(
            [("is_company", "=", True), ("ticket_email_domain", "ilike", domain)]
        )
        return candidates.filtered(lambda c: domain in c._ticket_email_domains())

    @api.model
    def _ticket_company_for_email(self, email):
        """The customer company whose sign-up e-mail domain is the one of ``email``,
        or no record."""
        _local, at, domain = (email or "").strip().rpartition("@")
        if not at or not domain:
            return self.browse()
        companies = self._ticket_company_for_email_domain(domain)
        return companies if len(companies) == 1 else self.browse()
