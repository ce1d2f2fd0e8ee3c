"""A free gap on the day view starts a phone booking at its time and practitioner, for the
staff who book by phone; its times are the slot finder's, so never over a session, time
off, a closure or outside working hours."""

from datetime import UTC, time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from booking.models import ClinicClosure, TimeOff
from booking.schedule import FREE
from tests.booking.factories import PractitionerFactory, SessionFactory
from tests.education.factories import ConsultationFactory
from tests.helpers import at
from tests.staff.test_schedule import find, page, text

DAY = reverse("admin:booking_schedule_day")
PHONE = reverse("admin:booking_course_phone")


def gap_links(html) -> list[tuple[str, dict]]:
    """Each gap's links: accessible name (hidden words included) and the query it carries."""
    links = []
    for ul in find(html, "ul", "openings"):
        for a in find(ul, "a"):
            url = urlsplit(dict(a.attributes)["href"])
            assert url.path == PHONE
            links.append((text(a), {k: v[0] for k, v in parse_qs(url.query).items()}))
    return links


def names(html) -> list[str]:
    return [name for name, _ in gap_links(html)]


@pytest.fixture
def booked(practitioner, treatment, patient):
    """Monday 1 June, 10:00 to 11:15 (with 15 minutes' buffer either side)."""
    return SessionFactory(
        course__patient=patient,
        course__practitioner=practitioner,
        course__treatment=treatment,
        start=at(6, 1, 10),
    )


def test_reception_gets_a_link_at_each_gaps_first_free_time_and_each_hour_after(
    client_for, reception, practitioner, treatment, booked, now
):
    html = page(client_for(reception), DAY, date="2026-06-01")
    who = practitioner.display_name
    # 09:00-10:00 fits no 75 minutes before the buffer; 15:45 is the day's last start.
    assert names(html) == [
        f"Book {t} with {who}" for t in ("11:30", "12:00", "13:00", "14:00", "15:00")
    ]
    _, query = gap_links(html)[3]
    assert query == {
        "practitioner": str(practitioner.pk),
        "treatment": str(treatment.pk),  # the only one they offer
        "short_notice": "on",  # today, inside the 24 hours' notice: staff give a reason
        "first": f"{at(6, 1, 14).astimezone(UTC).isoformat()}|{practitioner.pk}",  # as step 2's
    }
    # Every link is in a free block of the grid, under its own practitioner.
    for td in find(html, "td", f"block--{FREE}"):
        for a in find(td, "a"):
            assert text(td).startswith("Free ")
            assert who in text(a)


def test_a_day_past_the_minimum_notice_carries_no_short_notice(
    client_for, reception, practitioner, now
):
    links = gap_links(page(client_for(reception), DAY, date="2026-06-03"))
    assert [name.split()[1] for name, _ in links] == [
        "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"
    ]  # fmt: skip
    assert all("short_notice" not in query for _, query in links)


def test_no_link_over_time_off_a_closure_outside_hours_or_in_the_past(
    client_for, reception, practitioner, treatment, now
):
    TimeOff.objects.create(practitioner=practitioner, start=at(6, 3, 12), end=at(6, 3, 14))
    ClinicClosure.objects.create(date="2026-06-04", name="Training")
    client = client_for(reception)

    times = [n.split()[1] for n in names(page(client, DAY, date="2026-06-03"))]
    # 10:45 is the last start ending by 12:00; after the time off, 14:00 again; none at
    # 16:00 (75 minutes would run past 17:00).
    assert times == ["09:00", "10:00", "14:00", "15:00"]
    assert names(page(client, DAY, date="2026-06-04")) == []  # closed
    assert names(page(client, DAY, date="2026-06-06")) == []  # a Saturday: not working
    assert names(page(client, DAY, date="2026-05-29")) == []  # last Friday


def test_a_clinician_gets_no_links_and_an_inactive_practitioner_none(
    client_for, clinician, reception, practitioner, now
):
    html = page(client_for(clinician), DAY, date="2026-06-03")
    assert text(next(find(html, "td", f"block--{FREE}"))).startswith("Free 09:00–17:00")
    assert gap_links(html) == []

    practitioner.is_active = False
    practitioner.save()
    who = {
        name.split(" with ")[1]
        for name in names(page(client_for(reception), DAY, date="2026-06-03"))
    }
    assert who == {"Dr Own"}


def test_with_two_treatments_the_link_leaves_the_choice_to_step_2(
    client_for, reception, treatment, booked, now
):
    practitioner = booked.practitioner
    consultation = ConsultationFactory()
    practitioner.treatments.add(consultation)
    client = client_for(reception)

    links = gap_links(page(client, DAY, date="2026-06-01"))
    # A 30-minute consultation fits before 09:45; each link names no treatment.
    assert [name.split()[1] for name, _ in links][:2] == ["09:00", "11:30"]
    assert all("treatment" not in query for _, query in links)

    links = gap_links(page(client, DAY, date="2026-06-01", treatment=treatment.pk))
    assert [name.split()[1] for name, _ in links][:1] == ["11:30"]  # the filter's treatment
    assert {query["treatment"] for _, query in links} == {str(treatment.pk)}


def test_each_practitioner_gets_their_own_links(
    client_for, reception, practitioner, treatment, now
):
    late = PractitionerFactory(
        treatments=[treatment], display_name="Dr Late", hours=[(2, time(15), time(17))]
    )
    links = gap_links(page(client_for(reception), DAY, date="2026-06-03"))
    assert [(n, q["practitioner"]) for n, q in links if "Dr Late" in n] == [
        ("Book 15:00 with Dr Late", str(late.pk))
    ]
