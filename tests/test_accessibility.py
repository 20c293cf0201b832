import json
import os
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser
from odoo.tools import plaintext2html

from .common import TicketFixtures, emulate_screen

# The WCAG 2.0 and 2.1 success criteria of levels A and AA that axe-core checks.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SIZES = ["1366x768", "375x667"]  # a desktop, a small phone

# Evaluated in the page once it is ready (axe-core is already there, see
# _run_axe): lists each violation with its impact and the CSS selectors of
# the elements at fault, and fails the check if there is any.
AXE_RUN = r"""
(async () => {
    const context = %(context)s;
    const expectedLang = %(lang)s;
    // e.g. answer the ringing call first
    await (%(prepare)s)();
    // let the page settle (fonts, Bootstrap transitions)
    await document.fonts.ready;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const results = await axe.run(context, {
        runOnly: { type: "tag", values: %(tags)s },
        resultTypes: ["violations"],
    });
    const violations = results.violations;
    const count = violations.reduce((total, violation) => total + violation.nodes.length, 0);
    console.log(
        `axe-core ${axe.version}: ${location.pathname} lang=${document.documentElement.lang}`
        + ` ${innerWidth}px: ${violations.length} violations, ${count} nodes`
        + (violations.length ? ` (${violations.map((violation) => violation.id).join(", ")})` : "")
    );
    const problems = violations.map((violation) =>
        `${violation.id} [${violation.impact}] ${violation.help}\n`
        + violation.nodes.map((node) =>
            `    ${node.target.join(" ")}\n`
            // "Fix any of the following:", then the reasons
            + node.failureSummary.split("\n").slice(1)
                .map((line) => `        ${line.trim()}`).join("\n")
        ).join("\n")
    );
    if (document.documentElement.lang !== expectedLang) {
        problems.push(`<html lang="${document.documentElement.lang}">, expected "${expectedLang}"`);
    }
    if (problems.length) {
        console.error(`accessibility of ${location.pathname}:\n` + problems.join("\n"));
    } else {
        console.log("test successful");
    }
})()
"""

CALL = ".o_im_livechat_ticket_call"
NOTHING = "async () => {}"
# the customer answers the agent's call: the page shows the call itself
ANSWER = f"""async () => {{
    document.querySelector("{CALL}_accept").click();
    for (let tries = 0; !document.querySelector("{CALL}_active {CALL}_hangup"); tries++) {{
        if (tries > 200) {{
            throw new Error("the call view never showed");
        }}
        await new Promise((resolve) => setTimeout(resolve, 100));
    }}
}}"""


def _spawn_with_fake_media(browser, cmd, _spawn=ChromeBrowser._spawn_chrome):
    executable, *switches = cmd
    fake_media = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    return _spawn(browser, [executable, *fake_media, *switches])


@tagged("post_install", "-at_install")
class TestAccessibility(TicketFixtures, HttpCase):
    """axe-core finds no WCAG 2.0/2.1 A and AA violation on the customer's
    pages: /my, the ticket list, the new-ticket form and a ticket in each
    state (new; open with unread agent messages; resolved, with the rating
    form; an agent calling, and in the call once answered), on a desktop and
    a phone, in English and in German.

    axe-core comes from npm: ``tools/dev.sh test`` installs a pinned version
    into its cache and sets ``IMLT_AXE_JS`` to its ``axe.min.js``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.axe_path = os.environ.get("IMLT_AXE_JS")
        if not cls.axe_path:
            # super() entered the test mode: leave it with the class
            cls.axe_source = None
            return
        # a fake camera and microphone, granted without asking: the call's pages
        cls.startClassPatcher(patch.object(ChromeBrowser, "_spawn_chrome", _spawn_with_fake_media))
        cls._load_german(("im_livechat_ticket", "portal"))
        cls._setup_ticket_fixtures()
        cls.customer_a.lang = "en_US"
        cls.customer_de = cls._new_customer("ticket_a11y_kunde", "Karla Kundin", cls.company_a)
        cls.customer_de.lang = "de_DE"
        cls.tickets = {user: cls._tickets_of(user) for user in (cls.customer_a, cls.customer_de)}

    @classmethod
    def _tickets_of(cls, customer):
        """A ticket of ``customer`` in each state the page shows differently."""
        new = cls._new_ticket(customer, "The bell rings by itself", "Even when parked.")
        open_ = cls._new_ticket(customer, "The brakes squeak", "Mostly when it rains.")
        cls._agent_says(open_, "Could you send a photo of the brake pads?")
        resolved = cls._new_ticket(customer, "The light flickers", "Only the rear one.")
        cls._agent_says(resolved, "The cable was loose; it is fixed.")
        resolved.with_user(cls.agent).action_resolve()
        call = cls._new_ticket(customer, "The display stays dark", "Can you show me?")
        return {"new": new, "open": open_, "resolved": resolved, "call": call}

    def _agent_calls(self, ticket):
        """The agent (in the test, with no browser) starts a call that rings
        on the ticket's page; a call already running ends first."""
        self.env.invalidate_all()  # the browser's requests changed the calls
        ticket = ticket.with_env(self.env)
        ticket._end_call()
        member = ticket.channel_id.sudo().channel_member_ids.filtered(
            lambda member: member.partner_id == self.agent.partner_id
        )
        # sudo: as Odoo's route joins (the member is the agent's own)
        member.with_user(self.agent).sudo()._rtc_join_call()
        self.assertTrue(ticket.channel_id.sudo().rtc_session_ids, "the agent is calling")

    @classmethod
    def _agent_says(cls, ticket, text):
        ticket.channel_id.with_user(cls.agent).message_post(
            body=plaintext2html(text), message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    def setUp(self):
        super().setUp()
        if not self.axe_path:
            self.skipTest(
                "IMLT_AXE_JS is not set: run the tests with 'make test' (tools/dev.sh installs "
                "axe-core and sets it), or point it to an axe.min.js of axe-core 4.x"
            )
        if not os.path.isfile(self.axe_path):
            self.fail(
                f"IMLT_AXE_JS={self.axe_path}: no such file (tools/dev.sh could not install "
                "axe-core from npm?)"
            )
        with open(self.axe_path, encoding="utf-8") as axe_file:
            self.axe_source = axe_file.read()
        # Odoo drops call sessions not seen for a minute, by their write date:
        # the test's one transaction dates them all from its start, and the
        # agent has no browser to keep its session alive
        sessions = type(self.env["discuss.channel.rtc.session"])
        self.startPatcher(
            patch.object(sessions, "_inactive_rtc_session_domain", lambda _self: [("id", "=", 0)])
        )

    def _run_axe(self, url, login, lang, ready, context="document", prepare="async () => {}"):
        """Open ``url`` as ``login`` at the current ``browser_size`` and run
        axe-core on ``context`` (an axe context: the whole document, or
        ``{include: [...]}``) once ``ready`` (JS) is true and ``prepare``
        (an async JS function) has run."""
        axe_source = self.axe_source
        navigate_to = ChromeBrowser.navigate_to

        size = self.browser_size

        def navigate_with_axe(browser, url, wait_stop=False):
            emulate_screen(browser, size)
            # axe-core is loaded in the page before the page's own scripts
            # (not evaluated as the test code: Odoo logs that, and it is 600 kB)
            browser._websocket_request(
                "Page.addScriptToEvaluateOnNewDocument", params={"source": axe_source}
            )
            return navigate_to(browser, url, wait_stop=wait_stop)

        code = AXE_RUN % {
            "context": context,
            "lang": json.dumps(lang.replace("_", "-")),
            "tags": json.dumps(AXE_TAGS),
            "prepare": prepare,
        }
        with patch.object(ChromeBrowser, "navigate_to", navigate_with_axe):
            self.browser_js(url, code, ready=ready, login=login, timeout=120)

    def _pages(self, customer):
        """(url, ready, prepare, agent_calls) of every page and state to check."""
        tickets = self.tickets[customer]
        chat_ready = "document.querySelector('.o_im_livechat_ticket_chat .o-mail-Message')"
        ringing = f"{chat_ready} && document.querySelector('{CALL}_incoming')"
        return [
            *(
                (url, ready, NOTHING, False)
                for url, ready in self._still_pages(tickets, chat_ready)
            ),
            (f"/my/tickets/{tickets['call'].id}", ringing, NOTHING, True),
            (f"/my/tickets/{tickets['call'].id}", ringing, ANSWER, True),
        ]

    def _still_pages(self, tickets, chat_ready):
        return [
            # the home page's counters and the entry's unread badge are filled by JS
            (
                "/my",
                "document.querySelector('.o_portal_my_home')"
                " && !document.querySelector('.o_portal_doc_spinner')"
                " && document.querySelector('.o_im_livechat_ticket_home_unread:not(.d-none)')",
            ),
            ("/my/tickets", "document.querySelector('.o_im_livechat_ticket_unread_badge')"),
            ("/my/tickets/new", "document.querySelector('.o_im_livechat_ticket_new_form')"),
            (f"/my/tickets/{tickets['new'].id}", chat_ready),
            (f"/my/tickets/{tickets['open'].id}", chat_ready),
            (
                f"/my/tickets/{tickets['resolved'].id}",
                f"{chat_ready} && document.querySelector('.o_im_livechat_ticket_rating_form')",
            ),
        ]

    def test_customer_pages(self):
        for customer, lang in ((self.customer_a, "en_US"), (self.customer_de, "de_DE")):
            for size in SIZES:
                # the open ticket has an agent's message the customer has not seen
                self._agent_says(self.tickets[customer]["open"], "Any news?")
                for url, ready, prepare, agent_calls in self._pages(customer):
                    if agent_calls:
                        self._agent_calls(self.tickets[customer]["call"])
                    with self.subTest(url=url, size=size, lang=lang, prepare=prepare):
                        self.browser_size = size
                        ready = (
                            "document.readyState === 'complete'"
                            f" && location.pathname.endsWith({json.dumps(url)}) && Boolean({ready})"
                        )
                        self._run_axe(url, customer.login, lang, ready, prepare=prepare)
