import json
from datetime import datetime, timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.bus.tests.common import WebsocketCase

from .common import TicketCommon, TicketFixtures

NOTICE = "We are outside our working hours"


def plain(text):
    """``text`` with the no-break spaces of some locales' times made plain."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@tagged("post_install", "-at_install")
class TestBusinessHours(TicketCommon):
    """The team works Monday to Friday, 8:00 to 12:00 and 13:00 to 17:00 UTC;
    a normal ticket gets its first answer within 4 working hours, an urgent
    one within 1. Monday 30 November 2026 is a Monday."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._set_working_hours_service_levels(ticket_hours_notice=True)
        cls.customer_a.partner_id.write({"tz": "UTC", "lang": "en_US"})

    def _ticket_at(self, when, **vals):
        with self._at(when):
            return self._new_ticket(self.customer_a, **vals)

    def _write_at(self, when, ticket, body, user=None):
        with self._at(when):
            ticket.channel_id.with_user(user or self.customer_a).message_post(
                body=body, message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    def _notices(self, ticket, text=NOTICE):
        messages = ticket.channel_id.message_ids.filtered(
            lambda m: m.message_type == "notification" and text in (m.body or "")
        )
        return [plain(m.body) for m in messages.sorted("id")]

    def test_inside_hours_no_notice(self):
        ticket = self._ticket_at("2026-11-30 09:00:00")
        self.assertEqual(self._notices(ticket), [])
        self._write_at("2026-11-30 11:00:00", ticket, "Any news?")
        self.assertEqual(self._notices(ticket), [])

    def test_outside_hours_one_notice_with_back_and_answer(self):
        # Friday evening: back Monday 8:00, 4 working hours later is 12:00
        ticket = self._ticket_at("2026-11-27 18:00:00")
        notices = self._notices(ticket)
        self.assertEqual(len(notices), 1)
        self.assertIn(
            "We will be back on Mon, Nov 30 8:00 AM; expect an answer by Mon, Nov 30 12:00 PM.",
            notices[0],
        )
        notice = ticket.channel_id.message_ids.sorted("id")[-1]
        self.assertEqual(notice.author_id, self.env.ref("base.partner_root"))
        self.assertIn(notice, ticket._get_portal_messages(), "the customer sees it")
        # the promise is the ticket's own deadline
        self.assertEqual(ticket.sla_response_deadline, datetime(2026, 11, 30, 12, 0))

    def test_urgent_ticket_promises_its_target(self):
        ticket = self._ticket_at("2026-11-28 10:00:00", priority="3")  # a Saturday
        self.assertIn("expect an answer by Mon, Nov 30 9:00 AM.", self._notices(ticket)[0])

    def test_no_target_promises_the_return_only(self):
        ticket = self._ticket_at("2026-11-27 18:00:00", priority="0")
        notices = self._notices(ticket)
        self.assertEqual(len(notices), 1)
        self.assertIn("We will be back on Mon, Nov 30 8:00 AM.", notices[0])
        self.assertNotIn("expect", notices[0])

    def test_lunch_break_is_outside(self):
        ticket = self._ticket_at("2026-11-30 12:15:00")
        self.assertIn("back on Mon, Nov 30 1:00 PM", self._notices(ticket)[0])

    def test_public_holiday(self):
        # Monday is a public holiday (a leave of no resource): back on Tuesday
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Public holiday",
                "calendar_id": self.calendar.id,
                "resource_id": False,
                "date_from": datetime(2026, 11, 30, 0, 0),
                "date_to": datetime(2026, 11, 30, 23, 59, 59),
            }
        )
        ticket = self._ticket_at("2026-11-27 18:00:00")
        self.assertIn(
            "back on Tue, Dec 1 8:00 AM; expect an answer by Tue, Dec 1 12:00 PM.",
            self._notices(ticket)[0],
        )
        self.assertEqual(ticket.sla_response_deadline, datetime(2026, 12, 1, 12, 0))
        # on the holiday itself, in what would be working hours: closed
        other = self._ticket_at("2026-11-30 10:00:00")
        self.assertIn("back on Tue, Dec 1 8:00 AM", self._notices(other)[0])

    def test_one_notice_per_silence(self):
        ticket = self._ticket_at("2026-11-27 18:00:00")
        self._write_at("2026-11-27 18:05:00", ticket, "It is urgent for me.")
        self._write_at("2026-11-27 18:30:00", ticket, "Still there?")
        self.assertEqual(len(self._notices(ticket)), 1, "no repeat while the customer writes")
        # Saturday morning, after a night of silence: told again
        self._write_at("2026-11-28 09:00:00", ticket, "Hello again.")
        notices = self._notices(ticket)
        self.assertEqual(len(notices), 2)
        # still unanswered: the promise stays the ticket's deadline
        self.assertIn("expect an answer by Mon, Nov 30 12:00 PM.", notices[1])
        last_two = ticket.channel_id.message_ids.sorted("id")[-2:]
        self.assertIn("Hello again.", last_two[0].body)
        self.assertIn(NOTICE, last_two[1].body, "the notice follows the message it answers")

    def test_agent_at_night_keeps_the_conversation_alive(self):
        ticket = self._ticket_at("2026-11-27 18:00:00")
        self._write_at("2026-11-27 20:00:00", ticket, "I am here, what happened?", self.agent)
        self._write_at("2026-11-27 20:10:00", ticket, "Thanks! The chain came off.")
        self.assertEqual(len(self._notices(ticket)), 1)
        # answered already: after a silence the promise is the target from now
        self._write_at("2026-11-28 12:00:00", ticket, "It came off again.")
        notices = self._notices(ticket)
        self.assertEqual(len(notices), 2)
        self.assertIn("expect an answer by Mon, Nov 30 12:00 PM.", notices[1])

    def test_retried_post_gets_no_second_notice(self):
        ticket = self._ticket_at("2026-11-28 10:00:00")
        self.team.ticket_hours_silence = 0  # every message, but a retry is not a new one
        channel = ticket.channel_id.with_user(self.customer_a)
        with self._at("2026-11-28 11:00:00"):
            first = channel.message_post(
                body="Hello?", message_type="comment", ticket_client_key="retry-1"
            )
            again = channel.message_post(
                body="Hello?", message_type="comment", ticket_client_key="retry-1"
            )
        self.assertEqual(first, again)
        self.assertEqual(len(self._notices(ticket)), 2, "the ticket's and the first post's")

    def test_team_form_shows_the_settings(self):
        arch = self.env["im_livechat.channel"].with_user(self.agent).get_views([(False, "form")])
        form = arch["views"]["form"]["arch"]
        self.assertIn('name="ticket_hours_notice"', form)
        self.assertIn('name="ticket_hours_silence"', form)

    def test_silence_setting(self):
        self.team.ticket_hours_silence = 5
        ticket = self._ticket_at("2026-11-27 18:00:00")
        self._write_at("2026-11-27 18:04:00", ticket, "One more thing.")
        self._write_at("2026-11-27 18:10:00", ticket, "And another.")
        self.assertEqual(len(self._notices(ticket)), 2)

    def test_customer_writing_by_email_gets_it_by_email(self):
        ticket = self._ticket_at("2026-11-27 16:00:00")
        self.assertEqual(self._notices(ticket), [])
        with self._at("2026-11-27 19:00:00"):
            # as the mail gateway posts a customer's e-mail: the system, on their behalf
            ticket.channel_id.message_post(
                author_id=self.customer_a.partner_id.id,
                body="Any news?",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        notice = ticket.channel_id.message_ids.sorted("id")[-1]
        self.assertIn(NOTICE, notice.body)
        with self._at("2026-11-27 19:10:00"):
            candidates = dict(self.env["im_livechat.ticket"]._get_away_mail_candidates())
        self.assertEqual(candidates.get(ticket), notice, "e-mailed like an agent's message")

    def test_customer_time_zone(self):
        self.customer_a.partner_id.tz = "Europe/Berlin"
        ticket = self._ticket_at("2026-11-27 18:00:00")
        self.assertIn(
            "back on Mon, Nov 30 9:00 AM; expect an answer by Mon, Nov 30 1:00 PM.",
            self._notices(ticket)[0],
        )

    def test_off_without_setting_or_calendar(self):
        self.team.ticket_hours_notice = False
        ticket = self._ticket_at("2026-11-27 18:00:00")
        self.assertEqual(self._notices(ticket), [])
        self.team.write({"ticket_hours_notice": True, "ticket_calendar_id": False})
        ticket = self._ticket_at("2026-11-27 18:00:00")
        self.assertEqual(self._notices(ticket), [], "no working hours: always open")

    def test_next_opening(self):
        team = self.team
        self.assertEqual(team._ticket_next_opening(datetime(2026, 11, 30, 9, 0)), (False, False))
        self.assertEqual(
            team._ticket_next_opening(datetime(2026, 11, 30, 17, 0)),
            (True, datetime(2026, 12, 1, 8, 0)),
        )
        self.team.ticket_calendar_id = self._new_calendar("Never", days=())
        self.assertEqual(team._ticket_next_opening(datetime(2026, 11, 30, 9, 0)), (True, False))
        ticket = self._ticket_at("2026-11-30 09:00:00")
        self.assertIn("we will answer as soon as we are back.", self._notices(ticket)[0])

    def test_german(self):
        self._load_german()
        self.customer_a.partner_id.lang = "de_DE"
        ticket = self._ticket_at("2026-11-27 18:00:00")
        notices = self._notices(ticket, "außerhalb unserer Geschäftszeiten")
        self.assertEqual(len(notices), 1)
        self.assertIn(
            "Wir sind ab Mo., 30. Nov. 08:00 wieder für Sie da; "
            "eine Antwort erhalten Sie bis Mo., 30. Nov. 12:00.",
            notices[0],
        )


@tagged("post_install", "-at_install")
class TestBusinessHoursPage(TicketFixtures, HttpCase):
    """The new-ticket page says when the team is back while it is closed:
    every day from 8:00 to 17:00 UTC, with a holiday from yesterday to the
    end of tomorrow (so closed now, whenever the test runs)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = cls._new_calendar(days=range(7), periods=((8, 17),))
        cls.team.write({"ticket_calendar_id": cls.calendar.id, "ticket_hours_notice": True})
        cls.customer_a.partner_id.write({"tz": "UTC", "lang": "en_US"})
        cls.today = fields.Datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        cls.env["resource.calendar.leaves"].create(
            {
                "name": "Closed",
                "calendar_id": cls.calendar.id,
                "resource_id": False,
                "date_from": cls.today - timedelta(days=1),
                "date_to": cls.today + timedelta(days=2),
            }
        )

    def _page(self):
        self.env.flush_all()
        self._login(self.customer_a)
        return plain(self.url_open("/my/tickets/new").text)

    def test_new_ticket_page_shows_when_back(self):
        back = self.today + timedelta(days=2, hours=8)
        html = self._page()
        self.assertIn("o_im_livechat_ticket_hours_notice", html)
        self.assertIn(f"we will be back on {back.strftime('%a, %b')} {back.day} 8:00 AM", html)

    def test_new_ticket_page_open_or_off(self):
        self.team.ticket_hours_notice = False
        self.assertNotIn("o_im_livechat_ticket_hours_notice", self._page())
        self.team.write({"ticket_hours_notice": True, "ticket_calendar_id": False})
        self.assertNotIn("o_im_livechat_ticket_hours_notice", self._page())


@tagged("post_install", "-at_install")
class TestBusinessHoursRealtime(TicketFixtures, WebsocketCase):
    """The out-of-hours notice reaches the customer's real websocket right
    after their post, like any message of the conversation."""

    def test_notice_reaches_the_customers_socket(self):
        # the team works one day of the week, three days from today: closed now
        closed_today = self._new_calendar(days=[(fields.Date.today().weekday() + 3) % 7])
        self.team.write(
            {
                "ticket_calendar_id": closed_today.id,
                "ticket_hours_notice": True,
                "ticket_hours_silence": 0,  # every message is after a silence
            }
        )
        ticket = self._new_ticket(self.customer_a, "Flat tyre", "Again.")
        self.env.cr.precommit.run()  # the bus notifications of the ticket first
        session = self._login(self.customer_a)
        websocket = self.websocket_connect(cookie=f"session_id={session.sid}")
        self.subscribe(websocket, [], self.env["bus.bus"]._bus_last_id())

        self._post_to_conversation(ticket.channel_id, "Anyone there?", session)
        with self.registry.test_lock:  # the socket's thread shares our transaction
            self.trigger_notification_dispatching([ticket.channel_id])
        bodies = []
        while not any(NOTICE in body for body in bodies):
            for notification in json.loads(websocket.recv()):
                message = notification["message"]
                if message["type"] == "discuss.channel/new_message":
                    bodies += [m["body"] for m in message["payload"]["data"]["mail.message"]]
        self.assertIn("Anyone there?", "".join(bodies), "the post came first")
