import threading
import time
from unittest.mock import patch

import odoo
from odoo import sql_db
from odoo.tests import BaseCase, tagged

from ..patches import db_pool_wait


@tagged("post_install", "-at_install")
class TestDbPoolWait(BaseCase):
    """The websocket process's pool waits for a connection instead of failing
    (a reconnect storm), against the real PostgreSQL: a pool of one connection,
    a second borrower, and the first giving its connection back."""

    def setUp(self):
        super().setUp()
        self.dsn = sql_db.connection_info_for(odoo.tests.get_db_name())[1]
        self.pool = sql_db.ConnectionPool(maxconn=1)
        self.addCleanup(self.pool.close_all)
        self.waiting_borrow = db_pool_wait._waiting_borrow(sql_db.ConnectionPool.borrow)
        self.give_back = db_pool_wait._notifying_give_back(sql_db.ConnectionPool.give_back)

    def test_odoo_alone_fails_on_a_full_pool(self):
        connection = self.pool.borrow(self.dsn)
        self.addCleanup(self.pool.give_back, connection)
        with self.assertRaisesRegex(sql_db.PoolError, "Full"):
            sql_db.ConnectionPool.borrow(self.pool, self.dsn)

    def test_a_borrower_waits_for_the_connection_given_back(self):
        connection = self.waiting_borrow(self.pool, self.dsn)
        got, errors = [], []

        def second_borrower():
            try:
                got.append(self.waiting_borrow(self.pool, self.dsn))
            except sql_db.PoolError as error:
                errors.append(error)

        thread = threading.Thread(target=second_borrower)
        thread.start()
        time.sleep(0.3)
        self.assertFalse(got, "the second borrower must wait while the pool is full")
        self.give_back(self.pool, connection)
        thread.join(5)
        self.assertFalse(errors)
        self.assertEqual(len(got), 1)
        with got[0].cursor() as cr:
            cr.execute("SELECT 1")
            self.assertEqual(cr.fetchone(), (1,))
        self.pool.give_back(got[0])

    def test_the_wait_is_bounded(self):
        connection = self.waiting_borrow(self.pool, self.dsn)
        self.addCleanup(self.give_back, self.pool, connection)
        started = time.monotonic()
        with patch.object(db_pool_wait, "WAIT_SECONDS", 0.2), self.assertRaises(sql_db.PoolError):
            self.waiting_borrow(self.pool, self.dsn)
        self.assertLess(time.monotonic() - started, 2)

    def test_applied_in_the_websocket_process_only(self):
        Pool = sql_db.ConnectionPool
        odoo_borrow, odoo_give_back = Pool.borrow, Pool.give_back
        with (
            patch.object(Pool, "borrow", odoo_borrow),
            patch.object(Pool, "give_back", odoo_give_back),
        ):
            self.assertFalse(db_pool_wait.apply(), "a threaded server or HTTP worker keeps Odoo's")
            self.assertIs(Pool.borrow, odoo_borrow)
            with patch.object(odoo, "evented", True):
                self.assertTrue(db_pool_wait.apply())
                self.assertTrue(Pool.borrow.imlt_waits)
                self.assertTrue(db_pool_wait.apply(), "applying twice wraps once")
                self.assertIs(Pool.borrow.__wrapped__, odoo_borrow)
                self.assertIs(Pool.give_back.__wrapped__, odoo_give_back)
        self.assertIs(Pool.borrow, odoo_borrow)
        self.assertIs(Pool.give_back, odoo_give_back)

    def test_steps_aside_when_odoo_has_no_such_pool(self):
        with (
            patch.object(odoo, "evented", True),
            patch.object(sql_db.ConnectionPool, "borrow", None),
            self.assertLogs("odoo.addons.im_livechat_ticket.patches.db_pool_wait", "WARNING"),
        ):
            self.assertFalse(db_pool_wait.apply())
