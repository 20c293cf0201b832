import datetime as pydatetime
from types import SimpleNamespace

import pytz
from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import fields
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import TicketCommon

DEMO_TICKETS = [f"im_livechat_ticket.ticket_{index:02d}_demo" for index in range(1, 13)]
# The queue dashboard's cards (static/src/backend/ticket_queue/ticket_queue_dashboard.js):
# the count of get_queue_dashboard() and the search filters a click applies.
DASHBOARD_FILTERS = {
    "waiting": ["waiting"],
    "my_open": ["my_tickets", "open"],
    "urgent": ["urgent", "open"],
    "sla_at_risk": ["sla_at_risk", "open"],
    "sla_breached": ["sla_breached", "open"],
    "resolved_today": ["resolved_today"],
}


class _ClientDateTime(pydatetime.datetime):
    """The web client's ``datetime.datetime`` in domains: ``to_utc()``
    converts from the user's time zone (the browser's, in the client)."""

    tz = pytz.utc

    def to_utc(self):
        return self.tz.localize(self).astimezone(pytz.utc).replace(tzinfo=None)


def client_eval_context(user):
    """What the web client offers to evaluate search filter domains."""
    tz = pytz.timezone(user.tz or "UTC")
    client_datetime = type("ClientDateTime", (_ClientDateTime,), {"tz": tz})
    return {
        "uid": user.id,
        "context_today": lambda: pydatetime.datetime.now(tz).date(),
        "datetime": SimpleNamespace(
            datetime=client_datetime,
            date=pydatetime.date,
            time=pydatetime.time,
            timedelta=pydatetime.timedelta,
        ),
        "relativedelta": relativedelta,
    }


@tagged("post_install", "-at_install")
class TestDemoAndViews(TicketCommon):
    """The backend entry points (action, menu, views) work for an agent, and
    the demo data, when loaded, is a usable help desk."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Ticket = cls.env["im_livechat.ticket"]

    @classmethod
    def _setup_ticket_fixtures(cls):
        # the team's default agent as the demo data set it, before the fixtures' own
        team = cls.env.ref("im_livechat_ticket.im_livechat_channel_customer_support")
        cls.demo_default_agent = team.ticket_default_user_id
        return super()._setup_ticket_fixtures()

    def _arch(self, views, view_type):
        return etree.fromstring(views["views"][view_type]["arch"])

    def _search_filter_domain(self, search_arch, name, user):
        node = search_arch.xpath(f"//filter[@name='{name}']")
        self.assertTrue(node, f"search view has no filter {name}")
        return safe_eval(node[0].get("domain"), client_eval_context(user))

    def _search_filters_domain(self, search_arch, names, user):
        """The domain of the search filters ``names`` as the web client
        combines them: OR within a group (between separators), AND across."""
        groups = {}
        for name in names:
            node = search_arch.xpath(f"//filter[@name='{name}']")[0]
            group = len(node.xpath("preceding-sibling::separator"))
            groups.setdefault(group, []).append(self._search_filter_domain(search_arch, name, user))
        domain = []
        for domains in groups.values():
            domain += ["|"] * (len(domains) - 1) + [leaf for d in domains for leaf in d]
        return domain

    # ------------------------------------------------------------
    # Action and menu
    # ------------------------------------------------------------

    def test_action_queue(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "im_livechat_ticket.action_ticket_queue"
        )
        self.assertEqual(action["res_model"], "im_livechat.ticket")
        self.assertEqual(action["view_mode"], "kanban,list,form,pivot,graph")
        context = safe_eval(action["context"], {"uid": self.agent.id})
        self.assertEqual(context.get("search_default_my_tickets"), 1)
        self.assertEqual(context.get("search_default_open"), 1)
        self.assertTrue(
            context.get("im_livechat_ticket_queue_dashboard"), "the queue shows its dashboard"
        )
        self.assertIn("o_view_nocontent", action["help"])
        # the team's stat button opens the same queue on that team
        team_action = self.team.action_view_tickets()
        self.assertEqual(team_action["id"], action["id"])
        self.assertEqual(team_action["domain"], [("livechat_channel_id", "=", self.team.id)])

    def test_menu(self):
        menu = self.env.ref("im_livechat_ticket.menu_ticket_root")
        action = self.env.ref("im_livechat_ticket.action_ticket_queue")
        self.assertEqual(menu.action, action)
        self.assertEqual(menu.parent_id, self.env.ref("im_livechat.menu_livechat_root"))
        siblings = menu.parent_id.child_id - menu
        self.assertTrue(
            all(menu.sequence < sibling.sequence for sibling in siblings),
            "Tickets should be the first entry of Live Chat",
        )
        Menu = self.env["ir.ui.menu"]
        self.assertIn(menu.id, Menu.with_user(self.agent)._visible_menu_ids())
        self.assertNotIn(menu.id, Menu.with_user(self.employee)._visible_menu_ids())

    # ------------------------------------------------------------
    # Views
    # ------------------------------------------------------------

    def test_ticket_views_for_agent(self):
        views = self.Ticket.with_user(self.agent).get_views(
            [(False, "kanban"), (False, "list"), (False, "form"), (False, "search")]
        )
        kanban = self._arch(views, "kanban")
        self.assertEqual(kanban.get("default_group_by"), "state")
        self.assertEqual(kanban.get("records_draggable"), "false")
        self.assertTrue(kanban.xpath("//field[@name='priority'][@widget='priority']"))
        self.assertTrue(kanban.xpath("//field[@name='user_id'][@widget='many2one_avatar_user']"))
        self.assertTrue(kanban.xpath("//field[@name='agent_unread_count']"))
        # live queue: the view reloads on bus events, on messages of the tickets' channels
        self.assertEqual(kanban.get("js_class"), "im_livechat_ticket_queue_kanban")
        self.assertTrue(kanban.xpath("/kanban/field[@name='channel_id']"))
        take = kanban.xpath("//button[@name='action_take'][@type='object']")
        self.assertTrue(take, "unassigned cards have a Take button")
        self.assertEqual(take[0].get("invisible"), "user_id or state == 'resolved'")
        sla_badge = kanban.xpath("//field[@name='sla_status'][@widget='badge']")
        self.assertTrue(sla_badge)
        self.assertEqual(sla_badge[0].get("invisible"), "sla_status not in ('at_risk', 'breached')")

        list_arch = self._arch(views, "list")
        self.assertEqual(
            [node.get("name") for node in list_arch.xpath("./field")][:4],
            ["priority", "reference", "name", "partner_id"],
        )
        self.assertFalse(list_arch.get("default_order"), "the list follows the model's queue order")
        self.assertEqual(list_arch.get("js_class"), "im_livechat_ticket_queue_list")
        self.assertTrue(list_arch.xpath("./field[@name='channel_id'][@column_invisible='1']"))
        self.assertTrue(list_arch.xpath("./button[@name='action_take'][@type='object']"))
        self.assertTrue(list_arch.xpath("./field[@name='sla_status'][@widget='badge']"))

        form = self._arch(views, "form")
        buttons = {node.get("name") for node in form.xpath("//header/button")}
        merge = str(self.env.ref("im_livechat_ticket.action_ticket_merge").id)
        self.assertEqual(
            buttons,
            {"action_assign", "action_resolve", "action_reopen", "action_open_conversation", merge},
        )
        self.assertTrue(form.xpath("//header/field[@name='state'][@widget='statusbar']"))
        conversation = form.xpath("//field[@name='channel_id']")
        self.assertEqual(conversation[0].get("widget"), "im_livechat_ticket_conversation")
        self.assertTrue(form.xpath("//field[@name='first_message']"))
        for name in ("sla_response_deadline", "sla_resolution_deadline"):
            self.assertTrue(form.xpath(f"//field[@name='{name}']"), name)
        sla_status = form.xpath("//field[@name='sla_status']")[0]
        self.assertEqual(sla_status.get("widget"), "badge")
        self.assertEqual(sla_status.get("decoration-danger"), "sla_status == 'breached'")
        self.assertEqual(sla_status.get("decoration-warning"), "sla_status == 'at_risk'")
        self.assertTrue(form.xpath("//chatter") or form.xpath("//div[hasclass('oe_chatter')]"))

        search = self._arch(views, "search")
        for name in (
            "my_tickets",
            "unassigned",
            "open",
            "new",
            "resolved",
            "urgent",
            "high_or_urgent",
            "waiting",
            "sla_at_risk",
            "sla_breached",
            "resolved_today",
            "rated",
        ):
            self.assertTrue(search.xpath(f"//filter[@name='{name}']"), name)
        group_bys = {
            safe_eval(node.get("context"))["group_by"]
            for node in search.xpath("//filter[@context]")
        }
        self.assertLessEqual(
            {"user_id", "state", "priority", "livechat_channel_id", "commercial_partner_id"},
            group_bys,
        )

    def test_search_filters_select_the_right_tickets(self):
        customer = self.customer_a
        mine_new = self._new_queue_ticket(
            customer, "Mine, new", user_id=self.agent.id, priority="3"
        )
        mine_resolved = self._new_queue_ticket(customer, "Mine, done", user_id=self.agent.id)
        mine_resolved.action_resolve()
        other = self._new_queue_ticket(customer, "Other", user_id=self.agent_2.id)
        unassigned = self._new_queue_ticket(customer, "Nobody's")
        unassigned.user_id = False
        tickets = mine_new | mine_resolved | other | unassigned

        search = self._arch(
            self.Ticket.with_user(self.agent).get_views([(False, "search")]), "search"
        )
        scope = [("id", "in", tickets.ids)]
        TicketAsAgent = self.Ticket.with_user(self.agent)

        def select(*names):
            domain = list(scope)
            for name in names:
                domain += self._search_filter_domain(search, name, self.agent)
            return TicketAsAgent.search(domain)

        # the queue's default: my open tickets
        self.assertEqual(select("my_tickets", "open"), mine_new)
        self.assertEqual(select("unassigned"), unassigned)
        self.assertEqual(select("resolved"), mine_resolved)
        self.assertEqual(select("urgent"), mine_new)
        # the partner's tickets: searching a company finds its employees' tickets
        partner_field = search.xpath("//field[@name='partner_id']")[0]
        self.assertEqual(partner_field.get("operator"), "child_of")
        self.assertEqual(
            TicketAsAgent.search(scope + [("partner_id", "child_of", self.company_a.id)]), tickets
        )

    def test_team_and_partner_forms_for_agent(self):
        team_form = self._arch(
            self.env["im_livechat.channel"].with_user(self.agent).get_views([(False, "form")]),
            "form",
        )
        self.assertTrue(team_form.xpath("//field[@name='ticket_assignment']"))
        self.assertTrue(team_form.xpath("//field[@name='ticket_default_user_id']"))
        page = team_form.xpath("//page[@name='tickets']")[0]
        for name in (
            "ticket_max_open",
            "ticket_manager_id",
            "ticket_reopen_days",
            "ticket_calendar_id",
            "ticket_sla_risk_hours",
        ):
            self.assertTrue(page.xpath(f".//field[@name='{name}']"), name)
        # service levels: shown to agents, edited by managers only
        slas = page.xpath(".//field[@name='ticket_sla_ids']")
        self.assertEqual(len(slas), 1)
        self.assertEqual(slas[0].get("readonly"), "1")
        self.assertEqual(
            [node.get("name") for node in slas[0].xpath("./list/field")],
            ["priority", "first_response_hours", "resolution_hours"],
        )
        manager_form = self._arch(
            self.env["im_livechat.channel"].with_user(self.manager).get_views([(False, "form")]),
            "form",
        )
        slas = manager_form.xpath("//page[@name='tickets']//field[@name='ticket_sla_ids']")
        self.assertEqual(len(slas), 1)
        self.assertFalse(slas[0].get("readonly"))
        self.assertEqual(slas[0].xpath("./list")[0].get("editable"), "bottom")
        self.assertTrue(
            team_form.xpath(
                "//button[@name='action_view_tickets']//field[@name='ticket_open_count']"
            )
        )

        partner_view = self.env.ref("base.view_partner_form").id
        agent_form = self._arch(
            self.env["res.partner"].with_user(self.agent).get_views([(partner_view, "form")]),
            "form",
        )
        sharing = agent_form.xpath("//field[@name='ticket_company_sharing']")
        self.assertTrue(sharing)
        self.assertTrue(agent_form.xpath("//button//field[@name='livechat_ticket_count']"))
        # invisible on persons: on its own node or on the group holding it
        self.assertIn(
            "not is_company",
            sharing[0].get("invisible", "") + sharing[0].getparent().get("invisible", ""),
        )
        employee_form = self._arch(
            self.env["res.partner"].with_user(self.employee).get_views([(partner_view, "form")]),
            "form",
        )
        self.assertFalse(employee_form.xpath("//field[@name='ticket_company_sharing']"))
        self.assertFalse(employee_form.xpath("//field[@name='livechat_ticket_count']"))

        partner_action = self.env["ir.actions.act_window"]._for_xml_id(
            "im_livechat_ticket.action_ticket_partner"
        )
        context = safe_eval(partner_action["context"], {"active_id": self.company_a.id})
        self.assertEqual(context["search_default_partner_id"], self.company_a.id)

    def test_dashboard_filters_select_the_right_tickets(self):
        """Each dashboard count and the filters its card applies agree."""
        # every new ticket goes to self.agent (the fixtures' default agent)
        self._set_queue_service_levels()

        def new(name, priority="1"):
            return self._new_queue_ticket(self.customer_a, name, priority=priority)

        done_today = new("Done today")
        done_today.with_user(self.agent).action_resolve()
        done_earlier = new("Done yesterday")
        done_earlier.with_user(self.agent).action_resolve()
        done_earlier.resolved_date = fields.Datetime.now() - pydatetime.timedelta(days=2)
        urgent_at_risk = new("Urgent, at risk", "3")
        breached = new("High, breached", "2")
        waiting = new("Waiting", "0")
        waiting.user_id = False
        self._breach_first_response(breached)
        tickets = done_today | done_earlier | urgent_at_risk | breached | waiting

        search = self._arch(
            self.Ticket.with_user(self.agent).get_views([(False, "search")]), "search"
        )
        TicketAsAgent = self.Ticket.with_user(self.agent)
        expected = {
            "waiting": waiting,
            "my_open": urgent_at_risk | breached,
            "urgent": urgent_at_risk,
            "sla_at_risk": urgent_at_risk,
            "sla_breached": breached,
            "resolved_today": done_today,
        }
        for card, names in DASHBOARD_FILTERS.items():
            domain = self._search_filters_domain(search, names, self.agent)
            self.assertEqual(
                TicketAsAgent.search([("id", "in", tickets.ids)] + domain), expected[card], card
            )
        # the counts are those of the card's filters, over all tickets (demo ones too)
        counts = TicketAsAgent.get_queue_dashboard()
        self.assertEqual(set(counts), set(DASHBOARD_FILTERS))
        for card, names in DASHBOARD_FILTERS.items():
            domain = self._search_filters_domain(search, names, self.agent)
            self.assertEqual(counts[card], TicketAsAgent.search_count(domain), card)

    def test_report_views_action_and_menu(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "im_livechat_ticket.action_ticket_report"
        )
        self.assertEqual(action["res_model"], "im_livechat.ticket")
        self.assertEqual(action["view_mode"].split(",")[:2], ["pivot", "graph"])
        view_ids = {view_type: view_id for view_id, view_type in action["views"]}
        self.assertEqual(
            view_ids["pivot"], self.env.ref("im_livechat_ticket.im_livechat_ticket_view_pivot").id
        )
        self.assertEqual(
            view_ids["graph"], self.env.ref("im_livechat_ticket.im_livechat_ticket_view_graph").id
        )

        manager = self.manager
        views = self.Ticket.with_user(manager).get_views([(False, "pivot"), (False, "graph")])
        pivot = self._arch(views, "pivot")
        self.assertEqual(pivot.get("display_quantity"), "1", "the pivot counts tickets")
        measures = {node.get("name") for node in pivot.xpath("//field[@type='measure']")}
        self.assertEqual(
            measures,
            {"first_response_hours", "resolution_hours", "rating_last_value", "sla_success_rate"},
        )
        self.assertEqual(pivot.xpath("//field[@type='row']/@name"), ["livechat_channel_id"])
        self.assertEqual(pivot.xpath("//field[@type='col']")[0].get("interval"), "month")
        graph = self._arch(views, "graph")
        self.assertEqual(graph.xpath("//field[@name='create_date']")[0].get("interval"), "week")
        fields_info = views["models"]["im_livechat.ticket"]["fields"]
        for name in ("first_response_hours", "resolution_hours", "rating_last_value"):
            self.assertEqual(fields_info[name]["aggregator"], "avg", name)
        # the measures group by team, agent, priority and period
        groups = self.Ticket.with_user(manager).read_group(
            [],
            [
                "first_response_hours:avg",
                "resolution_hours:avg",
                "rating_last_value:avg",
                "sla_success_rate:avg",
            ],
            ["livechat_channel_id", "user_id", "priority", "create_date:week"],
            lazy=False,
        )
        self.assertIsInstance(groups, list)

        menu = self.env.ref("im_livechat_ticket.menu_ticket_report")
        self.assertEqual(menu.action, self.env.ref("im_livechat_ticket.action_ticket_report"))
        self.assertEqual(menu.parent_id, self.env.ref("im_livechat.menu_reporting_livechat"))
        Menu = self.env["ir.ui.menu"]
        self.assertIn(menu.id, Menu.with_user(manager)._visible_menu_ids())
        self.assertNotIn(menu.id, Menu.with_user(self.agent)._visible_menu_ids())

    # ------------------------------------------------------------
    # Demo data
    # ------------------------------------------------------------

    def _demo_tickets(self):
        if not self.env.ref(DEMO_TICKETS[0], raise_if_not_found=False):
            self.skipTest("demo data not loaded")
        return self.Ticket.browse([self.env.ref(xmlid).id for xmlid in DEMO_TICKETS])

    def test_demo_tickets(self):
        tickets = self._demo_tickets()
        self.assertEqual(set(tickets.mapped("state")), {"new", "open", "resolved"})
        self.assertEqual(set(tickets.mapped("priority")), {"0", "1", "2", "3"})
        self.assertGreater(len(tickets.user_id), 1, "more than one agent works the demo queue")
        for ticket in tickets:
            self.assertTrue(ticket.reference.startswith("TCK-"), ticket.reference)
            self.assertTrue(ticket.channel_id, ticket.name)
            comments = ticket.channel_id.message_ids.filtered(lambda m: m.message_type == "comment")
            self.assertTrue(comments, f"{ticket.name} has no conversation")
            self.assertIn(ticket.partner_id, comments.author_id, "the customer wrote first")
            if ticket.state == "new":
                self.assertFalse(ticket.first_response_date)
            else:
                self.assertTrue(ticket.first_response_date, ticket.name)
                agent_authors = comments.author_id - ticket.partner_id
                self.assertTrue(agent_authors, f"{ticket.name} has no agent reply")
            self.assertEqual(bool(ticket.resolved_date), ticket.state == "resolved")
        self.assertTrue(
            any(ticket.agent_unread_count for ticket in tickets),
            "a customer follow-up waits unread in some agent's queue",
        )

    def test_demo_users(self):
        self._demo_tickets()
        Users = self.env["res.users"].with_context(active_test=False)
        team = self.team
        agents = Users
        for login in ("agent", "agent2"):
            user = Users.search([("login", "=", login)])
            self.assertEqual(len(user), 1, login)
            self.assertTrue(user._is_internal(), login)
            self.assertTrue(user.has_group("im_livechat.im_livechat_group_user"), login)
            self.assertIn(user, team.user_ids, login)
            user.with_user(user)._check_credentials(
                {"type": "password", "password": login}, {"interactive": True}
            )
            agents |= user
        self.assertEqual(self.demo_default_agent.login, "agent")
        self.assertTrue(self._demo_tickets().user_id <= agents)

        companies = {}
        for login in ("customer", "customer2", "customer3", "customer4"):
            user = Users.search([("login", "=", login)])
            self.assertEqual(len(user), 1, login)
            self.assertTrue(user.has_group("base.group_portal"), login)
            self.assertFalse(user._is_internal(), login)
            self.assertTrue(user.parent_id.is_company, login)
            user.with_user(user)._check_credentials(
                {"type": "password", "password": login}, {"interactive": True}
            )
            companies[login] = user.parent_id
        self.assertEqual(companies["customer"], companies["customer2"])
        self.assertEqual(companies["customer3"], companies["customer4"])
        self.assertNotEqual(companies["customer"], companies["customer3"])
        self.assertFalse(companies["customer"].ticket_company_sharing)
        self.assertTrue(companies["customer3"].ticket_company_sharing)
        # every demo customer has tickets to look at on the portal
        self.assertEqual(
            set(self._demo_tickets().partner_id.user_ids.mapped("login")),
            {"customer", "customer2", "customer3", "customer4"},
        )
