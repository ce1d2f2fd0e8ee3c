"""Privacy: no patient data in any log line, no health data in any URL's query string.

Logs go to log services, consoles and support tickets; query strings go to
access logs and, through the Referer header, to whoever the next page links
to. Neither may name a patient, and a query string may not say what
treatment they have or what they answered about their health.
"""

import io
import logging
import re
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from booking import privacy, selectors, services
from booking.ledger import services as ledger
from booking.ledger.selectors import course_account
from booking.models import ConsentText, Course, Patient, Reminder
from booking.tasks import dispatch_due_reminders
from clinic.logging import JsonFormatter, KeyValueFormatter
from education.models import Treatment
from tests.booking.conftest import LONDON, email_code_sign_in
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory
from tests.celery_worker import start_worker
from tests.education.factories import ConsultationFactory, TreatmentFactory, usual_questions
from tests.helpers import book
from tests.worker import send_all_due

NAME = "Zebedee Quixotic-Marchbanks"
EMAIL = "zq.marchbanks.7731@example.org"
PHONE = "07700 931 337"
PASSWORD = "a-long-Patient-passphrase-42"
# Every form of the patient's identity a log line could hold.
IDENTITY = [
    NAME,
    "Zebedee",
    "Quixotic",
    "Marchbanks",
    EMAIL,
    EMAIL.split("@")[0],
    PHONE,
    PHONE.replace(" ", ""),
    "931 337",
    "931337",
]
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=LONDON)  # a Monday morning
KEY = re.compile(r'name="key" value="([^"]+)"')
SLOT = re.compile(r'name="slot" value="([^"]+)"')


def leaks(text: str) -> list[str]:
    """Which forms of the identity `text` holds, as written or percent-decoded."""
    forms = (text.lower(), unquote_plus(text).lower())
    return sorted({needle for needle in IDENTITY for form in forms if needle.lower() in form})


# --- Capturing every log line -------------------------------------------------------


class AccessLoggedClient(Client):
    """A test client that writes gunicorn's default access log line for every request.

    access_log_format '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"';
    like a browser, it sends the last page it showed as the Referer (the site's
    Referrer-Policy is same-origin, so a browser sends it on every link and form).
    """

    AGENT = "Mozilla/5.0 (X11; Linux x86_64) privacy-test"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.access_log: list[str] = []
        self.urls: list[str] = []  # every URL requested and every redirect's Location
        self.pages: list[str] = []  # every HTML page shown
        self.page_url: str | None = None

    def request(self, **request):
        if self.page_url:
            request.setdefault("HTTP_REFERER", self.page_url)
        request.setdefault("HTTP_USER_AGENT", self.AGENT)
        response = super().request(**request)
        query = request.get("QUERY_STRING", "")
        target = quote(request["PATH_INFO"]) + (f"?{query}" if query else "")
        size = "-" if response.streaming else (len(response.content) or "-")
        stamp = timezone.now().astimezone(LONDON).strftime("[%d/%b/%Y:%H:%M:%S %z]")
        self.access_log.append(
            f'127.0.0.1 - - {stamp} "{request["REQUEST_METHOD"]} {target} HTTP/1.1" '
            f'{response.status_code} {size} "{request.get("HTTP_REFERER", "-")}" "{self.AGENT}"'
        )
        self.urls.append(target)
        if location := response.get("Location"):
            self.urls.append(location)
        if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
            self.pages.append(response.content.decode())
            if response.status_code == 200 and request["REQUEST_METHOD"] == "GET":
                self.page_url = f"http://testserver{target}"
        return response


@pytest.fixture
def captured_logs():
    """Every record the app lets out with LOG_LEVEL=DEBUG, in the project's two formats.

    The root logger goes to DEBUG, so every logger without a level of its own
    passes DEBUG records (the app's, allauth's, Celery's). Loggers the
    configuration caps keep their cap, as they would in production, and that
    is part of what is tested: Django's own "django" logger stays at INFO
    (Django's default logging), which keeps in django.template's DEBUG
    records, each holding a whole template context: names, emails, answers.
    """
    streams = [io.StringIO(), io.StringIO()]
    handlers = []
    for stream, formatter in zip(streams, (JsonFormatter(), KeyValueFormatter()), strict=True):
        handler = logging.StreamHandler(stream)
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(formatter)
        handlers.append(handler)
    root = logging.getLogger()
    loggers = [
        each
        for each in logging.root.manager.loggerDict.values()
        if isinstance(each, logging.Logger)
    ]
    saved = [(each, each.disabled) for each in loggers]
    root_level = root.level
    # Loggers that do not pass records up to the root get the handlers themselves.
    isolated = [each for each in loggers if not each.propagate]
    root.setLevel(logging.DEBUG)
    for each in loggers:
        each.disabled = False
    for each in [root, *isolated]:
        for handler in handlers:
            each.addHandler(handler)
    yield lambda: "\n".join(stream.getvalue() for stream in streams)
    for each in [root, *isolated]:
        for handler in handlers:
            each.removeHandler(handler)
    root.setLevel(root_level)
    for each, disabled in saved:
        each.disabled = disabled


# --- The clinic and the patient's journey -------------------------------------------


@pytest.fixture
def clinic(db):
    treatment = TreatmentFactory()
    ConsentText.objects.create(version=1, text="I agree to the treatment.")
    usual_questions(treatment)
    consultation = ConsultationFactory()
    PractitionerFactory(treatments=[treatment, consultation])
    return treatment


def answers(treatment, yes=()) -> dict:
    return {f"q{q.pk}": "yes" if q.text in yes else "no" for q in treatment.questions.all()}


def monday_after(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def book_online(client, treatment, *, sessions=3, details=None, yes=()) -> Course:
    """The /book/ journey step by step; `details` create the account of a new patient."""
    client.get(reverse("booking:start_with", args=[treatment.slug]), follow=True)
    if treatment.sessions_max > 1:
        client.post(reverse("booking:length"), {"sessions": sessions}, follow=True)
    client.post(reverse("booking:questions"), answers(treatment, yes), follow=True)
    if yes:  # a "talk to a clinician first" answer: the consultation instead
        client.post(reverse("booking:consultation_instead"), follow=True)
    client.post(reverse("booking:practitioner"), {"practitioner": "any"}, follow=True)
    week = monday_after(timezone.localdate())
    page = client.get(reverse("booking:time") + f"?day={week}").content.decode()
    client.post(reverse("booking:time"), {"slot": SLOT.search(page).group(1)}, follow=True)
    client.get(reverse("booking:plan"))
    if details:  # the address checked with its emailed code, then name, phone and password
        email_code_sign_in(client, details["email"])
        fields = {k: v for k, v in details.items() if k != "email"}
        client.post(reverse("booking:account"), {**fields, "phone": "12"})  # refused: 400
        client.post(reverse("booking:account"), fields, follow=True)
    client.post(reverse("booking:consent"), {"agree": "on"}, follow=True)
    key = KEY.search(client.get(reverse("booking:confirm")).content.decode()).group(1)
    client.post(reverse("booking:confirm"), {"key": key}, follow=True)
    return Course.objects.filter(patient__user__email=EMAIL).latest("pk")


def move_second_session(client, course) -> None:
    """Move session 2 to another time on the same day (its window and the next hold)."""
    second = course.sessions.get(number=2)
    start = timezone.localtime(second.start)
    url = reverse("booking:session_move", args=[second.pk])
    page = client.get(f"{url}?day={start.date()}")
    values = SLOT.findall(page.content.decode())
    value = next(
        v
        for v in values
        if v.startswith(start.date().isoformat()) and v.split("|")[0] != start.isoformat()
    )
    confirm = reverse("booking:session_move_confirm", args=[second.pk])
    page = client.get(confirm, {"slot": value}).content.decode()
    later = dict(re.findall(r'name="(later_\d+)" value="([^"]+)"', page))
    response = client.post(confirm, {"slot": value, **later}, follow=True)
    if "replan" in response.request["PATH_INFO"]:
        client.post(response.request["PATH_INFO"], follow=True)


def cancel_the_rest(client, course) -> None:
    third = course.sessions.get(number=3)
    client.get(reverse("booking:session_cancel", args=[third.pk]))
    client.post(reverse("booking:session_cancel", args=[third.pk]), follow=True)
    client.get(reverse("booking:course_cancel", args=[course.pk]))
    client.post(reverse("booking:course_cancel", args=[course.pk]), follow=True)


def send_everything_pending() -> None:
    """Every reminder still to go falls due now and is sent (or skipped, as it should)."""
    Reminder.objects.open().update(due_at=timezone.now())
    send_all_due()


def test_no_patient_data_in_any_log_of_the_patient_journey(clinic, captured_logs, capfd):
    client = AccessLoggedClient()
    details = {"full_name": NAME, "email": EMAIL, "phone": PHONE, "password": PASSWORD}
    with time_machine.travel(NOW, tick=False):
        client.get("/")
        client.get(reverse("education:treatment", args=[clinic.slug]))
        suitability = reverse("education:suitability", args=[clinic.slug])
        client.get(suitability)
        client.post(suitability, answers(clinic, yes=["Do you form keloid scars?"]))
        course = book_online(client, clinic, details=details)
        send_all_due()  # confirmation and the clinic's notice
        # The desk takes the payment, with a note that names the patient (the ledger's log
        # lines hold ids only).
        desk = UserFactory(is_staff=True, full_name="Rhea Desk")
        ledger.payment_record(
            course=course,
            amount=course_account(course).due,
            method="card",
            by=desk,
            note=f"{NAME}, {PHONE}, {EMAIL}",
        )
        client.get(reverse("booking:appointments"))
        move_second_session(client, course)
        cancel_the_rest(client, course)
        ledger.refund_record(
            course=course,
            amount=course_account(course).refundable,
            method="card",
            by=desk,
            reason=f"All cancelled: back to {NAME}'s card",
        )
        send_everything_pending()
        client.get(reverse("booking:session_move", args=[999999]))  # 404: django.request logs it
        client.post(reverse("account_logout"), follow=True)
        client.post(reverse("account_login"), {"login": EMAIL, "password": "wrong"})
        client.post(reverse("account_reset_password"), {"email": EMAIL}, follow=True)
        client.post(reverse("account_login"), {"login": EMAIL, "password": PASSWORD}, follow=True)
        client.post(reverse("education:newsletter"), {"email": EMAIL}, follow=True)
        client.get(reverse("account_data"))
        client.get(reverse("account_data_json"))
        client.post(reverse("account_delete"), {"password": "wrong"})
        client.post(reverse("account_delete"), {"password": PASSWORD})
        send_all_due()  # the clinic's notice of the deletion

    logs = captured_logs()
    output = capfd.readouterr()
    access_log = "\n".join(client.access_log)
    # The capture works: the journey's own records and requests are there.
    for message in (
        "course booked",
        "session moved",
        "session cancelled",
        "course cancelled",
        "reminder sent",
        "ledger entry",
    ):
        assert message in logs
    assert "Not Found" in logs and "Bad Request" in logs
    assert '"POST /book/details/ HTTP/1.1" 400' in access_log
    assert Patient.objects.get(pk=course.patient_id).full_name.startswith("Deleted patient")
    assert any(NAME in m.body for m in mail.outbox)  # emails name them; the logs must not
    assert logs.count("ledger entry") >= 2 * 6  # sold, payment, 3 released, refund; 2 formats
    for source, text in [
        ("Python logging (JSON and key=value)", logs),
        ("stdout and stderr", output.out + output.err),
        ("access log", access_log),
    ]:
        leaking = "\n".join(line for line in text.splitlines() if leaks(line))
        assert leaks(text) == [], f"{source} names the patient:\n{leaking[:5000]}"


KEY_IN_PATH = "MQ:1uAbCd:Zx9kLmNoPqRsTuVwXyZ0123456789abcdefgh"


@pytest.mark.urls("tests.clinic.broken_urls")
def test_a_500_logs_no_template_context_email_token_or_key(db, captured_logs):
    """A template that fails prints its whole context in the exception: none of it is logged."""
    user = UserFactory(email=EMAIL, full_name=NAME)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    response = client.get(f"/broken/{KEY_IN_PATH}/", {"name": NAME})
    assert response.status_code == 500
    logs = captured_logs()
    assert "Internal Server Error" in logs and "no_such_name" in logs  # the record is there
    secrets = [KEY_IN_PATH, KEY_IN_PATH.split(":")[-1], client.cookies["csrftoken"].value]
    secrets.append(client.session.session_key)
    assert [s for s in secrets if s in logs] == []
    assert leaks(logs) == []
    assert "csrfmiddlewaretoken" not in logs and "'user'" not in logs


def _drain(stream, into: list[str]) -> threading.Thread:
    """Read a worker's output as it comes: a full pipe would stop the worker."""
    thread = threading.Thread(target=lambda: into.extend(stream), daemon=True)
    thread.start()
    return thread


def _worker_sends_all_due(queue: str, timeout: float = 60) -> None:
    dispatch_due_reminders.apply_async(queue=queue)
    deadline = time.monotonic() + timeout
    due = Reminder.objects.filter(
        status__in=[Reminder.Status.PENDING, Reminder.Status.SENDING], due_at__lte=timezone.now()
    )
    while time.monotonic() < deadline and due.exists():
        time.sleep(0.3)
    assert not due.exists(), list(due.values("kind", "status"))


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_patient_data_in_the_worker_output(tmp_path, captured_logs):
    """Every kind of email goes through a real worker logging at DEBUG; none of it names them."""
    treatment = TreatmentFactory()
    practitioner = PractitionerFactory(treatments=[treatment])
    patient = PatientFactory(
        full_name=NAME, phone=PHONE, user=UserFactory(email=EMAIL, full_name=NAME)
    )
    today = timezone.localdate()
    first = selectors.free_slots(
        treatment=treatment,
        day_from=monday_after(today),
        day_to=monday_after(today) + timedelta(days=4),
        now=timezone.now(),
        practitioners=[practitioner],
    )[0]
    starts = [first.start + timedelta(days=28 * n) for n in range(3)]
    course = book(patient, treatment, practitioner, starts)
    second, third = course.sessions.get(number=2), course.sessions.get(number=3)
    services.session_move(session=second, new_start=second.start + timedelta(hours=2))
    services.session_cancel(session=third)
    Reminder.objects.open().update(due_at=timezone.now())  # every kind, at once

    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = start_worker(
        queue=queue, loglevel="DEBUG", LOG_LEVEL="DEBUG", EMAIL_URL=f"filemail://{tmp_path}"
    )
    lines: list[str] = []
    reader = _drain(worker.stdout, lines)
    try:
        _worker_sends_all_due(queue)
        privacy.account_delete(user=patient.user, now=timezone.now())  # the clinic's notice
        _worker_sends_all_due(queue)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        reader.join(timeout=10)
    output = "".join(lines)
    kinds = set(
        Reminder.objects.filter(session__course=course, status="sent").values_list(
            "kind", flat=True
        )
    )
    assert {"confirmation", "clinic_notice", "reminder", "changed", "cancelled"} <= kinds
    assert "succeeded" in output and "Traceback" not in output, output
    assert any(EMAIL in p.read_text() for p in Path(tmp_path).iterdir())  # emails do name them
    assert leaks(output) == [], output
    assert leaks(captured_logs()) == []


# --- Health data in URLs --------------------------------------------------------


HREF = re.compile(r'(?:href|action|hx-get|hx-post|src)="([^"]*)"')
EMAIL_LINK = re.compile(r"https?://[^\s\"'<>]+")


def health_terms(*treatments) -> list[str]:
    terms = []
    for treatment in treatments:
        terms += [treatment.name, treatment.slug, *treatment.other_names_list]
        terms += [q.text for q in treatment.questions.all()]
    return [t.lower() for t in terms if t]


def health_in_query(url: str, terms: list[str]) -> list[str]:
    """What in `url`'s query string is health data: a treatment, a question or an answer."""
    query = urlsplit(url.replace("&amp;", "&")).query
    found = [t for t in terms if t in unquote_plus(query).lower()]
    for key, value in parse_qsl(query, keep_blank_values=True):
        if re.fullmatch(r"q\d+", key) or value.lower() in ("yes", "no"):
            found.append(f"{key}={value}")
    return found


def test_no_health_data_in_any_query_string(clinic):
    consultation = Treatment.objects.get(is_consultation=True)
    terms = health_terms(clinic, consultation)
    client = AccessLoggedClient()
    details = {"full_name": NAME, "email": EMAIL, "phone": PHONE, "password": PASSWORD}
    with time_machine.travel(NOW, tick=False):
        suitability = reverse("education:suitability", args=[clinic.slug])
        client.get(suitability)
        for yes in ([], ["Do you form keloid scars?"], ["Are you pregnant?"]):
            client.post(suitability, answers(clinic, yes=yes))
        # A "talk first" answer leads to a consultation; then the course itself.
        book_online(client, clinic, details=details, yes=["Do you form keloid scars?"])
        course = book_online(client, clinic)
        client.get(reverse("booking:appointments"))
        move_second_session(client, course)
        cancel_the_rest(client, course)
        send_everything_pending()
    email_links = []
    for message in mail.outbox:
        email_links += EMAIL_LINK.findall(message.body)
        for html, _type in getattr(message, "alternatives", []):
            email_links += HREF.findall(html)
    page_links = [link for page in client.pages for link in HREF.findall(page)]
    assert any("day=" in url for url in client.urls)  # query strings were seen at all
    assert any("/appointments/" in link for link in email_links)  # and the emails' links
    bad = {
        url: found
        for url in client.urls + email_links + page_links
        if (found := health_in_query(url, terms))
    }
    assert bad == {}


def test_the_gunicorn_access_log_redacts_tokens_in_paths_and_referers():
    """docker-compose's gunicorn logs each request through clinic.gunicorn_logging."""
    from datetime import timedelta as elapsed
    from types import SimpleNamespace

    from gunicorn.config import Config

    from clinic.gunicorn_logging import RedactingLogger

    logger = RedactingLogger(Config())
    path = f"/accounts/confirm-email/{KEY_IN_PATH}/"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": f"email={EMAIL}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://clinic.test/emails/stop/{KEY_IN_PATH}/",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = logger.atoms(response, {}, environ, elapsed(0))
    line = logger.cfg.access_log_format % atoms
    assert "/accounts/confirm-email/[token]/" in line
    assert KEY_IN_PATH not in line and EMAIL not in line
