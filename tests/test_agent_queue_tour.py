import threading
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketFixtures, sockets_following

LIVE_SUBJECT = "Live ticket: the saddle squeaks"


@tagged("post_install", "-at_install")
class TestAgentQueueTour(TicketFixtures, WebsocketCase):
    """The agents' queue in a real browser: the dashboard counts, a ticket
    that arrives while the agent looks at the queue shows up without reload,
    and the agent takes and resolves it.

    In a test the transaction is never committed, so the NOTIFY that wakes
    the websockets in production never fires: a background thread creates
    the ticket once the queue is on screen and dispatches the bus by hand,
    as NOTIFY would after the commit. ``WebsocketCase`` lets the browser's
    websocket in (plain ``HttpCase`` refuses websockets in test mode)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # deterministic counts: no demo tickets
        cls.env["im_livechat.ticket"].search([]).unlink()
        # no default agent: new tickets wait in the queue until taken
        cls.team.ticket_default_user_id = False
        cls._set_queue_service_levels()

        def new(name, priority="1", agent=cls.agent):
            return cls._new_queue_ticket(cls.customer_a, name, priority=priority, user_id=agent.id)

        cls.done = new("Bell fixed")
        cls.done.with_user(cls.agent).action_resolve()
        cls.urgent = new("Brakes fail", "3")  # my open, urgent, SLA at risk
        cls.late = new("Chain rusty", "2")  # my open, SLA breached (below)
        cls.waiting = new("Pedal loose", agent=cls.env["res.users"])  # waiting for an agent
        cls._breach_first_response(cls.late)
        cls.agents_group = cls.env.ref("im_livechat.im_livechat_group_user")

    def test_queue_live_update_and_resolve(self):
        counts = self.env["im_livechat.ticket"].with_user(self.agent).get_queue_dashboard()
        self.assertEqual(
            counts,
            {
                "waiting": 1,
                "my_open": 2,
                "urgent": 1,
                "sla_at_risk": 1,
                "sla_breached": 1,
                "resolved_today": 1,
            },
        )
        # The browser shows the queue and took the waiting ticket: now a
        # customer opens a new one. (Taking is a distinct server call that
        # tells the thread where the tour is.)
        ticket_taken = threading.Event()
        Ticket = self.registry["im_livechat.ticket"]
        action_assign = Ticket.action_assign

        def action_assign_spy(records, *args, **kwargs):
            result = action_assign(records, *args, **kwargs)
            ticket_taken.set()
            return result

        self.startPatcher(patch.object(Ticket, "action_assign", action_assign_spy))
        db_name = self.registry.db_name

        def create_ticket(env):
            customer = env["res.users"].browse(self.customer_a.id)
            return (
                env["im_livechat.ticket"]
                .with_user(customer)
                ._portal_create_ticket(LIVE_SUBJECT, "It squeaks at every turn of the pedals.")
                .id
            )

        ticket_id = self._run_queue_tour_beside(
            "im_livechat_ticket_agent_queue_tour",
            # the agent's websocket listens to the agents' group (it did long ago)
            ready=lambda: ticket_taken.is_set() and sockets_following(db_name, self.agents_group),
            action=create_ticket,
            wake=[self.agents_group],
            # let the queue reload after taking, so that only the bus can
            # bring the new ticket to the screen
            settle=1.5,
        )

        self.assertTrue(ticket_id, "the live ticket was not created")
        self.env.invalidate_all()
        ticket = self.env["im_livechat.ticket"].browse(ticket_id)
        self.assertEqual(ticket.name, LIVE_SUBJECT)
        self.assertEqual(self.waiting.user_id, self.agent, "taken from the queue")
        self.assertEqual(ticket.user_id, self.agent, "taken from the queue")
        self.assertEqual(ticket.state, "resolved")
        self.assertTrue(ticket.resolved_date)
