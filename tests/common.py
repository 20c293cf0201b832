"""The shared test base: :class:`TicketFixtures`, one mixin for every kind of test.

It builds, in ``setUpClass``, the same help desk for every class: two customer
companies with portal users, two agents, a live chat manager, an employee
outside live chat, and the default support team giving every new ticket to
``agent`` (see ``_setup_ticket_fixtures``). Its helpers make more of it:
``_new_agent``, ``_new_customer``, ``_new_ticket`` (as a customer opens one on
the portal), ``_new_queue_ticket`` (a ticket in a given state, without the
portal), ``_set_queue_service_levels``, ``_breach_first_response``; for HTTP
tests, ``_login`` and ``_post_to_conversation``.

Mix it in first, before the Odoo test case::

    class TestThing(TicketFixtures, TransactionCase):  # or TicketCommon
    class TestPage(TicketFixtures, HttpCase):          # routes: self._login(self.customer_a)
    class TestLive(TicketFixtures, WebsocketCase):     # odoo.addons.bus.tests.common

A tour logs in with a fixture's login (``self.start_tour(url, tour,
login=self.agent.login)``); where a tour's script checks a name of its own,
make that user with ``_new_customer`` / ``_new_agent`` in ``setUpClass``. A
class that needs other data overrides ``_setup_ticket_fixtures`` (calling
super to add to it, or not to build it, as the install checks do).
"""

import logging
import threading
import time
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable

_logger = logging.getLogger(__name__)

# How long a tour's other party waits for the browser to be ready.
READY_TIMEOUT = 60
AGENT_GROUPS = "base.group_user,im_livechat.im_livechat_group_user"


class TicketFixtures:
    """Two customer companies with portal users, two agents, a manager, an
    employee outside live chat, and the default support team assigning every
    ticket to the first agent, built in ``setUpClass``; helpers to make more.
    Mix in before any Odoo test case (see the module's docstring)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket_fixtures()

    @classmethod
    def _setup_ticket_fixtures(cls):
        if cls.__dict__.get("_ticket_fixtures_built"):
            # a class that still calls this from its own setUpClass: built already
            return
        cls._ticket_fixtures_built = True
        cls.team = cls.env.ref("im_livechat_ticket.im_livechat_channel_customer_support")
        cls.agent = cls._new_agent("ticket_agent", "Alice Agent")
        cls.agent_2 = cls._new_agent("ticket_agent_2", "Bob Agent")
        cls.manager = cls._new_agent(
            "ticket_manager",
            "Martha Manager",
            groups="base.group_user,im_livechat.im_livechat_group_manager",
        )
        cls.employee = cls._new_agent("ticket_employee", "Eve Employee", groups="base.group_user")
        cls.team.write(
            {
                "user_ids": [(4, cls.agent.id), (4, cls.agent_2.id)],
                "ticket_assignment": "default",
                "ticket_default_user_id": cls.agent.id,
            }
        )
        cls.company_a = cls.env["res.partner"].create({"name": "Bikes A", "is_company": True})
        cls.company_b = cls.env["res.partner"].create({"name": "Bikes B", "is_company": True})
        cls.customer_a = cls._new_customer("ticket_customer_a", "Anna Customer", cls.company_a)
        cls.customer_a2 = cls._new_customer("ticket_customer_a2", "Arno Coworker", cls.company_a)
        cls.customer_b = cls._new_customer("ticket_customer_b", "Ben Customer", cls.company_b)

    @classmethod
    def _new_agent(cls, login, name=None, groups=AGENT_GROUPS, env=None, **values):
        """A live chat operator (``groups``: another internal user); its
        password is its login. ``env``: another transaction's."""
        return new_test_user(env or cls.env, login=login, name=name, groups=groups, **values)

    @classmethod
    def _new_customer(cls, login, name, company=None):
        """A portal user, employee of ``company`` if given."""
        user = new_test_user(cls.env, login=login, name=name, groups="base.group_portal")
        if company:
            user.partner_id.parent_id = company
        return user

    @classmethod
    def _new_ticket(cls, customer, name="My bike is broken", message="The chain came off.", **vals):
        """A ticket as ``customer`` opens it on the portal (first message,
        assignment); ``priority`` and ``attachments`` as the form sends them."""
        ticket = (
            cls.env["im_livechat.ticket"]
            .with_user(customer)
            ._portal_create_ticket(
                name, message, vals.pop("priority", None), vals.pop("attachments", ())
            )
        )
        return ticket.with_env(cls.env)

    @classmethod
    def _new_queue_ticket(cls, customer, name, **vals):
        """A ticket of ``customer`` (a user) made as the backend does, in the
        state ``vals`` give (``user_id``, ``priority``...): no portal checks,
        no message, no tracking. For queues, counts and filters."""
        return (
            cls.env["im_livechat.ticket"]
            .with_context(tracking_disable=True)
            .create({"name": name, "partner_id": customer.partner_id.id, **vals})
        )

    @classmethod
    def _set_queue_service_levels(cls):
        """Service levels around the clock (no calendar): urgent tickets
        answered within 1 hour (so at risk at once: 2 hours before), resolved
        within 8; high ones within 24 and 48 hours."""
        cls.team.write(
            {
                "ticket_calendar_id": False,
                "ticket_sla_risk_hours": 2,
                "ticket_sla_ids": [
                    (5, 0, 0),
                    (0, 0, {"priority": "3", "first_response_hours": 1, "resolution_hours": 8}),
                    (0, 0, {"priority": "2", "first_response_hours": 24, "resolution_hours": 48}),
                ],
            }
        )

    @classmethod
    def _breach_first_response(cls, ticket):
        """Put ``ticket``'s first-response deadline an hour in the past."""
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE im_livechat_ticket SET sla_response_deadline = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(hours=1), ticket.id],
        )
        cls.env.invalidate_all()

    def _login(self, user):
        """Log in as ``user`` (None: a public visitor) and return the session;
        the earlier sessions stay alive (``authenticate()`` deletes the last
        one otherwise), so that several parties can act. HttpCase only."""
        self.session = None
        login = user.login if user else None
        return self.authenticate(login, login)

    def _post_to_conversation(self, channel, body, session=None, attachment_ids=(), tokens=()):
        """Post in ``channel`` as the web client does (``/mail/message/post``,
        JSON-RPC; HttpCase only), as the user of ``session`` if given, else
        as the one currently logged in."""
        if session:
            self.opener.cookies["session_id"] = session.sid
        return self.make_jsonrpc_request(
            "/mail/message/post",
            {
                "thread_model": "discuss.channel",
                "thread_id": channel.id,
                "post_data": {
                    "body": body,
                    "message_type": "comment",
                    "subtype_xmlid": "mail.mt_comment",
                    "attachment_ids": list(attachment_ids),
                },
                "attachment_tokens": list(tokens),
            },
        )


class TicketCommon(TicketFixtures, TransactionCase):
    """The fixtures in a TransactionCase."""


def wake_sockets(db_name, targets):
    """What PostgreSQL's NOTIFY does after a commit in production: the
    websockets subscribed to ``targets`` (records or channel names) poll the
    bus. Tests never commit their transaction, so they call this instead."""
    websockets = set()
    for target in targets:
        websockets.update(
            dispatch._channels_to_ws.get(hashable(channel_with_db(db_name, target)), ())
        )
    for websocket in websockets:
        websocket.trigger_notification_dispatching()


def run_tour_beside(case, tour, *, url, login, ready, action, wake, settle=0.0):
    """Run a tour while a background thread plays the other party: once
    ``ready()`` is true (polled; ``settle`` seconds later), it runs
    ``action(env)`` as superuser in a committed transaction (server threads
    share the test transaction: the registry cursor holds its lock), then
    wakes the sockets subscribed to ``wake`` (records or channel names).
    Returns what ``action`` returned, or None if it never ran (the reason is
    logged)."""
    result = {}
    tour_over = threading.Event()

    def play_the_other_party():
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while not ready():
                if tour_over.is_set() or time.monotonic() > deadline:
                    _logger.error("%s: the tour never reached the point to act", tour)
                    return
                time.sleep(0.1)
            time.sleep(settle)
            with case.registry.cursor() as cr:
                result["value"] = action(api.Environment(cr, SUPERUSER_ID, {}))
                # writes the bus notifications (precommit), as a commit would
                cr.commit()  # pylint: disable=invalid-commit
            wake_sockets(case.registry.db_name, wake)
        except Exception:
            _logger.exception("%s: the other party's action failed", tour)

    thread = threading.Thread(target=play_the_other_party, daemon=True)
    thread.start()
    try:
        case.start_tour(url, tour, login=login, timeout=120)
    finally:
        tour_over.set()
        thread.join(READY_TIMEOUT + 10)
    case.assertFalse(thread.is_alive(), "the other party's thread did not end")
    return result.get("value")
