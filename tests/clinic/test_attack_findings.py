"""The attacker's walk-through (issue 15): each finding, tried again over HTTP as it was found.

Each test here failed on the code the walk-through probed. The classes each
finding belongs to are tested where they live (the access table, the email
walk, the privacy log test); these keep the findings themselves from coming back.
"""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a-long-Patient-passphrase-42"


def signed_up(email: str, *, verified: bool = True):
    user = User.objects.create_user(email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
    return user


# --- 2. GET /accounts/logout/ and the email-confirmation links answered 500 ------------


def test_the_sign_out_page_opens_for_a_signed_in_patient(client):
    client.force_login(signed_up("leaving@example.org"))
    page = client.get(reverse("account_logout"))
    assert page.status_code == 200
    assert b'action="/accounts/logout/"' in page.content


def test_the_emailed_confirmation_link_opens_and_confirms(client):
    user = signed_up("new@example.org", verified=False)
    address = EmailAddress.objects.get(user=user)
    address.send_confirmation(None, signup=False)
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200
    assert client.post("/" + path).status_code == 302
    address.refresh_from_db()
    assert address.verified


# --- 1. Privacy operations trusted unverified email addresses -------------------------


@pytest.fixture
def victim(db):
    """A patient with a confirmed newsletter subscription, locked out after five wrong tries."""
    from django.test import override_settings
    from django.utils import timezone

    from education.models import NewsletterSubscriber

    user = signed_up("victim@example.org")
    NewsletterSubscriber.objects.create(email="victim@example.org", confirmed_at=timezone.now())
    with override_settings(AXES_ENABLED=True):
        from django.test import Client

        stranger = Client()
        for _ in range(5):
            stranger.post(reverse("account_login"), {"login": user.email, "password": "guess"})
        locked = stranger.post(reverse("account_login"), {"login": user.email, "password": "x"})
    assert locked.status_code == 429
    return user


def add_address(client, email):
    return client.post(reverse("account_email"), {"action_add": "", "email": email})


def test_an_added_address_neither_exports_nor_deletes_another_accounts_records(client, victim):
    from axes.models import AccessAttempt

    from education.models import NewsletterSubscriber

    client.force_login(signed_up("attacker@example.org"))
    add_address(client, "victim@example.org")
    assert EmailAddress.objects.filter(email="victim@example.org", verified=False).exists()
    # "Make primary" does not make an address that is not verified the account's own.
    client.post(reverse("account_email"), {"action_primary": "", "email": "victim@example.org"})
    assert not EmailAddress.objects.get(email="victim@example.org", verified=False).primary
    export = client.get(reverse("account_data_json")).json()
    assert export["newsletter"] is None

    assert client.post(reverse("account_delete"), {"password": PASSWORD}).status_code == 200
    assert NewsletterSubscriber.objects.filter(email="victim@example.org").exists()
    assert AccessAttempt.objects.filter(username="victim@example.org").exists()  # still locked


def test_the_email_page_shows_an_added_address_as_not_yet_confirmed(client, victim):
    client.force_login(signed_up("attacker@example.org"))
    add_address(client, "victim@example.org")
    page = client.get(reverse("account_email")).content.decode()
    assert "victim@example.org" in page and "not confirmed yet" in page


# --- 5. The booking journey told who had an account, and made accounts unlimited -------


@pytest.fixture
def at_details(client):
    from booking.models import ConsentText
    from tests.booking.factories import PractitionerFactory
    from tests.booking.test_journey import walk_to_plan
    from tests.education.factories import TreatmentFactory

    treatment = TreatmentFactory()
    PractitionerFactory(treatments=[treatment])
    ConsentText.objects.create(version=1, text="I agree.")
    walk_to_plan(client, treatment)
    return client


def test_the_details_step_neither_tells_who_has_an_account_nor_makes_one_unasked(at_details):
    client = at_details
    signed_up("patient@example.org")
    User.objects.create_user("reception@example.org", PASSWORD, is_staff=True)
    answers = set()
    for n, email in enumerate(
        ["patient@example.org", "reception@example.org", "nobody@example.org"]
    ):
        # What the walk-through posted: a name, an address and a password.
        data = {"full_name": f"Probe {n}", "email": email, "password": PASSWORD, "phone": "0"}
        response = client.post(reverse("booking:account"), {**data, "action": "send"})
        page = client.get(reverse("booking:account")).content.decode()
        answers.add((response.status_code, page.replace(email, "ADDRESS").split("csrf")[0]))
        assert "There is already an account" not in page
        client.post(reverse("booking:account"), {"action": "change"})
    assert len(answers) == 1
    assert not User.objects.filter(email="nobody@example.org").exists()


def test_the_details_step_stops_at_the_sign_up_rate(at_details, settings):
    limit, _period = settings.SIGN_UP_RATE
    client = at_details
    statuses = [
        client.post(
            reverse("booking:account"), {"action": "send", "email": f"probe{n}@example.org"}
        ).status_code
        for n in range(limit + 5)
    ]
    assert statuses[:limit] == [302] * limit and set(statuses[limit:]) == {429}
    assert User.objects.filter(email__startswith="probe").count() == 0


# --- 3. Reception could link a practitioner to any account, widening a clinician's access --


@pytest.fixture
def two_practitioners(db):
    from django.contrib.auth.models import Group

    from clinic.roles import CLINICIAN, RECEPTION
    from tests.booking.factories import PractitionerFactory
    from tests.education.factories import TreatmentFactory

    treatment = TreatmentFactory()
    clinician = signed_up("clinician@clinic.example")
    clinician.is_staff = True
    clinician.save()
    clinician.groups.add(Group.objects.get(name=CLINICIAN))
    reception = signed_up("reception@clinic.example")
    reception.is_staff = True
    reception.save()
    reception.groups.add(Group.objects.get(name=RECEPTION))
    own = PractitionerFactory(treatments=[treatment], user=clinician, display_name="Dr Own")
    other = PractitionerFactory(treatments=[treatment], display_name="Dr Other")
    return {"treatment": treatment, "clinician": clinician, "reception": reception,
            "own": own, "other": other}  # fmt: skip


def test_reception_cannot_link_a_practitioner_to_an_account(client, two_practitioners):
    other, clinician = two_practitioners["other"], two_practitioners["clinician"]
    client.force_login(two_practitioners["reception"])
    url = reverse("admin:booking_practitioner_change", args=[other.pk])
    page = client.get(url).content.decode()
    assert "patient@" not in page and 'name="user"' not in page
    form = {
        "display_name": other.display_name,
        "credentials": other.credentials,
        "is_active": "on",
        "treatments": [two_practitioners["treatment"].pk],
        "user": clinician.pk,
    }
    for inline in ("working_hours", "time_off"):
        form.update({f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"})
    client.post(url, form)
    other.refresh_from_db()
    assert other.user_id is None


# --- 4. A clinician saw other practitioners' courses of a shared patient ------------------


def test_a_clinician_sees_only_the_courses_their_sessions_belong_to(client, two_practitioners):

    from tests.booking.conftest import first_free_slot
    from tests.booking.factories import PatientFactory, book_course
    from tests.education.factories import TreatmentFactory

    shared = PatientFactory(full_name="Sam Shared")
    courses = {}
    peel = TreatmentFactory(name="Peel", slug="peel")  # one open course per treatment
    two_practitioners["other"].treatments.add(peel)
    for name, treatment, days in (("own", two_practitioners["treatment"], 14), ("other", peel, 21)):
        slot = first_free_slot(treatment, two_practitioners[name], days_ahead=days)
        courses[name] = book_course(patient=shared, treatment=treatment, slots=[slot])
    client.force_login(two_practitioners["clinician"])
    other = courses["other"]
    missing = client.get(reverse("admin:booking_course_change", args=[987654]))
    answer = client.get(reverse("admin:booking_course_change", args=[other.pk]))
    assert (answer.status_code, answer.get("Location")) == (
        missing.status_code,
        missing.get("Location"),
    )
    listed = client.get(
        reverse("admin:booking_course_changelist"),
        {"practitioner__id__exact": two_practitioners["other"].pk},
    )
    assert listed.context["cl"].result_count == 0
    own_page = client.get(reverse("admin:booking_course_change", args=[courses["own"].pk]))
    assert own_page.status_code == 200
    patient_page = client.get(reverse("admin:booking_patient_change", args=[shared.pk]))
    inline_courses = patient_page.context["inline_admin_formsets"][0].formset.queryset
    assert list(inline_courses) == [courses["own"]]


# --- 7. Admin searches were unbounded ---------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/admin/booking/session/",
        "/admin/booking/patient/",
        "/admin/booking/session/export/",
        "/admin/clinic/user/",
        "/admin/autocomplete/?app_label=booking&model_name=session&field_name=patient",
    ],
)
def test_two_thousand_words_of_search_answer_quickly(client, url):
    import time

    from tests.booking.factories import PatientFactory

    owner = signed_up("owner@clinic.example")
    owner.is_staff = owner.is_superuser = True
    owner.save()
    PatientFactory(full_name="Ada Findable")
    client.force_login(owner)
    words = " ".join(f"word{n}" for n in range(2000))
    path, _, query = url.partition("?")
    data = dict(part.split("=") for part in query.split("&")) if query else {}
    data["term" if "autocomplete" in url else "q"] = words
    started = time.perf_counter()
    response = client.get(path, data)
    assert response.status_code == 200
    assert time.perf_counter() - started < 1.0
    found = client.get("/admin/booking/patient/", {"q": "Ada   Findable"})
    assert found.context["cl"].result_count == 1  # a real search still finds


def test_a_cut_search_says_so_and_shows_what_was_searched(client):
    owner = signed_up("owner@clinic.example")
    owner.is_staff = owner.is_superuser = True
    owner.save()
    client.force_login(owner)
    page = client.get("/admin/booking/patient/", {"q": " ".join(["x"] * 50)})
    assert page.context["cl"].query == " ".join(["x"] * 10)
    assert "Search uses the first 10 words" in page.content.decode()


# --- 8. Health answers went to the general inbox: see tests/booking/test_journey.py ------
# (test_a_talk_first_answer_offers_a_consultation_with_the_answers_kept books online with a
# "talk first" answer and reads the clinic's notice: no answer, email, phone or full name.)


# --- 9. Links and tokens ------------------------------------------------------------------


def _readable(token: str) -> str:
    """What anyone can read in a token without the key: its base64 decoded, if it decodes."""
    import base64
    import binascii
    import contextlib

    text = ""
    for part in re.split(r"[:.]", token):
        with contextlib.suppress(binascii.Error, ValueError):
            text += base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("latin-1")
    return text


@pytest.fixture
def checked_in(db):
    """A session's check-in email, sent: its one-click link, and the patient."""

    from booking.models import Reminder
    from tests.booking.conftest import first_free_slot
    from tests.booking.factories import PatientFactory, PractitionerFactory, book_course
    from tests.education.factories import TreatmentFactory
    from tests.worker import send_all_due

    treatment = TreatmentFactory()
    practitioner = PractitionerFactory(treatments=[treatment])
    patient = PatientFactory(full_name='Ms Orla O\'Brien-Smith <"Ollie">')
    book_course(
        patient=patient, treatment=treatment, slots=[first_free_slot(treatment, practitioner)]
    )
    send_all_due(now=Reminder.objects.get(kind="check_in").due_at)  # days after the session
    message = next(m for m in mail.outbox if "check-in" in m.subject)
    link = re.search(r"https?://\S+/emails/stop/(\S+)/", message.body)
    return {"patient": patient, "message": message, "token": link.group(1)}


def test_a_preference_link_names_nobody_anyone_can_read_and_expires(client, checked_in):
    import time_machine
    from django.utils import timezone

    patient, token = checked_in["patient"], checked_in["token"]
    readable = _readable(token)
    assert '{"p":' not in readable and f'"p":{patient.pk}' not in readable
    assert client.get(f"/emails/stop/{token}/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=731)):
        gone = client.get(f"/emails/stop/{token}/")
    assert gone.status_code == 404 and b"sign in" in gone.content
    # A token for another purpose (the newsletter's confirmation) opens nothing here.
    from clinic.tokens import token_make

    other = token_make("newsletter-confirm", {"p": patient.pk, "k": "check_in"})
    assert client.post(f"/emails/stop/{other}/").status_code == 404


def test_the_newsletter_confirm_link_does_not_carry_the_unsubscribe_token(client):
    from education.models import NewsletterSubscriber

    client.post(reverse("education:newsletter"), {"email": "reader@example.org"})
    subscriber = NewsletterSubscriber.objects.get(email="reader@example.org")
    body = mail.outbox[-1].body
    confirm = re.search(r"https?://\S+/newsletter/confirm/(\S+)/", body).group(1)
    assert subscriber.token not in confirm and subscriber.token not in _readable(confirm)
    assert client.post(f"/newsletter/confirm/{confirm}/").status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is not None


def test_plain_text_parts_show_names_as_typed(checked_in):
    name = checked_in["patient"].full_name
    confirmation = next(m for m in mail.outbox if "confirmed" in m.subject)
    assert name in confirmation.body
    assert "&quot;" not in confirmation.body and "&lt;" not in confirmation.body
    assert "&#x27;" not in confirmation.body
    html = confirmation.alternatives[0][0]
    assert "&lt;&quot;Ollie&quot;&gt;" in html  # the HTML part still escapes


# --- 10. The account emails and pages were not ours ------------------------------------


def test_the_confirmation_email_names_the_clinic_and_links_to_site_url(client, settings):
    from clinic.models import ClinicDetails

    settings.SITE_URL = "https://clinic.example"
    client.post(
        reverse("account_signup"),
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_HOST="localhost",  # a host the site answers to, but not SITE_URL's
    )
    message = mail.outbox[-1]
    assert message.subject == "Please confirm your email address"
    assert "Hello from" not in message.body and "Thank you for using" not in message.body
    assert ClinicDetails.current().name in message.body
    links = re.findall(r"https?://\S+", message.body)
    assert links and all(link.startswith("https://clinic.example/") for link in links)
    assert "localhost" not in message.body and "testserver" not in message.body


def test_the_sign_in_page_speaks_as_the_site_does(client):
    page = client.get(reverse("account_login")).content.decode()
    assert "<h1>Sign in</h1>" in page
    for capitals in ("Sign In", "Remember Me", "Forgot Password"):
        assert capitals not in page
    assert 'id="main-content"' in page  # the site's own layout
