"""Odoo's bus dispatcher, back within a second after losing PostgreSQL.

The websocket process relays PostgreSQL's ``NOTIFY imbus`` to the sockets
through one ``LISTEN`` connection (``ImDispatch`` in bus/models/bus.py). When
that connection dies (PostgreSQL restarted, connection killed), Odoo 18 sleeps
``TIMEOUT`` (50 s) before it listens again: nothing is pushed for 50 s, and the
notifications sent meanwhile wake nobody, so a socket whose conversation stays
silent afterwards shows nothing new until its next notification.

Here the dispatcher listens again after a short back-off (0.5 s, doubling up to
``MAX_BACKOFF``), and once listening it wakes every open socket once: each polls
``bus.bus`` from its last notification id and gets the rows written during the
outage. ``TIMEOUT`` itself is left alone: it is also the bus's replay window
(``bus.bus._gc_messages`` keeps rows ``TIMEOUT * 2``) and the first poll's look
back. Nothing here depends on gevent: in a threaded server (tests, workers=0)
the dispatcher is a thread and the same code runs.

This changes Odoo for the whole process, not one database: ``apply`` runs from
the manifest's ``post_load`` hook, and steps aside with a warning when Odoo's
``loop`` or ``run`` is not the code it was written against (``_loop`` is a copy
of Odoo's with a few lines added: it must not silently replace a newer one).
doc/upstream-bus-dispatch.md has the change as it would be proposed to Odoo.
"""

import hashlib
import inspect
import io
import json
import logging
import selectors
import textwrap
import threading
import tokenize

from psycopg2 import InterfaceError

import odoo

from odoo.addons.bus.models import bus

_logger = logging.getLogger(__name__)

MIN_BACKOFF = 0.5
MAX_BACKOFF = 8.0
# sockets woken at once after listening again, and the pause between two batches
WAKE_BATCH = 32
WAKE_PAUSE = 0.05


def _wake_all_websockets(dispatcher):
    """Make every subscribed socket poll once (what ``loop`` does for the
    sockets of notified channels), e.g. for rows written while nobody listened.
    In batches: each poll borrows a database cursor, and the pool is small."""
    # copied at once: subscriptions change in other greenlets or threads
    subscriptions = list(dispatcher._channels_to_ws.values())
    websockets = list(set().union(*subscriptions)) if subscriptions else []
    for start in range(0, len(websockets), WAKE_BATCH):
        if start:
            bus.stop_event.wait(WAKE_PAUSE)
        for websocket in websockets[start : start + WAKE_BATCH]:
            websocket.trigger_notification_dispatching()
    return len(websockets)


def _loop(self):
    """Odoo 18's ``ImDispatch.loop`` (copied as is), plus: once listening
    again after a loss, wake every socket."""
    _logger.info("Bus.loop listen imbus on db postgres")
    with odoo.sql_db.db_connect("postgres").cursor() as cr, selectors.DefaultSelector() as sel:
        cr.execute("listen imbus")
        # LISTEN takes effect at commit, as in Odoo's own loop
        cr.commit()  # pylint: disable=invalid-commit
        self._imlt_listening = True
        if getattr(self, "_imlt_lost_listen", False):
            self._imlt_lost_listen = False
            # aside, so that new notifications are relayed meanwhile
            threading.Thread(
                target=_wake_all_websockets, args=(self,), daemon=True, name=f"{__name__}.wake"
            ).start()
            _logger.info("Bus.loop listening again; every websocket polls what it missed")
        conn = cr._cnx
        sel.register(conn, selectors.EVENT_READ)
        while not bus.stop_event.is_set():
            if sel.select(bus.TIMEOUT):
                conn.poll()
                channels = []
                while conn.notifies:
                    channels.extend(json.loads(conn.notifies.pop().payload))
                # relay notifications to websockets that have
                # subscribed to the corresponding channels.
                websockets = set()
                for channel in channels:
                    websockets.update(self._channels_to_ws.get(bus.hashable(channel), []))
                for websocket in websockets:
                    websocket.trigger_notification_dispatching()


def _run(self):
    """Odoo's ``ImDispatch.run`` with a short, growing back-off instead of
    a flat ``TIMEOUT`` sleep after a lost connection."""
    backoff = MIN_BACKOFF
    while not bus.stop_event.is_set():
        self._imlt_listening = False
        try:
            self.loop()
        except Exception as exc:  # noqa: BLE001 - as Odoo's: log, wait, listen again
            if isinstance(exc, InterfaceError) and bus.stop_event.is_set():
                continue
            if self._imlt_listening:
                backoff = MIN_BACKOFF  # it was listening: a fresh outage
            self._imlt_lost_listen = True
            _logger.warning(
                "Bus.loop error, listening again in %.1f s",
                backoff,
                exc_info=backoff == MIN_BACKOFF,
            )
            bus.stop_event.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)


# The fingerprints of Odoo 18.0's ImDispatch.loop and .run that _loop and _run
# were written against (code_fingerprint: comments and layout do not count).
ODOO_FINGERPRINTS = {
    "loop": "955eecf8193958a2193ec4044cb1efb112b2af2341ebfae8b56875b6c51143ff",
    "run": "64e8e4677111cddc11ac8d312538b839f2a3788c684c1a2e0c911165563d64ef",
}

# Odoo's methods as they were before apply replaced them
ODOO_METHODS = {}


def code_fingerprint(function):
    """sha256 of the function's tokens: the same for the same code whatever
    its comments, blank lines or indentation width, on every Python version."""
    source = textwrap.dedent(inspect.getsource(function))
    tokens = [
        # an indent's width is layout; that there is one is structure
        (token.type, "" if token.type in (tokenize.INDENT, tokenize.DEDENT) else token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type not in (tokenize.COMMENT, tokenize.NL)
    ]
    return hashlib.sha256(repr(tokens).encode()).hexdigest()


def apply(dispatch_class=None):
    """Put ``_loop`` and ``_run`` in place of ``dispatch_class``'s (Odoo's
    ``ImDispatch`` by default) if its methods are the ones they were written
    against; otherwise log a warning and leave Odoo's. Returns whether the
    class is patched. The dispatcher thread starts lazily, at the first
    subscription: replacing class attributes at load time is enough."""
    dispatch_class = dispatch_class or bus.ImDispatch
    if dispatch_class.loop is _loop and dispatch_class.run is _run:
        return True
    changed = [
        name
        for name, fingerprint in ODOO_FINGERPRINTS.items()
        if code_fingerprint(getattr(dispatch_class, name)) != fingerprint
    ]
    if changed:
        _logger.warning(
            "im_livechat_ticket: Odoo's bus dispatcher (%s.%s: %s) is not the code this "
            "module's quick reconnection was written for; keeping Odoo's own (after losing "
            "PostgreSQL, the bus waits %s s before it listens again).",
            dispatch_class.__module__,
            dispatch_class.__qualname__,
            ", ".join(changed),
            bus.TIMEOUT,
        )
        return False
    # kept for the tests: what the patch replaced
    ODOO_METHODS.setdefault("loop", dispatch_class.loop)
    ODOO_METHODS.setdefault("run", dispatch_class.run)
    dispatch_class.loop = _loop
    dispatch_class.run = _run
    return True
