"""A local SMTP server (aiosmtpd) that keeps what it receives, for tests and benchmarks."""

import email
import email.policy
import logging
import socket
import threading
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, bodies: bool):
        self.messages = []
        self.lock = threading.Lock()
        self.bodies = bodies

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = BytesHeaderParser().parsebytes(envelope.content)  # headers are enough
        kept = {
            "key": message["Idempotency-Key"],
            "message_id": message["Message-ID"],
            "subject": message["Subject"],
            "to": list(envelope.rcpt_tos),
        }
        if self.bodies:  # the plain-text part, for a test that follows a link in it
            whole = email.message_from_bytes(envelope.content, policy=email.policy.default)
            kept["text"] = whole.get_body(preferencelist=("plain",)).get_content()
        with self.lock:
            self.messages.append(kept)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """`bodies`: keep each message's plain text too (a benchmark's thousands need not)."""

    def __init__(self, *, bodies: bool = False):
        # aiosmtpd logs every SMTP command at INFO: at thousands of messages that
        # logging, not the app, would be what a benchmark measured.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.handler = _Handler(bodies)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[dict]:
        with self.handler.lock:
            return list(self.handler.messages)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
