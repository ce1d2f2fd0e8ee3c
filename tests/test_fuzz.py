"""Hypothesis fuzzing of every form and endpoint: never a 500, never a row from a bad post.

Each endpoint is driven into the state its page expects (a journey at that
step, a signed-in patient with a course, reception in the admin), then
hypothesis posts (and GETs) generated data to it: junk of every kind, and
valid values with a few fields broken, missing or repeated, so the success
paths run too. Each example runs inside a savepoint that is rolled back, so
every example starts from the same database and journey state.

After each request: the status is below 500, and the rows it may write are
checked per endpoint: none at all from a read, and from a write only rows
that are themselves valid (a course whose sessions are bookable, time off
that covers no booked session, a patient with a real phone number...).
"""

import copy
import json
import operator
import os
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as fixed_zone
from decimal import Decimal
from typing import Any
from urllib.parse import quote, unquote, urlencode
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking import selectors
from booking.admin.phone_plan import new_key, plan_values, planned
from booking.availability import Slot
from booking.courses import session_window
from booking.journey import slot_value
from booking.models import (
    BookingRules,
    ClinicalNote,
    ClinicClosure,
    ConsentText,
    Course,
    Patient,
    Practitioner,
    Reminder,
    Session,
    TimeOff,
    WorkingHours,
)
from booking.reminder_emails import UNSUBSCRIBE_PURPOSE, unsubscribe_payload, unsubscribe_token
from booking.rulebook import spacing_of
from booking.selectors import courses_breaking_rules
from clinic.tokens import token_make
from education.models import NewsletterSubscriber, SuitabilityQuestion
from education.services import CONFIRM_PURPOSE
from tests.booking.conftest import NOW, now  # noqa: F401 - the frozen clock fixture
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory, book_course
from tests.education.factories import (
    ConsultationFactory,
    SubscriberFactory,
    SuitabilityQuestionFactory,
    TreatmentFactory,
)
from tests.staff.conftest import staff_user

pytestmark = pytest.mark.django_db
User = get_user_model()
LONDON = ZoneInfo("Europe/London")
PASSWORD = "a-Password-123"  # UserFactory's
# FUZZ_SCALE=10 runs ten times the examples (a longer hunt, by hand; CI runs the default).
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
FUZZ = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "database": None,  # one inner test per endpoint: stored examples would mix them up
    "print_blob": True,
}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


# --- junk ---------------------------------------------------------------------

SNIPPETS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{ 7|add:7 }}{% debug %}",
    "' OR 1=1 --",
    "'; DROP TABLE booking_session; --",
    "1; SELECT pg_sleep(1)",
    "%00",
    "%s%s%s%n",
    "../../etc/passwd",
    "\u202egnp.exe",  # right-to-left override
    "مرحبا بالعالم",
    "שלום עולם",
    "😀👩‍⚕️🏳️‍🌈",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "\r\n\r\nSet-Cookie: x=1",
    "\ufeff\u200b\u2028\u2029",
    "None",
    "null",
    "true",
    "false",
    "[]",
    "{}",
    "NaN",
    "Infinity",
    "-0",
    "1e309",
    "0x10",
    "1_000",
    " 1 ",
    "²",  # a digit to str.isdigit(), not to int()
    "٣",  # an Arabic-Indic 3
    "①②③④⑤⑥⑦⑧",
    "¹²³⁴⁵⁶⁷⁸⁹",
    "\x00",
    "",
]
EDGE_DATES = [
    "0001-01-01",
    "9999-12-31",
    "2038-01-19",
    "2038-01-19T03:14:08",
    "2026-02-29",
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "2026-6-1",
    "20260601",
    "01/06/2026",
    "2026-06-01T",
    "2026-03-29T01:30",  # inside London's spring-forward gap
    "2026-10-25T01:30",  # London's autumn fold
    "2026-06-02T25:00",
    "2026-06-02T10:00+25:00",
    "2026-06-02T10:00:00+00:00",
    "2026-06-02T10:00Z",
    "2026-06-02T10:00:00.123456789+01:00",
    "+002026-06-02",
    "-0001-01-01",
    "0000-01-01",
    "9999-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "10000-01-01",
]
EDGE_TIMES = ["00:00", "23:59", "24:00", "25:00", "10:00", "10:00:59.999999", "-1:00", "9", "1:30"]
ZONES = [UTC, LONDON, fixed_zone(timedelta(hours=14)), fixed_zone(-timedelta(hours=12))]

TEXT = st.text(max_size=40)
CONTROL = st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Mn"]), max_size=20)
LONG = st.builds(
    operator.mul,
    st.sampled_from(["a", "é", "😀", "<b>x</b>", "\u202e", "9", "' OR 1=1 --"]),
    st.integers(10_000, 12_000),
)
NUMBERS = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from([str(2**31), str(2**63), str(-(2**63) - 1), "-1", "0", "1.5", "-1e3"]),
    st.floats().map(str),
)
DATES = st.one_of(st.dates().map(date.isoformat), st.sampled_from(EDGE_DATES))
DATETIMES = st.one_of(
    st.builds(
        lambda moment, pattern: moment.isoformat() if pattern == "iso" else f"{moment:{pattern}}",
        st.datetimes(timezones=st.none() | st.sampled_from(ZONES)),
        st.sampled_from(["iso", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"]),
    ),
    st.sampled_from(EDGE_DATES),
)
TIMES = st.one_of(st.times().map(time.isoformat), st.sampled_from(EDGE_TIMES))
IDS = st.one_of(
    st.integers(-(2**63) - 5, 2**63 + 5).map(str),
    st.integers(0, 60).map(str),
)
SLOTS = st.one_of(
    st.builds(lambda moment, pid: f"{moment}|{pid}", DATETIMES, IDS),
    st.sampled_from(["|", "||", "x|y", "2026-06-02T10:00:00+01:00|", "|1", "1|2|3"]),
)
JUNK = st.one_of(
    TEXT,
    CONTROL,
    st.sampled_from(SNIPPETS),
    LONG,
    NUMBERS,
    IDS,
    DATES,
    DATETIMES,
    TIMES,
    SLOTS,
)
# Admin searches: a few words, or thousands (the bound is 10 words, 100 characters).
SEARCHES = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(["patient", "a", "07700", "@", "%", "_", "Ł"]), max_size=3000).map(
        " ".join
    ),
)
URLSAFE = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=40)
PATH_TOKENS = st.one_of(TEXT.filter(bool), st.sampled_from(SNIPPETS[:-1]), URLSAFE, LONG)
JUNK_KEYS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "csrfmiddlewaretoken", "__proto__", "slot[]", "q[]", "_save", "index"]),
)


def values(good: st.SearchStrategy) -> st.SearchStrategy:
    """One field's values as posted: one or several (a repeated field), good or junk."""
    one = st.one_of(good, JUNK) if good is not None else JUNK
    return st.lists(one, min_size=1, max_size=3)


@st.composite
def form_data(draw, fields: dict[str, st.SearchStrategy]) -> dict[str, list[str]]:
    """Either each field optional and good or junk, or a valid post with a few fields broken."""
    if draw(st.booleans()) and fields:
        data = {name: [draw(good)] for name, good in fields.items()}
        for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
            how = draw(st.sampled_from(["junk", "drop", "repeat", "repeat-junk"]))
            if how == "drop":
                del data[name]
            elif how == "junk":
                data[name] = draw(values(None))
            elif how == "repeat":
                data[name] = data[name] * 2
            else:
                data[name] = [*data[name], *draw(values(None))]
    else:
        data = draw(st.fixed_dictionaries({}, optional={n: values(g) for n, g in fields.items()}))
    data.update(draw(st.dictionaries(JUNK_KEYS, values(None), max_size=2)))
    return data


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    data: dict[str, list[str]]
    body: str = "form"  # form, multipart or json
    htmx: bool = False

    def last(self, name: str) -> str | None:
        """What request.POST.get / GET.get returns: the last value of the field."""
        found = self.data.get(name)
        return found[-1] if found and self.body != "json" else None


def send(client: Client, request: Request):
    headers = {"HX-Request": "true"} if request.htmx else {}
    if request.method == "get":
        return client.get(request.path, request.data, headers=headers)
    if request.body == "multipart":
        return client.post(request.path, request.data, headers=headers)
    if request.body == "json":
        return client.post(
            request.path, json.dumps(request.data), content_type="application/json", headers=headers
        )
    return client.post(
        request.path,
        urlencode(request.data, doseq=True),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


# --- the clinic -----------------------------------------------------------------


@dataclass
class Clinic:
    """Everything the endpoints need, set up once per test (not per example)."""

    treatment: Any
    consultation: Any
    questions: list
    a: Practitioner
    b: Practitioner
    patient: Patient
    course: Course
    sessions: list[Session]  # the patient's course, session 1 first
    other_course: Course  # another patient's
    subscriber: NewsletterSubscriber
    reception: Any
    clinician: Any
    own_session: Session  # the clinician's
    slots: list[str]  # free first-session slots as the pages post them
    later_slots: list[str]  # free slots inside session 2's window
    extra: dict = field(default_factory=dict)

    def ids(self) -> st.SearchStrategy[str]:
        """Real ids of every kind (someone else's among them) and random ones."""
        real = [
            *(s.pk for s in Session.objects.all()),
            *(c.pk for c in Course.objects.all()),
            *(p.pk for p in Patient.objects.all()),
            self.a.pk,
            self.b.pk,
        ]
        return st.one_of(st.sampled_from([str(pk) for pk in real]), IDS)


def _free(treatment, day_from, day_to, practitioners=None) -> list[Slot]:
    return selectors.free_slots(
        treatment=treatment,
        day_from=day_from,
        day_to=day_to,
        now=NOW,
        practitioners=practitioners,
        latest=at(12, 31, 0),
    )


@pytest.fixture
def clinic(now) -> Clinic:  # noqa: F811
    treatment = TreatmentFactory()
    questions = [
        SuitabilityQuestionFactory(
            treatment=treatment, outcome=SuitabilityQuestion.Outcome.NOT_SUITABLE
        ),
        SuitabilityQuestionFactory(treatment=treatment),  # consult
    ]
    consultation = ConsultationFactory()
    a = PractitionerFactory(treatments=[treatment, consultation], display_name="Dr A")
    b = PractitionerFactory(treatments=[treatment, consultation], display_name="Dr B")
    ConsentText.objects.create(version=1, text="I agree.")
    patient = PatientFactory(full_name="Pat Patient")

    def slot(start, practitioner):
        return Slot(start, start + timedelta(minutes=75), practitioner.pk)

    course = book_course(
        patient=patient,
        treatment=treatment,
        slots=[slot(at(6, 9, 10), a), slot(at(7, 7, 10), a), slot(at(8, 4, 10), a)],
        now=NOW,
    )
    other_course = book_course(
        patient=PatientFactory(),
        treatment=treatment,
        slots=[slot(at(6, 3, 14), a), slot(at(7, 1, 14), b)],
        now=NOW,
    )
    clinician = staff_user("Clinician", "clinician@clinic.example")
    own = PractitionerFactory(treatments=[treatment], user=clinician, display_name="Dr Own")
    own_course = book_course(
        patient=PatientFactory(), treatment=treatment, slots=[slot(at(6, 4, 10), own)], now=NOW
    )
    day = date(2026, 6, 8)
    found = _free(treatment, day, day + timedelta(days=2), [a, b])
    later = _free(treatment, date(2026, 7, 7), date(2026, 7, 10), [a, b])
    return Clinic(
        treatment=treatment,
        consultation=consultation,
        questions=questions,
        a=a,
        b=b,
        patient=patient,
        course=course,
        sessions=list(course.sessions.order_by("number")),
        other_course=other_course,
        subscriber=SubscriberFactory(),
        reception=staff_user("Reception", "reception@clinic.example"),
        clinician=clinician,
        own_session=own_course.sessions.get(),
        slots=[slot_value(s) for s in found[::7]],
        later_slots=[slot_value(s) for s in later[::7]],
    )


# --- checks on what a request stored ------------------------------------------------

COUNTED = [Course, Session, Patient, Reminder, NewsletterSubscriber, TimeOff, ClinicalNote, User]


@dataclass(frozen=True)
class Snapshot:
    counts: dict[str, int]
    sessions: dict[int, tuple]  # pk -> (status, start, practitioner)
    patients: dict[int, tuple]
    subscribers: dict[int, tuple]


def snapshot() -> Snapshot:
    tables = [connection.ops.quote_name(m._meta.db_table) for m in COUNTED]
    with connection.cursor() as cursor:
        # The models' own table names, quoted: nothing typed reaches this query.
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables))  # noqa: S608
        counts = dict(zip([m.__name__ for m in COUNTED], cursor.fetchone(), strict=True))
    return Snapshot(
        counts=counts,
        sessions={
            pk: rest
            for pk, *rest in Session.objects.values_list("pk", "status", "start", "practitioner_id")
        },
        patients={
            pk: tuple(rest)
            for pk, *rest in Patient.objects.values_list(
                "pk", "full_name", "phone", "email_check_in", "email_next_window"
            )
        },
        subscribers={
            pk: tuple(rest)
            for pk, *rest in NewsletterSubscriber.objects.values_list(
                "pk", "confirmed_at", "unsubscribed_at"
            )
        },
    )


def new_rows(model, before: Snapshot, after: Snapshot) -> int:
    return after.counts[model.__name__] - before.counts[model.__name__]


def changed_sessions(before: Snapshot, after: Snapshot) -> list[Session]:
    pks = [pk for pk, row in after.sessions.items() if before.sessions.get(pk) != row]
    return list(Session.objects.filter(pk__in=pks).select_related("course__treatment"))


def nothing_stored(before: Snapshot, after: Snapshot, *, but=()) -> None:
    """No row added or removed, and no session, patient or subscriber changed, but `but`."""
    for name in before.counts:
        if name not in but:
            assert before.counts[name] == after.counts[name], f"a {name} row was stored"
    if "Session" not in but:
        assert before.sessions == after.sessions, "a session changed"
    if "Patient" not in but:
        assert before.patients == after.patients, "a patient changed"
    if "NewsletterSubscriber" not in but:
        assert before.subscribers == after.subscribers, "a subscriber changed"


def is_email(value: str | None) -> bool:
    if value is None or not value.strip() or len(value.strip()) > 254:
        return False
    try:
        validate_email(value.strip())
    except ValidationError:
        return False
    return True


def is_phone(value: str) -> bool:
    """What reception can dial: at least 7 digits (any script's decimal digits)."""
    return sum(c.isdecimal() for c in value) >= 7 and len(value) <= 40


def assert_patient_valid(patient: Patient) -> None:
    assert patient.full_name.strip() and len(patient.full_name) <= 150, patient.full_name
    assert is_phone(patient.phone), f"stored phone {patient.phone!r}"
    assert is_email(patient.user.email), f"stored email {patient.user.email!r}"
    if patient.date_of_birth:
        assert date(1900, 1, 1) <= patient.date_of_birth <= NOW.date()


def assert_bookable(session: Session) -> None:
    """Inside its practitioner's hours, not in time off or a closure, clear of every other
    active session of its practitioner (with the buffer) and its patient."""
    zone, buffer = selectors.clinic_zone(), BookingRules.current().buffer
    start, end = session.start.astimezone(zone), session.end.astimezone(zone)
    assert start.date() == end.date(), f"{session} runs past midnight"
    assert WorkingHours.objects.filter(
        practitioner_id=session.practitioner_id,
        weekday=start.weekday(),
        start__lte=start.time(),
        end__gte=end.time(),
    ).exists(), f"{session} at {start} is outside working hours"
    assert not TimeOff.objects.filter(
        practitioner_id=session.practitioner_id, start__lt=session.end, end__gt=session.start
    ).exists(), f"{session} is in time off"
    assert not ClinicClosure.objects.filter(date=start.date()).exists()
    active = Session.objects.active().exclude(pk=session.pk)
    assert not active.filter(
        practitioner_id=session.practitioner_id,
        start__lt=session.end + buffer,
        end__gt=session.start - buffer,
    ).exists(), f"{session} clashes with the practitioner's other sessions"
    assert not active.filter(
        patient_id=session.patient_id, start__lt=session.end, end__gt=session.start
    ).exists(), f"{session} clashes with the patient's other sessions"


def assert_in_window(session: Session) -> None:
    previous = (
        Session.objects.active()
        .filter(course_id=session.course_id, number__lt=session.number)
        .order_by("-number")
        .first()
    )
    if previous is None or session.course.override_reason:
        return
    zone = selectors.clinic_zone()
    window = session_window(previous.start, spacing_of(session.course.treatment), zone)
    assert window.holds(session.start, zone), f"{session} at {session.start} is outside its window"


def assert_moves_valid(before, after, *, min_start: datetime) -> None:
    """Sessions may be moved or cancelled; every moved one is bookable and in its window."""
    nothing_stored(before, after, but={"Session", "Reminder"})
    assert new_rows(Session, before, after) == 0, "a session was added"
    for session in changed_sessions(before, after):
        if session.status == Session.Status.CANCELLED:
            continue
        assert session.start >= min_start, f"{session} moved to {session.start}, too soon"
        assert_bookable(session)
        assert_in_window(session)


def assert_course_valid(course: Course, *, by_staff: bool) -> None:
    sessions = list(course.sessions.order_by("number"))
    assert len(sessions) == course.sessions_planned
    assert course.treatment.sessions_min <= len(sessions) <= course.treatment.sessions_max
    rules = BookingRules.current()
    first = sessions[0].start
    assert first > NOW
    if not (by_staff and course.override_reason.strip()):
        assert first >= NOW + rules.min_notice, f"{course} starts inside the minimum notice"
    assert first <= NOW + rules.horizon
    for session in sessions:
        assert_bookable(session)
        assert_in_window(session)


# --- driving the journey into each step's state ------------------------------------


def journey_to(client: Client, clinic: Clinic, step: str) -> None:
    """Walk the booking journey as a patient would, up to (not through) `step`."""
    order = ["length", "questions", "practitioner", "time", "plan", "consent", "confirm"]
    client.get(f"/book/treatment/{clinic.treatment.slug}/")
    if order.index(step) > order.index("length"):
        client.post("/book/course/", {"sessions": "3"})
    if order.index(step) > order.index("questions"):
        client.post("/book/questions/", {f"q{q.pk}": "no" for q in clinic.questions})
    if order.index(step) > order.index("practitioner"):
        client.post("/book/practitioner/", {"practitioner": "any"})
    if order.index(step) > order.index("time"):
        assert client.post("/book/time/", {"slot": clinic.slots[0]}).url == "/book/plan/"
    if order.index(step) > order.index("consent"):
        assert client.post("/book/consent/", {"agree": "on"}).url == "/book/confirm/"
    clinic.extra["journey_key"] = client.session["booking_journey"]["key"]


def consulting(client: Client, clinic: Clinic) -> None:
    """A 'talk to a clinician first' answer: the consultation is offered."""
    journey_to(client, clinic, "questions")
    not_suitable, consult = clinic.questions
    client.post("/book/questions/", {f"q{not_suitable.pk}": "no", f"q{consult.pk}": "yes"})


def signed_in(who: str) -> Callable[[Client, Clinic], Any]:
    def sign_in(client: Client, clinic: Clinic) -> None:
        users = {
            "patient": lambda: clinic.patient.user,
            "reception": lambda: clinic.reception,
            "clinician": lambda: clinic.clinician,
            "superuser": lambda: staff_user(None, "owner@clinic.example", is_superuser=True),
            "new user": lambda: UserFactory(email="no-patient-yet@example.org"),
        }
        client.force_login(users[who]())

    return sign_in


def steps(*setups) -> Callable[[Client, Clinic], None]:
    def run(client, clinic):
        for setup in setups:
            setup(client, clinic)

    return run


# --- the endpoints ------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    paths: Callable[[Clinic], st.SearchStrategy[str]]
    fields: Callable[[Clinic], dict[str, st.SearchStrategy]]
    check: Callable[[Clinic, Request, Snapshot, Snapshot], None] = (
        lambda clinic, request, before, after: nothing_stored(before, after)
    )
    setup: Callable[[Client, Clinic], None] | None = None
    methods: tuple[str, ...] = ("get", "post")
    max_examples: int = 30


def fixed(*paths: str) -> Callable[[Clinic], st.SearchStrategy[str]]:
    return lambda clinic: st.sampled_from(paths)


def with_ids(*patterns: str) -> Callable[[Clinic], st.SearchStrategy[str]]:
    """Paths with a real or random id (quoted, so any text fits in the path)."""

    def paths(clinic: Clinic):
        ids = st.one_of(clinic.ids(), TEXT.filter(bool), st.sampled_from(["²", "٣", "_2F", "-1"]))
        real = {
            "patient": clinic.patient.pk,
            "session": clinic.sessions[0].pk,
            "course": clinic.course.pk,
        }
        return st.builds(
            lambda pattern, pk: pattern.format(quote(pk, safe=""), **real),
            st.sampled_from(patterns),
            ids,
        )

    return paths


def ints_in(*patterns: str, real: Callable[[Clinic], list[int]]) -> Callable:
    """Paths whose URL pattern takes an <int:…>: real ids, or any digits."""

    def paths(clinic: Clinic):
        pks = st.one_of(
            st.sampled_from([str(pk) for pk in real(clinic)]),
            st.integers(0, 10**30).map(str),
        )
        return st.builds(lambda p, pk: p.format(pk), st.sampled_from(patterns), pks)

    return paths


def no_fields(clinic: Clinic) -> dict:
    return {}


def newsletter_check(clinic, request, before, after):
    nothing_stored(before, after, but={"NewsletterSubscriber"})
    added = new_rows(NewsletterSubscriber, before, after)
    email = request.last("email")
    assert added in (0, 1)
    if added:
        assert request.method == "post" and is_email(email), f"subscribed {email!r}"
        row = NewsletterSubscriber.objects.order_by("-pk").first()
        assert row.email == email.strip().lower()


def stop_emails_check(clinic, request, before, after):
    nothing_stored(before, after, but={"Patient"})
    if before.patients != after.patients:  # only a POST of a link the clinic signed
        assert request.method == "post"
        token = unquote(request.path).split("/")[3]
        data = unsubscribe_payload(token)
        assert data["p"] == clinic.patient.pk and data["k"] in ("check_in", "next_window")
        changed = [k for k in before.patients if before.patients[k] != after.patients.get(k)]
        assert changed == [clinic.patient.pk]


def account_check(clinic, request, before, after):
    """Patient details in the journey: a patient (and an account) only from valid details."""
    nothing_stored(before, after, but={"Patient", "User"})
    added = new_rows(Patient, before, after)
    assert added in (0, 1) and new_rows(User, before, after) in (0, added)
    if added:
        assert request.method == "post" and request.body != "json"
        patient = Patient.objects.order_by("-pk").select_related("user").first()
        assert_patient_valid(patient)
        assert patient.full_name == request.last("full_name").strip()


def email_code_fuzz_check(clinic, request, before, after):
    """Without the emailed code nobody is signed in, and no account or patient is made."""
    nothing_stored(before, after)
    assert new_rows(User, before, after) == 0


def account_pages_check(clinic, request, before, after):
    """Nothing booked or stored but the account's own rows; no unverified address is primary."""
    nothing_stored(before, after, but={"User"})
    assert new_rows(User, before, after) == 0
    primary_unverified = EmailAddress.objects.filter(
        primary=True, verified=False, user__is_staff=False, user__patient__isnull=False
    )
    assert not primary_unverified.exists(), list(primary_unverified.values("email"))


def signup_check(clinic, request, before, after):
    nothing_stored(before, after, but={"User"})
    added = new_rows(User, before, after)
    assert added in (0, 1)
    if added:
        email, password = request.last("email"), request.last("password1")
        assert is_email(email), f"signed up {email!r}"
        assert password == request.last("password2")
        validate_password(password, User(email=email))


def confirm_check(clinic, request, before, after):
    nothing_stored(before, after, but={"Course", "Session", "Reminder"})
    added = new_rows(Course, before, after)
    assert added in (0, 1)
    if added:
        assert request.method == "post" and request.last("key") == clinic.extra["journey_key"]
        course = Course.objects.order_by("-pk").first()
        assert course.patient == clinic.patient
        assert_course_valid(course, by_staff=False)
    else:
        assert new_rows(Session, before, after) == 0 and before.sessions == after.sessions


def patient_moves_check(clinic, request, before, after):
    assert_moves_valid(before, after, min_start=NOW + BookingRules.current().min_notice)
    own = {s.pk for s in Session.objects.filter(patient=clinic.patient)}
    assert {s.pk for s in changed_sessions(before, after)} <= own, "another patient's session"


def course_extend_check(clinic, request, before, after):
    """At most one session added, to the patient's own course, and every rule still held."""
    nothing_stored(before, after, but={"Session", "Reminder", "Course"})
    assert new_rows(Course, before, after) == 0
    assert new_rows(Session, before, after) in (0, 1)
    assert before.sessions.items() <= after.sessions.items(), "a booked session changed"
    if new_rows(Session, before, after):
        added = Session.objects.order_by("-pk").first()
        assert added.patient_id == clinic.patient.pk and request.method == "post"
        assert added.start >= NOW + BookingRules.current().min_notice
        assert_bookable(added)
        broken = courses_breaking_rules(now=NOW, courses=Course.objects.filter(pk=added.course_id))
        assert broken == [], [b.message for e in broken for b in e.breaches]


def staff_moves_check(clinic, request, before, after):
    assert_moves_valid(before, after, min_start=NOW)


def phone_patient_check(clinic, request, before, after):
    nothing_stored(before, after, but={"Patient", "User"})
    added = new_rows(Patient, before, after)
    assert added in (0, 1) and new_rows(User, before, after) in (0, added)
    if added:
        patient = Patient.objects.order_by("-pk").select_related("user").first()
        assert_patient_valid(patient)


def phone_plan_check(clinic, request, before, after):
    nothing_stored(before, after, but={"Course", "Session", "Reminder"})
    assert before.sessions.items() <= after.sessions.items(), "a booked session changed"
    added = new_rows(Course, before, after)
    assert added in (0, 1)
    if added:
        assert request.method == "post" and request.last("action") == "book"
        course = Course.objects.order_by("-pk").first()
        assert course.booked_by == clinic.reception
        assert_course_valid(course, by_staff=True)
        # Consent recorded by staff, as read aloud or to sign, and every answer "no"
        # (reception cannot go past a "yes": only a clinician can).
        assert course.consent_id and course.consent_method in ("phone", "paper")
        assert course.consent_recorded_by == clinic.reception
        answers = course.suitability_answers["questions"]
        assert len(answers) == clinic.treatment.questions.count()
        assert {a["answer"] for a in answers} <= {"no"}


def time_off_check(clinic, request, before, after):
    nothing_stored(before, after, but={"TimeOff", "Session", "Reminder"})
    added = new_rows(TimeOff, before, after)
    assert added in (0, 1)
    changed = changed_sessions(before, after)
    if not added:
        assert not changed, "sessions were changed but the time off was not saved"
        return
    row = TimeOff.objects.order_by("-pk").first()
    assert row.end > row.start and len(row.reason) <= 200
    assert row.practitioner_id == clinic.a.pk
    assert not Session.objects.filter(
        practitioner_id=row.practitioner_id,
        status=Session.Status.BOOKED,
        start__lt=row.end,
        end__gt=row.start,
    ).exists(), "time off over a booked session"
    for session in changed:
        if session.status != Session.Status.CANCELLED:
            assert_bookable(session)


def clinical_note_check(clinic, request, before, after):
    nothing_stored(before, after, but={"ClinicalNote"})
    if new_rows(ClinicalNote, before, after):
        note = ClinicalNote.objects.order_by("-pk").first()
        assert note.session_id == clinic.own_session.pk, "a note on another's session"
        assert note.needle_depth_mm is None or (
            Decimal("0.10") <= note.needle_depth_mm <= Decimal("3.00")
        )
        assert len(note.device) <= 120


def slot_values(clinic: Clinic) -> st.SearchStrategy[str]:
    return st.sampled_from(clinic.slots + clinic.later_slots)


def phone_plan_fields(clinic: Clinic) -> dict:
    first = clinic.slots[1]
    plan = planned(
        Slot(*_slot_parts(first, clinic)),
        treatment=clinic.treatment,
        sessions=3,
        patient=clinic.patient,
    )
    good = plan_values(plan)
    fields = {
        "treatment": st.just(str(clinic.treatment.pk)),
        "sessions": st.sampled_from(["3", "1", "6"]),
        "practitioner": st.sampled_from(["", str(clinic.a.pk), str(clinic.b.pk)]),
        "short_notice": st.sampled_from(["", "on"]),
        "first": st.sampled_from([first, *clinic.slots]),
        "key": st.builds(lambda _: new_key(), st.none()),
        "allow_short_notice": st.sampled_from(["", "on"]),
        "allow_outside_window": st.sampled_from(["", "on"]),
        "override_reason": st.sampled_from(["", "Patient asked by phone", "   "]),
        "consent_method": st.sampled_from(["phone", "paper", "online", ""]),
        "clinical_reason": st.sampled_from(["", "Seen in clinic, no concern."]),
        "action": st.just("book"),
    }
    for question in clinic.treatment.questions.all():
        fields[f"q{question.pk}"] = st.sampled_from(["no", "no", "yes", ""])
    for name, value in good.items():
        fields[name] = st.just(value)
    return fields


def _slot_parts(value: str, clinic: Clinic):
    start_text, pid = value.split("|")
    start = datetime.fromisoformat(start_text)
    return start, start + timedelta(minutes=clinic.treatment.appointment_minutes), int(pid)


def time_off_setup(client, clinic):
    signed_in("reception")(client, clinic)
    clinic.extra["sessions_on_3_june"] = list(
        Session.objects.filter(practitioner=clinic.a, start__date=date(2026, 6, 3))
    )


def time_off_fields(clinic: Clinic) -> dict:
    fields = {
        "start": st.sampled_from(["2026-06-03T09:00", "2026-06-03T13:00", "2026-06-05T09:00"]),
        "end": st.sampled_from(["2026-06-03T17:00", "2026-06-03T15:00", "2026-06-05T12:00"]),
        "reason": st.sampled_from(["Training", ""]),
        "resolving": st.just("1"),
    }
    for session in clinic.extra.get("sessions_on_3_june", []):
        fields[f"session_{session.pk}"] = st.sampled_from(["cancel", str(clinic.b.pk)])
    return fields


def replan_setup(client, clinic):
    signed_in("patient")(client, clinic)
    session = client.session
    session["booking_replan"] = {
        "course": clinic.course.pk,
        "session": clinic.sessions[1].pk,
        "action": "move",
        "slot": clinic.later_slots[0],
        "message": "Session 3 must be between two dates.",
        "proposals": [[3, clinic.later_slots[-1], "The session before it moved."], [2, "", "x"]],
    }
    session.save()


def stop_setup(client, clinic):
    clinic.extra["stop_paths"] = {
        f"/emails/stop/{unsubscribe_token(clinic.patient.pk, kind)}/"
        for kind in ("check_in", "next_window")
    }


def stop_paths(clinic: Clinic):
    payloads = st.fixed_dictionaries(
        {"p": st.one_of(st.integers(-(10**30), 10**30), st.just(clinic.patient.pk))},
        # What the server may have signed: a patient since deleted, a kind since retired.
        optional={"k": st.sampled_from(["check_in", "next_window", "reminder"])},
    )
    tokens = st.one_of(
        st.sampled_from(sorted(clinic.extra["stop_paths"])).map(lambda p: p.split("/")[3]),
        payloads.map(lambda data: token_make(UNSUBSCRIBE_PURPOSE, data)),
        payloads.map(lambda data: token_make(CONFIRM_PURPOSE, data)),  # another link's
        PATH_TOKENS,
    )
    return tokens.map(lambda token: f"/emails/stop/{quote(token, safe='')}/")


def newsletter_paths(clinic: Clinic):
    token = clinic.subscriber.token
    tokens = st.one_of(
        st.sampled_from([str(token), token_make(CONFIRM_PURPOSE, {"s": clinic.subscriber.pk})]),
        # A token the server made for a subscriber since removed, or of another shape.
        st.integers(-(10**30), 10**30).map(lambda n: token_make(CONFIRM_PURPOSE, {"s": n})),
        URLSAFE.map(lambda text: token_make(CONFIRM_PURPOSE, {"s": text})),
        PATH_TOKENS,
    )
    return st.builds(
        lambda pattern, value: pattern.format(quote(value, safe="")),
        st.sampled_from(
            [
                "/newsletter/confirm/{}/",
                "/newsletter/unsubscribe/{}/",
                "/accounts/confirm-email/{}/",
                "/accounts/password/reset/key/{}/",
                "/accounts/password/reset/key/1-{}/",
            ]
        ),
        tokens,
    )


def newsletter_link_check(clinic, request, before, after):
    nothing_stored(before, after, but={"NewsletterSubscriber"})
    assert before.counts == after.counts
    if before.subscribers != after.subscribers:
        assert request.method == "post"


SLUGS = st.one_of(
    st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=60),
    st.sampled_from(["microneedling", "consultation", "-", "_", "a" * 300]),
)
ADMIN_OBJECT_PAGES = (
    "/admin/booking/patient/{}/change/",
    "/admin/booking/patient/{}/history/",
    "/admin/booking/patient/{patient}/history/{}/",
    "/admin/booking/session/{}/history/",
    "/admin/booking/session/{session}/history/{}/",
    "/admin/booking/course/{course}/history/{}/",
    "/admin/booking/course/{}/change/",
    "/admin/booking/session/{}/change/",
    "/admin/booking/session/{}/move/",
    "/admin/booking/session/{}/cancel/",
    "/admin/booking/session/{}/attended/",
    "/admin/booking/practitioner/{}/time-off/",
    "/admin/booking/practitioner/{}/change/",
    "/admin/booking/reminder/{}/change/",
    "/admin/booking/clinicalnote/{}/change/",
    "/admin/booking/timeoff/{}/change/",
)


def journey_fields(clinic: Clinic) -> dict:
    """Every journey form's fields, good values first: each step reads what it needs."""
    return {
        "treatment": st.sampled_from([str(clinic.treatment.pk), str(clinic.consultation.pk)]),
        "sessions": st.sampled_from(["1", "3", "6"]),
        **{f"q{q.pk}": st.sampled_from(["no", "yes"]) for q in clinic.questions},
        "practitioner": st.sampled_from(["any", str(clinic.a.pk), str(clinic.b.pk)]),
        "slot": slot_values(clinic),
        "week": st.sampled_from(["2026-06-08", "2026-07-06"]),
    }


ENDPOINTS = [
    # --- public pages
    Endpoint(
        "search",
        fixed("/search/", "/articles/", "/faq/", "/"),
        lambda c: {"q": st.sampled_from(["needling", "acne scars", "dermapen"]), "page": NUMBERS},
        methods=("get",),
        max_examples=40,
    ),
    Endpoint(
        "slug pages",
        lambda c: st.builds(
            lambda pattern, slug: pattern.format(slug),
            st.sampled_from(
                [
                    "/treatments/{}/",
                    "/treatments/{}/suitability/",
                    "/book/treatment/{}/",
                    "/articles/{}/",
                ]
            ),
            SLUGS,
        ),
        no_fields,
        max_examples=40,
    ),
    Endpoint(
        "suitability",
        lambda c: st.just(f"/treatments/{c.treatment.slug}/suitability/"),
        lambda c: {f"q{q.pk}": st.sampled_from(["no", "yes"]) for q in c.questions},
    ),
    Endpoint(
        "newsletter sign-up",
        fixed("/newsletter/"),
        lambda c: {"email": st.one_of(st.emails(), st.just(c.subscriber.email))},
        check=newsletter_check,
    ),
    Endpoint(
        "newsletter and account links",
        newsletter_paths,
        no_fields,
        check=newsletter_link_check,
        max_examples=25,
    ),
    Endpoint(
        "stop emails link",
        stop_paths,
        no_fields,
        check=stop_emails_check,
        setup=stop_setup,
        max_examples=30,
    ),
    # --- the booking journey, each step in the state it expects
    Endpoint(
        "journey: treatment",
        fixed("/book/", "/book/course/"),
        journey_fields,
        setup=lambda client, clinic: journey_to(client, clinic, "length"),
    ),
    Endpoint(
        "journey: course length and questions",
        fixed("/book/course/", "/book/questions/"),
        journey_fields,
        setup=lambda client, clinic: journey_to(client, clinic, "questions"),
    ),
    Endpoint(
        "journey: consultation instead",
        fixed("/book/consultation/", "/book/questions/", "/book/practitioner/"),
        journey_fields,
        setup=consulting,
        max_examples=20,
    ),
    Endpoint(
        "journey: practitioner",
        fixed("/book/practitioner/", "/book/time/"),
        journey_fields,
        setup=lambda client, clinic: journey_to(client, clinic, "practitioner"),
    ),
    Endpoint(
        "journey: first session",
        fixed("/book/time/"),
        journey_fields,
        setup=lambda client, clinic: journey_to(client, clinic, "time"),
    ),
    Endpoint(
        "journey: plan",
        lambda c: st.one_of(
            st.just("/book/plan/"),
            st.integers(-1, 10).map(lambda n: f"/book/plan/{n}/"),
            st.integers(0, 10**30).map(lambda n: f"/book/plan/{n}/"),
        ),
        journey_fields,
        setup=lambda client, clinic: journey_to(client, clinic, "plan"),
    ),
    Endpoint(
        "journey: email code",
        fixed("/book/details/"),
        lambda c: {
            "action": st.sampled_from(["send", "resend", "code", "change", "other"]),
            "email": st.one_of(st.emails(), st.just(c.patient.user.email.upper())),
            "code": st.one_of(st.from_regex(r"\A[0-9]{6}\Z"), st.text(max_size=30)),
            "full_name": st.sampled_from(["Nia Newpatient", "Ms O'Brien-Łukasz", "山田 花子"]),
            "password": st.sampled_from(["a-long-Patient-passphrase-42", "password"]),
        },
        check=email_code_fuzz_check,
        setup=lambda client, clinic: journey_to(client, clinic, "plan"),
    ),
    Endpoint(
        "journey: signed-in details",
        fixed("/book/details/"),
        lambda c: {
            "full_name": st.sampled_from(["Nia Newpatient", "山田 花子"]),
            "phone": st.sampled_from(["07700 900555", "+44 20 7946 0958"]),
        },
        check=account_check,
        setup=steps(
            signed_in("new user"), lambda client, clinic: journey_to(client, clinic, "plan")
        ),
    ),
    Endpoint(
        "journey: consent",
        fixed("/book/consent/"),
        lambda c: {"agree": st.sampled_from(["on", "true", "false", ""])},
        setup=steps(
            signed_in("patient"), lambda client, clinic: journey_to(client, clinic, "plan")
        ),
    ),
    Endpoint(
        "journey: confirm",
        fixed("/book/confirm/"),
        lambda c: {"key": st.sampled_from([c.extra["journey_key"], "x" * 32])},
        check=confirm_check,
        setup=steps(
            signed_in("patient"), lambda client, clinic: journey_to(client, clinic, "confirm")
        ),
    ),
    Endpoint(
        "journey: done",
        ints_in("/book/done/{}/", real=lambda c: [c.course.pk, c.other_course.pk]),
        no_fields,
        setup=signed_in("patient"),
        methods=("get",),
        max_examples=20,
    ),
    # --- the patient's pages
    Endpoint(
        "appointments and preferences",
        fixed("/appointments/", "/appointments/preferences/"),
        lambda c: {
            "email_check_in": st.sampled_from(["on", "", "false"]),
            "email_next_window": st.sampled_from(["on", "", "false"]),
        },
        check=lambda clinic, request, before, after: nothing_stored(before, after, but={"Patient"}),
        setup=signed_in("patient"),
    ),
    Endpoint(
        "move a session",
        ints_in(
            "/appointments/sessions/{}/move/",
            real=lambda c: [s.pk for s in c.sessions] + [c.other_course.sessions.first().pk],
        ),
        lambda c: {"slot": slot_values(c), "week": DATES},
        check=patient_moves_check,
        setup=signed_in("patient"),
        max_examples=40,
    ),
    Endpoint(
        "cancel a session or course, calendar files",
        ints_in(
            "/appointments/sessions/{}/cancel/",
            "/appointments/courses/{}/cancel/",
            "/appointments/sessions/{}/calendar.ics",
            "/appointments/courses/{}/calendar.ics",
            real=lambda c: [s.pk for s in c.sessions] + [c.course.pk, c.other_course.pk],
        ),
        no_fields,
        check=patient_moves_check,
        setup=signed_in("patient"),
    ),
    Endpoint(
        "replan",
        ints_in("/appointments/courses/{}/replan/", real=lambda c: [c.course.pk]),
        no_fields,
        check=patient_moves_check,
        setup=replan_setup,
        max_examples=15,
    ),
    Endpoint(
        "add a session to a course",
        ints_in("/appointments/courses/{}/add/", real=lambda c: [c.course.pk]),
        lambda c: {"slot": slot_values(c)},
        check=course_extend_check,
        setup=signed_in("patient"),
        max_examples=20,
    ),
    # --- the account pages
    Endpoint(
        "sign up",
        fixed("/accounts/signup/"),
        lambda c: {
            "email": st.one_of(st.emails(), st.just(c.patient.user.email)),
            "password1": st.just("a-long-Patient-passphrase-42"),
            "password2": st.sampled_from(["a-long-Patient-passphrase-42", "other"]),
        },
        check=signup_check,
    ),
    Endpoint(
        "sign in and password reset",
        fixed("/accounts/login/", "/accounts/password/reset/"),
        lambda c: {
            "login": st.sampled_from([c.patient.user.email, "nobody@example.org"]),
            "email": st.sampled_from([c.patient.user.email, "nobody@example.org"]),
            "password": st.sampled_from([PASSWORD, "wrong"]),
            "remember": st.just("on"),
        },
    ),
    Endpoint(
        "account pages (signed in)",
        fixed(
            "/accounts/email/",
            "/accounts/password/change/",
            "/accounts/password/set/",
            "/accounts/reauthenticate/",
            "/accounts/logout/",
            "/accounts/2fa/",
            "/accounts/2fa/totp/activate/",
            "/accounts/2fa/recovery-codes/generate/",
            "/accounts/confirm-email/",
            "/accounts/login/code/confirm/",
        ),
        lambda c: {
            "action_add": st.just(""),
            "action_remove": st.just(""),
            "action_primary": st.just(""),
            "action_send": st.just(""),
            "email": st.one_of(
                st.emails(), st.sampled_from([c.patient.user.email, c.reception.email])
            ),
            "oldpassword": st.sampled_from([PASSWORD, "wrong"]),
            "password": st.sampled_from([PASSWORD, "wrong"]),
            "password1": st.sampled_from(["a-long-New-passphrase-43", "short"]),
            "password2": st.sampled_from(["a-long-New-passphrase-43", "other"]),
            "code": st.one_of(st.from_regex(r"\A[0-9]{6}\Z"), TEXT),
        },
        check=account_pages_check,
        setup=signed_in("patient"),
        max_examples=40,
    ),
    Endpoint(
        "account pages with a key or token",
        lambda c: st.builds(
            lambda pattern, value: pattern.format(quote(value, safe="")),
            st.sampled_from(
                [
                    "/accounts/confirm-email/{}/",
                    "/accounts/password/reset/key/{}/",
                    "/accounts/password/reset/key/1-{}/",
                    "/accounts/welcome/{}/",
                    "/emails/stop/{}/",
                ]
            ),
            PATH_TOKENS,
        ),
        lambda c: {
            "password1": st.just("a-long-New-passphrase-43"),
            "password2": st.just("a-long-New-passphrase-43"),
        },
        check=account_pages_check,
    ),
    # --- the staff admin, signed in as reception
    Endpoint(
        "admin search, exports and autocomplete",
        fixed(
            "/admin/booking/session/",
            "/admin/booking/patient/",
            "/admin/booking/course/",
            "/admin/booking/reminder/",
            "/admin/booking/session/export/",
            "/admin/clinic/user/",
            "/admin/autocomplete/",
        ),
        lambda c: {
            "q": SEARCHES,
            "term": SEARCHES,
            "app_label": st.sampled_from(["booking", "clinic", "x"]),
            "model_name": st.sampled_from(["session", "course", "clinicalnote", "practitioner"]),
            "field_name": st.sampled_from(["patient", "course", "session", "user", "nope"]),
            "o": st.sampled_from(["1", "-2", "99", "x"]),
        },
        setup=signed_in("reception"),
        methods=("get",),
        max_examples=30,
    ),
    Endpoint(
        "schedule",
        fixed(
            "/admin/booking/scheduleentry/",
            "/admin/booking/scheduleentry/day/",
            "/admin/booking/scheduleentry/week/",
            "/admin/booking/scheduleentry/day.csv",
        ),
        lambda c: {
            "date": st.sampled_from(["2026-06-09", "2026-06-01"]),
            "practitioner": st.sampled_from([str(c.a.pk), str(c.b.pk)]),
            "treatment": st.just(str(c.treatment.pk)),
            "cancelled": st.sampled_from(["on", "1"]),
        },
        setup=signed_in("reception"),
        methods=("get",),
        max_examples=40,
    ),
    Endpoint(
        "phone booking: find or add a patient",
        fixed("/admin/booking/course/phone/", "/admin/booking/course/phone/patient/"),
        lambda c: {
            "q": st.sampled_from(["Pat", "07700", c.patient.user.email]),
            "full_name": st.sampled_from(["Phoebe Phone", "山田 花子"]),
            "email": st.one_of(st.emails(), st.just(c.patient.user.email)),
            "phone": st.sampled_from(["07700 900123", "+44 20 7946 0000"]),
            "date_of_birth": st.sampled_from(["1980-02-29", "", "2026-06-01"]),
        },
        check=phone_patient_check,
        setup=signed_in("reception"),
    ),
    Endpoint(
        "phone booking: the course and its plan",
        ints_in(
            "/admin/booking/course/phone/{}/",
            "/admin/booking/course/phone/{}/plan/",
            real=lambda c: [c.patient.pk] * 4 + [c.other_course.patient_id],
        ),
        phone_plan_fields,
        check=phone_plan_check,
        setup=signed_in("reception"),
        max_examples=50,
    ),
    Endpoint(
        "session move and cancel (admin)",
        ints_in(
            "/admin/booking/session/{}/move/",
            "/admin/booking/session/{}/cancel/",
            real=lambda c: [s.pk for s in c.sessions],
        ),
        lambda c: {
            "practitioner": st.sampled_from([str(c.a.pk), str(c.b.pk)]),
            "day": st.sampled_from(["2026-06-08", "2026-07-07"]),
            "start": st.sampled_from(
                [v.split("|")[0] for v in c.slots + c.later_slots]
                + [s.start.isoformat() for s in c.sessions]
            ),
            "notify": st.sampled_from(["yes", "no"]),
        },
        check=staff_moves_check,
        setup=signed_in("reception"),
        max_examples=40,
    ),
    Endpoint(
        "time off",
        ints_in("/admin/booking/practitioner/{}/time-off/", real=lambda c: [c.a.pk]),
        time_off_fields,
        check=time_off_check,
        setup=time_off_setup,
        max_examples=40,
    ),
    Endpoint(
        "time off query",
        lambda c: st.just(f"/admin/booking/practitioner/{c.a.pk}/time-off/"),
        lambda c: {
            "start": DATETIMES,
            "end": DATETIMES,
            "reason": TEXT,
            "change": st.sampled_from(["1", "²", "٣", "99999999999999999999999"]),
        },
        setup=signed_in("reception"),
        methods=("get",),
        max_examples=20,
    ),
    Endpoint(
        "admin pages by id (reception)",
        with_ids(*ADMIN_OBJECT_PAGES),
        no_fields,
        check=staff_moves_check,
        setup=signed_in("reception"),
        max_examples=40,
    ),
    Endpoint(
        "admin pages by id (superuser)",
        with_ids(*ADMIN_OBJECT_PAGES),
        no_fields,
        check=staff_moves_check,
        setup=signed_in("superuser"),
        methods=("get",),
        max_examples=30,
    ),
    Endpoint(
        "admin pages by id (clinician)",
        with_ids(*ADMIN_OBJECT_PAGES, "/admin/booking/clinicalnote/add/?session={}"),
        no_fields,
        check=staff_moves_check,
        setup=signed_in("clinician"),
        methods=("get",),
        max_examples=25,
    ),
    Endpoint(
        "clinical note (clinician)",
        fixed("/admin/booking/clinicalnote/add/"),
        lambda c: {
            "session": st.sampled_from([str(c.own_session.pk), str(c.sessions[0].pk)]),
            "skin_reaction": st.just("Mild redness"),
            "device": st.just("Dermapen 4"),
            "needle_depth_mm": st.sampled_from(["0.5", "3.00", "0.10", "3.01", "NaN", "-1"]),
            "notes": st.just(""),
            "_save": st.just("Save"),
        },
        check=clinical_note_check,
        setup=signed_in("clinician"),
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_generated_requests_never_fail_or_store_bad_rows(endpoint: Endpoint, clinic: Clinic):
    client = Client()
    if endpoint.setup:
        endpoint.setup(client, clinic)
    cookies = copy.deepcopy(client.cookies)
    paths, fields = endpoint.paths(clinic), endpoint.fields(clinic)

    @settings(max_examples=max(1, int(endpoint.max_examples * SCALE)), **FUZZ)
    @given(data=st.data())
    def run(data):
        request = Request(
            method=data.draw(st.sampled_from(endpoint.methods), label="method"),
            path=data.draw(paths, label="path"),
            data=data.draw(form_data(fields), label="data"),
            body=data.draw(st.sampled_from(["form", "form", "multipart", "json"]), label="body"),
            htmx=data.draw(st.booleans(), label="htmx"),
        )
        client.cookies = copy.deepcopy(cookies)
        cache.clear()  # rate limits count in the cache; each example starts afresh
        mail.outbox = []
        with transaction.atomic():  # a savepoint, rolled back: the next example starts afresh
            before = snapshot()
            try:
                response = send(client, request)
            except Exception as exc:
                raise AssertionError(f"{request.method.upper()} {request.path} raised") from exc
            assert response.status_code < 500, f"{request.method.upper()} {request.path}"
            endpoint.check(clinic, request, before, snapshot())
            transaction.set_rollback(True)

    run()


# --- what the fuzzing found, kept as plain regression tests --------------------------

END_OF_TIME = "9999-12-31T23:59:59+00:00|{a}"  # its end (+75 minutes) does not exist
START_OF_TIME = "0001-01-01T00:00:00+14:00|{a}"  # its clinic-time date is before year 1
FOUND = [
    ("anonymous", "get", "/newsletter/unsubscribe/%00/", {}),
    ("anonymous", "post", "/newsletter/unsubscribe/%00/", {}),
    ("time", "post", "/book/time/", {"slot": END_OF_TIME}),
    ("time", "post", "/book/time/", {"slot": START_OF_TIME}),
    ("plan", "post", "/book/plan/2/", {"slot": END_OF_TIME}),
    ("patient", "post", "/appointments/sessions/{session2}/move/", {"slot": END_OF_TIME}),
    ("reception", "get", "/admin/booking/course/phone/{patient}/plan/", "first"),
    ("reception", "post", "/admin/booking/course/phone/{patient}/plan/", "first"),
    ("reception", "post", "/admin/booking/course/phone/{patient}/plan/", "use"),
    ("reception", "post", "/admin/booking/session/{session1}/move/", "start"),
    ("reception", "get", "/admin/booking/practitioner/{a}/time-off/", {"change": "²"}),
    ("reception", "get", "/admin/booking/practitioner/{a}/time-off/", {"change": "9" * 10000}),
    (
        "reception",  # a stored phone number of superscripts
        "post",
        "/admin/booking/course/phone/patient/",
        {"full_name": "Sue Script", "email": "sue@example.org", "phone": "¹²³⁴⁵⁶⁷⁸⁹"},
    ),
    ("reception", "get", "/admin/booking/patient/%C2%B2/change/", {}),
    ("reception", "get", "/admin/booking/patient/abc/history/", {}),
    ("reception", "get", "/admin/booking/course/{course}/history/abc/", {}),
    ("superuser", "get", "/admin/booking/session/abc/change/", {}),
    ("clinician", "get", "/admin/booking/session/_2F/change/", {}),
    ("superuser", "get", "/admin/booking/clinicalnote/%C2%B2/history/", {}),
]


@pytest.mark.parametrize(("who", "method", "path", "data"), FOUND)
def test_what_fuzzing_found_is_answered_without_a_500(clinic, who, method, path, data):
    client = Client()
    if who in ("time", "plan"):
        journey_to(client, clinic, who)
    elif who != "anonymous":
        signed_in(who)(client, clinic)
    ids = {
        "a": clinic.a.pk,
        "patient": clinic.patient.pk,
        "course": clinic.course.pk,
        "session1": clinic.sessions[0].pk,
        "session2": clinic.sessions[1].pk,
    }
    if data == "first":  # the phone booking's chosen first session
        choice = {"treatment": clinic.treatment.pk, "sessions": 3, "action": "book"}
        data = {**choice, "first": END_OF_TIME, "key": new_key()}
    elif data == "use":  # an alternative put into the plan
        choice = {"treatment": clinic.treatment.pk, "sessions": 3}
        data = {**choice, "first": clinic.slots[0], "use": "1|" + START_OF_TIME}
    elif data == "start":  # the admin's move to another time
        data = {"practitioner": clinic.a.pk, "start": START_OF_TIME.split("|")[0]}
    data = {k: v.format(**ids) if isinstance(v, str) else v for k, v in data.items()}
    before = snapshot()
    response = getattr(client, method)(path.format(**ids), data)
    assert response.status_code in (200, 302, 400, 404)
    nothing_stored(before, snapshot())
