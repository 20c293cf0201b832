import threading
from unittest.mock import patch

from odoo.tests import new_test_user, tagged

from odoo.addons.bus.models.bus import channel_with_db, dispatch, hashable
from odoo.addons.bus.tests.common import WebsocketCase

from .common import run_tour_beside

LIVE_SUBJECT = "Live ticket: the saddle squeaks"


@tagged("post_install", "-at_install")
class TestAgentQueueTour(WebsocketCase):
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
        Ticket = cls.env["im_livechat.ticket"].with_context(tracking_disable=True)
        # deterministic counts: no demo tickets
        Ticket.search([]).unlink()
        cls.agent = new_test_user(
            cls.env,
            login="queue_agent",
            password="queue_agent",
            name="Quinn Queue",
            groups="base.group_user,im_livechat.im_livechat_group_user",
        )
        cls.customer = new_test_user(
            cls.env, login="queue_customer", name="Carl Cyclist", groups="base.group_portal"
        )
        cls.team = cls.env.ref("im_livechat_ticket.im_livechat_channel_customer_support")
        cls.team.write(
            {
                "user_ids": [(4, cls.agent.id)],
                # no default agent: new tickets wait in the queue until taken
                "ticket_assignment": "default",
                "ticket_default_user_id": False,
                "ticket_calendar_id": False,
                "ticket_sla_risk_hours": 2,
                "ticket_sla_ids": [
                    (5, 0, 0),
                    # urgent: answer within 1 hour, at risk at once (2 hours before)
                    (0, 0, {"priority": "3", "first_response_hours": 1, "resolution_hours": 8}),
                    (0, 0, {"priority": "2", "first_response_hours": 24, "resolution_hours": 48}),
                ],
            }
        )

        def new(name, priority="1", agent=cls.agent):
            return Ticket.create(
                {
                    "name": name,
                    "partner_id": cls.customer.partner_id.id,
                    "priority": priority,
                    "user_id": agent.id,
                }
            )

        cls.done = new("Bell fixed")
        cls.done.with_user(cls.agent).action_resolve()
        cls.urgent = new("Brakes fail", "3")  # my open, urgent, SLA at risk
        cls.late = new("Chain rusty", "2")  # my open, SLA breached (below)
        cls.waiting = new("Pedal loose", agent=cls.env["res.users"])  # waiting for an agent
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE im_livechat_ticket"
            " SET sla_response_deadline = now() at time zone 'UTC' - interval '1 hour'"
            " WHERE id = %s",
            [cls.late.id],
        )
        cls.env.invalidate_all()
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
        group_channel = hashable(channel_with_db(self.registry.db_name, self.agents_group))

        def create_ticket(env):
            customer = env["res.users"].browse(self.customer.id)
            return (
                env["im_livechat.ticket"]
                .with_user(customer)
                ._portal_create_ticket(LIVE_SUBJECT, "It squeaks at every turn of the pedals.")
                .id
            )

        ticket_id = run_tour_beside(
            self,
            "im_livechat_ticket_agent_queue_tour",
            url="/odoo/action-im_livechat_ticket.action_ticket_queue",
            login="queue_agent",
            # the agent's websocket listens to the agents' group (it did long ago)
            ready=lambda: ticket_taken.is_set() and dispatch._channels_to_ws.get(group_channel),
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
