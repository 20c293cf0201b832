"""Internal notes of a ticket: agents' messages on the ticket itself
(``mail.thread`` of ``im_livechat.ticket``, subtype ``mail.mt_note``), never
in the customer's ``discuss.channel``. The ticket form shows them among the
conversation's messages; ``@colleague`` notifies that agent the standard mail
way (``partner_ids``: Discuss inbox and notification).

Odoo already hides internal subtypes from portal users (``mail.message``
search and access rules); on top of that a note never notifies a customer,
even when someone names one in it, and only employees post notes."""

from odoo import models
from odoo.exceptions import AccessError

# bus notification telling the agents that a ticket has a new note
NOTE_EVENT = "im_livechat.ticket/note"


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    def message_post(self, **kwargs):
        # e-mail replies the gateway handled already: see im_livechat_ticket_mail_gateway.py
        if kwargs.get("ticket_email_handled") or not self._is_internal_subtype(kwargs):
            return super().message_post(**kwargs)
        if not (self.env.su or self.env.user._is_internal()):
            raise AccessError(self.env._("Only agents can write internal notes on a ticket."))
        if kwargs.get("partner_ids"):
            kwargs["partner_ids"] = self._get_note_recipients(kwargs["partner_ids"]).ids
        message = super().message_post(**kwargs)
        if message.message_type == "comment":
            # the agents who have the ticket open show it (ticket_note/)
            for ticket in self:
                ticket._bus_send(NOTE_EVENT, {"id": ticket.id, "message_id": message.id})
        return message

    def _is_internal_subtype(self, post_values):
        """Whether message_post(**post_values) makes an internal message (a
        note: message_post's default subtype is mail.mt_note)."""
        subtype_xmlid = post_values.get("subtype_xmlid")
        if subtype_xmlid:
            subtype = self.env.ref(subtype_xmlid, raise_if_not_found=False)
        elif post_values.get("subtype_id"):
            subtype = self.env["mail.message.subtype"].browse(post_values["subtype_id"])
        else:
            subtype = self.env.ref("mail.mt_note")
        # sudo: mail.message.subtype - whether a subtype is internal
        return bool(subtype and subtype.sudo().internal)

    def _get_note_recipients(self, partner_ids):
        """The partners of ``partner_ids`` a note may notify: employees, never
        customers (a note is theirs to never see)."""
        partners = self.env["res.partner"].browse(partner_ids)
        # sudo: res.users - whether the named partners are employees
        return partners.filtered(
            lambda partner: any(
                not user.share for user in partner.sudo().with_context(active_test=False).user_ids
            )
        )

    def _get_notes(self, limit=None):
        """The ticket's internal notes written by people (not its tracking),
        newest first."""
        self.ensure_one()
        return self.env["mail.message"].search(
            [
                ("model", "=", self._name),
                ("res_id", "=", self.id),
                ("message_type", "=", "comment"),
                ("subtype_id", "=", self.env.ref("mail.mt_note").id),
            ],
            order="id desc",
            limit=limit,
        )
