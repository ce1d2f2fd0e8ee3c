"""The waitlist in the admin: who waits for what, each entry's offers, offering a time by
hand and withdrawing it, pausing the automatic offers, the month's count, and holds on
the schedule."""

from datetime import UTC, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import reminders, services
from booking.journey import slot_value
from booking.models import (
    ConsentText,
    FreedTime,
    Offer,
    Reminder,
    Session,
    WaitlistEntry,
    WaitlistSettings,
)
from booking.waitlist import services as waitlist
from clinic.roles import RECEPTION
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.education.factories import TreatmentFactory
from tests.helpers import at, book
from tests.staff.admin_messages import said
from tests.staff.test_schedule import find, page, text
from tests.waitlist.conftest import NOW, join

LIST = reverse("admin:booking_waitlistentry_changelist")
PAUSE = reverse("admin:booking_waitlistentry_pause")


def entry_url(entry, view="change"):
    return reverse(f"admin:booking_waitlistentry_{view}", args=[entry.pk])


def slot_at(start, practitioner, treatment) -> str:
    """A free time as the offer page posts it."""
    from booking.availability import Slot

    length = timedelta(minutes=treatment.appointment_minutes)
    return slot_value(Slot(start.astimezone(UTC), start.astimezone(UTC) + length, practitioner.pk))


def offer_by_hand(entry, start, practitioner, by=None) -> Offer:
    from booking.availability import Slot

    length = timedelta(minutes=entry.treatment.appointment_minutes)
    return waitlist.offer_make(
        entry=entry, slot=Slot(start, start + length, practitioner.pk), now=NOW, by=by
    )


def listed(client, **filters) -> list[str]:
    response = client.get(LIST, filters)
    assert response.status_code == 200
    return sorted(str(entry.patient) for entry in response.context["cl"].result_list)


@pytest.fixture
def ann(now, treatment):
    return join(PatientFactory(full_name="Ann Waiting"), treatment)


def test_the_list_shows_the_waitlist_per_treatment_and_practitioner(
    client_for, reception, now, treatment, practitioner
):
    peel = TreatmentFactory(name="Peel", slug="peel")
    other = PractitionerFactory(treatments=[treatment, peel], display_name="Dr Other")
    join(PatientFactory(full_name="Ann"), treatment, weekdays=0b0011111, parts_of_day=1)
    join(PatientFactory(full_name="Ben"), treatment, practitioner=practitioner)
    join(PatientFactory(full_name="Cat"), peel, practitioner=other)
    client = client_for(reception)

    assert listed(client) == ["Ann", "Ben", "Cat"]
    assert listed(client, treatment__id__exact=treatment.pk) == ["Ann", "Ben"]
    assert listed(client, treatment__id__exact=peel.pk) == ["Cat"]
    assert listed(client, practitioner="anyone") == ["Ann"]
    assert listed(client, practitioner=practitioner.pk) == ["Ben"]
    assert listed(client, status="waiting", practitioner=other.pk) == ["Cat"]
    html = client.get(LIST, {"practitioner": "anyone"}).content.decode()
    assert "First session (a course of 3)" in html
    assert "Monday to Friday; morning (before 12:00)" in html


def test_an_entrys_page_shows_each_offer_and_how_it_ended(client_for, reception, ann, practitioner):
    first = offer_by_hand(ann, at(6, 3, 10), practitioner, by=reception)
    waitlist.offer_decline(offer=first, now=NOW)
    offer_by_hand(ann, at(6, 4, 14), practitioner)
    html = text(page(client_for(reception), entry_url(ann)))

    assert "Wed 3 Jun 10:00 with" in html and "Declined by the patient." in html
    assert "Thu 4 Jun 14:00 with" in html and "Held, waiting for the patient" in html
    assert reception.email in html  # who offered the first by hand
    # The live one is named at the top, with how long it holds.
    assert f"Thu 4 Jun 14:00 with {practitioner}, held until Mon 1 Jun 10:00" in html
    assert "Withdraw the live offer" in html


def test_offering_a_time_by_hand_holds_it_and_sends_the_offer_email(
    client_for, reception, ann, practitioner, treatment
):
    client = client_for(reception)
    offer_page = text(page(client, entry_url(ann, "offer"), day="2026-06-03"))
    assert "Wednesday 3 June" in offer_page and f"10:00 with {practitioner}" in offer_page

    response = client.post(
        entry_url(ann, "offer"), {"slot": slot_at(at(6, 3, 10), practitioner, treatment)}
    )

    assert response.status_code == 302 and response["Location"] == entry_url(ann)
    offer = Offer.objects.get()
    assert offer.is_live and offer.offered_by == reception and offer.entry == ann
    assert offer.hold.start == at(6, 3, 10) and offer.hold.status == Session.Status.HELD
    (message,) = said(response)
    assert "is held for Ann Waiting until Mon 1 Jun 10:00, and the offer email is on its way" in (
        message
    )
    for reminder_id in reminders.dispatch_due(now=NOW, kinds=[Reminder.Kind.OFFER]):
        reminders.reminder_send(reminder_id=reminder_id, now=NOW)
    (email,) = [m for m in mail.outbox if m.to == [ann.patient.user.email]]
    assert "/waitlist/offers/" in email.body


def test_a_time_that_cannot_be_offered_is_refused_with_a_message(
    client_for, reception, ann, practitioner, treatment
):
    book(PatientFactory(), treatment, practitioner, [at(6, 3, 10)])
    client = client_for(reception)

    def offer(start):
        value = start if isinstance(start, str) else slot_at(start, practitioner, treatment)
        response = client.post(entry_url(ann, "offer"), {"slot": value})
        assert response.status_code == 302
        return said(response)[-1]

    assert offer(at(6, 3, 10)) == "That time is not free."
    assert offer("not a time") == "Choose one of the free times shown."
    assert Offer.objects.count() == 0
    assert "is held for" in offer(at(6, 3, 14))
    assert offer(at(6, 4, 14)) == "This patient has an offer waiting for an answer already."
    assert Offer.objects.count() == 1


def test_staff_withdraw_a_live_offer_with_a_reason(client_for, reception, ann, practitioner):
    offer = offer_by_hand(ann, at(6, 3, 10), practitioner)
    client = client_for(reception)

    response = client.post(entry_url(ann, "withdraw"), {"reason": " "})
    assert said(response) == ["Give a reason for withdrawing the offer."]
    offer.refresh_from_db()
    assert offer.is_live

    response = client.post(entry_url(ann, "withdraw"), {"reason": "Booked by phone instead."})
    assert "is withdrawn" in said(response)[-1]
    offer.refresh_from_db()
    assert (offer.status, offer.reason) == (Offer.Status.WITHDRAWN, "Booked by phone instead.")
    assert Session.with_holds.get(pk=offer.hold_id).status == Session.Status.CANCELLED
    # The box unticked: the time is free for reception, not offered on.
    assert not FreedTime.objects.filter(cause=FreedTime.Cause.WITHDRAWN).exists()


def test_a_withdrawn_time_is_offered_on_when_the_box_is_ticked(
    client_for, reception, ann, practitioner
):
    offer_by_hand(ann, at(6, 3, 10), practitioner)
    client_for(reception).post(
        entry_url(ann, "withdraw"), {"reason": "Wrong time.", "hand_on": "1"}
    )
    assert FreedTime.objects.filter(cause=FreedTime.Cause.WITHDRAWN).count() == 1


def test_pausing_stops_the_automatic_offers_and_turning_them_on_again_sends_them(
    client_for, reception, ann, practitioner, treatment
):
    booked = book(PatientFactory(), treatment, practitioner, [at(6, 3, 10)]).sessions.get()
    client = client_for(reception)
    assert "Pause automatic offers" in client.get(LIST).content.decode()

    client.post(PAUSE, {"paused": "1"})
    assert WaitlistSettings.current().paused
    assert "Paused." in client.get(LIST).content.decode()
    services.session_cancel(session=booked, now=NOW)
    assert waitlist.waitlist_sweep(now=NOW)["offered"] == 0

    response = client.post(PAUSE, {"paused": "yes please"})  # not what the button sends
    assert said(response)[-1] == "Use the button on the waitlist page."
    assert WaitlistSettings.current().paused
    response = client.post(PAUSE, {"paused": "0"})
    assert said(response)[-1].startswith("Automatic offers are on again.")
    assert waitlist.waitlist_sweep(now=NOW)["offered"] == 1
    assert Offer.objects.get().patient == ann.patient


def test_the_list_counts_the_freed_sessions_filled_this_month(
    client_for, reception, ann, practitioner, treatment
):
    offer = offer_by_hand(ann, at(6, 3, 10), practitioner)
    later = [p.slot for p in waitlist.first_course_plan(offer, NOW)[1:]]
    consent = ConsentText.objects.create(version=1, text="I agree to the treatment.")
    waitlist.offer_accept(offer=offer, now=NOW, later=later, consent=consent)
    last_month = join(PatientFactory(), treatment)
    before = offer_by_hand(last_month, at(6, 4, 10), practitioner)
    Offer.objects.filter(pk=before.pk).update(
        status=Offer.Status.ACCEPTED, decided_at=at(5, 29, 12)
    )
    join(PatientFactory(), treatment)

    html = text(page(client_for(reception), LIST))
    assert "This month the waitlist filled 1 freed session." in html
    assert "2 entries are waiting." in html  # the last two; Ann is booked
    assert "0 offers are waiting for an answer." in html


def test_staff_without_the_waitlist_permissions_are_refused(
    client_for, clinician, reception, superuser, ann
):
    client = client_for(clinician)  # a clinician's role has no waitlist
    for url in (LIST, entry_url(ann), entry_url(ann, "offer")):
        assert client.get(url).status_code == 403, url
    for url in (PAUSE, entry_url(ann, "withdraw"), entry_url(ann, "offer")):
        assert client.post(url, {"paused": "1", "reason": "x"}).status_code == 403, url
    assert not WaitlistSettings.current().paused

    # Reception, where the clinic has taken offering and pausing away from the role.
    Group.objects.get(name=RECEPTION).permissions.remove(
        *Permission.objects.filter(codename__in=["offer_by_hand", "change_waitlistsettings"])
    )
    client = client_for(reception)
    assert "Offer a time by hand" not in client.get(entry_url(ann)).content.decode()
    assert "Pause automatic offers" not in client.get(LIST).content.decode()
    assert client.get(entry_url(ann, "offer")).status_code == 403
    assert client.post(PAUSE, {"paused": "1"}).status_code == 403

    # For an entry that is not there: the admin's own "doesn't exist".
    client = client_for(superuser)
    missing = client.get(entry_url(WaitlistEntry(pk=987654), "offer"))
    assert missing.status_code == 302 and missing["Location"] == reverse("admin:index")


def test_the_schedule_shows_a_held_time_as_held_with_no_more_queries(
    client_for, reception, clinician, now, treatment
):
    mine = clinician.practitioner
    entry = join(PatientFactory(full_name="Ann Waiting"), treatment)
    book(PatientFactory(full_name="Bo Booked"), treatment, mine, [at(6, 3, 14)])
    day = reverse("admin:booking_schedule_day")
    client = client_for(reception)
    client.get(day, {"date": "2026-06-03"})  # what is read once, then kept
    with CaptureQueriesContext(connection) as without_hold:
        client.get(day, {"date": "2026-06-03"})
    offer_by_hand(entry, at(6, 3, 10), mine)
    with CaptureQueriesContext(connection) as with_hold:
        html = page(client, day, date="2026-06-03")
    assert len(with_hold) == len(without_hold)

    (held,) = find(html, "div", "session--held")
    assert text(held) == (
        "10:00–11:15 Ann Waiting (waitlist entry) Microneedling O Dr Own "
        "◔ Held for a waitlist offer until 10:00 Mon 1 Jun"
    )
    link = next(find(held, "a"))
    assert dict(link.attributes)["href"] == entry_url(entry)
    # The booked session is shown as before, and the free time is only what is free.
    assert any("Bo Booked" in text(div) for div in find(html, "div", "session--booked"))
    free = [text(td, "openings") for td in find(html, "td", "block--free")]
    assert free[0].startswith("Free 09:00–10:00") and free[1].startswith("Free 11:15–14:00")
    assert "◔ Held" in text(next(find(html, "section", "schedule-key")))
    csv = client.get(reverse("admin:booking_schedule_csv"), {"date": "2026-06-03"})
    assert "Ann Waiting" in csv.content.decode()
    assert "Held for a waitlist offer until 10:00 Mon 1 Jun" in csv.content.decode()

    # A clinician sees the time held on their own schedule, without whose it is.
    week = page(client_for(clinician), reverse("admin:booking_schedule_week"), date="2026-06-01")
    (held,) = find(week, "div", "session--held")
    assert "Held for a waitlist offer until 10:00 Mon 1 Jun" in text(held)
    assert "Ann Waiting" not in text(held) and not list(find(held, "a"))
