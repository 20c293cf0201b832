"""Who else is on a ticket: the agents who have its form open now, and who of
them is typing in its conversation, live over Odoo's bus.

An open form reports itself every ``VIEWER_HEARTBEAT`` seconds
(``/im_livechat_ticket/viewing``) and says goodbye when it closes; the
conversation's own typing (``discuss.channel.member._notify_typing``) marks
the typing agent. Each change sends ``im_livechat.ticket/viewers`` with the
ticket's current viewers to the agents' group, never to customers. A form
that vanished without a goodbye (closed tab, lost network) is no longer
listed once its last report is ``VIEWER_TIMEOUT`` seconds old, and the
clients forget a list nobody refreshed for as long: nothing lives in a
server process, the rows are in PostgreSQL."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError

# seconds between two reports of an open form (the client uses the same)
VIEWER_HEARTBEAT = 20
# seconds after its last report that a form no longer counts as open
VIEWER_TIMEOUT = 45
VIEWERS_EVENT = "im_livechat.ticket/viewers"


class ImLivechatTicketViewer(models.Model):
    _name = "im_livechat.ticket.viewer"
    _description = "Agent Viewing a Ticket"
    _log_access = False

    ticket_id = fields.Many2one("im_livechat.ticket", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    last_seen = fields.Datetime(required=True)
    is_typing = fields.Boolean()

    _sql_constraints = [
        ("ticket_user_uniq", "unique(ticket_id, user_id)", "One row per agent and ticket."),
    ]

    @api.autovacuum
    def _gc_viewers(self):
        self.search([("last_seen", "<", fields.Datetime.now() - timedelta(hours=1))]).unlink()

    @api.model
    def _fresh_domain(self):
        return [("last_seen", ">=", fields.Datetime.now() - timedelta(seconds=VIEWER_TIMEOUT))]


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    @api.model
    def get_ticket_viewers(self):
        """{ticket id: [viewer]} of every ticket the caller may read that an
        agent has open now: the queue's first picture, the bus keeps it live."""
        self._check_ticket_agent()
        # sudo: im_livechat.ticket.viewer - rows are read for readable tickets only
        viewers = (
            self.env["im_livechat.ticket.viewer"]
            .sudo()
            .search(self.env["im_livechat.ticket.viewer"]._fresh_domain())
        )
        tickets = viewers.ticket_id.with_env(self.env)._filtered_access("read")
        return {ticket.id: ticket._get_viewers_values() for ticket in tickets}

    def _set_viewing(self, viewing=True, typing=None):
        """The current agent has the ticket open (or closed it): store it and
        tell the agents. ``typing``: True/False to set the typing flag, None
        to keep it. Returns the ticket's viewers. The caller checked read
        access to the ticket."""
        self.ensure_one()
        self._check_ticket_agent()
        if viewing:
            # an atomic upsert: two tabs of one agent report at the same time
            self.env["im_livechat.ticket.viewer"].flush_model()
            self.env.cr.execute(
                """
                INSERT INTO im_livechat_ticket_viewer (ticket_id, user_id, last_seen, is_typing)
                     VALUES (%(ticket)s, %(user)s, %(now)s, COALESCE(%(typing)s, FALSE))
                ON CONFLICT (ticket_id, user_id) DO UPDATE
                        SET last_seen = EXCLUDED.last_seen,
                            is_typing = COALESCE(%(typing)s, im_livechat_ticket_viewer.is_typing)
                """,
                {
                    "ticket": self.id,
                    "user": self.env.uid,
                    "now": fields.Datetime.now(),
                    "typing": typing,
                },
            )
            self.env["im_livechat.ticket.viewer"].invalidate_model()
        else:
            # sudo: im_livechat.ticket.viewer - agents remove their own row
            self.env["im_livechat.ticket.viewer"].sudo().search(
                [("ticket_id", "=", self.id), ("user_id", "=", self.env.uid)]
            ).unlink()
        viewers = self._get_viewers_values()
        self._bus_send(VIEWERS_EVENT, {"id": self.id, "viewers": viewers})
        return viewers

    def _get_viewers_values(self):
        """The agents who have the ticket open now, as plain JSON."""
        self.ensure_one()
        # sudo: im_livechat.ticket.viewer - the caller may read the ticket
        viewers = (
            self.env["im_livechat.ticket.viewer"]
            .sudo()
            .search(
                [
                    ("ticket_id", "=", self.id),
                    *self.env["im_livechat.ticket.viewer"]._fresh_domain(),
                ],
                order="last_seen desc, id",
            )
        )
        return [
            {
                "user_id": viewer.user_id.id,
                "partner_id": viewer.user_id.partner_id.id,
                "name": viewer.user_id.name,
                "is_typing": viewer.is_typing,
                "is_assignee": viewer.user_id == self.user_id,
            }
            for viewer in viewers
        ]

    def _check_ticket_agent(self):
        if not (self.env.su or self.env.user.has_group("im_livechat.im_livechat_group_user")):
            raise AccessError(self.env._("Only live chat agents can see who works on a ticket."))

    def action_take_over(self):
        """Take the ticket from the agent the caller saw on it
        (``ticket_expected_user_id`` in the context, as "Assign to Me"),
        leaving a note that tells the previous agent."""
        self.ensure_one()
        previous = self.user_id
        self.action_assign(self.env.user)
        if previous and previous != self.env.user:
            self.message_post(
                body=self.env._(
                    "%(agent)s took over this ticket from %(previous)s.",
                    agent=self.env.user.name,
                    previous=previous.name,
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
                partner_ids=previous.partner_id.ids,
            )
        return True
