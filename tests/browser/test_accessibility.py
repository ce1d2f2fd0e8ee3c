"""WCAG 2.2 AA in a real browser: every patient-facing page and state, checked by axe-core.

Each page or state is its own test id (`-k newsletter-bad-email`): the public
pages, each step of the booking journey, the patient's own pages, and every
form sent empty and with bad values. A failure names the rule, its impact, the
element and its HTML (tests/browser/axe.py), and leaves a screenshot and the
page under var/test-artifacts/. The Content Security Policy stays on throughout.

After the scan, what axe cannot judge alone: the error summary takes the focus
and links to each field; slots are big enough to hit; the page says its
language; status messages are announced; nothing is told by colour alone.
Reflow at 320 px and 200% zoom is checked along the whole journey in
test_booking_journey.py.

One browser context serves the file; each test gets a fresh page and no
cookies. (Each test still empties the database after it, as every live-server
test must: that, not the browser, is most of the time.)
"""

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from importlib import import_module
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.test import Client

from booking import services
from booking.availability import Slot
from booking.journey import SESSION_KEY, Journey, slot_value
from booking.models import ConsentText, Session
from clinic.models import ClinicDetails
from clinic.tokens import token_make
from education.models import Treatment
from education.services import CONFIRM_PURPOSE
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory
from tests.booking.factories import book_course as course_agreed
from tests.browser.axe import axe_report, axe_violations
from tests.browser.conftest import choose_time, other_origin_requests, save_if_failed, show_day
from tests.education.factories import (
    ArticleFactory,
    ConsultationFactory,
    FAQFactory,
    SourceFactory,
    SubscriberFactory,
    SuitabilityQuestionFactory,
    TreatmentFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = ZoneInfo("Europe/London")
MONDAY_MORNING = datetime(2026, 1, 26, 9, tzinfo=LONDON)


# --- One browser context for the whole file; a fresh page (and no cookies) per test ---


@pytest.fixture(scope="module")
def browser_context(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    yield context
    context.close()


@pytest.fixture
def page(request, browser_context):
    browser_context.clear_cookies()
    page = browser_context.new_page()
    page.set_default_timeout(10_000)
    page.requests_seen = []
    page.console_errors = []
    page.failed_assets = []  # the page itself may answer 400 or 404 on purpose; its assets not
    page.on("request", lambda req: page.requests_seen.append(req.url))
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and r.request.resource_type != "document"
            and page.failed_assets.append(f"{r.status} {r.url}")
        ),
    )
    yield page
    save_if_failed(request, page)
    page.close()


@pytest.fixture
def monday_morning():
    """The clock on a Monday in late January, ticking: the live server sees it too."""
    with time_machine.travel(MONDAY_MORNING, tick=True):
        yield


@pytest.fixture
def world(monday_morning, live_server):
    """A clinic with one course treatment, a consultation, content and a patient."""
    with transaction.atomic():  # one commit, not forty
        return _world(live_server.url)


def _world(url):
    ClinicDetails.objects.create(
        name="Harbour Skin Clinic",
        address="1 Quay Street\nBristol",
        phone="0117 496 0000",
        email="desk@harbour.example",
        opening_hours="Monday to Friday: 9am to 5pm",
    )
    treatment = TreatmentFactory()
    treatment.sources.add(SourceFactory())
    ConsultationFactory()
    FAQFactory(treatment=treatment, question="Does it hurt?", answer="A little.")
    SuitabilityQuestionFactory(
        treatment=treatment,
        text="Are you pregnant or breastfeeding?",
        outcome="not_suitable",
        explanation="Microneedling is not done during pregnancy.",
    )
    SuitabilityQuestionFactory(
        treatment=treatment,
        text="Do you have a skin infection in the area?",
        explanation="A clinician should look at it first.",
    )
    article = ArticleFactory(
        title="What to expect after microneedling",
        slug="after-microneedling",
        treatment=treatment,
        body="## The first day\n\nYour skin is pink. Read [our aftercare](/faq/) "
        "for what helps, and call us if it gets worse.\n\n## Later\n\nIt settles.",
    )
    article.sources.add(SourceFactory())
    practitioner = PractitionerFactory(treatments=[treatment], display_name="Dr Demo")
    ConsentText.objects.create(version=1, text="I understand the risks and the aftercare.")
    subscriber = SubscriberFactory()
    return SimpleNamespace(
        url=url,
        treatment=treatment,
        practitioner=practitioner,
        patient=PatientFactory(full_name="Nia Patient"),
        subscriber=subscriber,
        confirm_path=f"/newsletter/confirm/{token_make(CONFIRM_PURPOSE, {'s': subscriber.pk})}/",
    )


def book_course(world) -> dict[int, Session]:
    """The patient's 3-session course, Wednesdays at 10:00 (the last one after the DST change)."""
    starts = [datetime(2026, m, d, 10, tzinfo=LONDON) for m, d in ((2, 4), (3, 4), (4, 1))]
    course = course_agreed(
        patient=world.patient,
        treatment=world.treatment,
        slots=[Slot(s, s + timedelta(minutes=75), world.practitioner.pk) for s in starts],
    )
    world.course = course
    return {s.number: s for s in course.sessions.all()}


# --- Getting to each state --------------------------------------------------------------


def sign_in(page, world, user=None) -> None:
    """Signed in as the patient (or `user`) through a session cookie: no form to fill."""
    client = Client()
    client.force_login(user or world.patient.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": world.url}]
    )


def session_of(page, world):
    """The browser's Django session (a new one if it has none yet)."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies(world.url)}
    store = import_module(settings.SESSION_ENGINE).SessionStore  # cached_db with Redis
    session = store(session_key=cookies.get(settings.SESSION_COOKIE_NAME))
    if session.session_key is None or not session.exists(session.session_key):
        session.create()
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": world.url}]
        )
    return session


def click_and_load(page, locator) -> None:
    """Click something that loads a new page, and wait for that page."""
    with page.expect_navigation():
        locator.click()


def submit(page, name: str) -> None:
    click_and_load(page, page.get_by_role("button", name=name))


def next_step(page) -> None:
    submit(page, "Next")


def uncheck_all(page, name: str) -> None:
    """Clear a preselected radio group: the form then goes with no answer."""
    page.locator(f"input[name='{name}']").evaluate_all(
        "els => els.forEach(el => { el.checked = false; })"
    )


def tamper(page, selector: str, value: str) -> None:
    """Change what a control sends (as a stale or forged form would)."""
    page.locator(selector).first.evaluate("(el, value) => { el.value = value; }", value)


def fill_details(page, *, name="Nia Browser", phone="07700 900777", password=None):
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Phone").fill(phone)
    page.get_by_label("Choose a password").fill(password or "a-long-Patient-passphrase-42")


def ask_for_code(page, email: str) -> None:
    page.get_by_label("Your email address").fill(email)
    submit(page, "Email me a code")


PLAN = [(2, 4), (3, 4), (4, 1)]  # Wednesdays 4 February, 4 March and 1 April, at 11:30


STEP_URLS = {
    "length": "/book/course/",
    "questions": "/book/questions/",
    "practitioner": "/book/practitioner/",
    "time": "/book/time/",
    "plan": "/book/plan/",
    "details": "/book/details/",
    "consent": "/book/consent/",
    "confirm": "/book/confirm/",
}


def journey_at(page, world, step: str) -> None:
    """Open the booking journey at `step`, with the steps before it answered.

    The answers go straight into the browser's session, as the journey keeps
    them (booking/journey.py): each state costs one page load, not the whole
    journey. Driving every step by hand is test_booking_journey.py's job.
    """
    steps = list(STEP_URLS)
    before = steps[: steps.index(step)]
    journey = Journey(treatment=world.treatment.slug)
    if "length" in before:
        journey.sessions = 3
    if "questions" in before:
        journey.answers = {str(q.pk): "no" for q in world.treatment.questions.all()}
        journey.answered = True
        journey.answers_version = Treatment.objects.get(pk=world.treatment.pk).questions_version
    if "practitioner" in before:
        journey.practitioner_chosen = True
    if "time" in before:
        journey.plan = [
            slot_value(Slot(start, start + timedelta(minutes=75), world.practitioner.pk))
            for start in (datetime(2026, m, d, 11, 30, tzinfo=LONDON) for m, d in PLAN)
        ]
    if "consent" in before:
        journey.consent = ConsentText.current().pk
    session = session_of(page, world)
    session[SESSION_KEY] = asdict(journey)
    session.save()
    page.goto(STEP_URLS[step])


@dataclass(frozen=True)
class State:
    """A page in one state: how to get there, and what it should then show."""

    id: str
    reach: object  # (page, world) -> None
    errors: bool = False  # it shows an error summary


def _goto(path):
    return lambda page, world: page.goto(path)


NO_TO_ALL = {
    "Are you pregnant or breastfeeding?": "No",
    "Do you have a skin infection in the area?": "No",
}
PREGNANT = {**NO_TO_ALL, "Are you pregnant or breastfeeding?": "Yes"}
INFECTION = {**NO_TO_ALL, "Do you have a skin infection in the area?": "Yes"}


def _answer(page, answers: dict[str, str]) -> None:
    for question, answer in answers.items():
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def _suitability(answers: dict[str, str]):
    def reach(page, world):
        page.goto("/treatments/microneedling/suitability/")
        _answer(page, answers)
        submit(page, "See my result")

    return reach


def _suitability_bad(page, world):
    page.goto("/treatments/microneedling/suitability/")
    _answer(page, NO_TO_ALL)
    tamper(page, "input[value='no']:checked", "maybe")
    submit(page, "See my result")


def _newsletter(email):
    def reach(page, world):
        page.goto("/newsletter/")
        page.get_by_label("Your email address").fill(email)
        submit(page, "Sign up")

    return reach


def _newsletter_confirmed(page, world):
    page.goto(world.confirm_path)
    submit(page, "Yes, sign me up")


def _newsletter_unsubscribe(page, world):
    page.goto(f"/newsletter/unsubscribe/{world.subscriber.token}/")


def _newsletter_unsubscribed(page, world):
    _newsletter_unsubscribe(page, world)
    submit(page, "Stop the newsletter")


def _login(email, password):
    def reach(page, world):
        page.goto("/accounts/login/")
        page.locator("#id_login").fill(email)
        page.locator("#id_password").fill(password)
        submit(page, "Sign in")

    return reach


def _signup(email, password1, password2):
    def reach(page, world):
        page.goto("/accounts/signup/")
        page.locator("#id_email").fill(email)
        page.locator("#id_password1").fill(password1)
        page.locator("#id_password2").fill(password2)
        submit(page, "Create my account")

    return reach


def _password_reset(email):
    def reach(page, world):
        page.goto("/accounts/password/reset/")
        page.locator("#id_email").fill(email)
        submit(page, "Email me a link")

    return reach


def _reset_from_key(page, world):
    """The link in a password reset email (it stores the key and redirects)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    user = world.patient.user
    uid, key = user_pk_to_url_str(user), default_token_generator.make_token(user)
    page.goto(f"/accounts/password/reset/key/{uid}-{key}/")


def _reset_from_key_mismatch(page, world):
    _reset_from_key(page, world)
    page.locator("#id_password1").fill("a-long-New-passphrase-42")
    page.locator("#id_password2").fill("a-different-passphrase-43")
    submit(page, "Save my new password")


def _confirm_email(page, world):
    """The link in the "check your email address" email."""
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC

    address = EmailAddress.objects.get(user=world.patient.user, primary=True)
    address.verified = False
    address.save()
    page.goto(f"/accounts/confirm-email/{EmailConfirmationHMAC(address).key}/")


def _sign_out(page, world):
    sign_in(page, world)
    page.goto("/accounts/logout/")


def _book_empty(page, world):
    page.goto("/book/")
    next_step(page)


def _book_bad(page, world):
    page.goto("/book/")
    page.get_by_label("Microneedling").check()
    tamper(page, "input[name='treatment']:checked", "999999")
    next_step(page)


def _journey(step, then=None, signed_in=True):
    def reach(page, world):
        if signed_in:
            sign_in(page, world)
        journey_at(page, world, step)
        if then:
            then(page, world)

    return reach


def _later_days(page, world):
    page.get_by_role("link", name="Later days").click()
    page.get_by_role("heading", name="Tuesday 3 February").wait_for()


def _more_times(page, world):
    """The picker with a part of the day's "more times" open."""
    page.locator("details.more-times > summary").first.click()


def _empty(name):
    def then(page, world):
        uncheck_all(page, name)
        next_step(page)

    return then


def _bad_choice(name, value):
    def then(page, world):
        tamper(page, f"input[name='{name}']:checked", value)
        next_step(page)

    return then


def _questions(answers):
    def then(page, world):
        _answer(page, answers)
        next_step(page)

    return then


def _carried(page, world):
    """The answers from "Is it right for me?" carried into booking, shown for review."""
    _suitability(NO_TO_ALL)(page, world)
    page.get_by_role("button", name="Book a course").click()
    page.get_by_label("3 sessions (usual)").check()
    next_step(page)
    page.get_by_role("heading", name="Check your health answers").wait_for()


def _bad_questions(page, world):
    _answer(page, NO_TO_ALL)
    tamper(page, "input[value='no']:checked", "maybe")
    next_step(page)


def _bad_time(page, world):
    """A time that was free when the page loaded, gone by the click (here: forged)."""
    _later_days(page, world)
    tamper(page, "button[name='slot']", "2026-02-04T10:00:00+00:00|999")
    click_and_load(page, page.locator("button[name='slot']").first)


def _plan_session(page, world):
    click_and_load(page, page.get_by_role("link", name="Change session 2"))


def _plan_session_taken(page, world):
    _plan_session(page, world)
    tamper(page, "button[name='slot']", "2026-03-04T09:00:00+00:00|999")
    click_and_load(page, page.locator("button[name='slot']").first)


def _bad_email(page, world):
    ask_for_code(page, "not-an-email")


def _code_sent(page, world):
    ask_for_code(page, world.patient.user.email)


def _wrong_code(page, world):
    ask_for_code(page, "nia.new@example.org")
    page.get_by_label("The 6-digit code from the email").fill("12")
    submit(page, "Check the code")


def _new_patient(page, world):
    """Signed in by a code just now: an account with no password, not yet a patient."""
    sign_in(page, world, UserFactory(email="new.by.code@example.org", password=None))
    journey_at(page, world, "details")


def _new_patient_bad(page, world):
    _new_patient(page, world)
    fill_details(page, phone="12", password="123")
    next_step(page)


def _details_signed_in(page, world):
    """Signed in, but not a patient yet: the step asks only for a name and a phone."""
    sign_in(page, world, UserFactory(email="not.yet.patient@example.org"))
    journey_at(page, world, "details")


def _appointments(page, world):
    book_course(world)
    sign_in(page, world)
    page.goto("/appointments/")


def _appointments_cancelled(page, world):
    sessions = book_course(world)
    services.session_cancel(session=sessions[3])
    sign_in(page, world)
    page.goto("/appointments/")


def _preferences_saved(page, world):
    _appointments(page, world)
    page.get_by_label("A check-in email 3 days after each session").uncheck()
    submit(page, "Save my email choices")


def _move(page, world):
    sessions = book_course(world)
    sign_in(page, world)
    page.goto(f"/appointments/sessions/{sessions[2].pk}/move/")


def _replan(page, world):
    """Cancelling session 2 would leave session 3 too far from session 1: the offer."""
    sessions = book_course(world)
    sign_in(page, world)
    page.goto(f"/appointments/sessions/{sessions[2].pk}/cancel/")
    submit(page, "Yes, cancel this session")


def _add_session(page, world):
    sessions = book_course(world)
    sign_in(page, world)
    page.goto(f"/appointments/courses/{sessions[1].course_id}/add/")


def _book_again(page, world):
    """Session 3 cancelled: the free times to book it again."""
    sessions = book_course(world)
    services.session_cancel(session=sessions[3])
    sign_in(page, world)
    page.goto(f"/appointments/sessions/{sessions[3].pk}/again/")
    page.get_by_role("radio").first.wait_for()  # the page itself, with times to choose


def _move_later_days(page, world):
    _move(page, world)
    page.get_by_role("link", name="Later days").click()
    page.get_by_role("heading", name="Wednesday 11 March").wait_for()


def _move_confirm(page, world):
    """A new time chosen: old and new side by side, nothing moved yet."""
    _move(page, world)
    choose_time(page, re.compile("^Wednesday 4 March 2026, 11:15 to"))
    page.get_by_role("heading", name="Check the move of session 2").wait_for()


def _move_confirm_later(page, world):
    """A new time that moves the session after it too: shown before anything changes."""
    _move(page, world)
    show_day(page, "17 Mar")
    choose_time(page, re.compile("^Tuesday 17 March 2026, 10:00 to"))
    page.get_by_role("heading", name="Check the move of session 2").wait_for()
    assert page.get_by_text("Session 3: from").is_visible()


def _move_bad(page, world):
    _move(page, world)
    tamper(page, "button[name='slot']", "nonsense")
    click_and_load(page, page.locator("button[name='slot']").first)


def _move_empty(page, world):
    """A move that sends no time at all."""
    _move(page, world)
    button = page.locator("button.slot-button").first
    button.evaluate("el => el.removeAttribute('name')")
    click_and_load(page, button)


def _session_cancel(page, world):
    sessions = book_course(world)
    sign_in(page, world)
    page.goto(f"/appointments/sessions/{sessions[3].pk}/cancel/")


def _session_cancelled(page, world):
    _session_cancel(page, world)
    submit(page, "Yes, cancel this session")


def _course_cancel(page, world):
    book_course(world)
    sign_in(page, world)
    page.goto(f"/appointments/courses/{world.course.pk}/cancel/")


STATES = [
    # Public pages
    State("home", _goto("/")),
    State("treatment", _goto("/treatments/microneedling/")),
    State("suitability", _goto("/treatments/microneedling/suitability/")),
    State("suitability-empty", _suitability({}), errors=True),
    State("suitability-bad", _suitability_bad, errors=True),
    State("suitability-can-book", _suitability(NO_TO_ALL)),
    State("suitability-consult", _suitability(INFECTION)),
    State("suitability-unsuitable", _suitability(PREGNANT)),
    State("articles", _goto("/articles/")),
    State("article", _goto("/articles/after-microneedling/")),
    State("faq", _goto("/faq/")),
    State("search-hit", _goto("/search/?q=microneedling")),
    State("search-miss", _goto("/search/?q=zzzzqx")),
    State("search-blank", _goto("/search/?q=")),
    State("newsletter", _goto("/newsletter/")),
    State("newsletter-empty", _newsletter(""), errors=True),
    State("newsletter-bad-email", _newsletter("not-an-email"), errors=True),
    State("newsletter-check-email", _newsletter("reader@example.org")),
    State("newsletter-confirm", lambda page, world: page.goto(world.confirm_path)),
    State("newsletter-confirmed", _newsletter_confirmed),
    State("newsletter-link-invalid", _goto("/newsletter/confirm/not-a-link/")),
    State("newsletter-unsubscribe", _newsletter_unsubscribe),
    State("newsletter-unsubscribed", _newsletter_unsubscribed),
    State("not-found", _goto("/no-such-page/")),
    State("login", _goto("/accounts/login/")),
    State("login-empty", _login("", ""), errors=True),
    State("login-bad-email", _login("not-an-email", "x"), errors=True),
    State("login-wrong-password", _login("nobody@example.org", "wrong-password"), errors=True),
    State("signup", _goto("/accounts/signup/")),
    State("signup-empty", _signup("", "", ""), errors=True),
    State("signup-bad", _signup("not-an-email", "123", "456"), errors=True),
    State("password-reset", _goto("/accounts/password/reset/")),
    State("password-reset-empty", _password_reset(""), errors=True),
    State("password-reset-bad-email", _password_reset("not-an-email"), errors=True),
    State("password-reset-sent", _password_reset("someone@example.org")),
    State("password-reset-new-password", _reset_from_key),
    State("password-reset-new-password-mismatch", _reset_from_key_mismatch, errors=True),
    State("confirm-email", _confirm_email),
    State("sign-out", _sign_out),
    # The booking journey, step by step
    State("book-treatment", _goto("/book/")),
    State("book-treatment-empty", _book_empty, errors=True),
    State("book-treatment-bad", _book_bad, errors=True),
    State("book-length", _journey("length")),
    State("book-length-empty", _journey("length", _empty("sessions")), errors=True),
    State("book-length-bad", _journey("length", _bad_choice("sessions", "99")), errors=True),
    State("book-questions", _journey("questions")),
    State("book-questions-empty", _journey("questions", _questions({})), errors=True),
    State("book-questions-bad", _journey("questions", _bad_questions), errors=True),
    State("book-questions-consult", _journey("questions", _questions(INFECTION))),
    State("book-questions-unsuitable", _journey("questions", _questions(PREGNANT))),
    State("book-questions-review", _carried),
    State("book-practitioner", _journey("practitioner")),
    State("book-practitioner-empty", _journey("practitioner", _empty("practitioner")), True),
    State(
        "book-practitioner-bad",
        _journey("practitioner", _bad_choice("practitioner", "12345")),
        errors=True,
    ),
    State("book-time", _journey("time")),
    State("book-time-later-days", _journey("time", _later_days)),
    State("book-time-more-times", _journey("time", _more_times)),
    State("book-time-taken", _journey("time", _bad_time), errors=True),
    State("book-plan", _journey("plan")),
    State("book-plan-session", _journey("plan", _plan_session)),
    State("book-plan-session-taken", _journey("plan", _plan_session_taken), errors=True),
    State("book-details", _journey("details", signed_in=False)),
    State(
        "book-details-empty",
        _journey("details", lambda page, world: submit(page, "Email me a code"), signed_in=False),
        errors=True,
    ),
    State("book-details-bad", _journey("details", _bad_email, signed_in=False), errors=True),
    State("book-details-code", _journey("details", _code_sent, signed_in=False)),
    State(
        "book-details-code-wrong", _journey("details", _wrong_code, signed_in=False), errors=True
    ),
    State("book-details-new-patient", _new_patient),
    State("book-details-new-patient-bad", _new_patient_bad, errors=True),
    State("book-details-signed-in", _details_signed_in),
    State("book-consent", _journey("consent")),
    State(
        "book-consent-empty",
        _journey("consent", lambda page, world: next_step(page)),
        errors=True,
    ),
    State("book-confirm", _journey("confirm")),
    State("book-done", _journey("confirm", lambda page, world: submit(page, "Confirm booking"))),
    # The patient's own pages
    State("appointments", _appointments),
    State("appointments-cancelled-session", _appointments_cancelled),
    State("appointments-preferences-saved", _preferences_saved),
    State("move", _move),
    State("move-later-days", _move_later_days),
    State("move-confirm", _move_confirm),
    State("move-confirm-later-sessions", _move_confirm_later),
    State("move-bad-time", _move_bad, errors=True),
    State("move-no-time", _move_empty, errors=True),
    State("session-cancel", _session_cancel),
    State("session-cancelled", _session_cancelled),
    State("course-cancel", _course_cancel),
    State("replan-after-cancel", _replan),
    State("add-a-session", _add_session),
    State("book-a-session-again", _book_again),
]


@pytest.mark.parametrize("state", STATES, ids=[s.id for s in STATES])
def test_page_meets_wcag_22_aa(page, world, state):
    state.reach(page, world)

    violations = axe_violations(page)
    assert not violations, axe_report(violations, page.url)
    assert page.locator("html").get_attribute("lang") == "en-GB"
    assert page.get_by_role("heading", level=1).count() == 1

    summary = page.locator("[data-error-summary]")
    assert summary.count() == (1 if state.errors else 0), "an error summary if, and only if, errors"
    if state.errors:
        assert_error_summary_has_focus_and_leads_to_fields(page)

    assert other_origin_requests(page, world.url) == []
    assert page.failed_assets == []
    # Chrome logs a 400 or 404 answer as "Failed to load resource"; the assets are checked above.
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []


def assert_error_summary_has_focus_and_leads_to_fields(page) -> None:
    summary = page.locator("[data-error-summary]")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert summary.get_by_role("heading", name="There is a problem").is_visible()
    assert summary.get_by_role("listitem").count() >= 1
    in_form = summary.evaluate("el => el.closest('form') !== null")
    assert page.title().startswith("Error: ") == in_form  # a form's errors, not a message
    for href in summary.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))"):
        assert href.startswith("#"), href
        field = page.locator(f"[id='{href[1:]}']")
        assert field.count() == 1, f"{href} names no element"
        assert field.evaluate("el => el.matches('input, select, textarea')"), href
        assert field.is_visible(), href


# --- The patterns axe cannot judge alone ------------------------------------------------


def test_harness_reports_violations_with_rule_element_and_html(page):
    page.set_content('<html><body><main><img src="data:,"><a href="/x"></a></main></body></html>')
    violations = axe_violations(page)
    rules = {v["id"] for v in violations}
    assert {"html-has-lang", "image-alt", "link-name"} <= rules
    report = axe_report(violations, "about:blank")
    assert "image-alt (critical)" in report
    assert '<img src="data:,">' in report


def test_error_summary_link_takes_the_keyboard_to_the_field(page, world):
    _new_patient(page, world)
    next_step(page)  # everything empty
    summary = page.locator("[data-error-summary]")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    links = summary.get_by_role("link")
    assert links.all_inner_texts() == [
        "Enter your full name.",
        "Enter a phone number.",
        "Choose a password.",
    ]
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == links.first.inner_text()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_phone"
    assert page.get_by_label("Phone").evaluate("el => el.getAttribute('aria-invalid')")


def test_error_summary_names_each_unanswered_question_and_leads_to_it(page, world):
    page.goto("/treatments/microneedling/suitability/")
    page.get_by_role("group", name="Do you have a skin infection in the area?").get_by_label(
        "No", exact=True
    ).check()
    submit(page, "See my result")
    summary = page.locator("[data-error-summary]")
    assert "Answer yes or no to:" in summary.inner_text()
    links = summary.get_by_role("link")
    assert links.all_inner_texts() == ["Are you pregnant or breastfeeding?"]
    links.first.click()
    group = page.get_by_role("group", name="Are you pregnant or breastfeeding?")
    first_option = group.get_by_role("radio").first
    assert page.evaluate("document.activeElement.id") == first_option.get_attribute("id")
    assert "Choose yes or no for this question." in group.inner_text()  # and beside it


@pytest.mark.parametrize("width", [1280, 320], ids=["desktop", "320px"])
def test_slot_buttons_are_at_least_24_css_px(page, world, width):
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, world)
    journey_at(page, world, "time")
    _later_days(page, world)
    _more_times(page, world)
    boxes = page.locator("#picker button.slot-button:visible").evaluate_all(
        "els => els.map(el => el.getBoundingClientRect().toJSON())"
    )
    assert len(boxes) > 12  # a day's times, one part's "more times" open
    assert all(box["width"] >= 24 and box["height"] >= 24 for box in boxes), boxes
    # WCAG 2.5.8's spacing: no two buttons overlap.
    for a, b in zip(boxes, boxes[1:], strict=False):
        assert a["bottom"] <= b["top"] or a["right"] <= b["left"] or b["right"] <= a["left"]


def test_messages_are_status_messages(page, world):
    _preferences_saved(page, world)
    status = page.get_by_role("status").filter(has_text="Your email choices are saved.")
    assert status.count() == 1
    assert status.get_attribute("aria-live") == "polite"


def test_new_day_is_announced_by_a_live_region_that_stays_in_the_page(page, world):
    sign_in(page, world)
    journey_at(page, world, "time")
    region = page.locator("#picker-status")
    assert region.get_attribute("role") == "status"
    assert region.inner_text() == ""
    region.evaluate("el => { el.dataset.before = 'swap'; }")  # gone if htmx replaced it
    page.get_by_role("link", name="Later days").click()
    page.get_by_role("heading", name="Tuesday 3 February").wait_for()
    region = page.get_by_role("status").filter(has_text="free times for Tuesday 3 February")
    region.wait_for(state="attached")
    assert region.get_attribute("data-before") == "swap"


def test_session_status_is_written_not_only_coloured(page, world):
    _appointments_cancelled(page, world)
    rows = page.locator("main li").filter(has_text=re.compile(r"Session \d of 3"))
    assert rows.count() == 3
    assert [row.locator(".badge").inner_text() for row in rows.all()] == [
        "Booked",
        "Booked",
        "Cancelled",
    ]


@pytest.mark.parametrize("path", ["/", "/articles/after-microneedling/", "/faq/"])
def test_links_in_running_text_are_underlined(page, world, path):
    page.goto(path)
    decorations = page.locator("main p a:not(.btn), main li a:not(.btn):not(.nav-link)")
    styles = decorations.evaluate_all(
        "els => els.map(el => [el.textContent.trim(), getComputedStyle(el).textDecorationLine])"
    )
    assert styles
    assert [text for text, line in styles if "underline" not in line] == []
