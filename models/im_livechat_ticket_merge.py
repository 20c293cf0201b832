"""Merging a duplicate ticket into another of the same customer.

``duplicate.action_merge_into(ticket_id)`` carries the duplicate's
conversation into the other ticket's, resolves the duplicate as merged
(``merged_into_id``) and tells the customer once, in the kept conversation.

The messages are *moved*, not copied: each message and its files change
channel (``res_id``), so

- every message is stored once (design.md: never store messages twice), with
  its author, date and files as they were;
- the kept conversation shows the whole history in time order: Discuss sorts
  a thread by message id, and ids grow with time in both conversations, so the
  duplicate's messages fall in place among the kept one's (copies would get
  new ids and all come after them);
- ratings are not messages of the conversation but of the ticket: the kept
  ticket keeps its own, the duplicate never asks for one (it is not resolved
  by ``action_resolve``);
- the duplicate's page has nothing left to show but the merge notice and a
  link to the kept ticket, which its customer may read (same customer, or the
  same company when it shares tickets).
"""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .im_livechat_ticket_data import SERVER_SET


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    merged_into_id = fields.Many2one(
        "im_livechat.ticket",
        index="btree_not_null",
        ondelete="set null",
        tracking=True,
        help="The ticket this duplicate was merged into: its conversation continues there.",
        **SERVER_SET,
    )
    merged_ticket_ids = fields.One2many(
        "im_livechat.ticket",
        "merged_into_id",
        string="Merged Tickets",
        readonly=True,
        help="Duplicates merged into this ticket.",
    )

    # Service levels: a merged duplicate keeps only what happened before the
    # merge. Its resolution target goes (the merge resolves nothing: the work
    # goes on in the kept ticket, which has its own deadlines), and so does a
    # first-response target nobody met yet (the answer will come in the kept
    # ticket). A first response it got stays measured, late or not. So the
    # merge itself never breaches anything, and a breach that happened before
    # it stays. Reports leave merged tickets out (action_ticket_report).
    @api.depends("merged_into_id", "first_response_date")
    def _compute_sla_deadlines(self):
        result = super()._compute_sla_deadlines()
        for ticket in self.filtered("merged_into_id"):
            ticket.sla_resolution_deadline = False
            if not ticket.first_response_date:
                ticket.sla_response_deadline = False
        return result

    @api.depends("merged_into_id")
    def _compute_can_customer_reopen(self):
        result = super()._compute_can_customer_reopen()
        self.filtered("merged_into_id").can_customer_reopen = False
        return result

    def _can_portal_rate(self):
        # a merged duplicate is rated through the ticket it was merged into
        return not self.merged_into_id and super()._can_portal_rate()

    def _portal_rate(self, score, feedback=None):
        if self.merged_into_id:
            raise UserError(
                self.env._("This ticket was merged into another one: rate that one instead.")
            )
        return super()._portal_rate(score, feedback)

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_merge_into(self, ticket_id):
        """Merge these duplicates into the ticket ``ticket_id`` (an id or a
        record) of the same customer: their conversations are carried into
        its conversation, in time order, with a notice; each duplicate is
        resolved with ``merged_into_id`` set; the customer is told once.

        Only agents; refused into the ticket itself, into a resolved or merged
        ticket, across customers (or companies that do not share tickets)."""
        target = ticket_id if isinstance(ticket_id, models.BaseModel) else self.browse(ticket_id)
        target = target.with_env(self.env)
        self._check_merge_into(target)
        for ticket in self:
            ticket._merge_into(target)
        return True

    def action_reopen(self):
        for ticket in self.filtered("merged_into_id"):
            raise UserError(
                self.env._(
                    "Ticket %(reference)s was merged into %(target)s: its conversation "
                    "continues there.",
                    reference=ticket.reference,
                    target=ticket.merged_into_id.sudo().reference,
                )
            )
        return super().action_reopen()

    # ------------------------------------------------------------
    # Business
    # ------------------------------------------------------------

    def _check_merge_into(self, target):
        """Refuse a merge of ``self`` into ``target`` that is not allowed."""
        if not self.env.user.has_group("im_livechat.im_livechat_group_user"):
            raise AccessError(self.env._("Only support agents can merge tickets."))
        if len(target) != 1 or not target.exists():
            raise UserError(self.env._("Choose the one ticket to merge into."))
        (self | target).check_access("write")
        if target.merged_into_id:
            raise UserError(
                self.env._(
                    "Ticket %(reference)s was itself merged into %(target)s: merge into that one.",
                    reference=target.reference,
                    target=target.merged_into_id.reference,
                )
            )
        if target.state == "resolved":
            raise UserError(
                self.env._(
                    "Ticket %(reference)s is resolved: reopen it before merging into it.",
                    reference=target.reference,
                )
            )
        for ticket in self:
            ticket._check_merge_source(target)

    def _check_merge_source(self, target):
        self.ensure_one()
        if self == target:
            raise UserError(self.env._("A ticket cannot be merged into itself."))
        if self.merged_into_id or self.state == "resolved":
            raise UserError(
                self.env._(
                    "Ticket %(reference)s is resolved: only an open ticket can be merged.",
                    reference=self.reference,
                )
            )
        if not self._is_same_customer(target):
            raise AccessError(
                self.env._(
                    "Ticket %(reference)s belongs to another customer: only tickets of the "
                    "same customer (or of one company that shares its tickets) can be merged.",
                    reference=target.reference,
                )
            )

    def _is_same_customer(self, other):
        """Whether the customer of ``self`` may read ``other`` on the portal:
        the same customer, or one company that shares its tickets (the rule
        im_livechat_ticket_rule_portal)."""
        self.ensure_one()
        if self.partner_id == other.partner_id:
            return True
        company = self.commercial_partner_id
        return bool(company == other.commercial_partner_id and company.ticket_company_sharing)

    def _merge_into(self, target):
        """Carry this ticket's conversation into ``target``'s and resolve it as merged."""
        self.ensure_one()
        self._merge_conversation_into(target)
        agent = self.user_id
        self.write(
            {
                "state": "resolved",
                "resolved_date": fields.Datetime.now(),
                "merged_into_id": target.id,
            }
        )
        if self.channel_id:
            # sudo: discuss.channel - agents may not write livechat sessions they do not own
            self.channel_id.sudo().livechat_active = False
        link = self._merge_link(target)
        self._post_notice(
            Markup(self.env._("This ticket was merged into %(ticket)s.")) % {"ticket": link}
        )
        # the one notice the customer gets (by e-mail too when away)
        target._post_notice(
            Markup(
                self.env._(
                    "Ticket %(ticket)s merged into this ticket: its messages are above, in order."
                )
            )
            % {"ticket": self.reference},
            customer_notice=True,
        )
        target.message_post(
            body=self.env._(
                "%(user)s merged ticket %(reference)s into this ticket.",
                user=self.env.user.name,
                reference=self.reference,
            ),
            subtype_xmlid="mail.mt_note",
        )
        if agent:
            # the freed agent takes the next waiting ticket, as on resolve
            self.livechat_channel_id._assign_waiting_tickets(agent=agent)

    @api.model
    def _merge_link(self, target):
        return Markup('<a href="/my/tickets/%s">%s</a>') % (target.id, target.reference)

    def _merge_conversation_into(self, target):
        """Move this ticket's messages and their files into ``target``'s
        conversation (see the module's docstring), keeping what each member
        had read and what the away e-mails had sent."""
        self.ensure_one()
        # sudo: discuss.channel - the system moves the conversation of tickets checked above
        source, dest = self.channel_id.sudo(), target.channel_id.sudo()
        if not source or not dest or source == dest:
            return
        Message = self.env["mail.message"].sudo()
        messages = Message.search([("model", "=", "discuss.channel"), ("res_id", "=", source.id)])
        if not messages:
            return
        dest_last = Message.search(
            [("model", "=", "discuss.channel"), ("res_id", "=", dest.id)], order="id desc", limit=1
        )
        attachments = messages.attachment_ids.filtered(
            lambda a: a.res_model == "discuss.channel" and a.res_id == source.id
        )
        messages.write({"res_id": dest.id})
        attachments.write({"res_id": dest.id})
        (source | dest).invalidate_recordset(["message_ids"])
        self._merge_carry_read_state(source, dest, messages, dest_last.id)
        self._merge_carry_away_mail_state(target, source)
        # the views of the kept conversation fetch it again: older messages
        # came in (static/src/common/ticket_merge_service.js)
        dest._bus_send("im_livechat.ticket/merged", {"channel_id": dest.id, "ticket_id": target.id})

    def _merge_carry_read_state(self, source, dest, messages, dest_last_id):
        """A member of both conversations who had read both to the end has
        read the moved messages too: they do not come back as unread."""
        last_moved = max(messages, key=lambda message: message.id)
        source_members = {member.partner_id: member for member in source.channel_member_ids}
        for member in dest.channel_member_ids:
            source_member = source_members.get(member.partner_id)
            if (
                source_member
                and source_member.new_message_separator > last_moved.id
                and member.new_message_separator > dest_last_id
                and member.new_message_separator <= last_moved.id
            ):
                member._set_last_seen_message(last_moved, notify=False)
                member._set_new_message_separator(last_moved.id + 1)

    def _merge_carry_away_mail_state(self, target, source):
        """The duplicate's messages its customer had seen or got by e-mail
        are not e-mailed again from the kept ticket (its away e-mails send
        the agents' messages after ``away_mail_message_id``). Messages of the
        kept ticket older than those, not e-mailed yet, wait for the next
        one the customer gets or sees on the page."""
        customer_member = source.channel_member_ids.filtered(
            lambda member: member.partner_id == self.partner_id
        )
        handled = max(self.away_mail_message_id, customer_member.seen_message_id.id or 0)
        if handled > target.away_mail_message_id:
            # sudo: im_livechat.ticket - the away e-mail pointer is the system's
            target.sudo().away_mail_message_id = handled
