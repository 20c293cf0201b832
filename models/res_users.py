import logging

from odoo import api, models

_logger = logging.getLogger(__name__)


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model
    def _signup_create_user(self, values):
        """A person who signs up with a vouched-for e-mail address at the domain
        of a customer company becomes a contact of that company (see
        ``res.partner.ticket_email_domain``), and so may share its tickets."""
        invited = "partner_id" in values  # an invitation names the contact already
        user = super()._signup_create_user(values)
        partner = user.partner_id
        if (
            invited
            or not user.share
            or partner.parent_id
            or not self._ticket_signup_email_verified(values)
        ):
            return user
        company = partner._ticket_company_for_email(partner.email)
        if company:
            partner.parent_id = company
            _logger.info("sign-up: %s joins customer company %s", user.login, company.name)
        return user

    @api.model
    def _ticket_signup_email_verified(self, values):
        """Whether an identity provider vouches for the e-mail address of a sign-up.
        Odoo's ``auth_oauth`` signs up with the provider's user id in the values;
        an address typed into the password sign-up form proves nothing, and a
        company's tickets must not go to whoever types its domain."""
        return bool(values.get("oauth_provider_id") and values.get("oauth_uid"))
