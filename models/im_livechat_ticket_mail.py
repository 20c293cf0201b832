"""The ticket's e-mail: a customer who is away gets the agents' unread
messages by e-mail, once, and their reply to it comes back through Odoo's mail
gateway into the conversation as their own message, after the same checks as
a message typed on the portal.

The e-mail is a message of the ticket (subtype ``mt_ticket_away_mail``, only
the customer as recipient), so Odoo gives it the ticket's Message-ID and
Reply-To, and the gateway routes a reply back to ``message_update`` of the
ticket by its In-Reply-To / References (im_livechat_ticket_mail_gateway.py)."""

import logging
from datetime import timedelta
from urllib.parse import quote

from odoo import api, fields, models

from odoo.addons.bus.models.bus_presence import DISCONNECTION_TIMER

from .im_livechat_ticket_data import REPLY_MARKER, SERVER_SET

_logger = logging.getLogger(__name__)

# Away e-mails are about recent messages: tickets without activity for this
# long are not looked at any more.
AWAY_MAIL_HORIZON_DAYS = 7


class ImLivechatTicket(models.Model):
    _inherit = "im_livechat.ticket"

    away_mail_message_id = fields.Integer(
        "Last E-mailed Message",
        help="Id of the last message of the conversation e-mailed to the away customer: "
        "the next e-mail holds only later ones.",
        **SERVER_SET,
    )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_resolve(self):
        result = super().action_resolve()
        self.filtered(
            lambda ticket: (
                ticket.livechat_channel_id.ticket_transcript_on_resolve
                and ticket.partner_id.email_normalized
            )
        )._send_transcript()
        return result

    # ------------------------------------------------------------
    # Away e-mails
    # ------------------------------------------------------------

    @api.model
    def _cron_send_away_mails(self):
        """E-mail every away customer the agents' messages they have not read
        for their team's delay, one e-mail per ticket."""
        for ticket, messages in self._get_away_mail_candidates():
            if not ticket._may_send_away_mail():
                continue
            try:
                with self.env.cr.savepoint():
                    ticket._send_away_mail(messages)
            except Exception:
                # one bad address must not stop the others
                _logger.exception("Ticket %s: the away e-mail failed", ticket.reference)

    @api.model
    def _get_away_mail_candidates(self):
        """[(ticket, messages)]: tickets whose customer has not read agents'
        messages (or resolve and reopen notices) that were not e-mailed yet,
        the oldest of them older than the team's delay.

        One query: it compares each message with the customer's own read
        pointer and the ticket's last e-mailed message, which a domain cannot
        express."""
        now = fields.Datetime.now()
        self.env["mail.message"].flush_model()
        self.env["discuss.channel.member"].flush_model(["seen_message_id"])
        self.env["im_livechat.channel"].flush_model(["ticket_email_delay"])
        self.env["discuss.channel"].flush_model(["last_interest_dt"])
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT t.id, array_agg(m.id ORDER BY m.id)
              FROM im_livechat_ticket t
              JOIN im_livechat_channel team ON team.id = t.livechat_channel_id
              JOIN discuss_channel c ON c.id = t.channel_id
              JOIN discuss_channel_member cm
                ON cm.channel_id = t.channel_id AND cm.partner_id = t.partner_id
              JOIN mail_message m ON m.model = 'discuss.channel' AND m.res_id = t.channel_id
             -- the ticket's last activity (last_activity_date) is its conversation's
             WHERE c.last_interest_dt >= %(horizon)s
               AND m.id > GREATEST(COALESCE(cm.seen_message_id, 0), t.away_mail_message_id)
               AND m.author_id IS DISTINCT FROM t.partner_id
               AND m.is_internal IS NOT TRUE
               AND (m.ticket_customer_notice
                    OR (m.message_type = 'comment'
                        AND EXISTS (SELECT 1 FROM res_users u
                                     WHERE u.partner_id = m.author_id AND NOT u.share)))
          GROUP BY t.id, team.ticket_email_delay
            HAVING team.ticket_email_delay <= 0
                OR MIN(m.create_date) <= %(now)s - make_interval(mins => team.ticket_email_delay)
          ORDER BY t.id
            """,
            {"horizon": now - timedelta(days=AWAY_MAIL_HORIZON_DAYS), "now": now},
        )
        rows = self.env.cr.fetchall()
        # sudo: mail.message - the cron reads the conversations it e-mails
        Message = self.env["mail.message"].sudo()
        return [(self.sudo().browse(ticket_id), Message.browse(ids)) for ticket_id, ids in rows]

    def _may_send_away_mail(self):
        """The customer wants these e-mails, has an address and is offline."""
        self.ensure_one()
        customer = self.partner_id
        return bool(
            customer.ticket_email_notify and customer.email_normalized and self._is_customer_away()
        )

    def _is_customer_away(self):
        """Offline, and for long enough: Odoo marks a user offline as soon as
        any of their sockets closes, and the other tabs report presence again
        within a minute; a poll that recent means the customer may be back."""
        self.ensure_one()
        users = self.partner_id.with_context(active_test=False).user_ids
        if not users:
            return True
        recently = fields.Datetime.now() - timedelta(seconds=DISCONNECTION_TIMER)
        # sudo: bus.presence - the customer's presence
        presences = self.env["bus.presence"].sudo().search([("user_id", "in", users.ids)])
        return not any(
            presence.status != "offline" or (presence.last_poll and presence.last_poll > recently)
            for presence in presences
        )

    def _send_away_mail(self, messages):
        """E-mail ``messages`` to the customer, from the team, in the
        customer's language; the next e-mail starts after them."""
        self.ensure_one()
        customer = self.partner_id
        ticket = self.with_context(lang=customer.lang or self.env.lang)
        body = ticket.env["ir.qweb"]._render(
            "im_livechat_ticket.ticket_mail_away", ticket._prepare_away_mail_values(messages)
        )
        ticket._post_customer_email(
            body,
            ticket.env._(
                "[%(reference)s] %(subject)s: new replies",
                reference=self.reference,
                subject=self.name,
            ),
            mail_auto_delete=False,
        )
        self.away_mail_message_id = max(messages.ids)

    def _post_customer_email(self, body, subject, **kwargs):
        """Post ``body`` on the ticket as an e-mail to its customer alone, from
        the team (subtype mt_ticket_away_mail: followers do not get it), so
        that a reply threads back to the ticket."""
        self.ensure_one()
        return self.message_post(
            body=body,
            subject=subject,
            author_id=self.env.ref("base.partner_root").id,
            email_from=self.livechat_channel_id._get_ticket_email_from(self.company_id),
            partner_ids=self.partner_id.ids,
            message_type="comment",
            subtype_xmlid="im_livechat_ticket.mt_ticket_away_mail",
            email_layout_xmlid="mail.mail_notification_light",
            **kwargs,
        )

    def _prepare_away_mail_values(self, messages):
        self.ensure_one()
        base_url = self.get_base_url()
        agent_names = {
            user.partner_id: user.livechat_username or user.name
            for user in messages.author_id.user_ids.filtered(lambda user: not user.share)
        }
        # sudo: ir.attachment - links to the files of the customer's own conversation
        attachments = messages.attachment_ids.sudo()
        tokens = dict(zip(attachments.ids, attachments.generate_access_token(), strict=True))
        return {
            "ticket": self,
            "team": self.livechat_channel_id,
            "messages": messages.sorted("id"),
            "agent_names": agent_names,
            "ticket_url": f"{base_url}/my/tickets/{self.id}",
            "reply_marker": REPLY_MARKER,
            # the customer may not be signed in: the login page goes on to the file
            "attachment_url": lambda attachment: (
                f"{base_url}/web/login?redirect="
                + quote(
                    f"/web/content/{attachment.id}?download=true"
                    f"&access_token={tokens[attachment.id]}",
                    safe="",
                )
            ),
            "is_notice": lambda message: message.message_type == "notification",
        }

    def _notify_get_reply_to(self, default=None):
        # replies go to the team's alias when it has one, else to the catchall
        result = super()._notify_get_reply_to(default=default)
        for ticket in self:
            team = ticket.livechat_channel_id.sudo()
            if team.alias_email:
                result[ticket.id] = ticket._notify_get_reply_to_formatted_email(
                    team.alias_email, ticket.display_name, company=ticket.company_id
                )
        return result

    # ------------------------------------------------------------
    # Portal
    # ------------------------------------------------------------

    def _portal_set_email_notify(self, enabled):
        """The customer turns the e-mails of unread replies on or off (for all
        their tickets). The caller checked access to the ticket."""
        self.ensure_one()
        # sudo: res.partner - portal users set this one preference of their own
        self.env.user.partner_id.sudo().ticket_email_notify = bool(enabled)

    # ------------------------------------------------------------
    # Transcript
    # ------------------------------------------------------------

    def _get_transcript_author_names(self, messages):
        """{partner id: name} of the authors, agents by their chat name as the
        customer sees them."""
        names = {partner.id: partner.name for partner in messages.author_id}
        # sudo: res.users - the agents' names shown to their customers
        for user in messages.author_id.user_ids.sudo().filtered(lambda user: not user.share):
            names[user.partner_id.id] = user.livechat_username or user.name
        return names

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Transcript %(reference)s", reference=self.reference)

    def _render_transcript(self):
        """The conversation of the ticket as PDF bytes."""
        self.ensure_one()
        # sudo: ir.actions.report - the caller may read the ticket
        report = self.env["ir.actions.report"].sudo().with_company(self.company_id)
        pdf, _type = report._render_qweb_pdf(
            "im_livechat_ticket.action_report_ticket_transcript", self.ids
        )
        return pdf

    def _send_transcript(self):
        """E-mail the customer the conversation as PDF, from the team."""
        for ticket in self:
            lang_ticket = ticket.with_context(lang=ticket.partner_id.lang or self.env.lang)
            # sudo: im_livechat.ticket - the system writes to the customer
            lang_ticket.sudo()._post_customer_email(
                lang_ticket.env["ir.qweb"]._render(
                    "im_livechat_ticket.ticket_mail_transcript",
                    {
                        "ticket": ticket,
                        "ticket_url": f"{ticket.get_base_url()}/my/tickets/{ticket.id}",
                    },
                ),
                lang_ticket.env._(
                    "[%(reference)s] %(subject)s: transcript",
                    reference=ticket.reference,
                    subject=ticket.name,
                ),
                attachments=[(f"{ticket.reference}.pdf", ticket._render_transcript())],
            )
