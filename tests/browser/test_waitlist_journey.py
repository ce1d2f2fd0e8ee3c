"""The waitlist in a real browser: a patient joins from the journey, a time frees up, the
offer email reaches the test's SMTP sink, and the patient takes the time from its link.

The sweep and the offer email's send run here, in the test's process, as the beat
task and the worker would (the clock is moved by time_machine, which a separate
worker could not see); the email leaves through Django's SMTP backend to the sink.
axe checks every new page: the join form, My appointments with an entry waiting and
with a time held, the offer, its decline page and the ended page.
SCREENSHOTS=1 keeps a picture of each under var/test-artifacts/waitlist/.
"""

import os
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from booking import reminders, services
from booking.models import ConsentText, Offer, Reminder, WaitlistEntry
from booking.waitlist import services as waitlist
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.booking.smtp_sink import SmtpSink
from tests.browser.axe import axe_report, axe_violations
from tests.browser.conftest import other_origin_requests
from tests.education.factories import SuitabilityQuestionFactory, TreatmentFactory
from tests.helpers import book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = ZoneInfo("Europe/London")
MONDAY_MORNING = datetime(2026, 1, 26, 9, tzinfo=LONDON)
FREED = datetime(2026, 1, 28, 10, tzinfo=LONDON)  # Wednesday, someone else's session
PASSWORD = "a-Password-123"  # tests/booking/factories.py UserFactory


@pytest.fixture
def clinic():
    treatment = TreatmentFactory()
    SuitabilityQuestionFactory(treatment=treatment, text="Are you pregnant?")
    doctor = PractitionerFactory(treatments=[treatment], display_name="Dr Demo")
    ConsentText.objects.create(version=1, text="I understand the risks and the aftercare.")
    return treatment, doctor


def heading(page, name, level=1):
    found = page.get_by_role("heading", name=name, level=level)
    found.wait_for()
    return found


def checked(page, name: str, *, axe: bool = True) -> None:
    """axe finds nothing on the page as it is; with SCREENSHOTS=1, a picture of it."""
    if axe:
        violations = axe_violations(page)
        assert not violations, axe_report(violations, page.url)
    if os.environ.get("SCREENSHOTS"):
        folder = django_settings.TEST_ARTIFACTS_DIR / "waitlist"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def offer_emails_sent(sink, now) -> None:
    """The worker's part, in this process: claim the offer emails due, send them."""
    for reminder_id in reminders.dispatch_due(now=now, kinds=[Reminder.Kind.OFFER]):
        assert reminders.reminder_send(reminder_id=reminder_id, now=now) == "sent"


def test_a_patient_joins_from_the_journey_and_takes_a_freed_time_from_the_email(
    page, live_server, clinic, settings
):
    treatment, doctor = clinic
    nia = PatientFactory(user__email="nia.waits@example.org", full_name="Nia Waits")
    settings.SITE_URL = live_server.url  # the links in the email
    with time_machine.travel(MONDAY_MORNING, tick=True), SmtpSink(bodies=True) as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        theirs = book(PatientFactory(), treatment, doctor, [FREED]).sessions.get()

        # Sign in, then the journey to its time step.
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(nia.user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Sign out").wait_for()
        page.goto(f"/book/treatment/{treatment.slug}/")
        page.get_by_role("button", name="Next").click()  # 3 sessions, the usual
        page.get_by_role("group", name="Are you pregnant?").get_by_label("No").check()
        page.get_by_role("button", name="Next").click()
        page.get_by_role("button", name="Next").click()  # anyone
        heading(page, "Choose a time for your first session")
        assert page.get_by_text("None of these times suit you?").is_visible()
        checked(page, "time", axe=False)  # the journey's pages: tests/browser/test_accessibility.py
        page.get_by_role("link", name="Join the waitlist").click()

        # The form: every day and time is ticked to begin with; Nia cannot do weekends.
        heading(page, "Join the waitlist")
        assert page.get_by_text("course (3 sessions)").is_visible()
        page.get_by_label("Saturday").uncheck()
        page.get_by_label("Sunday").uncheck()
        checked(page, "join")
        page.get_by_role("button", name="Join the waitlist").click()

        heading(page, "My appointments")
        waiting = page.get_by_role("region", name="Your waitlist")
        assert waiting.get_by_text("the first session of a course of 3").is_visible()
        assert waiting.get_by_text("Monday to Friday, any time of day").is_visible()
        assert waiting.get_by_role("link", name=re.compile("^Change")).is_visible()
        checked(page, "appointments-waiting")

        # Someone else cancels; the sweep holds the time for Nia; the email goes out.
        services.session_cancel(session=theirs)
        assert waitlist.waitlist_sweep(now=timezone.now())["offered"] == 1
        offer_emails_sent(sink, timezone.now())
        (email,) = [m for m in sink.messages if m["to"] == [nia.user.email]]
        assert "10:00" in email["subject"]

        page.reload()
        held = page.get_by_role("region", name=re.compile("^A time is held for you until 11:"))
        assert held.get_by_text("Wednesday 28 January 2026, 10:00").is_visible()
        checked(page, "appointments-offer")

        # The link in the email, as the patient's mail program opens it.
        accept = re.search(rf"{re.escape(live_server.url)}/waitlist/offers/\S+/", email["text"])
        page.goto(accept.group(0))
        heading(page, "A time has come up for you")
        plan = page.locator("ol.plan")
        for when in ("28 January", "25 February", "25 March"):
            assert plan.get_by_text(f"Wednesday {when} 2026, 10:00").is_visible()
        checked(page, "offer")
        page.get_by_role("link", name="Let this time go to the next person").click()
        heading(page, "Let this time go?")
        checked(page, "decline")
        page.get_by_role("link", name="No, go back to the time").click()

        heading(page, "A time has come up for you")
        page.get_by_label("I have read the consent above and I agree to it.").check()
        page.get_by_role("button", name="Take this time and book the course").click()
        heading(page, "You are booked in")
        checked(page, "booked")

        # The link is used now: it says so, calmly.
        page.goto(accept.group(0))
        heading(page, "This offer has ended")
        checked(page, "ended")

        page.get_by_role("link", name="See your appointments and waitlist").click()
        heading(page, "My appointments")
        course = page.get_by_role("region", name=re.compile("course of 3"))
        assert course.get_by_text("Session 1 of 3").is_visible()
        assert "Wednesday 28 January 2026, 10:00" in course.inner_text()
        assert page.get_by_text("You are not waiting for a time.").is_visible()
    assert Offer.objects.get().status == Offer.Status.ACCEPTED
    assert WaitlistEntry.objects.get().status == WaitlistEntry.Status.BOOKED
    assert nia.courses.get().sessions.count() == 3
    assert other_origin_requests(page, live_server.url) == []
    # The only errors: the browser noting the form sent back (400) and the used link (410).
    assert [e for e in page.console_errors if not re.search("status of (400|410)", e)] == []
