"""Uninstall im_livechat_ticket, then check that stock Live Chat is whole.

Run by `make test` (tools/dev.sh) in `odoo-bin shell -d <db>` on the database
where the addon was installed over existing live chat data; not a module of
the addon's test suite (the addon is gone when these checks run). Uses Odoo's
test result, so its last line reads like the test runner's:
`odoo.tests.result: N failed, N error(s) of N tests`.
"""

import logging
import unittest

import odoo
from odoo.modules.registry import Registry

from odoo.addons.mail.tools.discuss import Store

_logger = logging.getLogger("odoo.tests.result")

MODULE = "im_livechat_ticket"
# the stock models the addon extended, and the tables they live in
EXTENDED_MODELS = {
    "im_livechat.channel": "im_livechat_channel",
    "discuss.channel": "discuss_channel",
    "discuss.channel.member": "discuss_channel_member",
    "mail.message": "mail_message",
    "res.partner": "res_partner",
}
# what the addon's fields, views, rules and crons are recognised by
OUR_NAMES = ("livechat_ticket", "ticket_assignment", "ticket_client_key", "ticket_company_sharing")


class LoggedResult(unittest.TestResult):
    """Logs each failure as Odoo's test runner does."""

    def _log(self, kind, test, err):
        name = (
            f"{type(test).__name__}.{test._testMethodName}"
            if hasattr(test, "_testMethodName")
            else test
        )
        logging.getLogger(__name__).error(
            "%s: %s\n%s", kind, name, self._exc_info_to_string(err, test)
        )

    def addFailure(self, test, err):
        result = super().addFailure(test, err)
        self._log("FAIL", test, err)
        return result

    def addError(self, test, err):
        result = super().addError(test, err)
        self._log("ERROR", test, err)
        return result


class TestStockLivechatAfterUninstall(unittest.TestCase):
    dbname = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(cls.dbname)
        cls.cr = cls.registry.cursor()
        cls.env = odoo.api.Environment(cls.cr, odoo.SUPERUSER_ID, {})
        cls.operator = cls.env.ref("base.user_demo")
        cls.team = cls.env.ref("im_livechat.im_livechat_channel_data")

    @classmethod
    def tearDownClass(cls):
        cls.cr.rollback()
        cls.cr.close()
        super().tearDownClass()

    def tearDown(self):
        self.env.invalidate_all()
        self.cr.rollback()
        super().tearDown()

    def test_module_gone(self):
        module = self.env["ir.module.module"].search([("name", "=", MODULE)])
        self.assertEqual(module.state, "uninstalled")
        # Odoo keeps the records it cannot delete, with their xmlids: only the
        # partners of the demo agents may stay, as operators of former tickets'
        # conversations (live chats need an operator)
        kept = self.env["ir.model.data"].search([("module", "=", MODULE)])
        operators = (
            self.env["discuss.channel"]
            .search([("channel_type", "=", "livechat")])
            .livechat_operator_id
        )
        self.assertEqual(set(kept.mapped("model")) - {"res.partner"}, set())
        self.assertLessEqual(set(kept.mapped("res_id")), set(operators.ids))
        for model in ("im_livechat.ticket", "im_livechat.ticket.sla"):
            self.assertNotIn(model, self.registry)
            self.assertFalse(self.env["ir.model"].search_count([("model", "=", model)]))

    def test_fields_and_columns_dropped(self):
        fields = self.env["ir.model.fields"].search(
            [("model", "in", list(EXTENDED_MODELS)), ("name", "=like", "%ticket%")]
        )
        self.assertFalse(fields.mapped(lambda f: f"{f.model}.{f.name}"))
        self.cr.execute(
            """
            SELECT table_name, column_name FROM information_schema.columns
             WHERE table_name IN %s AND column_name LIKE %s
            """,
            [tuple(EXTENDED_MODELS.values()), "%ticket%"],
        )
        self.assertFalse(self.cr.fetchall())
        self.cr.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE %s", ["im_livechat_ticket%"]
        )
        self.assertFalse(self.cr.fetchall())
        self.cr.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%ticket%"])
        self.assertFalse(self.cr.fetchall())

    def test_no_leftover_views_rules_crons_menus(self):
        for name in OUR_NAMES:
            self.assertFalse(
                self.env["ir.ui.view"].search([("arch_db", "ilike", name)]).mapped("key"), name
            )
            self.assertFalse(
                self.env["ir.rule"].search([("domain_force", "ilike", name)]).mapped("name"), name
            )
            self.assertFalse(
                self.env["ir.cron"].search([("code", "ilike", name)]).mapped("name"), name
            )
        self.assertFalse(self.env["ir.cron"].search([("code", "ilike", "ticket")]).mapped("name"))
        self.assertFalse(
            self.env["ir.actions.act_window"].search(
                [("res_model", "=like", "im_livechat.ticket%")]
            )
        )
        menus = self.env["ir.ui.menu"].search(
            [("parent_id", "child_of", self.env.ref("im_livechat.menu_livechat_root").id)]
        )
        self.assertFalse([menu.complete_name for menu in menus if "Ticket" in menu.complete_name])
        self.assertFalse(self.env["ir.asset"].search([("path", "ilike", MODULE)]).mapped("path"))

    def test_stock_live_chat_views_load(self):
        """Every window action of Live Chat loads its views for an operator
        (for an administrator where operators have no access)."""
        actions = self.env["ir.model.data"].search(
            [("module", "=", "im_livechat"), ("model", "=", "ir.actions.act_window")]
        )
        self.assertTrue(actions)
        for data in actions:
            action = self.env["ir.actions.act_window"].browse(data.res_id)
            views = [(view.view_id.id, view.view_mode) for view in action.view_ids]
            modes = set(action.view_mode.split(",")) - {mode for _id, mode in views}
            views += [
                (action.view_id.id if action.view_id.type == mode else False, mode)
                for mode in modes
            ]
            model = self.env[action.res_model].with_user(self.operator)
            if not model.has_access("read"):
                model = model.with_user(self.env.ref("base.user_admin"))
            result = model.get_views(views, {"search_view_id": action.search_view_id.id})
            for mode, view in result["views"].items():
                self.assertNotIn("ticket", view["arch"], f"{action.name} {mode}")
        for model, modes in (
            ("im_livechat.channel", ["form", "kanban", "list"]),
            ("discuss.channel", ["form", "list"]),
            ("res.partner", ["form"]),
        ):
            result = (
                self.env[model]
                .with_user(self.operator)
                .get_views([(False, mode) for mode in modes])
            )
            self.assertEqual(set(result["views"]), set(modes))

    def test_team_form_reads(self):
        """The live chat team form's fields read for every team."""
        teams = self.env["im_livechat.channel"].with_user(self.operator).search([])
        self.assertIn(self.team, teams)
        result = teams.get_views([(False, "form")])
        fields = list(result["models"]["im_livechat.channel"]["fields"])
        self.assertTrue(teams.read(fields))
        self.assertTrue(self.team.rating_count, "im_livechat's demo ratings still count")

    def test_sessions_readable_and_postable(self):
        """Every live chat, the old ones and those that were tickets, loads as
        Discuss loads it for its operator; an operator still posts."""
        sessions = self.env["discuss.channel"].search([("channel_type", "=", "livechat")])
        self.assertTrue(sessions)
        admin = self.env.ref("base.user_admin")  # Live Chat administrator: reads every chat
        for session in sessions:
            user = session.livechat_operator_id.user_ids.filtered("active")[:1] or admin
            session = session.with_user(user)
            session.message_ids.read(["body", "author_id", "author_guest_id", "date"])
            if session.is_member:
                self.assertTrue(Store(session).get_result()["discuss.channel"])
        session = sessions.filtered(lambda s: s.livechat_operator_id == self.operator.partner_id)[
            :1
        ]
        message = session.with_user(self.operator).message_post(
            body="Still here after the uninstall.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertIn(message, session.message_ids)


def run(env):
    """Uninstall the addon (this commits), run the checks on the new
    registry, log the result."""
    dbname = env.cr.dbname
    module = env["ir.module.module"].search([("name", "=", MODULE), ("state", "=", "installed")])
    if not module:
        raise RuntimeError(f"{MODULE} is not installed in {dbname}")
    logging.getLogger(__name__).info("uninstalling %s from %s", MODULE, dbname)
    module.button_immediate_uninstall()
    TestStockLivechatAfterUninstall.dbname = dbname
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(TestStockLivechatAfterUninstall)
    result = LoggedResult()
    suite.run(result)
    _logger.info(
        "%s failed, %s error(s) of %s tests when checking the uninstall from database %r",
        len(result.failures),
        len(result.errors),
        result.testsRun,
        dbname,
    )
    return result.wasSuccessful()


if __name__ == "__main__":
    # `odoo-bin shell` runs this file from stdin with `env` set
    run(env)  # noqa: F821
