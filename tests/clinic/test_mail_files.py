"""make run's outbox: one .eml file an email, named so a person finds theirs."""

import email
from datetime import datetime

from django.core.mail import EmailMessage, EmailMultiAlternatives

from clinic.mail_files import EmailBackend, file_name


def test_each_email_is_a_file_named_by_time_recipient_and_subject(tmp_path):
    backend = EmailBackend(file_path=tmp_path)
    message = EmailMultiAlternatives(
        "Your booking is confirmed: 3 sessions", "Plain text.", to=["Pat.Demo@Example.com"]
    )
    message.attach_alternative("<p>HTML</p>", "text/html")
    assert backend.send_messages([message, message]) == 2
    names = sorted((p.name for p in tmp_path.iterdir()), key=len)
    stem = names[0].removesuffix(".eml")
    assert stem.endswith("-pat.demo@example.com-your-booking-is-confirmed-3-sessions")
    assert names[1] == f"{stem}-2.eml"  # the same second, recipient and subject
    parsed = email.message_from_bytes((tmp_path / names[0]).read_bytes())
    assert parsed["To"] == "Pat.Demo@Example.com" and parsed.is_multipart()


def test_names_stay_short_and_safe_whatever_the_subject_or_address():
    message = EmailMessage("../../etc/passwd " + "x" * 300, "", to=["a/b\\c <d>@example.com"])
    name = file_name(message, datetime(2026, 12, 3, 10, 15, 2), set())
    assert "/" not in name and "\\" not in name and ".." not in name.removesuffix(".eml")
    assert name.startswith("20261203-101502-") and len(name) < 150
    assert file_name(EmailMessage("", "", bcc=["x@example.com"]), datetime(2026, 1, 1), set())
