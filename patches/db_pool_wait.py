"""The websocket process waits for a database connection instead of failing.

Odoo's connection pool raises ``PoolError: The Connection Pool Is Full`` as
soon as ``db_maxconn_gevent`` connections are in use. In the gevent process
that is what a reconnect storm meets: after a restart every open tab
reconnects within a few seconds, each handshake and first subscription
borrows a connection, and gevent starts them all at once. The handshakes that
find the pool full fail with a logged traceback and their tabs retry later
(Odoo's own ``acquire_cursor`` in bus/websocket.py retries the same way, but
only for a socket's messages, not for the handshake's HTTP request).

Here, in the gevent process only, a borrow that finds the pool full waits
(cooperatively) until a connection is given back, up to ``WAIT_SECONDS``, and
only then raises as Odoo does. The pool then works
as a queue in front of PostgreSQL: the storm is served at the speed of the
machine, without errors and without more connections. HTTP workers and
threaded servers keep Odoo's behaviour (a worker serves one request at a time
and never waits on its own pool).

Applied from the manifest's ``post_load`` with the other patches; it wraps
``ConnectionPool.borrow`` and ``give_back`` without copying them, and steps
aside with a warning if they are gone (nothing to do outside the gevent
process).
"""

import contextlib
import functools
import logging
import threading
import time

import odoo
from odoo import sql_db

_logger = logging.getLogger(__name__)

WAIT_SECONDS = 30.0

_conditions_lock = threading.Lock()


def _returned(pool):
    """The condition a pool's waiting borrowers wait on: notified each time a
    connection comes back. Per pool (the read-only pool is another one)."""
    condition = pool.__dict__.get("_imlt_returned")
    if condition is None:
        with _conditions_lock:  # created once per pool
            condition = pool.__dict__.get("_imlt_returned")
            if condition is None:
                condition = pool._imlt_returned = threading.Condition()
    return condition


def _waiting_borrow(borrow):
    @functools.wraps(borrow)
    def wait_and_borrow(self, connection_info):
        with contextlib.suppress(sql_db.PoolError):
            # the usual case, a free slot: Odoo's borrow as it is
            return borrow(self, connection_info)
        deadline = None
        # Odoo's borrow runs under the pool's own lock anyway: holding the
        # condition around it serialises nothing more, and a connection given
        # back between a failed borrow and the wait cannot be missed
        returned = _returned(self)
        with returned:
            while True:
                try:
                    return borrow(self, connection_info)
                except sql_db.PoolError:
                    now = time.monotonic()
                    deadline = deadline or now + WAIT_SECONDS
                    if now >= deadline:
                        raise
                    # gevent's monkey-patching makes this wait cooperative
                    returned.wait(deadline - now)

    wait_and_borrow.imlt_waits = True
    return wait_and_borrow


def _notifying_give_back(give_back):
    @functools.wraps(give_back)
    def give_back_and_notify(self, connection, keep_in_pool=True):
        try:
            return give_back(self, connection, keep_in_pool=keep_in_pool)
        finally:
            returned = _returned(self)
            with returned:
                returned.notify()

    return give_back_and_notify


def apply():
    if not odoo.evented:
        return False
    pool = sql_db.ConnectionPool
    borrow, give_back = getattr(pool, "borrow", None), getattr(pool, "give_back", None)
    if borrow is None or give_back is None or not hasattr(sql_db, "PoolError"):
        _logger.warning(
            "im_livechat_ticket: Odoo's ConnectionPool is not the one this patch wraps "
            "(borrow, give_back, PoolError); the websocket process keeps failing on a "
            "full pool"
        )
        return False
    if getattr(borrow, "imlt_waits", False):
        return True
    pool.borrow = _waiting_borrow(borrow)
    pool.give_back = _notifying_give_back(give_back)
    _logger.info(
        "im_livechat_ticket: the websocket process waits up to %.0f s for a database "
        "connection when its pool is full",
        WAIT_SECONDS,
    )
    return True
