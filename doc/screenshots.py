"""Take screenshots of a running im_livechat_ticket demo in headless Chromium.

Usage: python3 doc/screenshots.py [--phone | --notes] [BASE_URL] [OUT_DIR]
       (defaults: http://localhost:8069, static/description/screenshots)

The README and the Apps page (static/description/index.html) show the
pictures from that one directory.

--phone takes the customer's pages only, at 375x667 like a small phone,
and prints for each whether it scrolls sideways.

--notes takes only the ticket form with an internal note and another agent
on the ticket (it writes a note in the demo ticket).

Logs in as the demo users over the Chrome DevTools protocol (Debian's
chromium, websocket-client), opens each page and saves a PNG. The demo
must be running (`make run`).
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

PHONE = "--phone" in sys.argv[1:]
NOTES = "--notes" in sys.argv[1:]
ARGS = [arg for arg in sys.argv[1:] if arg not in ("--phone", "--notes")]
BASE_URL = ARGS[0] if ARGS else "http://localhost:8069"
OUT_DIR = os.path.normpath(
    ARGS[1]
    if len(ARGS) > 1
    else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "static", "description", "screenshots"
    )
)
PHONE_SIZE = (375, 667)
# the demo ticket shown in the chat pictures (demo data: the customer's urgent one)
TICKET = os.environ.get("SHOT_TICKET", "TCK-00001")
# a resolved ticket of the demo customer that is not rated yet (demo data: the second bike)
RATING_TICKET = os.environ.get("SHOT_RATING_TICKET", "TCK-00005")
CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)


class Browser:
    """One headless Chromium with a fresh profile, driven over CDP."""

    def __init__(self, width=1366, height=900, port=9333):
        self.profile = tempfile.mkdtemp(prefix="imlt-shots-")
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _attempt in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as response:
                    targets = json.load(response)
                page = next(t for t in targets if t["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.1)
        else:
            raise RuntimeError("Chromium did not start")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0
        self.call("Page.enable")
        self.set_size(width, height)

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def set_size(self, width, height, mobile=False):
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        return result.get("result", {}).get("value")

    def goto(self, url, wait_for=None, settle=1.5):
        self.call("Page.navigate", url=url)
        self.wait(wait_for or "document.readyState === 'complete'")
        time.sleep(settle)

    def wait(self, condition, timeout=180):  # the first page builds the asset bundles
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(f"!!({condition})"):
                return
            time.sleep(0.2)
        raise TimeoutError(f"{condition} on {self.evaluate('location.href')}")

    def login(self, login, password):
        self.goto(
            f"{BASE_URL}/web/login", "document.querySelector('input[name=login]')", settle=0.2
        )
        self.evaluate(
            f"""
            document.querySelector('input[name=login]').value = {json.dumps(login)};
            document.querySelector('input[name=password]').value = {json.dumps(password)};
            document.querySelector('form.oe_login_form').submit();
            """
        )
        # leave the login page only once the login is through (a busy server takes seconds)
        time.sleep(1)
        self.wait(
            "document.readyState === 'complete' && !location.pathname.startsWith('/web/login')"
        )

    def screenshot(self, name, full_page=False):
        params = {"format": "png"}
        if full_page:
            metrics = self.call("Page.getLayoutMetrics")
            size = metrics["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        os.makedirs(OUT_DIR, exist_ok=True)
        path = os.path.join(OUT_DIR, f"{name}.png")
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))
        print(path)
        return path

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


# the chat has loaded its messages and the pictures in them
CHAT_READY = (
    "document.querySelector('.o-mail-Message')"
    " && [...document.querySelectorAll('.o-mail-Message img')].every(img => img.complete)"
)


def ticket_href(browser, reference):
    """The link of the customer's ticket ``reference`` in the ticket list."""
    browser.goto(
        f"{BASE_URL}/my/tickets", "document.querySelector('a[href^=\"/my/tickets/\"]')", settle=0.5
    )
    return browser.evaluate(
        f"[...document.querySelectorAll('a[href^=\"/my/tickets/\"]')]"
        f".find(a => a.textContent.includes({json.dumps(reference)}))?.getAttribute('href')"
    )


def show_picture_message(browser):
    """Scroll the conversation so the first message with a picture ends at
    its bottom: the whole picture and the messages before it are in view."""
    browser.evaluate(
        """
        const message = document.querySelector('.o-mail-AttachmentImage img')
            ?.closest('.o-mail-Message');
        let scroller = message?.parentElement;
        while (scroller && !(scroller.scrollHeight > scroller.clientHeight
                && ['auto', 'scroll'].includes(getComputedStyle(scroller).overflowY))) {
            scroller = scroller.parentElement;
        }
        if (message && scroller) {
            // the whole picture at the bottom of the conversation, the messages before it above
            scroller.scrollTop += message.getBoundingClientRect().bottom
                - scroller.getBoundingClientRect().bottom + 12;
        }
        """
    )
    time.sleep(0.5)


def fill_new_ticket(browser):
    """Type a subject and a first message, as a customer would (not sent)."""
    browser.evaluate(
        """
        const form = document.querySelector('form[action*="/my/tickets/new"], form');
        form.querySelector('[name=name]').value = 'Rear light flickers at night';
        form.querySelector('[name=message]').value =
            'The rear light of our Urban 300 (VW-7731) flickers when the road is bumpy. '
            + 'Is it a loose cable?';
        """
    )


def fill_rating(browser):
    """Pick five stars and write a comment in the rating form (not sent)."""
    browser.evaluate(
        """
        document.querySelector('label[for=o_im_livechat_ticket_score_5]').click();
        document.querySelector('#o_im_livechat_ticket_rating_feedback').value =
            'Quick and friendly, the amendment was ready the same day.';
        document.querySelector('.o_im_livechat_ticket_rating_form')
            .scrollIntoView({block: 'center'});
        """
    )
    time.sleep(0.5)


def customer_pages():
    browser = Browser(port=9333)
    try:
        browser.login("customer", "customer")
        browser.goto(f"{BASE_URL}/my", "document.querySelector('.o_portal_my_home')")
        browser.screenshot("customer-home")
        browser.goto(f"{BASE_URL}/my/tickets", "document.querySelector('#wrap, main')")
        browser.screenshot("customer-tickets")
        first = ticket_href(browser, TICKET)
        rated = ticket_href(browser, RATING_TICKET)
        for name, href in ((TICKET, first), (RATING_TICKET, rated)):
            if not href:
                print(f"no ticket {name} in the customer's list: no picture of it", file=sys.stderr)
        for suffix in ("", "-phone"):
            if suffix:
                browser.set_size(375, 800, mobile=True)
                browser.goto(f"{BASE_URL}/my/tickets", "document.querySelector('body')")
                browser.screenshot("customer-tickets-phone")
            if first:
                browser.goto(f"{BASE_URL}{first}", CHAT_READY, settle=3)
                if not suffix:
                    show_picture_message(browser)
                browser.screenshot(f"customer-ticket-chat{suffix}")
            if rated:
                rating_form = "document.querySelector('.o_im_livechat_ticket_rating_form')"
                browser.goto(f"{BASE_URL}{rated}", rating_form, settle=2)
                fill_rating(browser)
                browser.screenshot(f"customer-rating{suffix}")
            browser.goto(f"{BASE_URL}/my/tickets/new", "document.querySelector('form')")
            fill_new_ticket(browser)
            browser.screenshot(f"customer-new-ticket{suffix}")
    finally:
        browser.close()


def phone_pages():
    """Every customer page at phone size, whole pages, with a sideways-scroll check."""
    browser = Browser(*PHONE_SIZE, port=9335)
    browser.set_size(*PHONE_SIZE, mobile=True)
    overflow = "document.documentElement.scrollWidth - window.innerWidth"
    try:
        browser.login("customer", "customer")
        pages = [
            ("phone-home", "/my", "document.querySelector('.o_portal_my_home')", 1.5),
            ("phone-tickets", "/my/tickets", "document.querySelector('#wrap, main')", 1.5),
            ("phone-new-ticket", "/my/tickets/new", "document.querySelector('form')", 1.5),
        ]
        ticket = browser.evaluate(
            f"fetch('/my/tickets').then(r => r.text()).then(html => [...new DOMParser()"
            f".parseFromString(html, 'text/html').querySelectorAll('a[href^=\"/my/tickets/\"]')]"
            f".find(a => a.textContent.includes('{TICKET}'))?.getAttribute('href'))"
        )
        if ticket:
            pages.append(
                ("phone-ticket-chat", ticket, "document.querySelector('.o-mail-Message')", 3)
            )
        for name, path, ready, settle in pages:
            browser.goto(f"{BASE_URL}{path}", ready, settle=settle)
            print(f"{name}: {browser.evaluate(overflow)} px wider than the screen")
            browser.screenshot(name)
            browser.screenshot(f"{name}-full", full_page=True)
    finally:
        browser.close()


def agent_pages():
    browser = Browser(port=9334)
    try:
        browser.login("agent", "agent")
        queue = f"{BASE_URL}/odoo/action-im_livechat_ticket.action_ticket_queue"
        browser.goto(queue, "document.querySelector('.o_kanban_renderer')", settle=3)
        browser.screenshot("agent-queue")
        browser.goto(
            f"{queue}?view_type=list", "document.querySelector('.o_list_renderer')", settle=2
        )
        browser.screenshot("agent-queue-list")
        browser.goto(queue, "document.querySelector('.o_kanban_record')", settle=2)
        browser.evaluate(
            f"[...document.querySelectorAll('.o_kanban_record')]"
            f".find(card => card.textContent.includes('{TICKET}')).click()"
        )
        browser.wait("document.querySelector('.o_form_view .o-mail-Message')")
        time.sleep(2)
        # the ticket's fields and the start of the conversation
        browser.screenshot("agent-ticket-form")
        browser.evaluate(
            "document.querySelector("
            "'.o_im_livechat_ticket_conversation, .o_form_view .o-mail-Thread')?.scrollIntoView()"
        )
        time.sleep(1)
        browser.screenshot("agent-ticket-conversation")
    finally:
        browser.close()


def open_ticket_form(browser, reference):
    queue = f"{BASE_URL}/odoo/action-im_livechat_ticket.action_ticket_queue"
    # every ticket, not only the user's own
    browser.goto(f"{queue}?view_type=list", "document.querySelector('.o_list_renderer')", settle=2)
    browser.evaluate("document.querySelector('.o_searchview .o_facet_remove')?.click()")
    time.sleep(2)
    browser.evaluate(
        f"[...document.querySelectorAll('.o_data_row')]"
        f".find(row => row.textContent.includes({json.dumps(reference)}))"
        ".querySelector('td.o_data_cell').click()"
    )
    browser.wait("document.querySelector('.o_form_view .o-mail-Message')")


NOTE_TEXT = "Checked with the workshop: the charger was replaced under warranty last month."


def agent_note_pages():
    """A second agent has the ticket open; the first writes an internal note."""
    other = Browser(port=9335)
    browser = Browser(port=9336)
    try:
        other.login("agent2", "agent2")
        open_ticket_form(other, TICKET)
        browser.login("agent", "agent")
        open_ticket_form(browser, TICKET)
        browser.wait(
            "document.querySelector('.o_im_livechat_ticket_collision .o_im_livechat_ticket_viewer')"
        )
        browser.evaluate("document.querySelector('.o_im_livechat_ticket_mode_note').click()")
        browser.wait("document.querySelector('.o_im_livechat_ticket_note_composer textarea')")
        browser.evaluate(
            f"""
            const input = document.querySelector('.o_im_livechat_ticket_note_composer textarea');
            input.focus();
            document.execCommand('insertText', false, {json.dumps(NOTE_TEXT)});
            """
        )
        time.sleep(0.5)
        browser.evaluate(
            "document.querySelector("
            "'.o_im_livechat_ticket_note_composer .o-mail-Composer-send').click()"
        )
        browser.wait("document.querySelector('.o-mail-Message.o_im_livechat_ticket_note')")
        browser.evaluate(
            "document.querySelector('.o_im_livechat_ticket_conversation').scrollIntoView()"
        )
        time.sleep(2)
        browser.screenshot("agent-ticket-note")
        # the agent starts a reply: the other agent sees who is assigned and typing
        browser.evaluate("document.querySelector('.o_im_livechat_ticket_mode_reply').click()")
        reply_input = (
            "document.querySelector('.o_im_livechat_ticket_conversation_composer"
            ":not(.o_im_livechat_ticket_note_composer) textarea')"
        )
        browser.wait(reply_input)
        time.sleep(1)
        browser.evaluate(
            f"""
            const input = {reply_input};
            input.focus();
            document.execCommand('insertText', false, 'The courier does not need');
            """
        )
        other.wait(
            "document.querySelector('.o_im_livechat_ticket_collision_agent')?.textContent"
            ".includes('typing') && document.querySelector('.o_im_livechat_ticket_note')"
        )
        other.evaluate(
            "document.querySelector('.o_im_livechat_ticket_conversation').scrollIntoView()"
        )
        time.sleep(1)
        other.screenshot("agent-ticket-collision")
    finally:
        browser.close()
        other.close()


if __name__ == "__main__":
    if PHONE:
        phone_pages()
    elif NOTES:
        agent_note_pages()
    else:
        customer_pages()
        agent_pages()
        agent_note_pages()
