import json

from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import CommittedTicketData


@tagged("post_install", "-at_install")
class TestTicketConcurrency(CommittedTicketData, TransactionCase):
    """Two agents act on the same ticket at the same moment, in two real
    transactions (committed, then cleaned up): one wins, the other gets a
    clear message after Odoo's retry, and the ticket's conversation gets one
    notice and the bus one event."""

    def setUp(self):
        super().setUp()
        # two who act, two more who can be assigned (reassignment race)
        data = self._commit_team(agents=4, ticket_assignment="default")
        self.agent_ids = data.agent_ids
        with self._new_transaction() as env:
            ticket = env["im_livechat.ticket"].create(
                {
                    "name": "Race",
                    "partner_id": data.customer_id,
                    "livechat_channel_id": data.team_id,
                    "first_message": "hi",
                }
            )
            self.ticket_id, self.channel_id = ticket.id, ticket.channel_id.id

    def _race(self, action_1, action_2):
        """Agent 1 acts and keeps its transaction open while agent 2 acts on
        the same ticket; then agent 1 commits."""
        return self._race_transactions(action_1, action_2, uids=self.agent_ids[:2])

    def _on_ticket(self, method, *args, result=None, **context):
        """An action for ``_race`` and ``_attempt``: ``method(*args)`` on the
        ticket, with ``context``; returns ``result``, by default what it returned."""

        def act(env):
            ticket = env["im_livechat.ticket"].browse(self.ticket_id).with_context(**context)
            returned = getattr(ticket, method)(*args)
            return returned if result is None else result

        return act

    def _read(self, query, params):
        with self.registry.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def _events(self, event):
        return self._read(
            """SELECT count(*) FROM bus_bus
                WHERE channel LIKE '%%res.groups%%'
                  AND message::jsonb -> 'type' = %s
                  AND (message::jsonb -> 'payload' ->> 'id')::int = %s""",
            [json.dumps(f"im_livechat.ticket/{event}"), self.ticket_id],
        )[0][0]

    def _owner(self):
        """The ticket's agent, as committed."""
        return self._read("SELECT user_id FROM im_livechat_ticket WHERE id = %s", [self.ticket_id])[
            0
        ][0]

    def _agent_members(self):
        """The agents of this test who are members of the conversation."""
        rows = self._read(
            """SELECT u.id FROM discuss_channel_member m
                JOIN res_users u ON u.partner_id = m.partner_id
                WHERE m.channel_id = %s AND u.id = ANY(%s)""",
            [self.channel_id, self.agent_ids],
        )
        return {row[0] for row in rows}

    def _notification_count(self):
        return self._read(
            "SELECT count(*) FROM mail_message WHERE model = 'discuss.channel' AND res_id = %s "
            "AND message_type = 'notification'",
            [self.channel_id],
        )[0][0]

    def _notices(self, text):
        return self._read(
            "SELECT count(*) FROM mail_message"
            " WHERE model = 'discuss.channel' AND res_id = %s AND body LIKE %s",
            [self.channel_id, f"%{text}%"],
        )[0][0]

    @mute_logger("odoo.sql_db")
    def test_two_agents_resolve_at_once(self):
        resolve = self._on_ticket("action_resolve", result="resolved")
        results = self._race(resolve, resolve)
        self.assertEqual(results[1], "resolved")
        self.assertIn("already resolved", results[2], "the second agent is told, clearly")
        self.assertEqual(self._notices("resolved this ticket"), 1, "one notice in the conversation")
        self.assertEqual(self._events("resolved"), 1, "one resolved event")

    @mute_logger("odoo.sql_db")
    def test_two_agents_take_at_once(self):
        take = self._on_ticket("action_take", result="took")
        results = self._race(take, take)
        self.assertEqual(results[1], "took")
        self.assertIn("already took", results[2])
        owner = self._owner()
        self.assertEqual(owner, self.agent_ids[0])
        self.assertEqual(
            self._agent_members(), {self.agent_ids[0]}, "only the winner joined the conversation"
        )

    @mute_logger("odoo.sql_db")
    def test_resolve_and_reopen_at_once(self):
        # committed for real: the next transactions must see it
        with self._new_transaction() as env:
            env["im_livechat.ticket"].browse(self.ticket_id).action_resolve()

        reopen = self._on_ticket("action_reopen", result="reopened")
        results = self._race(reopen, reopen)
        self.assertEqual(results[1], "reopened")
        self.assertIn("only a resolved ticket can be reopened", results[2])
        self.assertEqual(self._notices("reopened this ticket"), 1)
        state = self._read("SELECT state FROM im_livechat_ticket WHERE id = %s", [self.ticket_id])[
            0
        ][0]
        self.assertEqual(state, "new")

    @mute_logger("odoo.sql_db")
    def test_two_agents_reassign_at_once(self):
        """Both saw the ticket unassigned and give it to different colleagues."""
        winner, loser = self.agent_ids[2], self.agent_ids[3]
        self.assertFalse(self._agent_members(), "nobody assigned yet")
        updated_before = self._events("updated")
        notices_before = self._notification_count()

        def assign_to(user_id):
            return self._on_ticket(
                "action_assign", user_id, result="assigned", ticket_expected_user_id=False
            )

        results = self._race(assign_to(winner), assign_to(loser))
        self.assertEqual(results[1], "assigned")
        self.assertIn("was just assigned to", results[2], "the second one is told, clearly")
        self.assertIn("reload it", results[2])
        owner = self._owner()
        self.assertEqual(owner, winner)
        self.assertEqual(self._agent_members(), {winner}, "the losing assignee is not a member")
        operator = self._read(
            """SELECT u.id FROM discuss_channel c
                JOIN res_users u ON u.partner_id = c.livechat_operator_id
                WHERE c.id = %s""",
            [self.channel_id],
        )[0][0]
        self.assertEqual(operator, winner, "the conversation's operator is the winner")
        # the winner's arrival ("invited ... to the channel"), once
        self.assertEqual(
            self._notification_count() - notices_before, 1, "one notice in the conversation"
        )
        self.assertEqual(self._events("updated") - updated_before, 1, "one updated event")

    @mute_logger("odoo.sql_db")
    def test_reassign_without_expected_agent_takes_over(self):
        """Without saying what it saw, an assignment is a plain write: the
        later one wins (a manager's deliberate reassignment)."""
        first, second = self.agent_ids[2], self.agent_ids[3]

        def assign_to(user_id):
            return self._on_ticket("action_assign", user_id, result="assigned")

        results = self._race(assign_to(first), assign_to(second))
        self.assertEqual(results, {1: "assigned", 2: "assigned"})
        owner = self._owner()
        self.assertEqual(owner, second)

    @mute_logger("odoo.sql_db")
    def test_two_agents_edit_the_agent_field_at_once(self):
        """Both loaded the form with the ticket unassigned and pick different
        colleagues in the Agent field: the form saves through ``web_save``
        with the agent it loaded (``loaded_user_id``); the second save is
        refused like the actions, not a silent overwrite."""
        winner, loser = self.agent_ids[2], self.agent_ids[3]
        updated_before = self._events("updated")

        def save_agent(user_id):
            return self._on_ticket(
                "web_save", {"user_id": user_id, "loaded_user_id": False}, {}, result="saved"
            )

        results = self._race(save_agent(winner), save_agent(loser))
        self.assertEqual(results[1], "saved")
        self.assertIn("was just assigned to", results[2], "the second one is told, clearly")
        owner = self._owner()
        self.assertEqual(owner, winner)
        self.assertEqual(self._agent_members(), {winner}, "the losing assignee is not a member")
        self.assertEqual(self._events("updated") - updated_before, 1, "one updated event")

    def test_agent_field_saved_after_a_reassignment_is_refused(self):
        """A form loaded before a colleague's reassignment, saved after it."""
        colleague, mine = self.agent_ids[2], self.agent_ids[3]
        results = {}
        self._attempt(
            self.agent_ids[0], self._on_ticket("action_assign", colleague), results, "colleague"
        )
        stale_save = self._on_ticket("web_save", {"user_id": mine, "loaded_user_id": False}, {})
        self._attempt(self.agent_ids[1], stale_save, results, "stale form")
        self.assertIn("was just assigned to", results["stale form"])
        # a form loaded after it saves; other fields save without the check
        fresh_save = self._on_ticket(
            "web_save", {"user_id": mine, "loaded_user_id": colleague, "priority": "2"}, {}
        )
        self._attempt(self.agent_ids[1], fresh_save, results, "fresh form")
        self.assertNotIn("refused", str(results["fresh form"]))
        owner, priority = self._read(
            "SELECT user_id, priority FROM im_livechat_ticket WHERE id = %s", [self.ticket_id]
        )[0]
        self.assertEqual((owner, priority), (mine, "2"))
