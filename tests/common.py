import logging
import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable

_logger = logging.getLogger(__name__)

# How long a tour's other party waits for the browser to be ready.
READY_TIMEOUT = 60


class TicketFixtures:
    """Two customer companies with portal employees, two agents, a manager,
    an employee outside live chat, and the default support team assigning
    every ticket to the first agent. Mix into any Odoo test case and call
    ``_setup_ticket_fixtures`` from ``setUpClass``."""

    @classmethod
    def _setup_ticket_fixtures(cls):
        cls.team = cls.env.ref("im_livechat_ticket.im_livechat_channel_customer_support")
        cls.agent = new_test_user(
            cls.env,
            login="ticket_agent",
            name="Alice Agent",
            groups="base.group_user,im_livechat.im_livechat_group_user",
        )
        cls.agent_2 = new_test_user(
            cls.env,
            login="ticket_agent_2",
            name="Bob Agent",
            groups="base.group_user,im_livechat.im_livechat_group_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="ticket_manager",
            name="Martha Manager",
            groups="base.group_user,im_livechat.im_livechat_group_manager",
        )
        cls.employee = new_test_user(
            cls.env, login="ticket_employee", name="Eve Employee", groups="base.group_user"
        )
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
    def _new_customer(cls, login, name, company):
        user = new_test_user(cls.env, login=login, name=name, groups="base.group_portal")
        user.partner_id.parent_id = company
        return user

    @classmethod
    def _new_ticket(cls, customer, name="My bike is broken", message="The chain came off.", **vals):
        ticket = (
            cls.env["im_livechat.ticket"]
            .with_user(customer)
            ._portal_create_ticket(
                name, message, vals.pop("priority", None), vals.pop("attachments", ())
            )
        )
        return ticket.with_env(cls.env)

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
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket_fixtures()


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
