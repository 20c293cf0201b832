"""A local SMTP server that keeps what Odoo sends (aiosmtpd, from PyPI).

The e-mail tests start one on a free port of 127.0.0.1 and read the messages
it received; ``make run`` starts one for the demo, which writes every message
it receives as an ``.eml`` file into a folder:

    python3 tests/smtp_server.py --port 8025 --dir <folder>

To answer one of those e-mails as its recipient would (README, "E-mail"):

    python3 tests/smtp_server.py --reply <file.eml> --text "Thanks!" > reply.eml
"""

import argparse
import email
import email.message
import email.policy
import email.utils
import os
import signal
import socket
import sys
import threading
import time

from aiosmtpd.controller import Controller


class MessageKeeper:
    """aiosmtpd handler: keeps each message received (and writes it to
    ``folder`` if given), with the time it arrived."""

    def __init__(self, folder=None):
        self.folder = folder
        self.received = []  # (monotonic time, envelope sender, recipients, EmailMessage)
        self.condition = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        message = email.message_from_bytes(content, policy=email.policy.SMTP)
        with self.condition:
            self.received.append(
                (time.monotonic(), envelope.mail_from, list(envelope.rcpt_tos), message)
            )
            count = len(self.received)
            self.condition.notify_all()
        if self.folder:
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{count:04d}.eml"
            with open(os.path.join(self.folder, name), "wb") as file:
                file.write(content)
        return "250 Message accepted"


class LocalSmtpServer:
    """An SMTP server on ``host``:``port`` (0: a free port) in a thread."""

    def __init__(self, host="127.0.0.1", port=0, folder=None):
        self.host = host
        self.port = port or self._free_port(host)
        self.keeper = MessageKeeper(folder)
        self.controller = Controller(self.keeper, hostname=host, port=self.port)

    @staticmethod
    def _free_port(host):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            return sock.getsockname()[1]

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    @property
    def messages(self):
        """The messages received so far, oldest first."""
        with self.keeper.condition:
            return [message for _at, _sender, _rcpts, message in self.keeper.received]

    def clear(self):
        with self.keeper.condition:
            self.keeper.received.clear()

    def wait_for(self, count, timeout=10.0):
        """Wait until ``count`` messages arrived; returns the (arrival time,
        message) pairs received so far."""
        deadline = time.monotonic() + timeout
        with self.keeper.condition:
            while len(self.keeper.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.keeper.condition.wait(left)
            return [(at, message) for at, _sender, _rcpts, message in self.keeper.received]


def make_reply(original, text, sender=None):
    """An RFC 822 reply to ``original`` (bytes of an e-mail), as a mail client
    writes it: threaded by In-Reply-To/References, the text on top and the
    original quoted below."""
    original = email.message_from_bytes(original, policy=email.policy.SMTP)
    reply = email.message.EmailMessage()
    reply["From"] = sender or original["To"]
    reply["To"] = original["Reply-To"] or original["From"]
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Message-ID"] = email.utils.make_msgid()
    reply["In-Reply-To"] = original["Message-ID"]
    reply["References"] = " ".join(filter(None, [original["References"], original["Message-ID"]]))
    body = original.get_body(("plain", "html"))
    quoted = "\n".join(f"> {line}" for line in (body.get_content() if body else "").splitlines())
    reply.set_content(f"{text}\n\nOn {original['Date']}, {original['From']} wrote:\n{quoted}\n")
    return reply.as_bytes()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", help="folder the .eml files are written to")
    parser.add_argument("--reply", help="print a reply to this .eml file instead")
    parser.add_argument("--text", default="Thank you!", help="the text of the reply")
    args = parser.parse_args()
    if args.reply:
        with open(args.reply, "rb") as file:
            os.write(1, make_reply(file.read(), args.text))
        return
    if not args.dir:
        parser.error("--dir is required to run the server")
    os.makedirs(args.dir, exist_ok=True)
    server = LocalSmtpServer(args.host, args.port, args.dir).start()
    sys.stderr.write(f"SMTP server on {args.host}:{server.port}, e-mails written to {args.dir}\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    signal.signal(signal.SIGINT, lambda *_args: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
