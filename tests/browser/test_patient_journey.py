"""A patient's whole journey in a real browser, and the booking done by keyboard alone.

The first test follows one new patient from the home page through the
microneedling page, the FAQ and "Is it right for me?" to a booked 3-session
course, the confirmation email with its calendar file, a moved session, the
rest of the course cancelled, and signing out. The second books a course with
the keyboard only, checking after every focus move that the focus can be seen.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from booking.models import ConsentText, Course, Session
from tests.booking.conftest import emailed_code
from tests.booking.factories import PractitionerFactory
from tests.browser.conftest import (
    choose_time,
    email_code_in_browser,
    other_origin_requests,
    show_day,
)
from tests.education.factories import FAQFactory, SuitabilityQuestionFactory, TreatmentFactory
from tests.worker import send_all_due

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = ZoneInfo("Europe/London")
MONDAY_MORNING = datetime(2026, 1, 26, 9, tzinfo=LONDON)
EMAIL = "nia.journey@example.org"


@pytest.fixture
def clinic():
    treatment = TreatmentFactory()
    FAQFactory(treatment=treatment, question="Does it hurt?", answer="A little, for a moment.")
    FAQFactory(treatment=treatment, question="How long does it take?", answer="About an hour.")
    SuitabilityQuestionFactory(treatment=treatment, text="Are you pregnant?")
    PractitionerFactory(treatments=[treatment], display_name="Dr Demo")
    ConsentText.objects.create(version=1, text="I understand the risks and the aftercare.")
    return treatment


def heading(page, name, level=1):
    """Wait for a heading the patient sees, and return it."""
    found = page.get_by_role("heading", name=name, level=level)
    found.wait_for()
    return found


def status_text(page) -> str:
    """The messages (role=status) the site shows after an action."""
    return page.locator("main .messages").inner_text()


def test_patient_reads_checks_books_moves_cancels_and_signs_out(page, live_server, clinic):
    with time_machine.travel(MONDAY_MORNING, tick=True):
        # Home: the treatments are listed; follow the one to microneedling.
        page.goto("/")
        assert heading(page, re.compile("Clear facts about your skin treatment")).is_visible()
        page.get_by_role("region", name="Treatments").get_by_role(
            "link", name="Microneedling"
        ).click()

        # The treatment page, with its questions and a link to all of them.
        assert heading(page, "Microneedling").is_visible()
        assert page.get_by_text("Tiny needles make small marks").first.is_visible()
        questions = page.get_by_role("region", name="Questions people ask")
        assert questions.get_by_text("Does it hurt?").is_visible()
        questions.get_by_role("link", name="All questions and answers").click()

        # The FAQ: answers are closed until the patient opens one.
        assert heading(page, "Questions and answers").is_visible()
        assert page.url.endswith("/faq/")
        answer = page.get_by_text("A little, for a moment.")
        assert not answer.is_visible()
        page.locator("summary", has_text="Does it hurt?").click()
        answer.wait_for()
        assert page.locator("details", has_text="Does it hurt?").evaluate("el => el.open")
        assert not page.get_by_text("About an hour.").is_visible()

        # Back to the treatment page, then "Is it right for me?".
        page.go_back()
        heading(page, "Microneedling")
        page.get_by_role("link", name="Is it right for me?").click()
        assert heading(page, "Is microneedling right for me?").is_visible()
        page.get_by_role("group", name="Are you pregnant?").get_by_label("No").check()
        page.get_by_role("button", name="See my result").click()
        assert heading(page, "You can book online", level=2).is_visible()
        assert page.get_by_text("nothing stops you booking").is_visible()

        # Book a 3-session course as a new patient: the answers come along, to review.
        page.get_by_role("button", name="Book a course").click()
        assert heading(page, "How many sessions?").is_visible()
        page.get_by_label("3 sessions (usual)").check()
        page.get_by_role("button", name="Next").click()

        assert heading(page, "Check your health answers").is_visible()
        assert page.get_by_role("radio").count() == 0  # not asked again
        answers = page.locator("dl.health-answers")
        assert "Are you pregnant?" in answers.inner_text() and "No" in answers.inner_text()
        page.get_by_role("button", name="These are right: next").click()

        assert heading(page, "Who would you like to see?").is_visible()
        page.get_by_label("Anyone: show me the most free times").check()
        page.get_by_role("button", name="Next").click()

        assert heading(page, "Choose a time for your first session").is_visible()
        show_day(page, "4 Feb")
        choose_time(page, re.compile("^Wednesday 4 February 2026, 10:00 to"))

        assert heading(page, "Your course of 3 sessions").is_visible()
        plan = page.locator("ol.plan")
        for when in ("4 February", "4 March", "1 April"):
            assert plan.get_by_text(f"Wednesday {when} 2026, 10:00").is_visible()
        page.get_by_role("link", name="Next", exact=True).click()

        assert heading(page, "Your email address").is_visible()
        email_code_in_browser(page, EMAIL)
        page.get_by_label("Full name").fill("Nia Journey")
        page.get_by_label("Phone").fill("07700 900777")
        page.get_by_label("Choose a password").fill("a-long-Patient-passphrase-42")
        page.get_by_role("button", name="Next").click()

        assert heading(page, "Consent").is_visible()
        page.get_by_label("I have read and agree").check()
        page.get_by_role("button", name="Next").click()

        assert heading(page, "Check and confirm").is_visible()
        main = page.locator("main")
        assert "Nia Journey" in main.inner_text()
        assert main.get_by_role("listitem").filter(has_text="with Dr Demo").count() == 3
        page.get_by_role("button", name="Confirm booking").click()

        assert heading(page, "You are booked in").is_visible()
        assert page.get_by_text("course of 3 sessions is confirmed").is_visible()
        course = Course.objects.get()
        assert course.patient.user.email == EMAIL

        # The confirmation email: the reminder rows are "delivered" here.
        send_all_due()
        confirmations = [m for m in mail.outbox if "is confirmed" in m.subject]
        assert len(confirmations) == 1
        confirmation = confirmations[0]
        assert confirmation.to == [EMAIL]
        assert confirmation.subject == "Your microneedling booking is confirmed"
        (ics,) = [a for a in confirmation.attachments if a[0].endswith(".ics")]
        events = Calendar.from_ical(ics[1]).walk("VEVENT")
        assert len(events) == 3
        starts = sorted(e.decoded("DTSTART").astimezone(LONDON) for e in events)
        assert [f"{s:%d %b %H:%M}" for s in starts] == [
            "04 Feb 10:00",
            "04 Mar 10:00",
            "01 Apr 10:00",
        ]

        # My appointments: the course and its three sessions.
        page.get_by_role("link", name="See or change your appointments").click()
        assert heading(page, "My appointments").is_visible()
        course_box = page.get_by_role("region", name=re.compile("Microneedling: course of 3"))
        assert course_box.get_by_text("Active").is_visible()
        for number in (1, 2, 3):
            assert course_box.get_by_text(f"Session {number} of 3").is_visible()

        # Move session 2 to another time inside its window.
        page.get_by_role("link", name="Move session 2").click()
        assert heading(page, "Move session 2").is_visible()
        assert page.get_by_text(
            "It is now on Wednesday 4 March 2026, 10:00 to 11:15 with Dr Demo"
        ).is_visible()
        choose_time(page, re.compile("^Wednesday 4 March 2026, 11:30 to"))
        heading(page, "Check the move of session 2")
        page.get_by_role("button", name="Confirm: move session 2").click()
        heading(page, "My appointments")
        assert "Session 2 is moved." in status_text(page)
        session_2 = page.get_by_role("listitem").filter(has_text="Session 2 of 3")
        assert "Wednesday 4 March 2026, 11:30" in session_2.inner_text()

        # Cancel the rest of the course.
        page.get_by_role("link", name="Cancel the rest of this course").click()
        assert heading(page, "Cancel the rest of this course?").is_visible()
        for line in ("4 February 2026, 10:00", "4 March 2026, 11:30", "1 April 2026, 10:00"):
            assert page.get_by_role("listitem").filter(has_text=line).is_visible()
        page.get_by_role("button", name="Yes, cancel them").click()
        heading(page, "My appointments")
        assert "3 session(s) cancelled." in status_text(page)
        assert not page.get_by_role("link", name=re.compile("^Move session")).count()
        assert not page.get_by_role("link", name="Cancel the rest of this course").count()
        assert page.locator("main .badge-cancelled").count() == 3
        assert {s.status for s in Session.objects.all()} == {Session.Status.CANCELLED}

        # Sign out; the appointments page then asks to sign in.
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("link", name="Sign in").wait_for()
        assert "You have signed out." in status_text(page)
        assert heading(page, re.compile("Clear facts about your skin treatment")).is_visible()
        assert not page.get_by_role("button", name="Sign out").count()
        assert not page.get_by_role("link", name="My appointments").count()
        page.goto("/appointments/")
        assert re.search(r"/accounts/login/\?next=/appointments/$", page.url)
        assert heading(page, "Sign in").is_visible()

    assert other_origin_requests(page, live_server.url) == []
    assert page.console_errors == []


# --- The keyboard alone -------------------------------------------------------------

ACCESSIBLE_NAME = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return "";
  const byId = (el.getAttribute("aria-labelledby") || "").split(/\\s+/)
    .map((id) => document.getElementById(id)).filter(Boolean)
    .map((node) => node.textContent).join(" ");
  const name = el.getAttribute("aria-label") || byId
    || (el.labels && el.labels.length ? el.labels[0].textContent : "")
    || el.textContent || el.value || "";
  return name.replace(/\\s+/g, " ").trim();
}"""

FOCUS_RING = """() => {
  const el = document.activeElement;
  // Bootstrap fades its rings in: read the end state, not the first frame of it.
  el.getAnimations().forEach((animation) => animation.finish());
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const transparent = (colour) => colour === "transparent" || /rgba\\([^)]*,\\s*0\\)/.test(colour);
  const shadow = style.boxShadow;
  return {
    tag: el.tagName.toLowerCase(),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
      && !transparent(style.outlineColor),
    shadow: shadow !== "none" && /[1-9][\\d.]*px/.test(shadow) && !transparent(shadow),
    style: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor} / ${shadow}`,
    width: box.width,
    height: box.height,
  };
}"""


def focused_name(page) -> str:
    return page.evaluate(ACCESSIBLE_NAME)


def assert_focus_visible(page):
    """The focused element draws an outline or a box-shadow ring, and has a size."""
    name = focused_name(page)
    ring = page.evaluate(FOCUS_RING)
    assert ring["tag"] != "body", "focus was lost to the page"
    assert ring["outline"] or ring["shadow"], f"no focus ring on {ring['tag']} {name!r}: {ring}"
    assert ring["width"] > 0 and ring["height"] > 0, f"focused {name!r} has no size: {ring}"


def press(page, key):
    """One key press that moves focus; the new focus must be visible."""
    page.keyboard.press(key)
    assert_focus_visible(page)


def tab_to(page, name, *, backwards=False, most=120):
    """Tab (or Shift+Tab) until the focused element's accessible name matches `name`.

    `name` is a string (matched exactly) or a compiled pattern (searched).
    After every press the focus must be visible.
    """
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(most):
        press(page, key)
        current = focused_name(page)
        seen.append(current)
        if current == name if isinstance(name, str) else name.search(current):
            return
    raise AssertionError(f"{name!r} not reached in {most} presses of {key}; passed {seen}")


def activate(page, key="Enter"):
    """Enter (links, buttons) or Space (buttons) on the focused element, which loads a page."""
    with page.expect_navigation():
        page.keyboard.press(key)


def wait_for_focus(page, element_id, tries=50):
    # Polled here: wait_for_function evaluates a string, which the CSP forbids.
    for _ in range(tries):
        if page.evaluate("document.activeElement.id") == element_id:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"focus did not move to #{element_id}")


def checked_label(page, name):
    return page.evaluate(
        """(name) => {
          const el = document.querySelector(`input[name="${name}"]:checked`);
          return el ? el.labels[0].textContent.trim() : null;
        }""",
        name,
    )


def test_patient_books_a_course_with_the_keyboard_alone(page, live_server, clinic):
    with time_machine.travel(MONDAY_MORNING, tick=True):
        page.goto("/treatments/microneedling/")
        heading(page, "Microneedling")
        # The skip link is the first stop, then on through the header to the page's own links.
        tab_to(page, "Skip to main content", most=1)
        tab_to(page, "Book a course")
        activate(page)

        # How many sessions: a radio group moves with the arrow keys.
        heading(page, "How many sessions?")
        # Each length is read with its price (£100.00 a session, no package).
        tab_to(page, "3 sessions (usual): £300.00")  # Tab lands on the chosen radio
        press(page, "ArrowDown")
        assert focused_name(page) == "4 sessions: £400.00"
        assert checked_label(page, "sessions") == "4 sessions: £400.00"
        press(page, "ArrowUp")
        assert checked_label(page, "sessions") == "3 sessions (usual): £300.00"
        tab_to(page, "Next", most=1)
        activate(page)

        # Health questions: nothing chosen yet; Space chooses the focused answer.
        heading(page, "A few health questions")
        tab_to(page, "No")
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked")
        tab_to(page, "Next")
        activate(page, "Space")

        # Practitioner: "Anyone" is chosen; the arrow picks Dr Demo.
        heading(page, "Who would you like to see?")
        tab_to(page, "Anyone: show me the most free times")
        press(page, "ArrowDown")
        assert checked_label(page, "practitioner") == "Dr Demo, RN"
        tab_to(page, "Next", most=1)
        activate(page)

        # First session: htmx swaps in the later days and moves focus to the day shown.
        heading(page, "Choose a time for your first session")
        tab_to(page, re.compile("^Later days"))
        page.keyboard.press("Enter")
        heading(page, "Tuesday 3 February", level=2)
        wait_for_focus(page, "picker-day")
        assert_focus_visible(page)
        assert focused_name(page) == "Tuesday 3 February"
        # The next stops are the new days, not back at the top of the page: back to the
        # strip, then the next day's entry, which shows Wednesday's times.
        tab_to(page, re.compile("^Wed 4 Feb"), backwards=True)
        page.keyboard.press("Enter")
        heading(page, "Wednesday 4 February", level=2)
        wait_for_focus(page, "picker-day")
        tab_to(page, re.compile("^Wednesday 4 February 2026, 10:00 to"))
        activate(page, "Space")

        # The course plan: from the end of the page backwards to "Next".
        heading(page, "Your course of 3 sessions")
        tab_to(page, "Next", backwards=True)
        activate(page)

        # The email address, then the code from the email, then the details: tab, then type.
        heading(page, "Your email address")
        tab_to(page, re.compile("^Your email address"))
        page.keyboard.type("kai.keys@example.org")
        tab_to(page, "Email me a code")
        activate(page)
        heading(page, "Your email address")
        tab_to(page, re.compile("^The 6-digit code"))
        page.keyboard.type(emailed_code("kai.keys@example.org"))
        tab_to(page, "Check the code")
        activate(page)
        heading(page, "Your details")
        for label, text in [
            ("Full name", "Kai Keys"),
            ("Phone", "07700 900123"),
            ("Choose a password", "a-long-Keyboard-passphrase-7"),
        ]:
            tab_to(page, re.compile(f"^{label}"))
            page.keyboard.type(text)
        tab_to(page, "Next")
        activate(page)

        # Consent: Space ticks the box.
        heading(page, "Consent")
        tab_to(page, re.compile("^I have read and agree"))
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked")
        tab_to(page, "Next", most=1)
        activate(page)

        heading(page, "Check and confirm")
        assert page.locator("main").get_by_text("Kai Keys").is_visible()
        tab_to(page, "Confirm booking")
        activate(page)

        heading(page, "You are booked in")
        course = Course.objects.get()
        assert course.patient.user.email == "kai.keys@example.org"
        assert course.patient.phone == "07700 900123"
        sessions = course.sessions.order_by("number")
        assert [f"{s.start.astimezone(LONDON):%d %b %H:%M}" for s in sessions] == [
            "04 Feb 10:00",
            "04 Mar 10:00",
            "01 Apr 10:00",
        ]
        assert {s.practitioner.display_name for s in sessions} == {"Dr Demo"}

    assert other_origin_requests(page, live_server.url) == []
    assert page.console_errors == []
