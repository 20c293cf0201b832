import json
import re

from odoo.tests import HttpCase, tagged

from .common import TicketFixtures


@tagged("post_install", "-at_install")
class TestTicketGerman(TicketFixtures, HttpCase):
    """A customer and an agent who work in German see the addon in German:
    portal pages, the backend queue, its dashboard and the errors they meet."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_german()

        # an agent and a customer who work in German
        (cls.agent | cls.customer_a).lang = "de_DE"
        cls.ticket = cls._new_ticket(
            cls.customer_a, "Akku lädt nicht", "Der Akku lädt seit gestern nicht.", priority="3"
        )

    def _assert_texts(self, html, present=(), absent=()):
        for text in present:
            self.assertIn(text, html)
        for text in absent:
            self.assertNotIn(text, html)

    def _call_kw(self, model, method, args, kwargs, context):
        """JSON-RPC as the web client sends it: the full response, errors included."""
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": {**kwargs, "context": context},
            },
        }
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        return response.json()

    def test_portal_pages_in_german(self):
        self._login(self.customer_a)

        tickets_page = self.url_open("/my/tickets").text
        self._assert_texts(
            tickets_page,
            present=[
                "Support-Tickets",
                "Neues Ticket",
                "<th>Referenz</th>",
                "<th>Betreff</th>",
                "Bearbeiter/in",
                "Letzte Aktivität",
                "Priorität: Dringend",  # the stars' tooltip
                ">Dringend<",  # the urgent badge, a selection label
                ">Neu<",  # the state badge
            ],
            absent=["New ticket", "Support Tickets", "Last Activity"],
        )

        new_page = self.url_open("/my/tickets/new").text
        self._assert_texts(
            new_page,
            present=[
                'placeholder="z. B. Ich kann mich nicht anmelden"',
                ">Nachricht<",
                ">Dateianhänge<",
                ">Niedrig<",
                ">Hoch<",
                "Abbrechen",
                "Senden",
                "höchstens",
            ],
            absent=["e.g. I cannot log in", "Attachments", "Cancel"],
        )

        # a refused form comes back with the reason, in German
        csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', new_page).group(1)
        refused = self.url_open(
            "/my/tickets/new",
            data={"csrf_token": csrf_token, "name": "", "message": "Hallo", "priority": "1"},
        ).text
        self.assertIn("Bitte geben Sie einen Betreff ein.", refused)

        ticket_page = self.url_open(f"/my/tickets/{self.ticket.id}").text
        self._assert_texts(
            ticket_page,
            present=[
                "Eröffnet am",
                "Priorität",
                "Ihre Nachricht",
                'placeholder="Schreiben Sie eine Nachricht …"',
                self.ticket.reference,
            ],
            absent=["Opened on", "Write a message"],
        )

    def test_backend_queue_in_german(self):
        self._login(self.agent)
        # the web client sends the user's context (and so their language) with each call
        context = self.make_jsonrpc_request("/web/session/get_session_info")["user_context"]
        self.assertEqual(context["lang"], "de_DE")

        action = self.make_jsonrpc_request(
            "/web/action/load",
            {"action_id": "im_livechat_ticket.action_ticket_queue", "context": context},
        )
        self.assertIn("Keine offenen Tickets für Sie", action["help"])

        views = self._call_kw(
            "im_livechat.ticket",
            "get_views",
            [],
            {
                "views": [[False, "kanban"], [False, "list"], [False, "form"], [False, "search"]],
                "options": {"action_id": action["id"], "load_filters": True},
            },
            context,
        )["result"]
        arch = {view_type: view["arch"] for view_type, view in views["views"].items()}
        self.assertIn('string="Meine Tickets"', arch["search"])
        self.assertIn('string="SLA gefährdet"', arch["search"])
        self.assertIn("Übernehmen", arch["kanban"])
        self.assertIn('string="Als gelöst markieren"', arch["form"])
        self.assertIn('string="Mir zuweisen"', arch["form"])
        fields = views["models"]["im_livechat.ticket"]["fields"]
        self.assertEqual(fields["user_id"]["string"], "Bearbeiter/in")
        self.assertEqual(fields["name"]["string"], "Betreff")
        self.assertEqual(
            dict(fields["state"]["selection"]),
            {"new": "Neu", "open": "Offen", "resolved": "Gelöst"},
        )
        self.assertEqual(dict(fields["priority"]["selection"])["3"], "Dringend")

        # the queue's dashboard and notifications are JavaScript: their labels
        # come with the web client's translations
        response = self.url_open(
            "/web/webclient/translations/i18n-test?lang=de_DE&mods=im_livechat_ticket"
        )
        messages = {
            message["id"]: message["string"]
            for message in response.json()["modules"]["im_livechat_ticket"]["messages"]
        }
        self.assertEqual(messages["Waiting"], "Wartend")
        self.assertEqual(messages["SLA at Risk"], "SLA gefährdet")
        self.assertEqual(messages["Resolved Today"], "Heute gelöst")
        self.assertEqual(
            messages["Notify me of new tickets"], "Mich über neue Tickets benachrichtigen"
        )

        # a refused action tells the agent why, in German
        resolve = ("im_livechat.ticket", "action_resolve", [[self.ticket.id]], {}, context)
        self.assertTrue(self._call_kw(*resolve)["result"])
        error = self._call_kw(*resolve)["error"]
        self.assertEqual(
            error["data"]["message"], f"Ticket {self.ticket.reference} ist bereits gelöst."
        )
        # the notice posted in the conversation is in the agent's language
        notices = self.ticket.channel_id.message_ids.filtered(
            lambda message: message.message_type == "notification"
        )
        notice = notices.sorted("id")[-1:]
        self.assertIn(f"{self.agent.name} hat dieses Ticket als gelöst markiert.", notice.body)
