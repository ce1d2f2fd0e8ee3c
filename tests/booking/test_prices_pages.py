"""What the patient reads of prices and the cancellation policy: each booking step, the page
after booking, the emails and My appointments (the money summary from the course ledger).

The treatment costs £180.00 a session, or £480.00 for its usual course of 3 (a package:
£160.00 a session for 3 or more). The clock stands at Monday 1 June 2026, 08:00.
"""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from booking import rulebook, services
from booking.ledger import services as ledger
from booking.models import BookingRules, Course
from clinic.models import ClinicDetails
from education.models import Treatment
from tests.booking.factories import CourseFactory, PatientFactory, SessionFactory, UserFactory
from tests.booking.test_journey import answer_all, walk_to_plan
from tests.helpers import at, book
from tests.worker import send_all_due

pytestmark = pytest.mark.django_db
D = Decimal
APPOINTMENTS = reverse("booking:appointments")


def text(response) -> str:
    """The page's words as a patient reads them (tags gone, spaces folded)."""
    html = response.content.decode() if hasattr(response, "content") else response
    html = re.sub(r"</?(strong|em|span|a)\b[^>]*>", "", html)  # inline: no space
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def has(words: str, part: str) -> None:
    """`part` is in `words`; if not, the words near where it should be."""
    near = words.find(part[:15])
    assert part in words, words[near - 200 : near + 600] if near >= 0 else words[:3000]


def set_prices(treatment, session_price="180.00", package_price="480.00"):
    Treatment.objects.filter(pk=treatment.pk).update(
        session_price=D(session_price), package_price=D(package_price) if package_price else None
    )
    treatment.refresh_from_db()
    return treatment


@pytest.fixture
def priced(clinic_ready):
    """Online booking open, the treatment priced with a package."""
    return set_prices(clinic_ready)


@pytest.fixture
def fee_policy(db):
    """The clinic charges £30.00 for a cancellation inside the notice and £50.00 for a no-show."""
    rules = BookingRules.current()
    rules.late_cancel_outcome, rules.late_cancel_fee = rulebook.FEE, D("30.00")
    rules.no_show_outcome, rules.no_show_fee = rulebook.FEE, D("50.00")
    rules.save()
    return rules


def desk():
    return UserFactory(is_staff=True, full_name="Rhea Desk")


def book_online(client, patient, treatment, *, sessions=3, capture=None):
    """The journey from the treatment to the confirm step, then Confirm: (confirm page, course)."""
    client.force_login(patient.user)
    walk_to_plan(client, treatment, sessions)
    client.post(reverse("booking:consent"), {"agree": "on"})
    confirm = client.get(reverse("booking:confirm"))
    key = re.search(r'name="key" value="([^"]+)"', confirm.content.decode()).group(1)
    if capture is not None:
        with capture(execute=True):
            client.post(reverse("booking:confirm"), {"key": key})
    else:
        client.post(reverse("booking:confirm"), {"key": key})
    return confirm, Course.objects.filter(patient=patient).latest("created_at")


# --- the journey ----------------------------------------------------------------------


def test_the_treatment_step_names_each_treatment_with_its_price_and_a_free_consultation(
    client, priced
):
    page = text(client.get(reverse("booking:start")))
    assert (
        "Microneedling: £180.00 a session, or £480.00 for a course of 3 sessions "
        "(you save £60.00)" in page
    )
    assert "Consultation: free" in page  # clinic_ready's consultation costs nothing


def test_the_length_step_prices_each_length_with_the_package_saving(client, priced):
    client.get(reverse("booking:start_with", args=[priced.slug]))
    page = text(client.get(reverse("booking:length")))
    has(page, "1 session: £180.00")
    assert "2 sessions: £360.00" in page  # shorter than the package: each at full price
    has(page, "3 sessions (usual): £480.00 (you save £60.00)")
    has(page, "4 sessions: £640.00 (you save £80.00)")
    has(page, "costs less: £160.00 a session instead of £180.00")
    has(page, "Nothing is taken now.")


def test_every_step_after_the_length_says_what_the_course_costs(client, priced, patient):
    client.force_login(patient.user)
    client.get(reverse("booking:start_with", args=[priced.slug]))
    client.post(reverse("booking:length"), {"sessions": 4})
    line = "Booking: Microneedling, 4 sessions, £640.00, paid at the clinic"
    assert line in text(client.get(reverse("booking:questions")))
    answer_all(client, priced)
    assert line in text(client.get(reverse("booking:practitioner")))
    client.post(reverse("booking:practitioner"), {"practitioner": "any"})
    assert line in text(client.get(reverse("booking:time")))


def test_the_plan_and_confirm_steps_show_the_price_and_the_policy(client, priced, fee_policy):
    patient = PatientFactory()
    client.force_login(patient.user)
    walk_to_plan(client, priced)
    plan = text(client.get(reverse("booking:plan")))
    has(
        plan,
        "Price: £480.00 for a course of 3 sessions (you save £60.00). Paid at the clinic. "
        "Nothing is taken now.",
    )
    client.post(reverse("booking:consent"), {"agree": "on"})
    confirm = client.get(reverse("booking:confirm"))
    words = text(confirm)
    has(
        words,
        "Price £480.00 for a course of 3 sessions (you save £60.00) "
        "Paid at the clinic. Nothing is taken now.",
    )
    has(words, "Cancelling less than 48 hours before a session costs £30.00.")
    has(words, "If you miss a session without telling us, it costs £50.00.")


def test_a_free_consultation_reads_free_and_asks_for_nothing_at_the_clinic(client, priced):
    consultation = Treatment.objects.get(slug="consultation")
    patient = PatientFactory()
    client.force_login(patient.user)
    client.get(reverse("booking:start_with", args=[consultation.slug]))
    answer_all(client, consultation)
    client.post(reverse("booking:practitioner"), {"practitioner": "any"})
    time = text(client.get(reverse("booking:time")))
    assert "Booking: Consultation, free" in time and "paid at the clinic" not in time
    value = re.search(
        r'name="slot" value="([^"]+)"',
        client.get(reverse("booking:time") + "?day=2026-06-08").content.decode(),
    ).group(1)
    client.post(reverse("booking:time"), {"slot": value})
    client.post(reverse("booking:consent"), {"agree": "on"})
    confirm = text(client.get(reverse("booking:confirm")))
    assert "Price Free" in confirm and "Paid at the clinic" not in confirm


# --- after booking: the page, the emails, a price change --------------------------------


def test_the_done_page_and_both_emails_show_the_price_as_sold_and_the_policy(
    client, priced, fee_policy, django_capture_on_commit_callbacks
):
    patient = PatientFactory(full_name="Nia Price")
    _confirm, course = book_online(
        client, patient, priced, capture=django_capture_on_commit_callbacks
    )
    assert (course.price, course.currency) == (D("480.00"), "GBP")
    done = text(client.get(reverse("booking:done", args=[course.pk])))
    assert (
        "Price: £480.00 for a course of 3 sessions. You pay at the clinic. "
        "Nothing has been taken." in done
    )
    set_prices(priced, "250.00", "600.00")  # after booking: for new courses only
    send_all_due()
    confirmation = next(m for m in mail.outbox if "is confirmed" in m.subject)
    html = confirmation.alternatives[0][0]
    sold = "£480.00 for a course of 3 sessions."
    assert f"Price: {sold} You pay at the clinic. Nothing has been taken." in confirmation.body
    assert sold in html and "£600.00" not in confirmation.body + html
    sentences = rulebook.change_rules(fee_policy, phone=ClinicDetails.current().phone)
    assert "Cancelling less than 48 hours before a session costs £30.00." in sentences
    for sentence in sentences:  # the policy's sentences come through change_rules
        assert f"- {sentence}" in confirmation.body and escape(sentence) in html
    notice = next(m for m in mail.outbox if m.subject == "New booking for Nia")
    assert "Price: £480.00 for a course of 3 sessions, to be paid at the clinic." in notice.body
    assert "£480.00 for a course of 3 sessions, to be paid at the clinic." in text(
        notice.alternatives[0][0]
    )


def test_a_course_from_before_prices_shows_no_price_anywhere(client, now, patient, treatment):
    course = CourseFactory(patient=patient, treatment=treatment, sessions_planned=1)
    SessionFactory(course=course)
    assert course.price is None
    client.force_login(patient.user)
    assert "Price" not in text(client.get(reverse("booking:done", args=[course.pk])))
    assert "Payments:" not in text(client.get(APPOINTMENTS))


# --- My appointments --------------------------------------------------------------------


@pytest.fixture
def sold(now, patient, priced, practitioner):
    """A course of 3 sold at £480.00 (10 June, 8 July, 5 August, 10:00)."""
    return book(patient, priced, practitioner, [at(6, 10), at(7, 8), at(8, 5)])


def test_my_appointments_sums_up_the_course_from_its_ledger(signed_in, sold, now):
    ledger.payment_record(course=sold, amount="100", method="card", by=desk())
    set_prices(sold.treatment, "250.00", "600.00")  # the course keeps its own price
    page = signed_in.get(APPOINTMENTS)
    words = text(page)
    assert "<details" in page.content.decode()  # closed: the page stays short
    has(words, "Payments: £380.00 still to pay")
    assert "Price when you booked £480.00" in words and "£600.00" not in words
    has(words, "Sessions 0 of 3 sessions used")
    has(words, "Paid so far £100.00 Still to pay £380.00")
    has(words, "1 June 2026: You paid £100.00 by card.")


def test_a_late_cancellation_fee_is_listed_with_its_reason_and_date(
    signed_in, sold, fee_policy, now
):
    first = sold.sessions.get(number=1)
    with_desk = desk()
    services.session_cancel(
        session=first, now=first.start - timedelta(hours=5), by=with_desk, by_staff=True
    )
    words = text(signed_in.get(APPOINTMENTS))
    has(words, "10 June 2026: Fee of £30.00. Cancelled 5 hours")
    has(words, "Cancelled 5 hours before the session: the policy's fee of £30.00.")
    has(words, "10 June 2026: £160.00 taken off the price. Session 1 cancelled.")
    # £480 less the session not given (£160), plus the fee (£30).
    has(words, "Price now, with the changes below £350.00")
    has(words, "0 of 2 sessions used")
    assert "Cancelling less than 48 hours before a session costs £30.00." in words  # the policy
    fee = sold.ledger.get(kind="fee")
    ledger.outcome_waive(entry=fee, by=with_desk, reason="Her car broke down")
    words = text(signed_in.get(APPOINTMENTS))
    assert "£30.00 waived" in words and "Waived: Her car broke down" in words


def test_money_owed_back_says_we_will_refund_it(signed_in, sold, now):
    ledger.payment_record(course=sold, amount="480", method="cash", by=desk())
    services.session_cancel(session=sold.sessions.get(number=3), now=timezone.now())
    words = text(signed_in.get(APPOINTMENTS))
    has(words, "Payments: we owe you £160.00")
    has(words, "Nothing. We owe you £160.00; we will refund it.")
    ledger.refund_record(
        course=sold, amount="160", method="cash", by=desk(), reason="Session 3 cancelled"
    )
    words = text(signed_in.get(APPOINTMENTS))
    has(words, "Payments: paid in full")
    has(words, "1 June 2026: We refunded £160.00. Session 3 cancelled.")


def test_my_appointments_reads_the_money_in_the_same_queries_for_1_or_5_courses(
    client, now, priced, practitioner, django_assert_max_num_queries
):
    patient = PatientFactory()
    client.force_login(patient.user)
    by = desk()

    def course_with_money():
        course = CourseFactory(
            patient=patient,
            treatment=priced,
            practitioner=practitioner,
            sessions_planned=1,
            price=D("180.00"),
            currency="GBP",
            session_rate=D("180.00"),
        )
        SessionFactory(course=course, price=D("180.00"))
        ledger.course_sold(course=course, now=timezone.now())
        ledger.payment_record(course=course, amount="50", method="card", by=by)

    def queries() -> int:
        with django_assert_max_num_queries(100) as counted:
            page = client.get(APPOINTMENTS)
        assert page.content.decode().count("Payments: £130.00 still to pay") == len(
            patient.courses.all()
        )
        return len(counted)

    course_with_money()
    client.get(APPOINTMENTS)  # the clinic's details and the rules, kept from here on
    one = queries()
    for _ in range(4):
        course_with_money()
    assert queries() == one
