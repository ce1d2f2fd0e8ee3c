"""A patient downloads their data and deletes their account from /accounts/."""

import json
import re
from datetime import date, datetime
from importlib import import_module

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.models import Session as WebSession
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from booking.attendance import session_mark_attended
from booking.models import ClinicalNote, ConsentText, Patient, Reminder, ReminderEvent, Session
from clinic.models import ClinicDetails
from education.models import NewsletterSubscriber, SuitabilityQuestion
from tests.booking.conftest import LONDON
from tests.booking.factories import PatientFactory, UserFactory
from tests.helpers import at, book
from tests.worker import send_all_due

pytestmark = pytest.mark.django_db
NAME, EMAIL, PHONE = (
    "Zebedee Quixotic-Marchbanks",
    "zq.marchbanks.7731@example.org",
    "07700 931 337",
)
PASSWORD = "a-Password-123"  # UserFactory's
BOOKED_AT = datetime(2026, 4, 20, 9, 0, tzinfo=LONDON)
ANSWERS = {
    "treatment": "microneedling",
    "questions": [{"question": "Do you form keloid scars?", "answer": "no"}],
}


def booked_in_april(patient, treatment, practitioner, starts, consent=None):
    """book() on 20 April with the health answer kept, then its first emails sent."""
    question, _ = SuitabilityQuestion.objects.get_or_create(
        treatment=treatment,
        text=ANSWERS["questions"][0]["question"],
        defaults={"outcome": "consult", "explanation": "Talk to us first."},
    )
    with time_machine.travel(BOOKED_AT, tick=False):
        course = book(
            patient,
            treatment,
            practitioner,
            starts,
            answers={question.pk: "no"},
            **({"consent": consent} if consent else {}),
        )
        send_all_due()  # confirmation and clinic notice, sent in April
    return course


@pytest.fixture
def zebedee(now, treatment, practitioner):
    """Session 1 attended in May with a clinical note; sessions 2 and 3 still to come."""
    patient = PatientFactory(
        full_name=NAME,
        phone="07700 931 000",
        date_of_birth=date(1988, 3, 14),
        user=UserFactory(email=EMAIL, full_name=NAME),
    )
    patient.phone = PHONE  # a second history row, holding the old number
    patient.save()
    NewsletterSubscriber.objects.create(email=EMAIL, confirmed_at=BOOKED_AT)
    consent = ConsentText.objects.create(version=3, text="I agree.")
    course = booked_in_april(
        patient, treatment, practitioner, [at(5, 5), at(6, 2), at(7, 1)], consent
    )
    first = course.sessions.get(number=1)
    staff = UserFactory(is_staff=True)
    session_mark_attended(session=first, by=staff, now=now)
    ClinicalNote.objects.create(session=first, notes="Mild redness, settled.", written_by=staff)
    for obj in (patient, course):
        LogEntry.objects.create(
            user=staff,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj),
            action_flag=CHANGE,
        )
    refused = Reminder.objects.filter(session__course=course).exclude(status="sent").first()
    refused.last_error = f"SMTPRecipientsRefused: {{'{EMAIL}': (550, b'no such user')}}"
    refused.save(update_fields=["last_error"])
    ReminderEvent.objects.create(reminder=refused, at=now, event="failed", detail=EMAIL)
    mail.outbox.clear()
    return patient


@pytest.fixture
def other(now, treatment, practitioner):
    patient = PatientFactory(full_name="Olive Otherpatient", user__email="olive@example.org")
    NewsletterSubscriber.objects.create(email="olive@example.org")
    booked_in_april(patient, treatment, practitioner, [at(5, 6), at(6, 3)])
    mail.outbox.clear()
    return patient


@pytest.fixture
def signed_in(client, zebedee):
    client.force_login(zebedee.user)
    return client


def delete_account(client, **data):
    return client.post(reverse("account_delete"), data or {"password": PASSWORD})


# --- The export -----------------------------------------------------------------


def test_the_export_holds_the_patients_data(signed_in, zebedee, practitioner):
    response = signed_in.get(reverse("account_data_json"))
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["email"] == EMAIL and data["account"]["full_name"] == NAME
    assert data["account"]["date_joined"]
    assert data["patient"] == {
        "full_name": NAME,
        "phone": PHONE,
        "date_of_birth": "1988-03-14",
        "email_preferences": {"check_in": True, "next_window": True},
    }
    (course,) = data["courses"]
    assert course["treatment"] == "Microneedling" and course["status"] == "active"
    assert course["suitability_answers"] == ANSWERS["questions"]
    assert course["consent"] == {"version": 3, "given_at": "2026-04-20T09:00:00+01:00"}
    assert [(s["number"], s["start"], s["status"]) for s in course["sessions"]] == [
        (1, "2026-05-05T10:00:00+01:00", "attended"),
        (2, "2026-06-02T10:00:00+01:00", "booked"),
        (3, "2026-07-01T10:00:00+01:00", "booked"),
    ]
    assert {s["practitioner"] for s in course["sessions"]} == {practitioner.display_name}
    assert {
        "kind": "confirmation",
        "sent_at": "2026-04-20T09:00:00+01:00",
        "session_number": 1,
    } in (data["emails_sent"])
    assert "clinic_notice" not in {e["kind"] for e in data["emails_sent"]}  # not sent to them
    assert data["newsletter"]["email"] == EMAIL and data["newsletter"]["confirmed"]


def test_the_export_holds_nothing_of_another_patient(signed_in, other):
    body = signed_in.get(reverse("account_data_json")).content.decode()
    assert "Olive" not in body and "olive@example.org" not in body
    assert len(json.loads(body)["courses"]) == 1


def test_an_account_that_never_booked_exports_its_account(client):
    user = UserFactory(email="just.signed.up@example.org")
    client.force_login(user)
    data = json.loads(client.get(reverse("account_data_json")).content)
    assert data["account"]["email"] == "just.signed.up@example.org"
    assert data["patient"] is None and data["courses"] == [] and data["newsletter"] is None


@pytest.mark.parametrize("name", ["account_data", "account_data_json", "account_delete"])
def test_anonymous_visitors_are_sent_to_sign_in(client, name):
    for response in (client.get(reverse(name)), client.post(reverse(name))):
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login") + "?next=")


def test_the_data_pages_are_linked_from_my_appointments(signed_in):
    html = signed_in.get(reverse("booking:appointments")).content.decode()
    assert f'href="{reverse("account_data")}"' in html
    assert f'href="{reverse("account_delete")}"' in html
    page = signed_in.get(reverse("account_data"))
    assert f'href="{reverse("account_data_json")}"' in page.content.decode()
    assert "no-store" in page["Cache-Control"]


def test_the_delete_page_says_what_happens_and_asks_for_the_password(signed_in):
    html = signed_in.get(reverse("account_delete")).content.decode()
    assert "We cancel all your sessions that are still to come" in html
    assert "We tell the clinic" in html and "without your name" in html
    assert re.search(r'<label\s+for="id_password"[^>]*>\s*Your password', html)


# --- Deleting the account -------------------------------------------------------


@pytest.fixture
def deleted(signed_in, zebedee, other):
    elsewhere = Client()  # the same person signed in on another device
    elsewhere.force_login(zebedee.user)
    response = delete_account(signed_in)
    assert response.status_code == 200
    assert "Your account is deleted" in response.content.decode()
    zebedee.refresh_from_db()
    zebedee.user.refresh_from_db()
    return {"patient": zebedee, "client": signed_in, "elsewhere": elsewhere}


def test_deleting_cancels_the_sessions_to_come_and_keeps_the_record(deleted):
    patient = deleted["patient"]
    sessions = {s.number: s for s in Session.objects.filter(patient=patient)}
    assert sessions[1].status == Session.Status.ATTENDED
    assert sessions[2].status == sessions[3].status == Session.Status.CANCELLED
    assert ClinicalNote.objects.get(session=sessions[1]).notes == "Mild redness, settled."
    assert sessions[1].course.status == "completed"
    assert sessions[1].history.count() >= 2  # its history stays too


def test_deleting_tells_the_clinic_and_not_the_patient(deleted):
    patient = deleted["patient"]
    assert (
        not Reminder.objects.open()
        .filter(session__patient=patient)
        .exclude(kind=Reminder.Kind.CLINIC_NOTICE)
    )
    notice = Reminder.objects.get(
        session__patient=patient, kind=Reminder.Kind.CLINIC_NOTICE, status="pending"
    )
    assert notice.session.number == 2
    send_all_due()
    clinic = ClinicDetails.current().email
    assert not [m for m in mail.outbox if {EMAIL, patient.user.email} & set(m.to)]
    (message,) = [m for m in mail.outbox if m.to == [clinic]]
    assert "deleted their online account" in message.body
    assert message.subject.startswith("A patient deleted their account")
    assert "Session 2 of 3" in message.body and "Session 3 of 3" in message.body
    assert f"Deleted patient {patient.pk}" in message.body and NAME not in message.body


def test_deleting_forgets_who_the_patient_was(deleted):
    patient, user = deleted["patient"], deleted["patient"].user
    assert patient.full_name == f"Deleted patient {patient.pk}"
    assert patient.phone == "" and patient.date_of_birth is None
    assert not patient.email_check_in and not patient.email_next_window
    assert user.email == f"deleted-{user.pk}@deleted.invalid" and user.full_name == ""
    assert not user.is_active and not user.has_usable_password()
    history = Patient.history.filter(id=patient.pk)
    assert history.count() >= 3
    assert not history.filter(full_name__icontains="Quixotic")
    assert not history.filter(phone__contains="931") and not history.exclude(date_of_birth=None)
    assert not EmailAddress.objects.filter(user=user)
    assert not NewsletterSubscriber.objects.filter(email__iexact=EMAIL)
    assert not LogEntry.objects.filter(object_repr__icontains="Quixotic")
    assert not Reminder.objects.filter(last_error__icontains=EMAIL)
    assert not ReminderEvent.objects.filter(detail__icontains=EMAIL)


def test_after_deleting_nobody_can_sign_in_as_them(deleted):
    user = deleted["patient"].user
    signed_in_as = [s.get_decoded().get("_auth_user_id") for s in WebSession.objects.all()]
    assert str(user.pk) not in signed_in_as
    elsewhere_key = deleted["elsewhere"].cookies[settings.SESSION_COOKIE_NAME].value
    store = import_module(settings.SESSION_ENGINE).SessionStore
    assert not store(session_key=elsewhere_key).exists(elsewhere_key)
    assert cache.get(cached_db.KEY_PREFIX + elsewhere_key) is None  # no copy left in Redis
    assert deleted["elsewhere"].get(reverse("booking:appointments")).status_code == 302
    fresh = Client()
    assert not fresh.login(email=EMAIL, password=PASSWORD)
    response = fresh.post(reverse("account_login"), {"login": EMAIL, "password": PASSWORD})
    assert response.status_code == 200 and not response.context["user"].is_authenticated


def test_deleting_leaves_another_patient_alone(deleted, other):
    other.refresh_from_db()
    assert other.full_name == "Olive Otherpatient" and other.user.is_active
    assert other.sessions.filter(status="booked").count() == 2
    assert Reminder.objects.open().filter(session__patient=other).exists()
    assert NewsletterSubscriber.objects.filter(email="olive@example.org").exists()


def test_a_second_post_after_deleting_does_nothing(deleted):
    before = list(Reminder.objects.values_list("pk", "status", "version"))
    response = delete_account(deleted["client"])
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))
    assert list(Reminder.objects.values_list("pk", "status", "version")) == before


@pytest.mark.parametrize("data", [{"password": "not-my-password"}, {}])
def test_a_wrong_or_missing_password_changes_nothing(signed_in, zebedee, data):
    response = signed_in.post(reverse("account_delete"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing has been changed" in html or "Enter your password" in html
    zebedee.refresh_from_db()
    assert zebedee.full_name == NAME and zebedee.user.is_active
    assert zebedee.sessions.filter(status="booked").count() == 2
    assert signed_in.get(reverse("booking:appointments")).status_code == 200  # still signed in


def test_an_account_without_a_password_confirms_with_its_email(client, zebedee):
    zebedee.user.set_unusable_password()  # booked by phone: never chose one
    zebedee.user.save()
    client.force_login(zebedee.user)
    html = client.get(reverse("account_delete")).content.decode()
    assert re.search(r'<label\s+for="id_email"[^>]*>\s*Your email address', html)
    assert (
        client.post(reverse("account_delete"), {"email": "someone@example.org"}).status_code == 400
    )
    assert Patient.objects.get(pk=zebedee.pk).full_name == NAME
    response = client.post(reverse("account_delete"), {"email": EMAIL.upper()})
    assert "Your account is deleted" in response.content.decode()
    assert Patient.objects.get(pk=zebedee.pk).full_name.startswith("Deleted patient")


def test_a_staff_account_is_not_deleted_from_here(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    response = client.post(reverse("account_delete"), {"password": PASSWORD})
    assert "ask the clinic" in response.content.decode()
    staff.refresh_from_db()
    assert staff.is_active


def test_deleting_forgets_the_failed_sign_ins_and_two_factor_keys(patient, client):
    from allauth.mfa.models import Authenticator
    from axes.models import AccessAttempt

    from booking.privacy import account_delete

    email = patient.user.email
    AccessAttempt.objects.create(username=email, ip_address="127.0.0.1", failures_since_start=2)
    Authenticator.objects.create(user=patient.user, type=Authenticator.Type.TOTP, data={})
    account_delete(user=patient.user, now=timezone.now())
    assert not AccessAttempt.objects.filter(username__iexact=email).exists()
    assert not Authenticator.objects.filter(user=patient.user).exists()


# --- The course ledger ------------------------------------------------------------


@pytest.fixture
def paid(zebedee):
    """£100.00 paid at the desk, with a note naming the patient, and its receipt emailed;
    session 3 cancelled by the patient online (the entry names them as its author)."""
    from booking import services
    from booking.ledger import services as ledger
    from booking.ledger.models import ReceiptSent

    course = zebedee.courses.get()
    desk = UserFactory(is_staff=True, full_name="Rhea Desk")
    payment = ledger.payment_record(
        course=course, amount="100", method="card", by=desk, note=f"{NAME} paid at the desk"
    )
    ReceiptSent.objects.create(entry=payment, to=EMAIL, sent_at=timezone.now(), sent_by=desk)
    services.session_cancel(session=course.sessions.get(number=3), by=zebedee.user)
    return {"course": course, "desk": desk}


def test_the_export_holds_each_courses_price_and_ledger_without_staff(signed_in, paid):
    body = signed_in.get(reverse("account_data_json")).content.decode()
    (course,) = json.loads(body)["courses"]
    assert (course["price"], course["currency"]) == ("300.00", "GBP")
    assert [(e["kind"], e["amount"], e["session_number"]) for e in course["ledger"]] == [
        ("sold", "300.00", None),
        ("used", "100.00", 1),
        ("payment", "100.00", None),
        ("released", "100.00", 3),
    ]
    payment = course["ledger"][2]
    assert payment["paid_by"] == "card" and payment["at"] and "paid at the desk" in payment["why"]
    assert "Rhea Desk" not in body and "recorded_by" not in body
    assert str(paid["desk"].pk) not in {str(v) for e in course["ledger"] for v in e.values()}


def test_deleting_keeps_the_ledger_and_nothing_in_it_names_the_patient(signed_in, paid):
    from booking.ledger.models import LedgerEntry, ReceiptSent
    from booking.ledger.selectors import course_account

    course = paid["course"]
    before = list(course.ledger.values_list("pk", "kind", "amount", "at"))
    due = course_account(course).due
    delete_account(signed_in)
    after = course.ledger.values_list("pk", "kind", "amount", "at")
    assert list(after)[: len(before)] == before  # kept, and the account's cancellations added
    assert course_account(course).due == due - 100  # session 2 cancelled with the account
    for needle in (NAME, "Quixotic", EMAIL):
        assert not LedgerEntry.objects.filter(reason__icontains=needle)
        assert not LedgerEntry.objects.filter(recorded_by_name__icontains=needle)
        assert not ReceiptSent.objects.filter(to__icontains=needle)
    patient = Patient.objects.get(pk=course.patient_id)
    mine = course.ledger.get(kind="released", session__number=3)
    assert mine.recorded_by_name == patient.full_name == f"Deleted patient {patient.pk}"
    assert course.ledger.get(kind="payment").recorded_by_name == "Rhea Desk"  # staff stay
