from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from odoo.addons.mail.tools.discuss import Store

from ..models.im_livechat_ticket_presence import VIEWER_HEARTBEAT


class TicketDesk(http.Controller):
    """Agents' routes of the ticket form: its internal notes, who has it open."""

    def _get_agent_ticket(self, ticket_id):
        """The ticket with the caller's rights, for agents only; else 404."""
        if not request.env.user.has_group("im_livechat.im_livechat_group_user"):
            raise NotFound()
        ticket = request.env["im_livechat.ticket"].browse(int(ticket_id)).exists()
        if not ticket or not ticket._filtered_access("read"):
            raise NotFound()
        return ticket

    @http.route("/im_livechat_ticket/notes", methods=["POST"], type="json", auth="user")
    def ticket_notes(self, ticket_id, limit=200):
        """The ticket's notes, as /mail/thread/messages returns messages."""
        notes = self._get_agent_ticket(ticket_id)._get_notes(limit=min(int(limit), 500))
        return {
            "data": Store(notes, for_current_user=True).get_result(),
            "messages": Store.many_ids(notes),
        }

    @http.route("/im_livechat_ticket/viewing", methods=["POST"], type="json", auth="user")
    def ticket_viewing(self, ticket_id, viewing=True):
        """An agent's form of the ticket is open (every ``heartbeat`` seconds)
        or closes; returns who has it open now."""
        viewers = self._get_agent_ticket(ticket_id)._set_viewing(bool(viewing))
        return {"viewers": viewers, "heartbeat": VIEWER_HEARTBEAT}
