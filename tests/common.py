"""The shared test base: :class:`TicketFixtures`, one mixin for every kind of test.

It builds, in ``setUpClass``, the same help desk for every class: two customer
companies with portal users, two agents, a live chat manager, an employee
outside live chat, and the default support team giving every new ticket to
``agent`` (see ``_setup_ticket_fixtures``). Its helpers make more of it:
``_new_agent``, ``_new_customer``, ``_new_ticket`` (as a customer opens one on
the portal), ``_new_queue_ticket`` (a ticket in a given state, without the
portal), ``_set_queue_service_levels``, ``_new_calendar`` (working hours),
``_set_working_hours_service_levels``, ``_breach_first_response``, ``_at`` (a
frozen clock); for HTTP tests, ``_login`` and ``_post_to_conversation``.

Mix it in first, before the Odoo test case::

    class TestThing(TicketFixtures, TransactionCase):  # or TicketCommon
    class TestPage(TicketFixtures, HttpCase):          # routes: self._login(self.customer_a)
    class TestLive(TicketFixtures, WebsocketCase):     # odoo.addons.bus.tests.common

A tour logs in with a fixture's login (``self.start_tour(url, tour,
login=self.agent.login)``); where a tour's script checks a name of its own,
make that user with ``_new_customer`` / ``_new_agent`` in ``setUpClass``. A
class that needs other data overrides ``_setup_ticket_fixtures`` (calling
super to add to it, or not to build it, as :class:`CommittedTicketData` and
the install checks do).
"""

import json
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import SimpleNamespace

import psycopg2.errors
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user

from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable

_logger = logging.getLogger(__name__)

# How long a tour's other party waits for the browser to be ready.
READY_TIMEOUT = 60
AGENT_GROUPS = "base.group_user,im_livechat.im_livechat_group_user"
# The agents' ticket queue in the backend, where their tours start.
QUEUE_URL = "/odoo/action-im_livechat_ticket.action_ticket_queue"


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
    def _load_german(cls, modules=("im_livechat_ticket",)):
        """German active, with the terms of ``modules`` only (labels of other
        Odoo pages stay as they are); what was rendered before is forgotten."""
        cls.env["res.lang"]._activate_lang("de_DE")
        cls.env["ir.module.module"]._load_module_terms(list(modules), ["de_DE"])
        cls.registry.clear_cache("default", "templates")

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
    def _setup_ticket(cls, name, message):
        """The fixture of the tests about one ticket: ``cls.ticket``, opened by
        customer A on the portal, and its conversation ``cls.channel``."""
        cls.ticket = cls._new_ticket(cls.customer_a, name, message)
        cls.channel = cls.ticket.channel_id

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
    def _new_calendar(cls, name="Support hours", days=range(5), periods=((8, 12), (13, 17))):
        """Working hours in UTC: ``days`` (0: Monday), each with ``periods``
        (hours from, to); by default Monday to Friday, 8-12 and 13-17."""
        return cls.env["resource.calendar"].create(
            {
                "name": name,
                "tz": "UTC",
                "attendance_ids": [
                    (
                        0,
                        0,
                        {
                            "name": f"{day} {start}",
                            "dayofweek": str(day),
                            "hour_from": start,
                            "hour_to": end,
                            "day_period": "morning" if start < 12 else "afternoon",
                        },
                    )
                    for day in days
                    for start, end in periods
                ],
            }
        )

    @classmethod
    def _set_working_hours_service_levels(cls, **team_vals):
        """Service levels counted in working hours (``_new_calendar``'s
        default, kept as ``cls.calendar``): urgent tickets answered within 1
        hour, resolved within 4; normal ones within 4 and 16. ``team_vals``:
        more settings of the team."""
        cls.calendar = cls._new_calendar()
        cls.team.write(
            {
                "ticket_calendar_id": cls.calendar.id,
                "ticket_sla_ids": [
                    (5, 0, 0),
                    (0, 0, {"priority": "3", "first_response_hours": 1, "resolution_hours": 4}),
                    (0, 0, {"priority": "1", "first_response_hours": 4, "resolution_hours": 16}),
                ],
                **team_vals,
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

    @contextmanager
    def _at(self, when):
        """Freeze the clock, the transaction's one included (create dates)."""
        with freeze_time(when):
            self.env.flush_all()
            self.env.cr._now = datetime.fromisoformat(when)
            try:
                yield
            finally:
                self.env.flush_all()
                self.env.cr._now = None

    def _login(self, user):
        """Log in as ``user`` (None: a public visitor) and return the session;
        the earlier sessions stay alive (``authenticate()`` deletes the last
        one otherwise), so that several parties can act. HttpCase only."""
        self.session = None
        login = user.login if user else None
        return self.authenticate(login, login)

    def _run_queue_tour_beside(self, tour, **other_party):
        """``run_tour_beside`` for a tour of the agent in the ticket queue;
        ``other_party``: its ``ready``, ``action``, ``wake`` and ``settle``."""
        return run_tour_beside(self, tour, url=QUEUE_URL, login=self.agent.login, **other_party)

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


class CommittedTicketData(TicketFixtures):
    """For tests that race real transactions (threads, each its own cursor,
    committed): they see nothing of the test's own transaction, which is never
    committed, so the class fixtures are not built. Each test commits the data
    it races on with ``_commit_team`` (removed after the test) and runs the
    transactions with ``_attempt`` or ``_race_transactions``."""

    @classmethod
    def _setup_ticket_fixtures(cls):
        pass

    @contextmanager
    def _new_transaction(self, uid=SUPERUSER_ID):
        """An environment on a cursor of its own, committed when the block
        ends (as ``registry.cursor()`` does), rolled back on an error."""
        with self.registry.cursor() as cr:
            # another thread holds the registry's lock while tests run: reuse it
            cr.transaction = api.Transaction(self.registry)
            yield api.Environment(cr, uid, {})

    def _commit_team(self, agents=2, **team_vals):
        """Commit ``agents`` new agents, a team of them (``team_vals``) and a
        customer (a partner), named uniquely; they are removed after the test.
        Returns their ids: ``team_id``, ``agent_ids``, ``customer_id``."""
        suffix = uuid.uuid4().hex[:8]
        with self._new_transaction() as env:
            users = env["res.users"]
            for i in range(agents):
                users |= self._new_agent(f"race_agent_{i}_{suffix}", env=env)
            team = env["im_livechat.channel"].create(
                {"name": f"Race team {suffix}", "user_ids": [(6, 0, users.ids)], **team_vals}
            )
            customer = env["res.partner"].create({"name": f"Race customer {suffix}"})
            data = SimpleNamespace(team_id=team.id, agent_ids=users.ids, customer_id=customer.id)
        self.addCleanup(self._remove_committed, data)
        return data

    def _remove_committed(self, data):
        """Remove for real what ``_commit_team`` committed, and the team's tickets."""
        with self._new_transaction() as env:
            tickets = env["im_livechat.ticket"].search([("livechat_channel_id", "=", data.team_id)])
            channels = tickets.channel_id
            tickets.unlink()
            channels.unlink()
            env["im_livechat.channel"].browse(data.team_id).unlink()
            env["bus.presence"].search([("user_id", "in", data.agent_ids)]).unlink()
            env["res.users"].browse(data.agent_ids).write({"active": False})
            env["res.partner"].browse(data.customer_id).write({"active": False})

    def _attempt(self, uid, action, results, key, hold=None):
        """Run ``action(env)`` as ``uid`` in a transaction of its own, then
        commit, retrying a serialisation failure as Odoo's request handling
        does. ``results[key]`` gets what ``action`` returned, ``"refused:
        <message>"`` on a UserError, ``"failed: <error>"`` on another error.
        ``hold()``, if given, runs once the action's writes are done, before
        the commit."""
        for _try in range(5):
            with self._new_transaction(uid) as env:
                cr = env.cr
                try:
                    results[key] = action(env)
                    if hold:
                        # write now (the ORM flushes lazily): the rows stay
                        # locked while the other transaction acts
                        env.flush_all()
                        hold()
                    # committed for real: the other transaction must see it
                    cr.commit()  # pylint: disable=invalid-commit
                    return
                except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
                    cr.rollback()
                except UserError as error:
                    cr.rollback()
                    results[key] = f"refused: {error.args[0]}"
                    return
                except Exception as error:  # noqa: BLE001 - reported to the test
                    cr.rollback()
                    results[key] = f"failed: {error!r}"
                    return
        results[key] = "failed: too many retries"

    def _race_transactions(self, action_1, action_2, uids=(SUPERUSER_ID, SUPERUSER_ID)):
        """Transaction 1 runs ``action_1`` and stays open while transaction 2
        runs ``action_2`` on the same rows; then 1 commits, and 2 goes on.
        Returns ``{1: result, 2: result}`` (see ``_attempt``)."""
        results = {}
        acted = threading.Event()
        release = threading.Event()

        def hold():
            acted.set()
            release.wait(10)

        def first():
            try:
                self._attempt(uids[0], action_1, results, 1, hold)
            finally:
                acted.set()

        thread_1 = threading.Thread(target=first)
        thread_2 = threading.Thread(target=self._attempt, args=(uids[1], action_2, results, 2))
        thread_1.start()
        self.assertTrue(acted.wait(10), "transaction 1 never acted")
        self.assertNotIn("failed", str(results.get(1, "")))
        thread_2.start()
        time.sleep(0.5)  # transaction 2 now waits for transaction 1's locks
        release.set()
        thread_1.join(20)
        thread_2.join(20)
        return results


def emulate_screen(browser, size):
    """Show pages in ``browser`` (Odoo's ChromeBrowser) at ``size`` ("375x667"):
    headless Chrome's windows are at least 500 px wide, so a phone's screen is
    emulated through DevTools."""
    width, height = (int(value) for value in size.split("x"))
    browser._websocket_request(
        "Emulation.setDeviceMetricsOverride",
        params={"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 576},
    )


try:
    from websocket import WebSocketTimeoutException
except ImportError:  # WebsocketCase skips its tests then
    WebSocketTimeoutException = TimeoutError


def receive_until(websocket, wanted, seconds):
    """The bus messages (``{"type", "payload"}``) ``websocket`` receives
    until one is ``wanted(message)`` or ``seconds`` have passed; the last is
    the wanted one if it came."""
    deadline, received = time.monotonic() + seconds, []
    websocket.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            frame = websocket.recv()
        except (TimeoutError, WebSocketTimeoutException):
            continue
        for notification in json.loads(frame):
            received.append(notification["message"])
            if wanted(notification["message"]):
                return received
    return received


def sockets_following(db_name, target):
    """The websockets of the test server subscribed to ``target`` (a record
    or a channel name): the ones a NOTIFY about it wakes."""
    return dispatch._channels_to_ws.get(hashable(channel_with_db(db_name, target)), ())


def wake_sockets(db_name, targets):
    """What PostgreSQL's NOTIFY does after a commit in production: the
    websockets subscribed to ``targets`` (records or channel names) poll the
    bus. Tests never commit their transaction, so they call this instead."""
    websockets = set()
    for target in targets:
        websockets.update(sockets_following(db_name, target))
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
