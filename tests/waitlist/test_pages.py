"""The waitlist as a patient uses it: joining, changing and leaving, and answering an offer.

The clock stands at Monday 1 June 2026, 08:00 (tests/booking/conftest.py); the sweep and
the offer email run in this process (tests/waitlist/test_offers.py send_offers).
"""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from booking import services
from booking.models import Offer, Session, WaitlistEntry
from booking.waitlist import services as waitlist
from booking.waitlist.sending import OFFER_PURPOSE, offer_of_token, offer_token
from clinic.tokens import token_make
from tests.booking.factories import PatientFactory
from tests.booking.test_journey import walk_to_time
from tests.helpers import at, book
from tests.waitlist.conftest import NOW, join
from tests.waitlist.test_offers import send_offers

pytestmark = pytest.mark.django_db
JOIN = reverse("booking:waitlist_join")
APPOINTMENTS = reverse("booking:appointments")


def wish(**fields) -> dict:
    """What the join form posts: 2 to 30 June, Mondays and Wednesdays, mornings, anyone."""
    return {
        "date_from": "2026-06-02",
        "date_to": "2026-06-30",
        "weekdays": ["0", "2"],
        "parts_of_day": ["1"],
        "practitioner": "",
        **fields,
    }


def text(response) -> str:
    """The page's words as a patient reads them (tags gone, spaces folded)."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def clinic(clinic_ready):
    """Online booking open (a consent text, two health questions): the treatment as saved."""
    clinic_ready.refresh_from_db()  # the questions moved its questions version on
    return clinic_ready


@pytest.fixture
def freed(now, treatment, practitioner):
    """Someone else's session on Wednesday 3 June at 10:00, to cancel."""
    return book(PatientFactory(), treatment, practitioner, [at(6, 3, 10)]).sessions.get()


def offered(freed, *, now=NOW) -> Offer:
    """`freed` cancelled, the sweep holds it for the first patient waiting, the email goes."""
    services.session_cancel(session=freed, now=now)
    waitlist.waitlist_sweep(now=now)
    send_offers(now)
    return Offer.objects.get(status=Offer.Status.HELD)


def offer_url(offer, name="booking:offer_accept") -> str:
    return reverse(name, args=[offer_token(offer)])


def offers_linked(response) -> list[Offer]:
    """The offers a page links to (each link's token is new, so read what it names)."""
    tokens = re.findall(r'href="/waitlist/offers/([^/"]+)/"', response.content.decode())
    return [offer_of_token(token) for token in tokens]


# --- Joining, changing, leaving --------------------------------------------------------------


def test_the_time_step_offers_the_waitlist_and_joining_keeps_the_journeys_course(
    client, clinic_ready, patient
):
    client.force_login(patient.user)
    walk_to_time(client, clinic_ready, sessions=4)
    step = client.get(reverse("booking:time"))
    assert "None of these times suit you?" in text(step)
    assert f'href="{JOIN}"' in step.content.decode()
    page = client.get(JOIN)
    assert page.status_code == 200 and "course (4 sessions)" in text(page)
    response = client.post(JOIN, wish())
    assert response.status_code == 302 and response.url == APPOINTMENTS + "#waitlist"
    entry = WaitlistEntry.objects.get(patient=patient)
    assert (entry.treatment, entry.session, entry.sessions_wanted) == (clinic_ready, None, 4)
    assert set(entry.answers.values()) == {"no"} and len(entry.answers) == 2
    assert (entry.date_from, entry.date_to) == (date(2026, 6, 2), date(2026, 6, 30))
    assert (entry.weekdays, entry.parts_of_day, entry.practitioner) == (0b101, 1, None)
    mine = text(client.get(APPOINTMENTS))
    assert "You are on the waitlist." in mine
    assert "first session of a course of 4" in mine
    assert "From 2 June 2026 to 30 June 2026: Mondays and Wednesdays, mornings." in mine


def test_a_visitor_signs_in_to_join_and_comes_back_to_the_journeys_course(
    client, clinic_ready, patient
):
    walk_to_time(client, clinic_ready, sessions=2)
    assert "You will be asked to sign in first." in text(client.get(reverse("booking:time")))
    asked = client.get(JOIN)
    assert asked.url == reverse("account_login") + "?next=" + JOIN
    signed_in = client.post(
        asked.url, {"login": patient.user.email, "password": "a-Password-123", "next": JOIN}
    )
    assert signed_in.status_code == 302 and signed_in.url == JOIN
    assert "course (2 sessions)" in text(client.get(JOIN))
    assert client.post(JOIN, wish()).status_code == 302
    assert WaitlistEntry.objects.get(patient=patient).sessions_wanted == 2


def test_joining_before_choosing_a_treatment_starts_the_journey(client, patient, treatment):
    client.force_login(patient.user)
    response = client.get(JOIN)
    assert response.status_code == 302 and response.url == reverse("booking:start")
    assert not WaitlistEntry.objects.exists()


def test_a_booked_session_can_wait_for_an_earlier_time_when_one_keeps_the_course(signed_in, course):
    """Sessions 10 June, 8 July, 5 August: only the first has earlier days that keep the
    gaps to the others (2 to 9 June); the second and third are as early as they can be."""
    first = course.sessions.get(number=1)
    page = signed_in.get(APPOINTMENTS).content.decode()
    assert page.count("Tell me if an earlier time frees up") == 1
    assert f'href="{JOIN}?session={first.pk}"' in page
    form = signed_in.get(JOIN, {"session": first.pk})
    assert "session 1 is on Wednesday 10 June 2026" in text(form)
    response = signed_in.post(
        JOIN, wish(session=first.pk, date_to="2026-06-09", weekdays=[str(d) for d in range(7)])
    )
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert entry.session == first and entry.weekdays == 0b1111111
    page = text(signed_in.get(APPOINTMENTS))
    assert "Tell me if an earlier time frees up" not in page
    assert "On the waitlist for an earlier time" in page
    assert "an earlier time for session 1" in page and "any day, mornings" in page
    # Asking again leads to the entry there is.
    again = signed_in.get(JOIN, {"session": first.pk})
    assert again.url == reverse("booking:waitlist_change", args=[entry.pk])


def test_a_session_with_no_earlier_day_says_so(signed_in, course):
    second = course.sessions.get(number=2)
    page = signed_in.get(JOIN, {"session": second.pk})
    assert page.status_code == 200 and "There is no earlier date" in text(page)
    assert signed_in.post(JOIN, wish(session=second.pk)).status_code == 200
    assert not WaitlistEntry.objects.exists()


def test_a_patient_changes_what_they_wait_for(now, signed_in, patient, treatment, practitioner):
    entry = join(patient, treatment)
    url = reverse("booking:waitlist_change", args=[entry.pk])
    page = signed_in.get(url)
    assert page.status_code == 200 and 'value="2026-06-02"' in page.content.decode()
    changed = wish(date_from="2026-06-08", parts_of_day=["2", "4"], practitioner=practitioner.pk)
    assert signed_in.post(url, changed).status_code == 302
    entry.refresh_from_db()
    assert (entry.date_from, entry.parts_of_day, entry.practitioner) == (
        date(2026, 6, 8),
        6,
        practitioner,
    )
    assert f"With {practitioner.display_name}." in text(signed_in.get(APPOINTMENTS))


def test_leaving_the_waitlist_withdraws_the_time_held(signed_in, patient, treatment, freed):
    entry = join(patient, treatment)
    offer = offered(freed)
    mine = signed_in.get(APPOINTMENTS)
    assert "A time is held for you until 10:00" in text(mine)
    assert offers_linked(mine) == [offer, offer]  # at the top, and beside its entry
    response = signed_in.post(reverse("booking:waitlist_leave", args=[entry.pk]))
    assert response.url == APPOINTMENTS + "#waitlist"
    entry.refresh_from_db()
    offer.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT
    assert offer.status == Offer.Status.WITHDRAWN
    assert Session.with_holds.get(pk=offer.hold_id).status == Session.Status.CANCELLED
    page = text(signed_in.get(APPOINTMENTS))
    assert "You have left the waitlist" in page and "A time is held" not in page
    # The link in the email now says the offer has ended.
    assert signed_in.get(offer_url(offer)).status_code == 410


def test_another_patients_entry_and_session_are_not_found(now, signed_in, treatment, practitioner):
    other = PatientFactory()
    session = book(other, treatment, practitioner, [at(6, 17, 10)]).sessions.get()
    entry = join(other, treatment)
    assert signed_in.get(reverse("booking:waitlist_change", args=[entry.pk])).status_code == 404
    assert signed_in.post(reverse("booking:waitlist_change", args=[entry.pk])).status_code == 404
    assert signed_in.post(reverse("booking:waitlist_leave", args=[entry.pk])).status_code == 404
    assert signed_in.get(JOIN, {"session": session.pk}).status_code == 404
    assert signed_in.post(JOIN, wish(session=session.pk)).status_code == 404
    entry.refresh_from_db()
    assert entry.is_waiting and WaitlistEntry.objects.count() == 1


@pytest.mark.parametrize("value", ["abc", "²", "-1", "1.5", "9" * 30, "١", "0x10", " 1"], ids=repr)
def test_a_junk_session_is_not_found(signed_in, value):
    assert signed_in.get(JOIN, {"session": value}).status_code == 404


def test_junk_in_the_join_form_gets_a_message_beside_the_field(
    client, clinic_ready, patient, practitioner
):
    client.force_login(patient.user)
    walk_to_time(client, clinic_ready)
    cases = {
        "date_from": ("2026-13-45", "Enter a valid date."),
        "date_to": ("2027-06-30", "Choose a date from 2 June 2026 to"),
        "weekdays": (["9", "x"], "Select a valid choice."),
        "parts_of_day": ([], "Choose at least one part of the day."),
        "practitioner": ("9" * 25, "Choose one of the practitioners listed."),
    }
    for name, (value, message) in cases.items():
        response = client.post(JOIN, wish(**{name: value}))
        page = response.content.decode()
        assert response.status_code == 400, name
        assert "There is a problem" in page and message in page, name
        assert 'aria-invalid="true"' in page and f'id="id_{name}' in page, name
    before = client.post(JOIN, wish(date_from="2026-06-20", date_to="2026-06-10"))
    assert "The last date must be on or after the first date." in before.content.decode()
    # A first date out of range is the one thing said about the dates, not their order too.
    outside = client.post(JOIN, wish(date_from="2027-01-01", date_to="2026-06-10")).content
    assert b"Choose a date from" in outside and b"The last date must be" not in outside
    assert not WaitlistEntry.objects.exists()


# --- Answering an offer ----------------------------------------------------------------------


def test_opening_the_offer_changes_nothing(client, patient, clinic, freed):
    join(patient, clinic)
    offer = offered(freed)
    for _ in range(2):  # a mail scanner, then the patient
        page = client.get(offer_url(offer))
        assert page.status_code == 200
        assert client.get(offer_url(offer, "booking:offer_decline")).status_code == 200
    assert "We are keeping this time for you until 10:00 on Monday 1 June." in text(page)
    offer.refresh_from_db()
    assert offer.is_live and offer.hold.status == Session.Status.HELD
    assert not patient.courses.exists()


def test_a_first_session_is_taken_with_the_course_shown_once_consent_is_ticked(
    client, patient, clinic, freed
):
    join(patient, clinic)
    offer = offered(freed)
    page = client.get(offer_url(offer))
    shown = re.findall(r'name="later" value="([^"]+)"', page.content.decode())
    assert len(shown) == 2  # a course of 3: the held time and two later sessions
    assert "Wednesday 3 June 2026, 10:00" in text(page)
    # What the course costs (£100.00 a session, no package), paid at the clinic.
    assert "Price: £300.00 for a course of 3 sessions. Paid at the clinic." in text(page)
    refused = client.post(offer_url(offer), {"later": shown})
    assert refused.status_code == 400
    assert "Tick the box to agree to the consent, or let the time go." in text(refused)
    assert not patient.courses.exists()
    mail.outbox.clear()
    taken = client.post(offer_url(offer), {"later": shown, "agree": "on"})
    assert taken.status_code == 200 and "You are booked in" in text(taken), text(taken)[:3000]
    assert "Price: £300.00 for a course of 3 sessions. You pay at the clinic." in text(taken)
    course = patient.courses.get()
    starts = [s.start for s in course.sessions.order_by("number")]
    assert starts[0] == at(6, 3, 10)
    assert [f"{s.isoformat()}" for s in starts[1:]] == [v.split("|")[0] for v in shown]
    assert course.consent is not None and course.consent_method == "online"
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED
    # The link is used: opening it again says so, and books nothing more.
    again = client.post(offer_url(offer), {"later": shown, "agree": "on"})
    assert again.status_code == 410 and "accepted this offer already" in text(again)
    assert patient.courses.count() == 1


def test_an_earlier_time_moves_the_booked_session(client, patient, treatment, practitioner, freed):
    mine = book(patient, treatment, practitioner, [at(6, 10, 10)]).sessions.get()
    join(patient, treatment, session=mine, days=(date(2026, 6, 2), date(2026, 6, 9)))
    offer = offered(freed)
    page = client.get(offer_url(offer))
    assert "If you take this time, it moves here." in text(page) and "Consent" not in text(page)
    moved = client.post(offer_url(offer))
    assert moved.status_code == 200 and "Your session is moved" in text(moved)
    mine.refresh_from_db()
    assert mine.start == at(6, 3, 10) and mine.status == Session.Status.BOOKED
    assert WaitlistEntry.objects.get().status == WaitlistEntry.Status.BOOKED


def test_declining_asks_first_then_lets_the_time_go(client, patient, clinic, freed):
    join(patient, clinic)
    offer = offered(freed)
    decline = offer_url(offer, "booking:offer_decline")
    asked = client.get(decline)
    assert "Let this time go?" in text(asked) and offers_linked(asked) == [offer]
    done = client.post(decline)
    assert done.status_code == 200 and "Time let go" in text(done)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.DECLINED
    assert WaitlistEntry.objects.get().is_waiting  # still waiting for other times
    for url in (offer_url(offer), decline):
        ended = client.get(url)
        assert ended.status_code == 410 and "You let this time go" in text(ended)
    assert client.post(offer_url(offer), {"agree": "on"}).status_code == 410


def test_a_lapsed_offer_shows_the_ended_page(client, patient, clinic, freed, now):
    join(patient, clinic)
    offer = offered(freed)
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        lapsed = client.get(offer_url(offer))
        assert lapsed.status_code == 410
        assert "held for you until 10:00 on 1 June" in text(lapsed)
        waitlist.waitlist_sweep(now=NOW + timedelta(hours=2))
        assert client.post(offer_url(offer), {"agree": "on"}).status_code == 410
    assert not patient.courses.exists()


def test_a_forged_offer_link_is_not_found(client, patient, clinic, freed):
    join(patient, clinic)
    offer = offered(freed)
    forged = [
        "not-a-token",
        token_make("newsletter", {"o": offer.pk}),  # made for another purpose
        token_make(OFFER_PURPOSE, {"o": offer.pk + 1000}),  # no such offer
        token_make(OFFER_PURPOSE, {"o": str(offer.pk)}),
        offer_token(offer) + "A" * 600,
    ]
    for token in forged:
        for name in ("booking:offer_accept", "booking:offer_decline"):
            assert client.get(reverse(name, args=[token])).status_code == 404, token
            assert client.post(reverse(name, args=[token]), {"agree": "on"}).status_code == 404
    offer.refresh_from_db()
    assert offer.is_live


def test_junk_posted_to_an_offer_books_nothing(client, patient, clinic, freed):
    join(patient, clinic)
    offer = offered(freed)
    for later in (
        ["junk", "x|y"],
        ["9999-12-31T23:30:00+00:00|1"] * 2,
        ["2026-07-01T09:00:00+00:00|" + "9" * 25] * 2,
        [],
    ):
        response = client.post(offer_url(offer), {"later": later, "agree": "on"})
        assert response.status_code == 400 and "There is a problem" in text(response), later
    assert not patient.courses.exists() and Offer.objects.get().is_live


# --- My appointments -------------------------------------------------------------------------


def test_my_appointments_reads_the_waitlist_in_a_fixed_number_of_queries(
    signed_in, patient, course, treatment, freed, django_assert_max_num_queries
):
    """One entry waiting, then two (one for session 1) and a time held: the same queries."""

    def queries() -> int:
        with django_assert_max_num_queries(100) as counted:
            assert signed_in.get(APPOINTMENTS).status_code == 200
        return len(counted)

    join(patient, treatment)
    signed_in.get(APPOINTMENTS)  # the clinic's details and the rules, kept from here on
    before = queries()
    first = course.sessions.get(number=1)
    join(patient, treatment, session=first, days=(date(2026, 6, 2), date(2026, 6, 9)))
    offered(freed)
    page = signed_in.get(APPOINTMENTS)
    assert "A time is held for you" in text(page)
    assert queries() == before
