"""The customer's rating of a resolved ticket (rating.mixin): given once, on
the ticket page or through the rating link; a poor one asks the team's manager
to follow up."""

from odoo import models
from odoo.exceptions import AccessError, UserError

from .im_livechat_ticket_data import MESSAGE_MAX_LENGTH


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    def _portal_rate(self, score, feedback=None):
        """Rate the help received, once, as the ticket's own customer."""
        self.ensure_one()
        if self.env.user.partner_id != self.partner_id:
            raise AccessError(self.env._("Only the customer who opened the ticket can rate it."))
        if self.state != "resolved":
            raise UserError(self.env._("You can rate a ticket once it is resolved."))
        try:
            score = int(score)
        except (TypeError, ValueError):
            score = 0
        if score not in (1, 2, 3, 4, 5):
            raise UserError(self.env._("Please choose a rating from 1 to 5."))
        feedback = (feedback or "").strip()
        if len(feedback) > MESSAGE_MAX_LENGTH:
            raise UserError(self.env._("Your comment is too long."))
        if self._get_customer_rating():
            raise UserError(self.env._("You have already rated this ticket. Thank you!"))
        # sudo: rating.rating - customers apply their own rating request only
        token = self.sudo()._rating_get_access_token()
        return self.sudo().rating_apply(score, token=token, feedback=feedback or None)

    def _can_portal_rate(self):
        """Whether the current user may rate the ticket now (call it in their
        environment, not a superuser one): its own customer,
        once it is resolved, once (the rule _portal_rate enforces)."""
        self.ensure_one()
        return (
            self.state == "resolved"
            and self.env.user.partner_id == self.partner_id
            and not self._get_customer_rating()
        )

    def _get_customer_rating(self):
        """The customer's rating of this ticket, if they gave one."""
        self.ensure_one()
        # sudo: rating.rating - the ticket's own ratings
        return self.sudo().rating_ids.filtered(
            lambda rating: rating.consumed and rating.partner_id == self.partner_id
        )[:1]

    def rating_apply(
        self,
        rate,
        token=None,
        rating=None,
        feedback=None,
        subtype_xmlid=None,
        notify_delay_send=False,
    ):
        rating = super().rating_apply(
            rate,
            token=token,
            rating=rating,
            feedback=feedback,
            subtype_xmlid=subtype_xmlid,
            notify_delay_send=notify_delay_send,
        )
        if rating.rating and rating.rating <= 2:
            self._schedule_low_rating_activity(rating)
        return rating

    def _rating_get_parent_field_name(self):
        return "livechat_channel_id"

    def _schedule_low_rating_activity(self, rating):
        """A poor rating asks the team's manager to follow up."""
        for ticket in self:
            team = ticket.livechat_channel_id
            manager = (
                team.ticket_manager_id
                or team.ticket_default_user_id
                or self.env.ref("base.user_admin")
            )
            # sudo: mail.activity - scheduled for the manager whoever rated
            ticket.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=manager.id,
                summary=self.env._(
                    "Poor rating (%(score)s/5) on %(ticket)s",
                    score=int(rating.rating),
                    ticket=ticket.display_name,
                ),
                note=rating.feedback or "",
            )
