"""A team's e-mail: the delay before an away customer is e-mailed, the alias
customers reply to (and may write to), the transcript on resolve."""

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import formataddr

from odoo.addons.mail.tools.alias_error import AliasError


class ImLivechatChannel(models.Model):
    _name = "im_livechat.channel"
    _inherit = ["im_livechat.channel", "mail.alias.mixin.optional"]

    ticket_email_delay = fields.Integer(
        "E-mail Away Customers After (minutes)",
        default=5,
        help="An agent's message that an offline customer has not read for this long is "
        "e-mailed to them, with every other unread message of the ticket, once "
        "(0: at once). Customers can turn these e-mails off on their ticket page.",
    )

    ticket_email_create = fields.Boolean(
        "New Tickets by E-mail",
        help="An e-mail to the team's alias from a known customer (a portal user) opens a "
        "ticket; other senders get an answer that points them to the portal.",
    )
    ticket_transcript_on_resolve = fields.Boolean(
        "E-mail Transcript on Resolve",
        help="When a ticket of this team is resolved, its customer gets the conversation "
        "as PDF by e-mail.",
    )

    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get_id("im_livechat.ticket")
        if self.id:
            values["alias_defaults"] = repr({"livechat_channel_id": self.id})
        # only known senders: the ticket checks the customer on top
        values["alias_contact"] = "partners"
        values["alias_bounced_content"] = Markup("<p>%s</p>") % self.env._(
            "Thank you for your e-mail. We could not open a ticket from it: please sign in to "
            "our customer portal and open your ticket under My Account > Support Tickets."
        )
        return values

    def _alias_get_error(self, message, message_dict, alias):
        """A new e-mail to the team's alias (Odoo asks the alias' owner) opens
        a ticket only when the team takes them and the sender is a known
        customer (a portal user); the others get the alias' answer, which
        points to the portal."""
        error = super()._alias_get_error(message, message_dict, alias)
        if error or alias != self.alias_id:
            return error
        if not self.ticket_email_create:
            return AliasError(
                "ticket_email_create_off", self.env._("this team takes new tickets on the portal")
            )
        Ticket = self.env["im_livechat.ticket"]
        if not Ticket._get_email_customer_user(message_dict):
            return AliasError(
                "ticket_unknown_customer",
                self.env._("only customers with a portal account can open tickets"),
            )
        # what the portal form refuses is refused here, before anything is created
        subject, text, files = Ticket._get_email_ticket_input(message_dict)
        try:
            Ticket._check_portal_ticket_input(subject, text, None)
            Ticket._check_uploads(files)
        except (UserError, ValidationError) as refusal:
            return AliasError("ticket_refused", refusal.args[0])
        return False

    def _get_ticket_email_from(self, company=None):
        """The From of the team's e-mails: the team's name at its alias, else
        at ``company``'s address for notifications."""
        self.ensure_one()
        company = company or self.env.company
        address = self.alias_email or company.default_from_email or company.email
        return formataddr((self.name, address)) if address else False
