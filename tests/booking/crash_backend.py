"""An SMTP backend that SIGKILLs its own process once, before or after the mail is sent.

CRASH_AT=before|after picks the moment; the CRASH_MARKER file makes it once only.
"""

import os
import signal
from pathlib import Path

from django.core.mail.backends.smtp import EmailBackend


class CrashingSMTPBackend(EmailBackend):
    def send_messages(self, email_messages):
        marker = Path(os.environ["CRASH_MARKER"])
        crash_at = None if marker.exists() else os.environ.get("CRASH_AT")
        if crash_at == "before":
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        sent = super().send_messages(email_messages)
        if crash_at == "after":
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return sent
