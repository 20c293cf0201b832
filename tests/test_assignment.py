from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import CommittedTicketData, TicketCommon


def set_presence(users, status="online"):
    """Give ``users`` a bus presence, as their open web client would."""
    env = users.env
    presences = env["bus.presence"].sudo().search([("user_id", "in", users.ids)])
    presences.write({"status": status, "last_poll": fields.Datetime.now()})
    missing = users - presences.user_id
    env["bus.presence"].sudo().create(
        [
            {"user_id": user.id, "status": status, "last_poll": fields.Datetime.now()}
            for user in missing
        ]
    )
    env["res.users"].invalidate_model(["im_status"])


@tagged("post_install", "-at_install")
class TestTicketAssignment(TicketCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent_3 = cls._new_agent("ticket_agent_3", "Carl Agent")
        cls.operators = (cls.agent | cls.agent_2 | cls.agent_3).sorted("id")
        cls.team.write({"user_ids": [(6, 0, cls.operators.ids)], "ticket_turn_sequence_id": False})

    def _tickets(self, count, **vals):
        return [self._new_ticket(self.customer_a, f"ticket {i}", **vals) for i in range(count)]

    def test_default_agent_takes_every_ticket_even_offline(self):
        set_presence(self.agent, "offline")
        tickets = self._tickets(3)
        self.assertEqual({t.user_id for t in tickets}, {self.agent})

    def test_round_robin_in_turn_and_persisted(self):
        self.team.ticket_assignment = "round_robin"
        set_presence(self.operators)
        first = [t.user_id for t in self._tickets(3)]
        self.assertEqual(first, list(self.operators))
        self.assertTrue(
            self.team.ticket_turn_sequence_id, "the turn is kept in a database sequence"
        )
        # a restart keeps nothing in memory: the pointer is in the database
        self.env.invalidate_all()
        again = [t.user_id for t in self._tickets(4)]
        self.assertEqual(again, [*self.operators, self.operators[0]])

    def test_offline_operators_are_skipped(self):
        self.team.ticket_assignment = "round_robin"
        set_presence(self.agent | self.agent_3)
        set_presence(self.agent_2, "offline")
        agents = {t.user_id for t in self._tickets(4)}
        self.assertEqual(agents, {self.agent, self.agent_3})

    def test_nobody_online_waits_then_cron_assigns(self):
        self.team.ticket_assignment = "balanced"
        set_presence(self.operators, "offline")
        urgent, normal = (
            self._new_ticket(self.customer_a, priority="3"),
            self._new_ticket(self.customer_a),
        )
        self.assertFalse(urgent.user_id | normal.user_id, "waits unassigned in the queue")
        self.assertEqual(urgent.channel_id.livechat_operator_id, self.env.ref("base.partner_root"))
        set_presence(self.agent_2)
        self.env["im_livechat.channel"]._cron_assign_waiting_tickets()
        self.assertEqual(urgent.user_id, self.agent_2)
        self.assertEqual(normal.user_id, self.agent_2)
        self.assertIn(self.agent_2.partner_id, urgent.channel_id.channel_member_ids.partner_id)
        self.assertIn("took this ticket from the queue", urgent.channel_id.message_ids[0].body)

    def test_balanced_picks_the_least_loaded(self):
        self.team.ticket_assignment = "balanced"
        set_presence(self.operators)
        self._new_ticket(self.customer_a).action_assign(self.agent)
        self._new_ticket(self.customer_a).action_assign(self.agent)
        self._new_ticket(self.customer_a).action_assign(self.agent_2)
        resolved = self._new_ticket(self.customer_a)
        resolved.action_assign(self.agent_3)
        resolved.action_resolve()
        # counts now: agent 2 (+ whatever the setup gave), agent_2 1, agent_3 0
        counts = self.team._get_open_ticket_counts(self.operators)
        least = min(self.operators, key=lambda user: (counts[user.id], user.id))
        self.assertEqual(self._new_ticket(self.customer_a).user_id, least)

    def test_capacity_and_backfill_on_resolve(self):
        self.team.write({"ticket_assignment": "round_robin", "ticket_max_open": 1})
        self.team.user_ids = self.agent | self.agent_2
        set_presence(self.agent | self.agent_2)
        for user in self.agent | self.agent_2:
            self.env["im_livechat.ticket"].search([("user_id", "=", user.id)]).action_resolve()
        first, second = self._tickets(2)
        self.assertEqual(first.user_id | second.user_id, self.agent | self.agent_2)
        low = self._new_ticket(self.customer_a, "low", priority="0")
        urgent = self._new_ticket(self.customer_a, "urgent", priority="3")
        self.assertFalse(low.user_id | urgent.user_id, "everybody is full")
        freed = first.user_id
        first.action_resolve()
        self.assertEqual(
            urgent.user_id, freed, "the freed agent takes the most urgent waiting ticket"
        )
        self.assertFalse(low.user_id)
        second.action_resolve()
        self.assertEqual(low.user_id, second.user_id)

    def test_capacity_applies_to_default_agent(self):
        self.team.ticket_max_open = 1
        for ticket in self.env["im_livechat.ticket"].search([("user_id", "=", self.agent.id)]):
            ticket.action_resolve()
        first, waiting = self._tickets(2)
        self.assertEqual(first.user_id, self.agent)
        self.assertFalse(waiting.user_id)
        first.action_resolve()
        self.assertEqual(waiting.user_id, self.agent)

    def test_unanswered_ticket_is_reassigned(self):
        # the team's demo tickets were assigned at install, minutes ago on a slow run
        others = self.env["im_livechat.ticket"].search([("livechat_channel_id", "=", self.team.id)])
        others.assign_date = fields.Datetime.now()
        self.team.write({"ticket_assignment": "round_robin", "ticket_reassign_minutes": 10})
        set_presence(self.operators)
        ticket = self._new_ticket(self.customer_a)
        first_agent = ticket.user_id
        self.assertTrue(ticket.assign_date)
        # not late yet
        self.assertFalse(self.team._reassign_unanswered_tickets())
        ticket.assign_date = fields.Datetime.subtract(fields.Datetime.now(), minutes=11)
        answered = self._new_ticket(self.customer_a)
        answered.channel_id.with_user(answered.user_id).message_post(
            body="Hi", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        answered.assign_date = fields.Datetime.subtract(fields.Datetime.now(), minutes=30)
        moved = self.team._reassign_unanswered_tickets()
        self.assertEqual(moved, ticket, "an answered ticket stays")
        self.assertNotEqual(ticket.user_id, first_agent)
        self.assertIn(ticket.user_id.partner_id, ticket.channel_id.channel_member_ids.partner_id)
        self.assertIn("did not answer within 10 minutes", ticket.channel_id.message_ids[0].body)


@tagged("post_install", "-at_install")
class TestTicketAssignmentConcurrency(CommittedTicketData, TransactionCase):
    """Two transactions creating tickets at the same time, committed for
    real: the round robin never gives the same slot twice and capacity is
    never exceeded. Data is committed, so it is removed at the end."""

    def _commit_online_team(self, max_open):
        """Two online agents in a round-robin team, committed."""
        data = self._commit_team(ticket_assignment="round_robin", ticket_max_open=max_open)
        with self._new_transaction() as env:
            set_presence(env["res.users"].browse(data.agent_ids))
        return data

    def _create_concurrently(self, data):
        """Transaction 1 creates a ticket and holds its transaction open while
        transaction 2 creates another; then 1 commits. Returns the agent each
        ticket got."""

        def create(env):
            ticket = env["im_livechat.ticket"].create(
                {
                    "name": "concurrent",
                    "partner_id": data.customer_id,
                    "livechat_channel_id": data.team_id,
                    "first_message": "hi",
                }
            )
            return ticket.user_id.id

        return self._race_transactions(create, create)

    @mute_logger("odoo.sql_db")  # the expected serialisation failure before the retry
    def test_round_robin_never_gives_a_slot_twice(self):
        data = self._commit_online_team(max_open=0)
        results = self._create_concurrently(data)
        self.assertNotIn("failed", str(results))
        self.assertEqual(sorted([results[1], results[2]]), sorted(data.agent_ids))

    @mute_logger("odoo.sql_db")
    def test_capacity_is_never_exceeded(self):
        data = self._commit_online_team(max_open=1)
        with self._new_transaction() as env:
            env["im_livechat.channel"].browse(data.team_id).user_ids = [(6, 0, data.agent_ids[:1])]
        results = self._create_concurrently(data)
        self.assertNotIn("failed", str(results))
        self.assertEqual(sorted([results[1], results[2]], key=bool), [False, data.agent_ids[0]])
