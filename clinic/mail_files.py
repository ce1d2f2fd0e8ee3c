"""`make run`'s outbox: each email a file under var/mail/ that says whom it is for and what.

Django's file backend names files by time and a process id; finding the email
one just asked for meant grep. Here each message is one `.eml` file named
`<date>-<time>-<recipient>-<subject>.eml`, e.g.
`20261203-101502-patient@example.com-your-booking-is-confirmed.eml`, which
any mail program opens. Built on the public EmailBackend API. Files, not the
console: emails hold patient details, and the console is a log.
"""

import threading
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django.utils.text import slugify

NAME_PART = 60  # characters of the recipient, and of the subject, in a file name


def file_name(message, when, taken) -> str:
    """A name for `message`: its time, first recipient and subject, unique among `taken`."""
    recipient = (message.to or message.cc or message.bcc or ["nobody"])[0]
    recipient = "".join(c for c in recipient.lower() if c.isalnum() or c in "@.-_+")
    subject = slugify(message.subject or "no subject")[:NAME_PART].strip("-") or "no-subject"
    stem = f"{when:%Y%m%d-%H%M%S}-{recipient[:NAME_PART]}-{subject}"
    name, n = f"{stem}.eml", 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}.eml"
    return name


class EmailBackend(BaseEmailBackend):
    _lock = threading.Lock()  # the worker sends from several threads

    def __init__(self, *args, file_path=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.folder = Path(file_path or getattr(settings, "EMAIL_FILE_PATH", "var/mail"))

    def send_messages(self, email_messages) -> int:
        sent = 0
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            for message in email_messages:
                if not message.recipients():
                    continue
                taken = {p.name for p in self.folder.iterdir()}
                path = self.folder / file_name(message, timezone.localtime(), taken)
                path.write_bytes(message.message().as_bytes(linesep="\n"))
                sent += 1
        return sent
