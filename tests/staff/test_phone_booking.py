"""Phone booking in the admin: reception books a course through the journey's own rules."""

import re
from datetime import UTC, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from booking import services
from booking.availability import Slot
from booking.journey import slot_value
from booking.models import ConsentText, Course, Patient, Reminder, Session
from booking.services import BookingError
from education.models import Treatment
from tests.booking.conftest import LONDON
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory
from tests.education.factories import usual_questions
from tests.helpers import at, book

pytestmark = pytest.mark.django_db
User = get_user_model()


def url(name, *args):
    return reverse(f"admin:booking_course_phone{name}", args=args)


def slot(treatment, practitioner, start):
    """A slot as the selectors give it (in UTC, so its form value matches theirs)."""
    start = start.astimezone(UTC)
    return Slot(start, start + timedelta(minutes=treatment.appointment_minutes), practitioner.pk)


def choice(treatment, sessions=3, **extra):
    return {"treatment": treatment.pk, "sessions": sessions, "practitioner": "", **extra}


def open_plan(client, patient, treatment, practitioner, start, **extra):
    """Step 3 for a course starting at `start`, as the slot button on step 2 asks for it."""
    value = slot_value(slot(treatment, practitioner, start))
    return client.get(url("_plan", patient.pk), {**choice(treatment, **extra), "first": value})


class FormFields(HTMLParser):
    """What a browser would post from the page's POST form (buttons aside)."""

    def __init__(self):
        super().__init__()
        self.fields, self._in_form, self._select, self._textarea = {}, False, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_form = attrs.get("method") == "post"
        if not self._in_form:
            return
        checkable = attrs.get("type") in ("checkbox", "radio")
        if tag == "input" and (not checkable or "checked" in attrs):
            default = "on" if attrs.get("type") == "checkbox" else ""
            self.fields[attrs["name"]] = attrs.get("value") or default
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs["value"]
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data.strip("\n")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        self._select = None if tag == "select" else self._select
        self._textarea = None if tag == "textarea" else self._textarea


def plan_data(response, **changes):
    """Step 3's form as rendered, the "Book" button pressed; `changes` as staff would type.

    Staff ask the health questions (every answer "no" unless `changes` say) and read the
    consent aloud (consent_method "phone")."""
    parser = FormFields()
    html = response.content.decode()
    parser.feed(html)
    data = {k: v for k, v in parser.fields.items() if k != "csrfmiddlewaretoken"}
    asked = {name: "no" for name in re.findall(r'name="(q\d+)"', html)}
    return {**asked, "consent_method": "phone", **data, "action": "book", **changes}


def local_starts(course):
    return [
        s.start.astimezone(LONDON).strftime("%a %d %b %H:%M")
        for s in course.sessions.order_by("number")
    ]


@pytest.fixture
def reception_client(client_for, reception, now, practitioner):
    return client_for(reception)


@pytest.fixture(autouse=True)
def consent_text(db):
    """The consent statement reception reads aloud (the clinic has one from its first day)."""
    return ConsentText.objects.get_or_create(version=1, defaults={"text": "I agree."})[0]


# --- step 1: finding or adding the patient ------------------------------------------


@pytest.mark.parametrize(
    "query", ["jane doe", "JANE@EXAMPLE", "07700900123", "07700 900 123", "900-123"]
)
def test_reception_finds_a_patient_by_name_email_or_phone(reception_client, query):
    jane = PatientFactory(
        full_name="Jane Doe", phone="07700 900123", user=UserFactory(email="jane@example.org")
    )
    PatientFactory(full_name="Someone Else", phone="01632 960000")
    response = reception_client.get(url(""), {"q": query})
    assert response.status_code == 200
    assert response.context["results"] == [jane]
    assert "Book for this patient" in response.content.decode()
    assert url("_course", jane.pk) in response.content.decode()


def test_a_search_with_no_match_says_so(reception_client, patient):
    response = reception_client.get(url(""), {"q": "nobody at all"})
    assert response.status_code == 200
    assert "No patient matches" in response.content.decode()


def test_reception_adds_a_patient_with_an_account_without_password(reception_client):
    response = reception_client.post(
        url("_patient"),
        {
            "full_name": "New Person",
            "email": "New.Person@Example.org",
            "phone": "07700 900456",
            "date_of_birth": "1990-04-05",
        },
    )
    patient = Patient.objects.get(full_name="New Person")
    assert response.status_code == 302 and response["Location"] == url("_course", patient.pk)
    assert patient.user.email == "new.person@example.org"
    assert not patient.user.has_usable_password()
    assert patient.date_of_birth.isoformat() == "1990-04-05"


def test_an_email_that_is_already_a_patient_is_offered_not_duplicated(reception_client, patient):
    data = {"full_name": "Same Person", "email": patient.user.email.upper(), "phone": "0770090045"}
    response = reception_client.post(url("_patient"), data)
    assert response.status_code == 400
    assert "already a patient with this email" in response.content.decode()
    assert response.context["offered"] == [patient]
    assert url("_course", patient.pk) in response.content.decode()
    assert Patient.objects.count() == 1 and User.objects.filter(patient__isnull=False).count() == 1


def test_an_account_that_never_booked_gets_its_patient_record_linked(reception_client):
    account = UserFactory(email="online@example.org")
    data = {"full_name": "Online Person", "email": "online@example.org", "phone": "07700900789"}
    response = reception_client.post(url("_patient"), data)
    assert response.status_code == 302
    assert Patient.objects.get().user == account
    assert User.objects.filter(email="online@example.org").count() == 1


def test_a_staff_email_does_not_become_a_patient(reception_client, reception):
    data = {"full_name": "Staff", "email": reception.email, "phone": "07700900789"}
    response = reception_client.post(url("_patient"), data)
    assert response.status_code == 400
    assert not Patient.objects.exists()


# --- steps 2 and 3: booking a course end to end -------------------------------------


def test_step_two_lists_the_days_free_times_as_buttons(
    reception_client, patient, treatment, practitioner
):
    response = reception_client.get(
        url("_course", patient.pk), {**choice(treatment), "day": "2026-06-03"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{slot_value(slot(treatment, practitioner, at(6, 3, 9)))}"' in html
    assert "09:00, Wednesday 3 June, with" in html
    assert slot_value(slot(treatment, practitioner, at(6, 3, 18))) not in html


def test_reception_books_a_three_session_course_end_to_end(
    reception_client, reception, patient, treatment, practitioner
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    assert page.status_code == 200
    # The price to tell the patient (£100.00 a session, no package).
    assert "£300.00 for a course of 3 sessions. Paid at the clinic." in page.content.decode()
    assert [row["slot"].start for row in page.context["rows"]] == [
        at(6, 3, 10),
        at(7, 1, 10),
        at(7, 29, 10),
    ]
    response = reception_client.post(url("_plan", patient.pk), plan_data(page, consent="on"))
    course = Course.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:booking_course_change", args=[course.pk])
    assert course.booked_by == reception and course.patient == patient
    assert course.consent.version == 1 and course.override_reason == ""
    assert local_starts(course) == ["Wed 03 Jun 10:00", "Wed 01 Jul 10:00", "Wed 29 Jul 10:00"]
    assert Reminder.objects.filter(session__course=course).exists()
    shown = reception_client.get(response["Location"])
    assert "Booked:" in shown.content.decode()


def test_a_double_submit_books_once(reception_client, patient, treatment, practitioner):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    data = plan_data(page)
    first = reception_client.post(url("_plan", patient.pk), data)
    second = reception_client.post(url("_plan", patient.pk), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Course.objects.count() == 1 and Session.objects.count() == 3


def test_without_consent_or_answers_nothing_is_booked(
    reception_client, patient, treatment, practitioner
):
    """Finding 2 (issue 16): phone booking booked with the consent box unticked."""
    usual_questions(treatment)
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    for missing in ("consent_method", "q"):
        data = {k: v for k, v in plan_data(page).items() if not k.startswith(missing)}
        refused = reception_client.post(url("_plan", patient.pk), data)
        assert refused.status_code == 400
    assert not Course.objects.exists()


def test_questions_changed_while_on_the_phone_are_asked_again(
    reception_client, patient, treatment, practitioner
):
    """The page carries the questions version it read out; a change meanwhile refuses the
    booking and shows the new questions, unanswered (education/health_check.py)."""
    pregnant, _keloids = usual_questions(treatment)
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    data = plan_data(page)
    version = Treatment.objects.get(pk=treatment.pk).questions_version
    assert data["questions_version"] == str(version)
    pregnant.text = "Are you pregnant, or trying to be?"
    pregnant.save()
    refused = reception_client.post(url("_plan", patient.pk), data)
    html = refused.content.decode()
    assert refused.status_code == 400 and not Course.objects.exists()
    assert "The health questions have changed since these answers were given" in html
    assert "Are you pregnant, or trying to be?" in html
    assert not re.search(r'name="q\d+"[^>]*checked', html)  # to be asked again
    booked = reception_client.post(url("_plan", patient.pk), plan_data(refused))
    assert booked.status_code == 302
    assert Course.objects.get().questions_version == version + 1


def test_consent_read_aloud_is_recorded_with_who_read_it(
    reception_client, reception, patient, treatment, practitioner
):
    usual_questions(treatment)
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    reception_client.post(url("_plan", patient.pk), plan_data(page))
    course = Course.objects.get()
    assert (course.consent_method, course.consent_recorded_by) == ("phone", reception)
    assert course.consent_given_at is not None
    assert {a["answer"] for a in course.suitability_answers["questions"]} == {"no"}


def test_a_talk_first_answer_blocks_phone_booking_unless_a_clinician_gives_a_reason(
    client_for, now, reception, superuser, patient, treatment, practitioner
):
    """The owner (a superuser) stands for a clinician here: the Clinician role does not book
    by phone, and sees only its own patients."""
    clinician = superuser
    questions = usual_questions(treatment)
    keloid = next(q for q in questions if q.outcome == "consult")
    client = client_for(reception)
    page = open_plan(client, patient, treatment, practitioner, at(6, 3, 10))
    data = plan_data(page, **{f"q{keloid.pk}": "yes", "clinical_reason": "Seen in clinic."})
    refused = client.post(url("_plan", patient.pk), data)
    assert refused.status_code == 400 and "Only a clinician" in refused.content.decode()
    client = client_for(clinician)
    page = open_plan(client, patient, treatment, practitioner, at(6, 3, 10))
    data = plan_data(page, **{f"q{keloid.pk}": "yes"})
    assert "clinician should see" in client.post(url("_plan", patient.pk), data).content.decode()
    data["clinical_reason"] = "Scarring checked in person on 1 June: no keloid history."
    client.post(url("_plan", patient.pk), data)
    course = Course.objects.get()
    assert "suitability" in course.waived and course.override_by == clinician
    assert "Clinical reason: Scarring checked" in course.override_reason


def test_consent_on_paper_holds_the_first_session_until_it_is_signed(
    client_for, now, reception, patient, treatment, practitioner
):
    client = client_for(reception)
    page = open_plan(client, patient, treatment, practitioner, at(6, 3, 10))
    client.post(url("_plan", patient.pk), plan_data(page, consent_method="paper"))
    course = Course.objects.get()
    assert course.consent_to_sign and course.consent_given_at is None
    first = course.sessions.get(number=1)
    with time_machine.travel(at(6, 3, 10, 5), tick=False):
        client.logout()  # two days on: the idle session has ended; a new sign-in
        client.force_login(reception)
        day = client.get(reverse("admin:booking_schedule_day"), {"date": "2026-06-03"})
        assert "Consent to sign" in day.content.decode()
        client.post(reverse("admin:booking_session_attended", args=[first.pk]))
        first.refresh_from_db()
        assert first.status == Session.Status.BOOKED  # refused: not signed yet
        client.post(reverse("admin:booking_session_consent", args=[first.pk]))
        client.post(reverse("admin:booking_session_attended", args=[first.pk]))
    first.refresh_from_db()
    course.refresh_from_db()
    assert first.status == Session.Status.ATTENDED
    assert course.consent_given_at is not None and course.consent_recorded_by == reception


def test_reception_moves_a_later_session_inside_its_window(
    reception_client, patient, treatment, practitioner
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    data = plan_data(page, s2_date="2026-07-01", s2_time="14:15")
    response = reception_client.post(url("_plan", patient.pk), data)
    assert response.status_code == 302
    assert local_starts(Course.objects.get())[1] == "Wed 01 Jul 14:15"


def test_moving_a_session_later_suggests_a_new_time_for_the_next(
    reception_client, patient, treatment, practitioner
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    moved = plan_data(page, s2_date="2026-07-08", s2_time="14:15")
    refused = reception_client.post(url("_plan", patient.pk), moved)
    assert "28 to 42 days after session 2" in refused.content.decode()
    suggestion = refused.context["rows"][2]["suggestion"]
    assert suggestion["slot"].start == at(8, 5, 14, 15)
    pressed = {**{k: v for k, v in moved.items() if k != "action"}, "use": suggestion["value"]}
    used = reception_client.post(url("_plan", patient.pk), pressed)
    assert used.status_code == 200 and not Course.objects.exists()
    booked = reception_client.post(url("_plan", patient.pk), plan_data(used))
    assert booked.status_code == 302
    assert local_starts(Course.objects.get())[1:] == ["Wed 08 Jul 14:15", "Wed 05 Aug 14:15"]


def test_updating_the_plan_shows_the_new_window_and_writes_nothing(
    reception_client, patient, treatment, practitioner
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    data = plan_data(page, s2_date="2026-06-10", action="check")
    response = reception_client.post(url("_plan", patient.pk), data)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert rows[1]["outside"] and rows[1]["suggestion"]["slot"].start == at(7, 1, 10)
    assert "Outside its window" in response.content.decode()
    assert not Course.objects.exists()
    # "Use" puts the suggested time back; still nothing written.
    again = reception_client.post(
        url("_plan", patient.pk), {**data, "use": rows[1]["suggestion"]["value"]}
    )
    assert again.context["form"].data["s2_date"] == "2026-07-01"
    assert not again.context["rows"][1]["outside"] and not Course.objects.exists()


def test_the_patient_change_page_links_to_phone_booking(reception_client, patient):
    response = reception_client.get(reverse("admin:booking_patient_change", args=[patient.pk]))
    assert "Book a course by phone" in response.content.decode()
    assert url("_course", patient.pk) in response.content.decode()


def test_the_course_admins_add_leads_to_phone_booking(reception_client):
    response = reception_client.get(reverse("admin:booking_course_add"))
    assert response.status_code == 302 and response["Location"] == url("")
    listing = reception_client.get(reverse("admin:booking_course_changelist"))
    assert reverse("admin:booking_course_add") in listing.content.decode()


# --- the same rules as the journey ----------------------------------------------------


def test_a_first_time_outside_working_hours_is_refused(
    reception_client, patient, treatment, practitioner
):
    response = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 18))
    assert response.status_code == 400
    assert "That time is not free" in response.content.decode()
    assert not Course.objects.exists()


def test_a_later_session_outside_working_hours_is_refused_even_with_an_override(
    reception_client, patient, treatment, practitioner
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    data = plan_data(
        page, s2_time="20:00", allow_outside_window="on", override_reason="Patient works late"
    )
    response = reception_client.post(url("_plan", patient.pk), data)
    assert response.status_code == 400
    assert "not one we offer" in response.content.decode()
    assert not Course.objects.exists() and not Session.objects.exists()


def test_a_time_taken_meanwhile_is_refused_with_alternatives(
    reception_client, patient, treatment, practitioner
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    other = book(PatientFactory(), treatment, practitioner, [at(6, 3, 10)])
    response = reception_client.post(url("_plan", patient.pk), plan_data(page))
    html = response.content.decode()
    assert response.status_code == 400
    assert "just been booked" in html
    assert response.context["alternatives"] and "Nearest free times" in html
    assert Course.objects.get() == other
    assert Session.objects.filter(start=at(6, 3, 10)).count() == 1


def test_an_alternative_for_session_1_plans_the_course_from_it(
    reception_client, patient, treatment, practitioner
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    book(PatientFactory(), treatment, practitioner, [at(6, 3, 10)])
    refused = reception_client.post(url("_plan", patient.pk), plan_data(page))
    nearest = refused.context["alternatives"][0]
    assert nearest["number"] == 1
    pressed = {**plan_data(refused), "use": nearest["value"]}
    del pressed["action"]
    replanned = reception_client.post(url("_plan", patient.pk), pressed)
    assert replanned.status_code == 200
    starts = [row["slot"].start for row in replanned.context["rows"]]
    assert starts[0] == nearest["slot"].start
    assert starts[1] - starts[0] == timedelta(days=28)
    booked = reception_client.post(url("_plan", patient.pk), plan_data(replanned))
    assert booked.status_code == 302
    assert Course.objects.get(patient=patient).sessions.count() == 3


@pytest.mark.postgres
def test_the_database_refuses_a_clash_the_checks_missed(
    reception_client, patient, treatment, practitioner, monkeypatch
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    book(PatientFactory(), treatment, practitioner, [at(6, 3, 10)])
    # As if the other booking committed between the re-check and the insert.
    monkeypatch.setattr(services.book, "check_free", lambda **kwargs: None)
    response = reception_client.post(url("_plan", patient.pk), plan_data(page))
    assert response.status_code == 400
    assert "just been booked" in response.content.decode()
    assert Course.objects.count() == 1
    assert Session.objects.filter(start=at(6, 3, 10)).count() == 1
    assert not Session.objects.filter(patient=patient).exists()


# --- overrides: only with a reason, and recorded --------------------------------------


def short_notice_page(client, patient, treatment, practitioner):
    """Monday 10:00 when it is Monday 08:00: inside the 24 hours' minimum notice."""
    return open_plan(client, patient, treatment, practitioner, at(6, 1, 10), short_notice="on")


def test_step_two_shows_short_notice_times_only_when_asked(
    reception_client, patient, treatment, practitioner
):
    value = slot_value(slot(treatment, practitioner, at(6, 1, 10)))
    query = {**choice(treatment), "day": "2026-06-01"}
    plain = reception_client.get(url("_course", patient.pk), query)
    asked = reception_client.get(url("_course", patient.pk), {**query, "short_notice": "on"})
    assert value not in plain.content.decode()
    assert value in asked.content.decode() and "inside the minimum notice" in asked.content.decode()


def test_short_notice_without_the_override_or_a_reason_is_refused(
    reception_client, patient, treatment, practitioner
):
    page = short_notice_page(reception_client, patient, treatment, practitioner)
    assert page.status_code == 200 and page.context["short_notice"]
    unticked = reception_client.post(url("_plan", patient.pk), plan_data(page))
    assert unticked.status_code == 400 and "at least 24 hours" in unticked.content.decode()
    no_reason = reception_client.post(
        url("_plan", patient.pk), plan_data(page, allow_short_notice="on", override_reason="  ")
    )
    assert no_reason.status_code == 400
    assert "Give a reason for overriding" in no_reason.content.decode()
    assert not Course.objects.exists() and not Session.objects.exists()


def test_short_notice_with_a_reason_books_and_keeps_the_reason(
    reception_client, patient, treatment, practitioner
):
    page = short_notice_page(reception_client, patient, treatment, practitioner)
    data = plan_data(page, allow_short_notice="on", override_reason="Cancellation slot today")
    response = reception_client.post(url("_plan", patient.pk), data)
    course = Course.objects.get()
    assert response.status_code == 302
    assert course.override_reason == "Cancellation slot today"
    assert local_starts(course)[0] == "Mon 01 Jun 10:00"


def test_a_session_outside_its_window_needs_the_override_and_a_reason(
    reception_client, patient, treatment, practitioner
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    early = {"s2_date": "2026-06-23"}  # 20 days after session 1; the window is 28 to 42
    refused = reception_client.post(url("_plan", patient.pk), plan_data(page, **early))
    assert (
        refused.status_code == 400 and "28 to 42 days after session 1" in refused.content.decode()
    )
    no_reason = reception_client.post(
        url("_plan", patient.pk), plan_data(page, **early, allow_outside_window="on")
    )
    assert "Give a reason for overriding" in no_reason.content.decode()
    assert not Course.objects.exists() and not Session.objects.exists()
    booked = reception_client.post(
        url("_plan", patient.pk),
        plan_data(page, **early, allow_outside_window="on", override_reason="Holiday in July"),
    )
    course = Course.objects.get()
    assert booked.status_code == 302
    assert course.override_reason == "Holiday in July"
    assert local_starts(course) == ["Wed 03 Jun 10:00", "Tue 23 Jun 10:00", "Wed 29 Jul 10:00"]


def test_the_pages_carry_no_inline_script_or_style(
    reception_client, patient, treatment, practitioner
):
    pages = [
        reception_client.get(url(""), {"q": "Patient"}),
        reception_client.get(
            url("_course", patient.pk), {**choice(treatment), "day": "2026-06-03"}
        ),
        open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10)),
    ]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert " style=" not in html and "<script>" not in html
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))


# --- who may book by phone ------------------------------------------------------------


@pytest.mark.parametrize("role", ["clinician", "editor"])
def test_other_roles_get_403_on_every_phone_booking_page(
    request, client_for, role, patient, treatment, practitioner, now
):
    client = client_for(request.getfixturevalue(role))
    for address in (url(""), url("_course", patient.pk), url("_plan", patient.pk)):
        assert client.get(address).status_code == 403
    assert client.post(url("_patient"), {"full_name": "X"}).status_code == 403
    assert client.post(url("_plan", patient.pk), choice(treatment)).status_code == 403
    assert client.get(reverse("admin:booking_course_add")).status_code == 403
    assert not Patient.objects.exclude(pk=patient.pk).exists() and not Course.objects.exists()


def test_a_superuser_may_book_by_phone(client_for, superuser, patient, now):
    assert client_for(superuser).get(url("")).status_code == 200


def test_signed_out_visitors_are_sent_to_the_admin_sign_in(client, patient):
    response = client.get(url(""))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- bad input: a message, never a 500, never a saved row -------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"treatment": ""},
        {"treatment": "999999"},
        {"treatment": "junk"},
        {"sessions": "99"},
        {"sessions": "99999999999999999999999"},
        {"sessions": "three"},
        {"practitioner": "999999"},
        {"day": "2026-13-45"},
        {"day": "9999-12-31"},
        {"day": "x" * 10000},
    ],
)
def test_bad_choices_on_step_two_re_render_with_a_message(
    reception_client, patient, treatment, query
):
    response = reception_client.get(url("_course", patient.pk), {**choice(treatment), **query})
    assert response.status_code == 400
    assert "Please correct the errors below" in response.content.decode()


@pytest.mark.parametrize(
    "first",
    ["", "junk", "2026-06-03T10:00:00|x", "2026-06-03T10:00:00|5", "x" * 100000, "2026-06-03|1|2"],
)
def test_a_bad_first_time_goes_back_to_step_two(reception_client, patient, treatment, first):
    response = reception_client.get(url("_plan", patient.pk), {**choice(treatment), "first": first})
    assert response.status_code == 400
    assert "That time is not free" in response.content.decode()


@pytest.mark.parametrize(
    "changes",
    [
        {"s2_date": "junk"},
        {"s2_date": "9999-12-31"},
        {"s2_date": ""},
        {"s2_time": "25:99"},
        {"s2_practitioner": "99999999999999999999"},
        {"s3_practitioner": "junk"},
        {"first": "junk"},
        {"first": "x" * 100000},
        {"key": "x" * 100000},
        {"override_reason": "x" * 100000, "allow_short_notice": "on"},
        {"treatment": "999999"},
        {"sessions": "5"},
        {"use": "junk"},
        {"use": "7|2026-07-01T09:00:00+00:00|1"},
    ],
)
def test_bad_input_on_step_three_re_renders_and_saves_nothing(
    reception_client, patient, treatment, practitioner, changes
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    response = reception_client.post(url("_plan", patient.pk), plan_data(page, **changes))
    assert response.status_code == 400
    assert not Course.objects.exists() and not Session.objects.exists()


def test_a_missing_key_asks_to_book_again_and_gives_a_new_one(
    reception_client, patient, treatment, practitioner
):
    page = open_plan(reception_client, patient, treatment, practitioner, at(6, 3, 10))
    response = reception_client.post(url("_plan", patient.pk), plan_data(page, key=""))
    assert response.status_code == 400 and "out of date" in response.content.decode()
    assert response.context["form"].data["key"].startswith("phone-")
    assert not Course.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"full_name": "A", "email": "not-an-email", "phone": "07700900000"},
        {"full_name": "A", "email": "a@example.org", "phone": "12"},
        {"full_name": "x" * 100000, "email": "a@example.org", "phone": "07700900000"},
        {"full_name": "A", "email": "a@example.org", "phone": "0" * 100000},
        {"full_name": "A", "email": "a@example.org", "phone": "07700900000", "date_of_birth": "x"},
        {
            "full_name": "A",
            "email": "a@example.org",
            "phone": "077009000",
            "date_of_birth": "2090-01-01",
        },
    ],
)
def test_bad_patient_details_re_render_and_save_nothing(reception_client, data):
    response = reception_client.post(url("_patient"), data)
    assert response.status_code == 400
    assert "Please correct the errors below" in response.content.decode()
    assert not Patient.objects.exists() and not User.objects.filter(is_staff=False).exists()


@pytest.mark.parametrize("q", ["", "x"])
def test_a_bad_search_re_renders_with_a_message(reception_client, q):
    response = reception_client.get(url(""), {"q": q})
    assert response.status_code == 400


def test_a_huge_search_is_cut_to_the_admin_bound_and_says_so(reception_client):
    response = reception_client.get(url(""), {"q": "x" * 100000})
    assert response.status_code == 200
    assert "Search uses the first 10 words (100 characters)" in response.content.decode()


def test_an_unknown_patient_is_404(reception_client, treatment):
    assert reception_client.get(url("_course", 999999)).status_code == 404
    assert reception_client.get(url("_plan", 99999999999999999999)).status_code == 404
    assert reception_client.post(url("_plan", 999999), choice(treatment)).status_code == 404


def test_step_pages_answer_only_their_methods(reception_client, patient):
    assert reception_client.post(url(""), {"q": "x"}).status_code == 405
    assert reception_client.get(url("_patient")).status_code == 405
    assert reception_client.post(url("_course", patient.pk)).status_code == 405


# --- the service: overrides are explicit, need a reason, and are kept ------------------


def test_the_service_refuses_short_notice_unless_staff_override_it_with_a_reason(
    now, patient, treatment, practitioner
):
    with pytest.raises(BookingError, match="at least 24 hours"):
        book(patient, treatment, practitioner, [at(6, 1, 10)])  # the journey's way: refused
    with pytest.raises(BookingError, match="Give a reason"):
        book(patient, treatment, practitioner, [at(6, 1, 10)], allow_short_notice=True)
    with pytest.raises(BookingError, match="Give a reason"):
        book(
            patient,
            treatment,
            practitioner,
            [at(6, 1, 10)],
            allow_short_notice=True,
            override_reason="   ",
        )
    assert not Course.objects.exists()
    course = book(
        patient,
        treatment,
        practitioner,
        [at(6, 1, 10)],
        allow_short_notice=True,
        override_reason=" Urgent review ",
    )
    assert course.override_reason == "Urgent review"


def test_the_short_notice_override_keeps_the_other_rules(now, patient, treatment, practitioner):
    kwargs = {"allow_short_notice": True, "override_reason": "Urgent"}
    with pytest.raises(BookingError, match="in the future"):
        book(patient, treatment, practitioner, [at(6, 1, 7)], **kwargs)
    with pytest.raises(BookingError, match="not one we offer"):
        book(patient, treatment, practitioner, [at(6, 1, 8, 30)], **kwargs)  # before 09:00
    with pytest.raises(BookingError, match="Session 2 must be"):
        book(patient, treatment, practitioner, [at(6, 1, 10), at(6, 8, 10)], **kwargs)
    assert not Course.objects.exists()


def test_the_service_waives_the_window_only_with_a_reason(now, patient, treatment, practitioner):
    starts = [at(6, 3, 10), at(6, 17, 10)]  # 14 days apart; the window is 28 to 42
    with pytest.raises(BookingError, match="Session 2 must be"):
        book(patient, treatment, practitioner, starts)
    with pytest.raises(BookingError, match="Give a reason"):
        book(patient, treatment, practitioner, starts, allow_outside_window=True)
    course = book(
        patient,
        treatment,
        practitioner,
        starts,
        allow_outside_window=True,
        override_reason="Wedding on the 20th",
    )
    assert local_starts(course) == ["Wed 03 Jun 10:00", "Wed 17 Jun 10:00"]
    assert course.override_reason == "Wedding on the 20th"


def test_the_window_override_still_keeps_sessions_apart_and_inside_hours(
    now, patient, treatment, practitioner
):
    kwargs = {"allow_outside_window": True, "override_reason": "Asked for"}
    with pytest.raises(BookingError, match="too close together"):
        book(patient, treatment, practitioner, [at(6, 3, 10), at(6, 3, 11)], **kwargs)
    with pytest.raises(BookingError, match="not one we offer"):
        book(patient, treatment, practitioner, [at(6, 3, 10), at(6, 6, 10)], **kwargs)  # Saturday
    with pytest.raises(BookingError, match="at least 24 hours"):
        book(patient, treatment, practitioner, [at(6, 1, 10), at(6, 8, 10)], **kwargs)
    assert not Course.objects.exists()


def test_a_reason_with_nothing_overridden_is_not_recorded(now, patient, treatment, practitioner):
    course = book(patient, treatment, practitioner, [at(6, 3, 10)], override_reason="No reason")
    assert course.override_reason == ""


def test_another_practitioner_is_unaffected_by_the_override(now, patient, treatment):
    off_duty = PractitionerFactory(treatments=[treatment], hours=[])
    with pytest.raises(BookingError, match="not one we offer"):
        book(
            patient,
            treatment,
            off_duty,
            [at(6, 1, 10)],
            allow_short_notice=True,
            override_reason="Urgent",
        )
