import datetime
import json
import uuid

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request
from odoo.osv.expression import AND
from odoo.tools import json_default
from odoo.tools.misc import format_date

from odoo.addons.mail.tools.discuss import Store
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.im_livechat_ticket_data import MAX_FILES_PER_MESSAGE, SUBJECT_MAX_LENGTH

# The routes of one ticket: a page to read, forms that post back to it.
TICKET_PAGE = {"type": "http", "auth": "user", "methods": ["GET"], "website": True}
TICKET_FORM_POST = {"type": "http", "auth": "user", "methods": ["POST"], "website": True}
# Messages shown as small centered notes rather than chat bubbles.
NOTICE_MESSAGE_TYPES = ("notification", "user_notification")


class TicketPortal(CustomerPortal):
    """Customer side of the tickets: list, creation form and conversation page.

    Every route parses its input, checks access (``_document_check_access``)
    and calls one method of ``im_livechat.ticket``; business rules live there.
    """

    # ------------------------------------------------------------
    # Home (/my)
    # ------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        Ticket = request.env["im_livechat.ticket"]
        if "ticket_count" in counters:
            values["ticket_count"] = (
                Ticket.search_count(self._prepare_tickets_domain())
                if Ticket.has_access("read")
                else 0
            )
        if "ticket_unread_count" in counters:
            values["ticket_unread_count"] = Ticket._get_portal_unread_count()
        return values

    # ------------------------------------------------------------
    # Helpers (extension points)
    # ------------------------------------------------------------

    def _prepare_tickets_domain(self):
        return request.env["im_livechat.ticket"]._get_portal_domain()

    def _get_ticket_searchbar_sortings(self):
        return {
            "activity": {
                "label": request.env._("Last activity"),
                "order": "last_activity_date desc, id desc",
            },
            "date": {
                "label": request.env._("Newest"),
                "order": "create_date desc, id desc",
            },
            "priority": {
                "label": request.env._("Priority"),
                "order": "priority desc, last_activity_date desc, id desc",
            },
            "reference": {
                "label": request.env._("Reference"),
                "order": "reference desc, id desc",
            },
        }

    def _get_ticket_searchbar_filters(self):
        return {
            "all": {"label": request.env._("All"), "domain": []},
            "open": {"label": request.env._("Open"), "domain": [("state", "in", ("new", "open"))]},
            "resolved": {
                "label": request.env._("Resolved"),
                "domain": [("state", "=", "resolved")],
            },
        }

    def _get_ticket_searchbar_inputs(self):
        """Where the search bar looks (``Ticket._get_portal_search_domain``)."""
        return {
            "all": {"input": "all", "label": request.env._("Search in Subject and Conversation")},
            "name": {"input": "name", "label": request.env._("Search in Subject")},
            "message": {"input": "message", "label": request.env._("Search in Conversation")},
        }

    def _get_ticket_selection_labels(self, field_name):
        """Translated labels of a selection field of the ticket, as a dict."""
        field = request.env["im_livechat.ticket"]._fields[field_name]
        return dict(field._description_selection(request.env))

    def _get_priority_values(self):
        """Translated labels of the priorities, and the tooltips of their stars."""
        labels = self._get_ticket_selection_labels("priority")
        return {
            "priority_labels": labels,
            "priority_titles": {
                key: request.env._("Priority: %(priority)s", priority=label)
                for key, label in labels.items()
            },
        }

    def _get_uploaded_files(self):
        """The files of the ``attachments`` input as ``(filename, bytes)``;
        an empty file input (no file chosen) is skipped."""
        return [
            (upload.filename, upload.read())
            for upload in request.httprequest.files.getlist("attachments")
            if upload.filename
        ]

    # ------------------------------------------------------------
    # List
    # ------------------------------------------------------------

    @http.route(
        ["/my/tickets", "/my/tickets/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_tickets(
        self, page=1, sortby=None, filterby=None, search=None, search_in=None, **kw
    ):
        values = self._prepare_my_tickets_values(page, sortby, filterby, search, search_in)
        # the ticket page's previous/next links follow this list
        request.session["my_tickets_history"] = values["tickets"].ids[:100]
        return request.render("im_livechat_ticket.portal_my_tickets", values)

    def _prepare_my_tickets_values(self, page, sortby, filterby, search=None, search_in=None):
        """One page of the caller's tickets (read with their rights), sorted,
        filtered and searched as asked, and what the list template shows of them."""
        Ticket = request.env["im_livechat.ticket"]
        searchbar_sortings = self._get_ticket_searchbar_sortings()
        searchbar_filters = self._get_ticket_searchbar_filters()
        searchbar_inputs = self._get_ticket_searchbar_inputs()
        sortby = sortby if sortby in searchbar_sortings else "activity"
        filterby = filterby if filterby in searchbar_filters else "all"
        search_in = search_in if search_in in searchbar_inputs else "all"
        domain = AND(
            [
                self._prepare_tickets_domain(),
                searchbar_filters[filterby]["domain"],
                Ticket._get_portal_search_domain(search_in, search),
            ]
        )
        has_access = Ticket.has_access("read")
        pager = portal_pager(
            url="/my/tickets",
            url_args={
                "sortby": sortby,
                "filterby": filterby,
                **({"search": search, "search_in": search_in} if search else {}),
            },
            total=Ticket.search_count(domain) if has_access else 0,
            page=page,
            step=self._items_per_page,
        )
        limits = {"limit": self._items_per_page, "offset": pager["offset"]}
        order = searchbar_sortings[sortby]["order"]
        tickets = Ticket.search(domain, order=order, **limits) if has_access else Ticket
        return {
            **self._prepare_portal_layout_values(),
            "tickets": tickets,
            "agent_names": tickets._get_portal_agent_names(),
            "page_name": "ticket_list",
            "default_url": "/my/tickets",
            "pager": pager,
            "searchbar_sortings": searchbar_sortings,
            "sortby": sortby,
            "searchbar_filters": searchbar_filters,
            "filterby": filterby,
            "searchbar_inputs": searchbar_inputs,
            "search_in": search_in,
            "search": search or "",
            "state_labels": self._get_ticket_selection_labels("state"),
            **self._get_priority_values(),
        }

    # ------------------------------------------------------------
    # New ticket
    # ------------------------------------------------------------

    def _prepare_ticket_new_values(
        self, name="", message="", priority="1", error=None, request_key=None, **kwargs
    ):
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ticket_new",
                # one key per form shown: submitting it twice opens one ticket
                "request_key": request_key or uuid.uuid4().hex,
                "ticket_name": name,
                "ticket_message": message,
                "ticket_priority": priority,
                "priorities": list(self._get_ticket_selection_labels("priority").items()),
                "subject_max_length": SUBJECT_MAX_LENGTH,
                "max_files": MAX_FILES_PER_MESSAGE,
                "error": error,
                "hours_notice": request.env["im_livechat.ticket"]._get_portal_hours_notice(),
            }
        )
        values.update(kwargs)
        return values

    @http.route(
        "/my/tickets/new",
        type="http",
        auth="user",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_my_ticket_new(self, name="", message="", priority="1", request_key=None, **kw):
        if request.httprequest.method != "POST":
            values = self._prepare_ticket_new_values()
            return request.render("im_livechat_ticket.portal_my_ticket_new", values)
        files = self._get_uploaded_files()
        try:
            # Nothing of a refused ticket may stay: roll back whatever was written.
            with request.env.cr.savepoint():
                ticket = request.env["im_livechat.ticket"]._portal_create_ticket(
                    name, message, priority, files, request_key=request_key
                )
        except (UserError, ValidationError, AccessError) as error:
            values = self._prepare_ticket_new_values(
                name, message, priority, error.args[0], request_key, files_lost=bool(files)
            )
            return request.render("im_livechat_ticket.portal_my_ticket_new", values)
        return request.redirect(f"/my/tickets/{ticket.id}", code=303)

    # ------------------------------------------------------------
    # Ticket page
    # ------------------------------------------------------------

    def _get_ticket_record_pager(self, ticket):
        """Previous/next ticket of the last list the user saw. Not portal's
        ``get_records_pager``: it links with ``?access_token=`` and so writes a
        share token on each neighbour ticket (``_portal_ensure_token``), a
        second way in that tickets do not need (customers sign in)."""
        history = request.session.get("my_tickets_history", [])
        if ticket.id not in history:
            return {}
        index = history.index(ticket.id)
        return {
            "prev_record": index > 0 and f"/my/tickets/{history[index - 1]}",
            "next_record": index < len(history) - 1 and f"/my/tickets/{history[index + 1]}",
        }

    def _get_avatar_url(self, partner):
        """An avatar URL the customer's browser may load: Odoo serves the
        avatars of live chat operators and of the members of a conversation
        the user belongs to (``ir.binary`` of ``im_livechat`` and ``mail``)."""
        return f"/web/image/res.partner/{partner.id}/avatar_128"

    def _prepare_ticket_conversation(self, ticket_sudo):
        """The conversation's messages grouped by day, oldest first, with what
        the template needs to show them (authors' names and avatars,
        attachment access tokens)."""
        messages = ticket_sudo._get_portal_messages()
        authors = messages.author_id
        return {
            "message_days": self._group_messages_by_day(messages),
            "author_names": {
                author.id: author.user_livechat_username or author.name for author in authors
            },
            "avatar_urls": {author.id: self._get_avatar_url(author) for author in authors},
            "attachment_tokens": ticket_sudo._get_portal_attachment_tokens(messages),
            "notice_message_types": NOTICE_MESSAGE_TYPES,
        }

    def _group_messages_by_day(self, messages):
        """[{date, label ("Today", "Yesterday" or the date), messages}], in the
        user's time zone."""
        today = fields.Datetime.context_timestamp(request.env.user, fields.Datetime.now()).date()
        labels = {
            today: request.env._("Today"),
            today - datetime.timedelta(days=1): request.env._("Yesterday"),
        }
        days = []
        for message in messages:
            day = fields.Datetime.context_timestamp(request.env.user, message.date).date()
            if not days or days[-1]["date"] != day:
                label = labels.get(day) or format_date(request.env, day, date_format="full")
                days.append({"date": day, "label": label, "messages": []})
            days[-1]["messages"].append(message)
        return days

    def _prepare_ticket_chat_props(self, ticket_sudo):
        """Props of the live chat of the ticket page (an OWL component that
        reuses Discuss' ``Thread`` and ``Composer``): the ticket and its
        conversation, and the store data a web client session gives Discuss
        (the current user, their settings) plus the assigned agent's chat
        name and presence, which live chat members' data leaves out."""
        store = Store()
        request.env["res.users"]._init_store_data(store)
        agent_partner = ticket_sudo.user_id.partner_id
        if agent_partner:
            # sudo: res.partner - the chat name and presence of the ticket's agent,
            # shown to the customer (the name only without a chat name)
            store.add(
                agent_partner.sudo(), fields=["im_status", "user_livechat_username", "write_date"]
            )
        return {
            "ticketId": ticket_sudo.id,
            "channelId": ticket_sudo.channel_id.id,
            "ticketState": ticket_sudo.state,
            "agentPartnerId": agent_partner.id or False,
            "storeData": store.get_result(),
        }

    def _prepare_ticket_page_values(self, ticket_sudo, **kwargs):
        values = self._prepare_ticket_status_values(ticket_sudo)
        values.update(
            {
                "own_partner": request.env.user.partner_id,
                "max_files": MAX_FILES_PER_MESSAGE,
                "error": None,
                "composer_message": "",
            }
        )
        if ticket_sudo.channel_id:
            values["chat_props"] = json.dumps(
                self._prepare_ticket_chat_props(ticket_sudo), default=json_default
            )
        values.update(self._prepare_ticket_conversation(ticket_sudo))
        values.update(self._get_ticket_record_pager(ticket_sudo))
        values.update(kwargs)
        return values

    def _prepare_ticket_status_values(self, ticket_sudo):
        """What the header of the ticket page and the resolved notice (with
        the rating) need: the parts that follow the ticket's state."""
        values = self._prepare_portal_layout_values()
        agent = ticket_sudo.user_id
        values.update(
            {
                "page_name": "ticket",
                "ticket": ticket_sudo,
                "agent_name": agent and (agent.livechat_username or agent.name),
                "agent_avatar_url": agent and self._get_avatar_url(agent.partner_id),
                "state_labels": self._get_ticket_selection_labels("state"),
                **self._get_priority_values(),
            }
        )
        values.update(self._prepare_ticket_rating_values(ticket_sudo))
        return values

    def _prepare_ticket_rating_values(self, ticket_sudo):
        """What the rating part of a resolved ticket's page needs: the rating
        given, or whether the current user (its own customer) may give one."""
        customer_rating = (
            ticket_sudo._get_customer_rating() if ticket_sudo.state == "resolved" else None
        )
        return {
            "customer_rating": customer_rating,
            "can_rate": ticket_sudo.with_env(request.env)._can_portal_rate(),
            "rating_labels": {
                1: request.env._("Very poor"),
                2: request.env._("Poor"),
                3: request.env._("Okay"),
                4: request.env._("Good"),
                5: request.env._("Excellent"),
            },
            "rating_feedback": "",
        }

    def _get_ticket_or_none(self, ticket_id):
        """The ticket as sudo if the current user may read it, else None."""
        try:
            return self._document_check_access("im_livechat.ticket", ticket_id)
        except (AccessError, MissingError):
            return None

    @http.route("/my/tickets/<int:ticket_id>", **TICKET_PAGE)
    def portal_my_ticket(self, ticket_id, **kw):
        ticket_sudo = self._get_ticket_or_none(ticket_id)
        if not ticket_sudo:
            return request.not_found()
        ticket_sudo.with_env(request.env)._portal_mark_as_read()
        return request.render(
            "im_livechat_ticket.portal_my_ticket", self._prepare_ticket_page_values(ticket_sudo)
        )

    @http.route("/my/tickets/<int:ticket_id>/status", **TICKET_PAGE)
    def portal_my_ticket_status(self, ticket_id, **kw):
        """The parts of the ticket page that follow its state (header, resolved
        notice with Reopen and rating), for the live page to swap in when a
        bus event says the ticket changed."""
        ticket_sudo = self._get_ticket_or_none(ticket_id)
        if not ticket_sudo:
            return request.not_found()
        values = self._prepare_ticket_status_values(ticket_sudo)
        values.update({"error": None, "composer_message": "", "max_files": MAX_FILES_PER_MESSAGE})
        return request.render("im_livechat_ticket.portal_ticket_status", values)

    @http.route("/my/tickets/<int:ticket_id>/message", **TICKET_FORM_POST)
    def portal_my_ticket_message(self, ticket_id, message="", **kw):
        files = self._get_uploaded_files()
        return self._run_ticket_action(
            ticket_id,
            lambda ticket: ticket._post_customer_message(message, files),
            composer_message=message,
            files_lost=bool(files),
        )

    @http.route("/my/tickets/<int:ticket_id>/reopen", **TICKET_FORM_POST)
    def portal_my_ticket_reopen(self, ticket_id, **kw):
        # the model checks the team's reopen window
        return self._run_ticket_action(ticket_id, lambda ticket: ticket._portal_reopen())

    @http.route("/my/tickets/<int:ticket_id>/rate", **TICKET_FORM_POST)
    def portal_my_ticket_rate(self, ticket_id, score=None, feedback="", **kw):
        return self._run_ticket_action(
            ticket_id,
            lambda ticket: ticket._portal_rate(score, feedback),
            rating_feedback=feedback,
        )

    def _run_ticket_action(self, ticket_id, action, **error_values):
        """Run ``action(ticket)`` on the caller's ticket, in the caller's own
        environment (what it writes is theirs) and in a savepoint (a refusal
        leaves nothing). Back to the ticket page, or the page again with the
        error and ``error_values`` (what the user typed)."""
        ticket_sudo = self._get_ticket_or_none(ticket_id)
        if not ticket_sudo:
            return request.not_found()
        try:
            with request.env.cr.savepoint():
                action(ticket_sudo.with_env(request.env))
        except (UserError, ValidationError, AccessError) as error:
            values = self._prepare_ticket_page_values(
                ticket_sudo, error=error.args[0], **error_values
            )
            return request.render("im_livechat_ticket.portal_my_ticket", values)
        return request.redirect(f"/my/tickets/{ticket_id}#ticket_bottom", code=303)
