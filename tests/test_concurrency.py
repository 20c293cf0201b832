import json
import threading
import time
import uuid

import psycopg2.errors

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestTicketConcurrency(TransactionCase):
    """Two agents act on the same ticket at the same moment, in two real
    transactions (committed, then cleaned up): one wins, the other gets a
    clear message after Odoo's retry, and the ticket's conversation gets one
    notice and the bus one event."""

    def _env(self, cr, uid=SUPERUSER_ID):
        # the loading thread holds the registry lock: reuse the registry
        cr.transaction = api.Transaction(self.registry)
        return api.Environment(cr, uid, {})

    def _attempt(self, uid, action, results, key, hold=None):
        """Run ``action(env)`` as ``uid`` in its own transaction, retrying a
        serialisation failure as Odoo's request handling does."""
        for _attempt in range(5):
            with self.registry.cursor() as cr:
                env = self._env(cr, uid)
                try:
                    results[key] = action(env)
                    if hold:
                        # write now (the ORM flushes lazily) so that the row
                        # stays locked while the other agent acts
                        env.flush_all()
                        hold()
                    # committed for real: the other agent's transaction must see it
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

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            suffix = uuid.uuid4().hex[:8]
            self.agents = env["res.users"]
            # two who act, two more who can be assigned (reassignment race)
            for i in range(4):
                self.agents |= new_test_user(
                    env,
                    login=f"race_agent_{i}_{suffix}",
                    groups="base.group_user,im_livechat.im_livechat_group_user",
                )
            team = env["im_livechat.channel"].create(
                {
                    "name": f"Race team {suffix}",
                    "user_ids": [(6, 0, self.agents.ids)],
                    "ticket_assignment": "default",
                }
            )
            customer = env["res.partner"].create({"name": f"Race customer {suffix}"})
            ticket = env["im_livechat.ticket"].create(
                {
                    "name": "Race",
                    "partner_id": customer.id,
                    "livechat_channel_id": team.id,
                    "first_message": "hi",
                }
            )
            # committed for real: the concurrent transactions must see it
            cr.commit()  # pylint: disable=invalid-commit
            self.agent_ids = self.agents.ids
            self.team_id, self.customer_id, self.ticket_id = team.id, customer.id, ticket.id
            self.channel_id = ticket.channel_id.id
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            ticket = env["im_livechat.ticket"].browse(self.ticket_id)
            channel = env["discuss.channel"].browse(self.channel_id)
            ticket.unlink()
            channel.unlink()
            env["im_livechat.channel"].browse(self.team_id).unlink()
            env["res.users"].browse(self.agent_ids).write({"active": False})
            env["res.partner"].browse(self.customer_id).write({"active": False})
            # the data was committed: remove it for real
            cr.commit()  # pylint: disable=invalid-commit

    def _race(self, action_1, action_2):
        """Agent 1 acts and keeps its transaction open while agent 2 acts on
        the same ticket; then agent 1 commits."""
        results = {}
        acted = threading.Event()
        release = threading.Event()

        def hold():
            acted.set()
            release.wait(10)

        def first():
            try:
                self._attempt(self.agent_ids[0], action_1, results, 1, hold)
            finally:
                acted.set()

        thread_1 = threading.Thread(target=first)
        thread_2 = threading.Thread(
            target=self._attempt, args=(self.agent_ids[1], action_2, results, 2)
        )
        thread_1.start()
        self.assertTrue(acted.wait(10))
        thread_2.start()
        time.sleep(0.5)  # agent 2 now waits for agent 1's row lock
        release.set()
        thread_1.join(20)
        thread_2.join(20)
        return results

    def _read(self, query, params):
        with self.registry.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def _resolved_events(self):
        return self._read(
            """SELECT count(*) FROM bus_bus
                WHERE channel LIKE '%%res.groups%%'
                  AND message::jsonb -> 'type' = '"im_livechat.ticket/resolved"'
                  AND (message::jsonb -> 'payload' ->> 'id')::int = %s""",
            [self.ticket_id],
        )[0][0]

    def _events(self, event):
        return self._read(
            """SELECT count(*) FROM bus_bus
                WHERE channel LIKE '%%res.groups%%'
                  AND message::jsonb -> 'type' = %s
                  AND (message::jsonb -> 'payload' ->> 'id')::int = %s""",
            [json.dumps(f"im_livechat.ticket/{event}"), self.ticket_id],
        )[0][0]

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
        def resolve(env):
            env["im_livechat.ticket"].browse(self.ticket_id).action_resolve()
            return "resolved"

        results = self._race(resolve, resolve)
        self.assertEqual(results[1], "resolved")
        self.assertIn("already resolved", results[2], "the second agent is told, clearly")
        self.assertEqual(self._notices("resolved this ticket"), 1, "one notice in the conversation")
        self.assertEqual(self._resolved_events(), 1, "one resolved event")

    @mute_logger("odoo.sql_db")
    def test_two_agents_take_at_once(self):
        def take(env):
            env["im_livechat.ticket"].browse(self.ticket_id).action_take()
            return "took"

        results = self._race(take, take)
        self.assertEqual(results[1], "took")
        self.assertIn("already took", results[2])
        owner = self._read(
            "SELECT user_id FROM im_livechat_ticket WHERE id = %s", [self.ticket_id]
        )[0][0]
        self.assertEqual(owner, self.agent_ids[0])
        members = self._read(
            """SELECT count(*) FROM discuss_channel_member m
                  JOIN res_users u ON u.partner_id = m.partner_id
                 WHERE m.channel_id = %s AND u.id = ANY(%s)""",
            [self.channel_id, self.agent_ids],
        )[0][0]
        self.assertEqual(members, 1, "only the winner joined the conversation")

    @mute_logger("odoo.sql_db")
    def test_resolve_and_reopen_at_once(self):
        with self.registry.cursor() as cr:
            self._env(cr)["im_livechat.ticket"].browse(self.ticket_id).action_resolve()
            # committed for real: the next transactions must see it
            cr.commit()  # pylint: disable=invalid-commit

        def reopen(env):
            env["im_livechat.ticket"].browse(self.ticket_id).action_reopen()
            return "reopened"

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
            def assign(env):
                ticket = env["im_livechat.ticket"].browse(self.ticket_id)
                ticket.with_context(ticket_expected_user_id=False).action_assign(user_id)
                return "assigned"

            return assign

        results = self._race(assign_to(winner), assign_to(loser))
        self.assertEqual(results[1], "assigned")
        self.assertIn("was just assigned to", results[2], "the second one is told, clearly")
        self.assertIn("reload it", results[2])
        owner = self._read(
            "SELECT user_id FROM im_livechat_ticket WHERE id = %s", [self.ticket_id]
        )[0][0]
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
            def assign(env):
                env["im_livechat.ticket"].browse(self.ticket_id).action_assign(user_id)
                return "assigned"

            return assign

        results = self._race(assign_to(first), assign_to(second))
        self.assertEqual(results, {1: "assigned", 2: "assigned"})
        owner = self._read(
            "SELECT user_id FROM im_livechat_ticket WHERE id = %s", [self.ticket_id]
        )[0][0]
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
            def save(env):
                ticket = env["im_livechat.ticket"].browse(self.ticket_id)
                ticket.web_save({"user_id": user_id, "loaded_user_id": False}, {})
                return "saved"

            return save

        results = self._race(save_agent(winner), save_agent(loser))
        self.assertEqual(results[1], "saved")
        self.assertIn("was just assigned to", results[2], "the second one is told, clearly")
        owner = self._read(
            "SELECT user_id FROM im_livechat_ticket WHERE id = %s", [self.ticket_id]
        )[0][0]
        self.assertEqual(owner, winner)
        self.assertEqual(self._agent_members(), {winner}, "the losing assignee is not a member")
        self.assertEqual(self._events("updated") - updated_before, 1, "one updated event")

    def test_agent_field_saved_after_a_reassignment_is_refused(self):
        """A form loaded before a colleague's reassignment, saved after it."""
        colleague, mine = self.agent_ids[2], self.agent_ids[3]
        results = {}
        self._attempt(
            self.agent_ids[0],
            lambda env: env["im_livechat.ticket"].browse(self.ticket_id).action_assign(colleague),
            results,
            "colleague",
        )
        self._attempt(
            self.agent_ids[1],
            lambda env: (
                env["im_livechat.ticket"]
                .browse(self.ticket_id)
                .web_save({"user_id": mine, "loaded_user_id": False}, {})
            ),
            results,
            "stale form",
        )
        self.assertIn("was just assigned to", results["stale form"])
        # a form loaded after it saves; other fields save without the check
        self._attempt(
            self.agent_ids[1],
            lambda env: (
                env["im_livechat.ticket"]
                .browse(self.ticket_id)
                .web_save({"user_id": mine, "loaded_user_id": colleague, "priority": "2"}, {})
            ),
            results,
            "fresh form",
        )
        self.assertNotIn("refused", str(results["fresh form"]))
        owner, priority = self._read(
            "SELECT user_id, priority FROM im_livechat_ticket WHERE id = %s", [self.ticket_id]
        )[0]
        self.assertEqual((owner, priority), (mine, "2"))
