"""Reception's morning in a real browser: sign in, today's schedule, a phone booking,
and a patient marked attended (whose aftercare email is then queued)."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group

from booking.availability import Slot
from booking.models import ConsentText, Course, Reminder, Session
from clinic.roles import RECEPTION
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory, book_course
from tests.browser.conftest import other_origin_requests
from tests.education.factories import TreatmentFactory, usual_questions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = ZoneInfo("Europe/London")
MORNING = datetime(2026, 6, 3, 11, 0, tzinfo=LONDON)  # a Wednesday
PASSWORD = "a-Password-123"  # UserFactory's


@pytest.fixture
def clinic():
    treatment = TreatmentFactory()
    usual_questions(treatment)  # reception reads them out and records the answers
    practitioner = PractitionerFactory(treatments=[treatment], display_name="Dr Demo")
    ConsentText.objects.create(version=1, text="I understand the risks and the aftercare.")
    start = MORNING.replace(hour=9, minute=30)  # this morning's first patient
    earlier = MORNING - timedelta(days=7)
    book_course(
        patient=PatientFactory(full_name="Pat Attending"),
        treatment=treatment,
        slots=[Slot(start, start + timedelta(minutes=75), practitioner.pk)],
        now=earlier,
    )
    PatientFactory(full_name="Phil Phone", phone="07700 900555")
    reception = UserFactory(email="desk@clinic.example", is_staff=True)
    reception.groups.add(Group.objects.get(name=RECEPTION))
    return reception


def test_reception_books_by_phone_and_marks_a_patient_attended(page, live_server, clinic):
    with time_machine.travel(MORNING, tick=True):
        page.goto("/admin/")  # the admin's login is the site's sign-in
        page.get_by_label("Email address").fill(clinic.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Schedule", exact=True).wait_for()

        page.get_by_role("link", name="Schedule", exact=True).click()
        page.get_by_role("heading", name="Schedule: Wednesday 3 June 2026").wait_for()
        assert page.get_by_text("Pat Attending").first.is_visible()

        # A patient rings to book a course.
        page.goto("/admin/booking/course/")
        page.get_by_role("link", name=re.compile("Add course")).click()
        page.get_by_label("Name, email or phone").fill("Phil")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("button", name="Book for this patient (Phil Phone)").click()
        page.get_by_label("Treatment").select_option(label="Microneedling")
        page.get_by_label("Number of sessions").fill("3")
        page.get_by_label("Day of the first session").fill("2026-06-08")
        page.get_by_role("button", name="Show free times").click()
        page.get_by_role("button", name=re.compile(r"^10:00, Monday 8 June")).click()
        page.get_by_role("heading", name="Health questions").wait_for()
        answers = page.get_by_role("radio", name="No", exact=True)
        assert answers.count() == 2  # the health questions, read out and answered
        for answer in answers.all():
            answer.check()
        page.get_by_label(re.compile("I read the consent statement")).check()
        page.get_by_role("button", name="Book the course").click()
        page.get_by_text(re.compile("booked", re.IGNORECASE)).first.wait_for()

        course = Course.objects.get(patient__full_name="Phil Phone")
        assert course.booked_by == clinic and course.sessions.count() == 3
        first = course.sessions.get(number=1)
        assert first.start == datetime(2026, 6, 8, 10, tzinfo=LONDON)

        # Pat has had her session: mark her attended from today's schedule.
        page.get_by_role("link", name="Schedule", exact=True).click()
        page.get_by_role("link", name=re.compile("Pat Attending")).first.click()
        page.get_by_role("button", name="Mark attended").click()
        page.get_by_text(re.compile("is marked attended")).wait_for()

    session = Session.objects.get(patient__full_name="Pat Attending")
    assert session.status == Session.Status.ATTENDED
    aftercare = Reminder.objects.get(session=session, kind=Reminder.Kind.AFTERCARE)
    assert aftercare.status == Reminder.Status.PENDING
    assert aftercare.due_at == session.end + timedelta(hours=2)
    assert other_origin_requests(page, live_server.url) == []
    assert page.console_errors == []
