import json

import odoo
from odoo.tests import BaseCase, tagged

from odoo.addons.bus.models import bus
from odoo.addons.bus.models.bus import channel_with_db, json_dump
from odoo.addons.bus.tests.common import WebsocketCase

from ..patches import bus_dispatch
from .common import TicketFixtures, receive_until

NEW_MESSAGE = "discuss.channel/new_message"


@tagged("post_install", "-at_install")
class TestBusDispatchRecovery(TicketFixtures, WebsocketCase):
    """The server's bus dispatcher loses its LISTEN connection to PostgreSQL
    (as when PostgreSQL restarts): it listens again within a second or two
    and every open socket then gets what was written meanwhile, without
    waiting for a new notification (Odoo alone waits 50 s, and a silent
    conversation stays stale until its next message).

    This runs the real dispatcher thread of the test server against the real
    PostgreSQL: a real ``NOTIFY imbus`` first proves it listens, then its
    connection is terminated with ``pg_terminate_backend``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_ticket("Silent after restart", "Hello")

    def _post(self, session, body):
        return self._post_to_conversation(self.channel, body, session)

    def _postgres(self, query, params=()):
        # the database the dispatcher listens on, as Odoo's own NOTIFY does
        with odoo.sql_db.db_connect("postgres").cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def _receive_body(self, websocket, body, seconds):
        """Whether ``body`` arrives on ``websocket`` within ``seconds``."""

        def is_it(message):
            return message["type"] == NEW_MESSAGE and body in json.dumps(message["payload"])

        return any(map(is_it, receive_until(websocket, is_it, seconds)))

    def test_socket_gets_what_was_written_while_the_bus_did_not_listen(self):
        if bus.ImDispatch.loop is not bus_dispatch._loop:
            self.skipTest("Odoo's bus dispatcher is not the one the patch was written for")
        session = self._login(self.customer_a)
        last = self.env["bus.bus"]._bus_last_id()
        websocket = self.websocket_connect(cookie=f"session_id={session.sid}")
        self.subscribe(websocket, [], last)
        # 1. the dispatcher listens: a real NOTIFY of the conversation wakes the socket
        self._post(session, "before the outage")
        payload = json_dump([channel_with_db(self.registry.db_name, self.channel)])
        for _attempt in range(20):  # its thread connects at the first subscription
            self._postgres("SELECT pg_notify('imbus', %s)", [payload])
            if self._receive_body(websocket, "before the outage", 1):
                break
        else:
            self.fail("the bus dispatcher never relayed a NOTIFY")
        # 2. a message is stored and nobody is notified (in a test nothing is
        # committed, so nothing sends NOTIFY: as during an outage)
        self._post(session, "written while nobody listened")
        # 3. the dispatcher's LISTEN connection dies, as when PostgreSQL restarts
        app_name = odoo.sql_db.connection_info_for("postgres")[1]["application_name"]
        killed = self._postgres(
            """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = 'postgres' AND application_name = %s AND pid != pg_backend_pid()""",
            [app_name],
        )
        self.assertTrue(killed, "the dispatcher's connection of this server was found")
        # 4. listening again, the dispatcher wakes every socket: the message
        # arrives with no new notification (Odoo alone: after 50 s at best)
        self.assertTrue(
            self._receive_body(websocket, "written while nobody listened", 20),
            "the socket got the message written while the bus was not listening",
        )


@tagged("post_install", "-at_install")
class TestBusDispatchPatchGuard(BaseCase):
    """The dispatcher patch replaces Odoo's code for the whole process: it is
    applied from post_load, and only over the code it was written against."""

    def test_applied_over_odoo_18_dispatcher(self):
        # post_load applied it to this server's Odoo 18.0
        self.assertIs(bus.ImDispatch.loop, bus_dispatch._loop)
        self.assertIs(bus.ImDispatch.run, bus_dispatch._run)
        # a class with Odoo's own methods, as they were before the patch
        OdooDispatch = type("OdooDispatch", (), dict(bus_dispatch.ODOO_METHODS))
        self.assertTrue(bus_dispatch.apply(OdooDispatch))
        self.assertIs(OdooDispatch.loop, bus_dispatch._loop)
        self.assertTrue(bus_dispatch.apply(OdooDispatch), "applying twice is harmless")

    def test_steps_aside_from_another_dispatcher(self):
        class ChangedDispatch:
            def loop(self):
                return "a newer Odoo's loop"

            def run(self):
                return "a newer Odoo's run"

        with self.assertLogs(bus_dispatch.__name__, "WARNING") as logs:
            self.assertFalse(bus_dispatch.apply(ChangedDispatch))
        self.assertIn("keeping Odoo's own", logs.output[0])
        self.assertEqual(ChangedDispatch().loop(), "a newer Odoo's loop")
        self.assertEqual(ChangedDispatch().run(), "a newer Odoo's run")

    def test_fingerprint_ignores_layout_not_code(self):
        class Original:
            def loop(self):
                return 1  # a comment

        class Reformatted:
            def loop(self):

                return 1

        class Changed:
            def loop(self):
                return 2

        fingerprint = bus_dispatch.code_fingerprint
        self.assertEqual(fingerprint(Original.loop), fingerprint(Reformatted.loop))
        self.assertNotEqual(fingerprint(Original.loop), fingerprint(Changed.loop))
