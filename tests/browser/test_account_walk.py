"""Every account page the site exposes, and every link in every kind of email, in a browser.

Pages: each page of django-allauth's URLconf that the site serves (GET, and
each form's POST: sign-up, sign-in, sign-out, confirm email, change and
remove an address, refused "make primary", password change, set and reset,
two-factor set-up, recovery codes, sign-in with a code, sign-out of it), our
data export and deletion, and the "choose a password" link of a phone booking.
Each must answer below 500, sit in the site's layout, and speak in sentence
case.

Emails: every kind in clinic/emails.py EMAIL_KINDS is sent here as the app
sends it, and every link in its text and HTML parts is opened in a fresh
browser as its reader would: each starts with SITE_URL and answers below 500
inside the site's layout. Links to a web calendar or the map (EXTERNAL) are
checked for their form and not opened. The tests below each declare the kinds they send;
`test_every_kind_of_email_is_walked` requires their union to be the whole list,
so a new kind of email cannot be added without being walked.
"""

import base64
import calendar
import hashlib
import hmac
import re
import struct
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.utils import timezone

from booking.email_check import email_code_send
from booking.models import Reminder
from booking.reminder_emails import build_message
from clinic.emails import EMAIL_KINDS, KIND_HEADER
from clinic.models import ClinicDetails
from education import services as newsletter
from tests.booking.conftest import first_free_slot
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory, book_course
from tests.browser.conftest import other_origin_requests
from tests.education.factories import ArticleFactory, TreatmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-Walk-passphrase-42"
CLINIC = "Harbourside Skin Clinic"
# Words that keep their capital inside a sentence-case heading, button or label.
PROPER = {"I", "JSON", "FAQ", "QR", *CLINIC.split()}
PROPER |= set(calendar.day_name) | set(calendar.month_name[1:])

SENDS = {
    "visitor": {
        "account.email_confirmation_signup",
        "account.account_already_exists",
        "account.password_reset_key",
        "account.unknown_account",
        "account.password_reset",
    },
    "patient": {
        "account.email_confirmation",
        "account.email_changed",
        "account.email_deleted",
        "account.password_changed",
        "account.password_set",
    },
    "staff": {
        "account.totp_activated",
        "account.recovery_codes_generated",
        "account.totp_deactivated",
    },
    "booking": {
        *(f"booking.{kind}" for kind in Reminder.Kind.values),
        "booking.email_code",
        "booking.email_code_refused",
        "booking.receipt",
        "booking.deposit_refunded",
        "newsletter.confirm",
        "newsletter.digest",
    },
}


def test_every_kind_of_email_is_walked():
    walked = set().union(*SENDS.values())
    assert walked == set(EMAIL_KINDS), {
        "never walked": set(EMAIL_KINDS) - walked,
        "not a kind": walked - set(EMAIL_KINDS),
    }


# --- What every page must be ------------------------------------------------------------


def not_sentence_case(text: str) -> list[str]:
    """Words after the first that start with a capital and are not names or acronyms."""
    words = re.findall(r"[A-Za-z][\w'-]*", text)
    return [
        w
        for w in words[1:]
        if w[0].isupper() and w not in PROPER and not (w.isupper() and len(w) <= 4)
    ]


class Walk:
    """A browser tab that checks each page it reaches."""

    def __init__(self, page, origin: str):
        self.page, self.origin, self.seen = page, origin, []

    def check(self, response=None) -> None:
        page = self.page
        page.wait_for_load_state()
        status = response.status if response is not None else 200
        where = page.url
        assert status < 500, f"{where} answered {status}"
        assert page.locator("#main-content").count() == 1, f"{where}: not in the site's layout"
        assert page.locator("header.site-header").count() == 1, f"{where}: no site header"
        texts = page.locator(
            "main h1, main h2, main h3, main button, main label, main legend"
        ).all_inner_texts()
        wrong = {t.strip(): bad for t in texts if (bad := not_sentence_case(t.strip()))}
        assert wrong == {}, f"{where}: not in sentence case: {wrong}"
        assert "Traceback" not in page.content()
        self.seen.append(urlsplit(where).path)

    def goto(self, path: str):
        response = self.page.goto(path)
        self.check(response)
        return response

    def press(self, name: str, *, exact: bool = True) -> None:
        with self.page.expect_navigation():
            self.page.locator("main").get_by_role("button", name=name, exact=exact).click()
        self.check()

    def fill(self, **fields: str) -> None:
        for label, value in fields.items():
            # Crispy's required mark ("*", hidden by the site's CSS) ends some labels' text.
            name = re.compile(rf"^\s*{re.escape(label.replace('_', ' '))}\*?\s*$")
            self.page.get_by_label(name).fill(value)


def heading(walk) -> str:
    return walk.page.locator("main h1").inner_text()


# --- Emails: every link, as its reader opens it -------------------------------------------

LINK = re.compile(r"https?://[^\s\"'<>]+")


def email_links(message) -> set[str]:
    parts = [message.body] + [content for content, _type in getattr(message, "alternatives", [])]
    links = set()
    for part in parts:
        links |= {link.rstrip(".,)").replace("&amp;", "&") for link in LINK.findall(part)}
    return links


# Links that leave the site on purpose (a web calendar, the map): each is checked for its
# form here and never opened, as a test must not reach another origin.
UTC_STAMP = r"\d{8}T\d{6}Z"
UTC_ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
EXTERNAL = {
    "calendar.google.com": {
        "/calendar/render": {
            "action": "TEMPLATE",
            "text": ".+",
            "dates": f"{UTC_STAMP}/{UTC_STAMP}",
            "details": ".+",
            "location": ".+",
        }
    },
    "outlook.live.com": {
        "/calendar/0/action/compose": {
            "rru": "addevent",
            "subject": ".+",
            "startdt": UTC_ISO,
            "enddt": UTC_ISO,
            "body": ".+",
            "location": ".+",
        }
    },
    "www.openstreetmap.org": {
        "/": {"mlat": r"-?\d+\.\d+", "mlon": r"-?\d+\.\d+"},
        "/search": {"query": ".+"},
    },
}


def external_link_problem(link: str) -> str | None:
    """Why this link to another site is not one the app writes, or None when it is."""
    parts = urlsplit(link)
    paths = EXTERNAL[parts.hostname]
    if parts.scheme != "https" or parts.path not in paths:
        return f"{link}: not https, or not a page of {parts.hostname} the app links to"
    fields = paths[parts.path]
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    if set(query) != set(fields):
        return f"{link}: {sorted(query)} is not {sorted(fields)}"
    wrong = [name for name, form in fields.items() if not re.fullmatch(form, query[name])]
    return f"{link}: {wrong} out of form" if wrong else None


def check_email(message) -> None:
    kind = message.extra_headers.get(KIND_HEADER)
    assert kind in EMAIL_KINDS, f"{message.subject!r} is of no kind in clinic/emails.py"
    text = message.body
    for entity in ("&quot;", "&lt;", "&gt;", "&#x27;", "&amp;"):
        assert entity not in text, f"{kind}: the text part is HTML-escaped ({entity})"
    if EMAIL_KINDS[kind].to != "clinic":  # the clinic's own notices sign off as nobody
        assert CLINIC in text, f"{kind}: the text part does not name the clinic"
    for host_greeting in ("Hello from", "Thank you for using"):
        assert host_greeting not in text, f"{kind}: {host_greeting!r}"
    assert message.subject
    if kind.startswith("account."):  # fixed wording (the others carry names and dates)
        assert not_sentence_case(message.subject) == [], message.subject


def walk_emails(chromium, live_server, messages, expected: set[str]) -> None:
    """Each message checked, and each of its links opened in a browser that is signed out."""
    kinds = {m.extra_headers.get(KIND_HEADER) for m in messages}
    assert kinds == expected, {"missing": expected - kinds, "unexpected": kinds - expected}
    links: dict[str, str] = {}
    for message in messages:
        check_email(message)
        found = email_links(message)
        if message.extra_headers.get(KIND_HEADER) not in ("booking.email_code",):
            assert found, f"{message.extra_headers[KIND_HEADER]}: no link at all"
        for link in found:
            if urlsplit(link).hostname in EXTERNAL:
                assert external_link_problem(link) is None, external_link_problem(link)
                continue
            assert link.startswith(settings.SITE_URL + "/"), f"{link} is not on SITE_URL"
            links.setdefault(link, message.extra_headers[KIND_HEADER])
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.requests_seen = []
    page.on("request", lambda request: page.requests_seen.append(request.url))
    errors = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    walk = Walk(page, live_server.url)
    try:
        for link, kind in sorted(links.items()):
            response = page.goto(link)
            try:
                walk.check(response)
            except AssertionError as failure:
                raise AssertionError(f"{kind}: {failure}") from None
        assert other_origin_requests(page, live_server.url) == []
        assert errors == []
    finally:
        context.close()


def sent_since(count: int) -> list:
    return list(mail.outbox[count:])


# --- The world ---------------------------------------------------------------------------


@pytest.fixture
def world(live_server, settings):
    settings.SITE_URL = live_server.url
    ClinicDetails.objects.update_or_create(
        pk=1,
        defaults={
            "name": CLINIC,
            "address": "1 Quay Street\nBristol",
            "phone": "0117 496 0000",
            "email": "desk@harbourside.example",
            "opening_hours": "Monday to Friday: 9am to 5pm",
        },
    )
    treatment = TreatmentFactory()
    practitioner = PractitionerFactory(treatments=[treatment])
    return {"treatment": treatment, "practitioner": practitioner, "url": live_server.url}


def code_of(totp_secret: str, at: float | None = None) -> str:
    """RFC 6238: the 6-digit code an authenticator app shows for `totp_secret` now."""
    key = base64.b32decode(totp_secret.upper() + "=" * (-len(totp_secret) % 8))
    counter = struct.pack(">Q", int((at or time.time()) // 30))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**6:06d}"


def link_in(message, part: str) -> str:
    return next(link for link in email_links(message) if part in link)


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- The visitor: sign-up, sign-in, password reset ------------------------------------------


def test_a_visitor_walks_every_entrance_page(page, world, chromium, live_server):
    walk = Walk(page, world["url"])
    UserFactory(email="known@example.org", password=PASSWORD)
    before = len(mail.outbox)
    for path in (
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/password/reset/key/done/",
        "/accounts/confirm-email/",
        "/accounts/inactive/",
        "/accounts/login/code/confirm/",
        "/accounts/confirm-email/not-a-key/",
        "/accounts/password/reset/key/1-not-a-key/",
        "/accounts/welcome/not-a-token/",
        "/accounts/logout/",
        "/accounts/2fa/authenticate/",
        "/accounts/reauthenticate/",
        "/accounts/email/",
        "/accounts/data/",
    ):
        walk.goto(path)

    # Sign up with errors, then properly; the address is confirmed from its email.
    walk.goto("/accounts/signup/")
    walk.press("Create my account")
    assert "There is a problem" in page.content()
    walk.fill(Email_address="new@example.org", Choose_a_password=PASSWORD)
    walk.fill(Type_the_password_again=PASSWORD)
    walk.press("Create my account")
    assert heading(walk) == "Check your email"
    confirm = link_in(mail.outbox[-1], "/confirm-email/")
    walk.goto(path_of(confirm))
    walk.press("Confirm")
    assert EmailAddress.objects.get(email="new@example.org").verified

    # The same address again: the same answer, and its owner is told by email.
    page.context.clear_cookies()
    walk.goto("/accounts/signup/")
    walk.fill(Email_address="known@example.org", Choose_a_password=PASSWORD)
    walk.fill(Type_the_password_again=PASSWORD)
    walk.press("Create my account")
    assert heading(walk) == "Check your email"

    # Sign in wrongly, then rightly; sign out from the page that asks.
    walk.goto("/accounts/login/")
    walk.fill(Email_address="known@example.org", Password="wrong-password")
    walk.press("Sign in")
    assert "There is a problem" in page.content()
    walk.fill(Email_address="known@example.org", Password=PASSWORD)
    walk.press("Sign in")
    walk.goto("/accounts/logout/")
    walk.press("Sign out")

    # Password reset: an unknown address and a known one, then the emailed link.
    for email in ("nobody@example.org", "known@example.org"):
        walk.goto("/accounts/password/reset/")
        walk.fill(Email_address=email)
        walk.press("Email me a link")
        assert heading(walk) == "Check your email"
    reset = link_in(mail.outbox[-1], "/password/reset/key/")
    walk.goto(path_of(reset))
    walk.fill(New_password="a-New-walk-passphrase-43", New_password_again="mismatch-43-xyz")
    walk.press("Save my new password")
    walk.fill(New_password="a-New-walk-passphrase-43")
    walk.fill(New_password_again="a-New-walk-passphrase-43")
    walk.press("Save my new password")
    assert heading(walk) == "Your password is changed"
    assert other_origin_requests(page, world["url"]) == []

    walk_emails(chromium, live_server, sent_since(before), SENDS["visitor"])


# --- A signed-in patient: email, password, data, deletion -----------------------------


def sign_in(walk, email: str, password: str = PASSWORD) -> None:
    walk.goto("/accounts/login/")
    walk.fill(Email_address=email, Password=password)
    walk.press("Sign in")


def test_a_patient_walks_every_account_page(page, world, chromium, live_server):
    walk = Walk(page, world["url"])
    PatientFactory(user=UserFactory(email="pat@example.org", password=PASSWORD))
    before = len(mail.outbox)
    sign_in(walk, "pat@example.org")
    for path in ("/accounts/email/", "/accounts/password/change/", "/accounts/data/"):
        walk.goto(path)

    # Change the address: the link goes to the new one; "make primary" before it is refused.
    walk.goto("/accounts/email/")
    walk.fill(New_email_address="pat.new@example.org")
    walk.press("Send the link")
    assert "not confirmed yet" in page.content()
    form = page.locator("form", has=page.get_by_role("button", name="Send the link again"))
    form.evaluate(
        "f => { const b = document.createElement('button'); b.name = 'action_primary';"
        " b.textContent = 'Make primary'; f.appendChild(b); }"
    )
    walk.press("Make primary")
    assert "Confirm that address first" in page.content()
    walk.press("Keep my current address")
    assert "not confirmed yet" not in page.content()
    # (allauth sends one link per address per 3 minutes: another address.)
    walk.fill(New_email_address="pat.other@example.org")
    walk.press("Send the link")
    confirm = link_in(mail.outbox[-1], "/confirm-email/")
    walk.goto(path_of(confirm))
    walk.press("Confirm")
    walk.goto("/accounts/email/")
    assert "pat.other@example.org" in page.content()

    # Change the password, with a wrong current one first.
    walk.goto("/accounts/password/change/")
    walk.fill(Current_password="wrong", New_password="x", New_password_again="y")
    walk.press("Change password")
    assert "There is a problem" in page.content()
    walk.fill(Current_password=PASSWORD, New_password="a-Changed-walk-passphrase-44")
    walk.fill(New_password_again="a-Changed-walk-passphrase-44")
    walk.press("Change password")

    # An account with no password (booked by phone) chooses one on allauth's page.
    page.context.clear_cookies()
    phoned = PatientFactory(user=UserFactory(email="phoned@example.org", password=None))
    from django.test import Client

    client = Client()
    client.force_login(phoned.user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": world["url"],
            }
        ]
    )
    walk.goto("/accounts/password/set/")
    walk.fill(Choose_a_password=PASSWORD, Type_the_password_again=PASSWORD)
    walk.press("Save my password")

    # The data pages, then deletion (wrong password first).
    walk.goto("/accounts/data/")
    download = page.request.get("/accounts/data.json")
    assert download.status == 200 and download.json()["account"]["email"] == "phoned@example.org"
    walk.goto("/accounts/delete/")
    walk.fill(Your_password="wrong")
    walk.press("Delete my account", exact=False)
    assert "There is a problem" in page.content()
    walk.fill(Your_password=PASSWORD)
    walk.press("Delete my account", exact=False)
    assert not type(phoned.user).objects.get(pk=phoned.user.pk).is_active
    assert other_origin_requests(page, world["url"]) == []

    walk_emails(chromium, live_server, sent_since(before), SENDS["patient"])


# --- Staff: two-factor sign-in ---------------------------------------------------------------


def test_staff_set_up_and_use_two_factor_sign_in(page, world, chromium, live_server):
    walk = Walk(page, world["url"])
    UserFactory(email="desk@clinic.example", password=PASSWORD, is_staff=True)
    before = len(mail.outbox)
    sign_in(walk, "desk@clinic.example")
    walk.goto("/accounts/2fa/")
    page.get_by_role("link", name="Set up an authenticator app").click()
    walk.check()
    if heading(walk) == "Confirm it is you":
        walk.fill(Password=PASSWORD)
        walk.press("Confirm")
    assert heading(walk) == "Set up an authenticator app"
    assert page.locator("img[alt^='A QR code']").count() == 1
    secret = page.locator("#authenticator_secret").input_value()
    walk.fill(**{"The 6-digit code your app shows": "000000"})
    walk.press("Turn on")
    assert "There is a problem" in page.content()
    walk.fill(**{"The 6-digit code your app shows": code_of(secret)})
    walk.press("Turn on")

    walk.goto("/accounts/2fa/recovery-codes/")
    codes = page.locator("#recovery_codes").input_value().split()
    assert len(codes) >= 5
    assert page.request.get("/accounts/2fa/recovery-codes/download/").status == 200
    walk.goto("/accounts/2fa/recovery-codes/generate/")
    walk.press("Make new codes")
    walk.goto("/accounts/2fa/recovery-codes/")
    codes = page.locator("#recovery_codes").input_value().split()

    # Signing in again asks for the code. (A code works once, and the app's next one
    # is 30 seconds away: recovery codes, which the same field takes, stand in.)
    walk.goto("/accounts/logout/")
    walk.press("Sign out")
    sign_in(walk, "desk@clinic.example")
    assert heading(walk) == "Type your sign-in code"
    walk.fill(**{"Code from your authenticator app (or a recovery code)": "123"})
    walk.press("Sign in")
    assert "There is a problem" in page.content()
    walk.fill(**{"Code from your authenticator app (or a recovery code)": codes[0]})
    walk.press("Sign in")
    assert page.goto("/admin/").status == 200  # the admin has its own layout

    walk.goto("/accounts/2fa/totp/deactivate/")
    if heading(walk) == "Confirm it is you":  # allauth asks for the password or a code
        if page.get_by_label(re.compile(r"^\s*Password")).count():
            walk.fill(Password=PASSWORD)
        else:
            walk.fill(Code_from_your_authenticator_app=codes[1])
        walk.press("Confirm")
    walk.press("Turn it off")
    walk.goto("/accounts/2fa/")
    assert other_origin_requests(page, world["url"]) == []

    walk_emails(chromium, live_server, sent_since(before), SENDS["staff"])


# --- The clinic's own emails: booking, the journey's code, the newsletter ------------------


def test_every_link_in_the_booking_and_newsletter_emails_opens(
    world, chromium, live_server, fake_stripe_live
):
    before = len(mail.outbox)
    treatment, practitioner = world["treatment"], world["practitioner"]
    patient = PatientFactory(
        full_name="Orla O'Brien <Test>",
        user=UserFactory(email="orla@example.org", password=None, verified=False),
    )
    slot = first_free_slot(treatment, practitioner)
    course = book_course(patient=patient, treatment=treatment, slots=[slot])
    session = course.sessions.get()
    for kind in Reminder.Kind.values:  # each kind's email, as the sender builds it
        if kind == Reminder.Kind.OFFER:
            continue  # about a waitlist hold, not a course's session: below
        reminder = Reminder.objects.filter(session=session, kind=kind).first()
        reminder = reminder or Reminder.objects.create(
            session=session, kind=kind, due_at=timezone.now()
        )
        build_message(reminder).send()
    # A waitlist offer: another patient waits, and a free time is held for them by hand.
    from booking.waitlist import services as waitlist

    waiting = PatientFactory(user=UserFactory(email="wren@example.org"))
    first, last = waitlist.entry_dates(treatment=treatment, session=None, now=timezone.now())
    entry = waitlist.entry_join(
        patient=waiting,
        treatment=treatment,
        sessions=1,
        wish=waitlist.Wish(date_from=first, date_to=last),
        answers={q.pk: "no" for q in treatment.questions.all()},
        answers_version=treatment.questions_version,
    )
    held = waitlist.offer_make(entry=entry, slot=first_free_slot(treatment, practitioner))
    build_message(Reminder.objects.get(session_id=held.hold_id, kind=Reminder.Kind.OFFER)).send()
    # A payment at the desk, and its receipt, sent as the desk sends it once it is recorded.
    from booking.ledger import receipts
    from booking.ledger import services as ledger

    desk = UserFactory(email="desk@clinic.example", is_staff=True)
    payment = ledger.payment_record(course=course, amount="40", method="card", by=desk)
    receipts.receipt_send(entry=payment, by=desk)
    # A deposit paid on Stripe (the local one) after its times were let go: Stripe's signed
    # webhooks say so, the app refunds it and tells the patient (booking/deposits/).
    from booking.deposits import services as deposits
    from tests.booking.factories import agreed

    treatment.deposit, treatment.deposit_value = "fixed", Decimal("20.00")
    treatment.save()
    checkout = deposits.checkout_start(
        patient=PatientFactory(full_name="Dara D'Souza", user__email="dara@example.org"),
        treatment=treatment,
        slots=[first_free_slot(treatment, practitioner)],
        key="walk-deposit",
        return_url=lambda c: f"{live_server.url}/book/deposit/{c.pk}/",
        answers=agreed(treatment)["answers"],
        consent=agreed(treatment)["consent"],
    )
    paid = fake_stripe_live.pay(checkout.stripe_session)
    expired = {**paid["data"]["object"], "status": "expired"}
    for event in (fake_stripe_live.event("checkout.session.expired", expired), paid):
        assert fake_stripe_live.deliver(event).status_code == 200
    email_code_send(email="someone.new@example.org", now=timezone.now())
    email_code_send(
        email=UserFactory(email="staff@clinic.example", is_staff=True).email, now=timezone.now()
    )
    newsletter.newsletter_signup(email="reader@example.org")
    from education.models import NewsletterSubscriber

    NewsletterSubscriber.objects.update(confirmed_at=timezone.now())
    ArticleFactory()
    newsletter.newsletter_digest_send(now=timezone.now())

    messages = sent_since(before)
    confirmation = next(m for m in messages if m.extra_headers[KIND_HEADER].endswith("firmation"))
    assert "/accounts/welcome/" in confirmation.body  # booked by phone: choose a password
    next_window = next(m for m in messages if m.extra_headers[KIND_HEADER].endswith("window"))
    assert f"/appointments/sessions/{session.pk}/again/" in next_window.body  # book it again
    walk_emails(chromium, live_server, messages, SENDS["booking"])


def test_the_welcome_link_sets_the_password_verifies_and_signs_in(page, world):
    walk = Walk(page, world["url"])
    patient = PatientFactory(user=UserFactory(email="phone@example.org", password=None))
    EmailAddress.objects.filter(user=patient.user).update(verified=False)
    from booking.welcome import welcome_url

    link = welcome_url(patient.user)
    walk.goto(path_of(link))
    walk.fill(Choose_a_password=PASSWORD, Type_the_password_again=PASSWORD)
    walk.press("Save my password")
    assert heading(walk) == "My appointments"
    assert EmailAddress.objects.get(user=patient.user).verified
    walk.goto(path_of(link))  # once only
    assert heading(walk) == "This link does not work"


def test_every_email_template_belongs_to_a_kind():
    """A template under an email folder that no kind names would be an email nobody walks."""
    from pathlib import Path

    root = Path(settings.BASE_DIR) / "templates"
    named = {kind.template for kind in EMAIL_KINDS.values()}
    orphans = []
    for path in root.glob("**/email/*"):
        stem = str(path.relative_to(root).with_suffix(""))
        if path.name.startswith(("_", "base")) or stem.endswith("_subject"):
            continue
        if stem not in named:
            orphans.append(stem)
    assert orphans == []
