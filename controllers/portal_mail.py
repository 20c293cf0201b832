from odoo import http
from odoo.http import request

from .portal import TICKET_FORM_POST, TICKET_PAGE, TicketPortal


class TicketMailPortal(TicketPortal):
    """The ticket page's e-mail parts: the customer's choice of e-mails while
    away, and the transcript of the conversation as PDF."""

    def _prepare_ticket_page_values(self, ticket_sudo, **kwargs):
        values = super()._prepare_ticket_page_values(ticket_sudo, **kwargs)
        values["ticket_email_notify"] = request.env.user.partner_id.ticket_email_notify
        return values

    @http.route("/my/tickets/<int:ticket_id>/email_notifications", **TICKET_FORM_POST)
    def portal_my_ticket_email_notifications(self, ticket_id, enabled="1", **kw):
        return self._run_ticket_action(
            ticket_id, lambda ticket: ticket._portal_set_email_notify(enabled == "1")
        )

    @http.route("/my/tickets/<int:ticket_id>/transcript", **TICKET_PAGE)
    def portal_my_ticket_transcript(self, ticket_id, **kw):
        ticket_sudo = self._get_ticket_or_none(ticket_id)
        if not ticket_sudo:
            return request.not_found()
        return self._show_report(
            ticket_sudo,
            "pdf",
            "im_livechat_ticket.action_report_ticket_transcript",
            download=True,
        )
