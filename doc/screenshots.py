"""Take screenshots of a running im_livechat_ticket demo in headless Chromium.

Usage: python3 doc/screenshots.py [BASE_URL] [OUT_DIR]
       (defaults: http://localhost:8069, doc/screenshots)

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

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8069"
OUT_DIR = (
    sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "screenshots")
)
# the demo ticket shown in the chat pictures (demo data: the customer's urgent one)
TICKET = os.environ.get("SHOT_TICKET", "TCK-00001")
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

    def wait(self, condition, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate(f"!!({condition})"):
                return
            time.sleep(0.2)
        raise TimeoutError(condition)

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
        time.sleep(2)

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


def customer_pages():
    browser = Browser(port=9333)
    try:
        browser.login("customer", "customer")
        browser.goto(f"{BASE_URL}/my", "document.querySelector('.o_portal_my_home')")
        browser.screenshot("customer-home")
        browser.goto(f"{BASE_URL}/my/tickets", "document.querySelector('#wrap, main')")
        browser.screenshot("customer-tickets")
        first = browser.evaluate(
            f"[...document.querySelectorAll('a[href^=\"/my/tickets/\"]')]"
            f".find(a => a.textContent.includes('{TICKET}'))?.getAttribute('href')"
        )
        if first:
            browser.goto(
                f"{BASE_URL}{first}", "document.querySelector('.o-mail-Message')", settle=3
            )
            browser.screenshot("customer-ticket-chat")
        browser.goto(f"{BASE_URL}/my/tickets/new", "document.querySelector('form')")
        browser.screenshot("customer-new-ticket")
        browser.set_size(375, 800, mobile=True)
        browser.goto(f"{BASE_URL}/my/tickets", "document.querySelector('body')")
        browser.screenshot("customer-tickets-phone")
        if first:
            browser.goto(
                f"{BASE_URL}{first}", "document.querySelector('.o-mail-Message')", settle=3
            )
            browser.screenshot("customer-ticket-chat-phone")
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
        browser.evaluate(
            "document.querySelector("
            "'.o_im_livechat_ticket_conversation, .o_form_view .o-mail-Thread'"
            ")?.scrollIntoView()"
        )
        time.sleep(1)
        browser.screenshot("agent-ticket-form")
    finally:
        browser.close()


if __name__ == "__main__":
    customer_pages()
    agent_pages()
