"""A local SMTP server (aiosmtpd) that keeps what it receives, for tests and benchmarks."""

import logging
import socket
import threading
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = BytesHeaderParser().parsebytes(envelope.content)  # headers are enough
        with self.lock:
            self.messages.append(
                {
                    "key": message["Idempotency-Key"],
                    "message_id": message["Message-ID"],
                    "subject": message["Subject"],
                }
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    def __init__(self):
        # aiosmtpd logs every SMTP command at INFO: at thousands of messages that
        # logging, not the app, would be what a benchmark measured.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.handler = _Handler()
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
