"""The staff schedule in the admin: day and week views, filters, roles, CSV, query count."""

import csv
import io
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.html import Element, parse_html
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import ClinicClosure, Session, TimeOff
from clinic.roles import CLINICIAN
from tests.booking.factories import (
    CourseFactory,
    PatientFactory,
    PractitionerFactory,
    SessionFactory,
)
from tests.education.factories import ConsultationFactory
from tests.helpers import at
from tests.staff.conftest import staff_user

DAY = reverse("admin:booking_schedule_day")
WEEK = reverse("admin:booking_schedule_week")
CSV = reverse("admin:booking_schedule_csv")


# Reading the page as a person does: by table, row, column and text.


def page(client, url: str, **params) -> Element:
    response = client.get(url, params)
    assert response.status_code == 200
    return parse_html(response.content.decode())


def find(node, name: str, cls: str | None = None):
    for child in getattr(node, "children", []):
        if isinstance(child, Element):
            classes = (dict(child.attributes).get("class") or "").split()
            if child.name == name and (cls is None or cls in classes):
                yield child
            yield from find(child, name, cls)


def text(node, leave_out: str | None = None) -> str:
    """The text of `node`, hidden text included; without the elements of class `leave_out`."""
    if isinstance(node, str):
        return node
    if leave_out and leave_out in (dict(node.attributes).get("class") or "").split():
        return ""
    return " ".join(" ".join(text(c, leave_out) for c in node.children).split())


def column_headers(html: Element) -> list[str]:
    """Each practitioner's column heading: name and hours (the initials' badge left out)."""
    grid = next(find(html, "table", "schedule-grid"))
    return [text(th, "who-badge") for th in find(next(find(grid, "thead")), "th")][1:]


def column_names(html: Element) -> list[str]:
    grid = next(find(html, "table", "schedule-grid"))
    return [text(span) for span in find(next(find(grid, "thead")), "span", "column-name")]


def hour_rows(html: Element) -> dict[str, list[str]]:
    """The grid's rows by their visible hour label: the text of the cells starting there."""
    grid = next(find(html, "table", "schedule-grid"))
    rows = {}
    for tr in find(next(find(grid, "tbody")), "tr"):
        label = next(find(tr, "th"))
        if "on-hour" in dict(label.attributes)["class"]:
            rows.setdefault(text(label), []).append(" | ".join(text(td) for td in find(tr, "td")))
    return rows


def blocks(html: Element, kind: str) -> list[str]:
    """The text of each block of `kind` in the day grid, its links to book a gap left out."""
    return [text(td, "openings") for td in find(html, "td", f"block--{kind}")]


@pytest.fixture
def other(treatment):
    return PractitionerFactory(treatments=[treatment], display_name="Dr Other")


@pytest.fixture
def mine(clinician):
    return clinician.practitioner


def test_the_admin_index_links_the_schedule_for_staff_who_may_see_it(client_for, reception, editor):
    schedule = reverse("admin:booking_scheduleentry_changelist")
    assert (
        f'href="{schedule}"' in client_for(reception).get(reverse("admin:index")).content.decode()
    )
    assert client_for(reception).get(schedule).status_code == 200
    assert (
        f'href="{schedule}"' not in client_for(editor).get(reverse("admin:index")).content.decode()
    )


def test_day_view_shows_every_practitioner_and_each_session_in_full(
    client_for, reception, practitioner, other, patient, treatment, now
):
    session = SessionFactory(
        course__patient=patient,
        course__practitioner=practitioner,
        course__treatment=treatment,
        start=at(6, 1, 10),
    )
    html = page(client_for(reception), DAY, date="2026-06-01")

    assert column_names(html) == ["Dr Other", practitioner.display_name]
    assert "Schedule: Monday 1 June 2026" in text(html)
    (cell,) = blocks(html, "session")
    who = f"P {practitioner.display_name}"  # initials, and the name for screen readers
    # Today's session: reception can mark the patient arrived from here.
    assert cell == (
        f"10:00–11:15 {patient.full_name} Microneedling Session 1 of 3 {who} ○ Booked "
        f"Arrived : {patient.full_name}"
    )
    assert cell in hour_rows(html)["10:00"][0]
    link = next(find(next(find(html, "td", "block--session")), "a"))
    assert dict(link.attributes)["href"] == reverse(
        "admin:booking_session_change", args=[session.pk]
    )


def test_week_view_places_sessions_on_their_day_under_their_practitioner(
    client_for, reception, practitioner, other, patient, treatment, now
):
    SessionFactory(
        course__patient=patient,
        course__practitioner=other,
        course__treatment=treatment,
        start=at(6, 4, 14),
    )
    html = page(client_for(reception), WEEK, date="2026-06-03")  # a Wednesday

    assert "Schedule: week of 1 June 2026" in text(html)
    table = next(find(html, "table", "schedule-week"))
    days = {
        text(next(find(tr, "th"))): [text(td) for td in find(tr, "td")] for tr in find(table, "tr")
    }
    assert list(days)[1:] == [
        "Monday 1 Jun",
        "Tuesday 2 Jun",
        "Wednesday 3 Jun",
        "Thursday 4 Jun",
        "Friday 5 Jun",
        "Saturday 6 Jun",
        "Sunday 7 Jun",
    ]
    thursday_other, thursday_practitioner = days["Thursday 4 Jun"]
    assert f"14:00–15:15 {patient.full_name} Microneedling Session 1 of 3" in thursday_other
    assert patient.full_name not in thursday_practitioner
    assert "Free 09:00–14:00 (300 min)" in thursday_other
    assert days["Saturday 6 Jun"] == ["Not working", "Not working"]


def test_previous_next_and_today_go_to_the_right_dates(client_for, reception, practitioner, now):
    client = client_for(reception)
    html = page(client, DAY, date="2026-06-10", practitioner=practitioner.pk)
    links = {text(a): dict(a.attributes)["href"] for a in find(html, "a")}
    keep = f"practitioner={practitioner.pk}"
    assert links["‹ Previous day"] == f"{DAY}?date=2026-06-09&{keep}"
    assert links["Next day ›"] == f"{DAY}?date=2026-06-11&{keep}"
    assert links["Today"] == f"{DAY}?date=2026-06-01&{keep}"
    assert links["Week view"] == f"{WEEK}?date=2026-06-10&{keep}"

    html = page(client, WEEK, date="2026-06-10")
    links = {text(a): dict(a.attributes)["href"] for a in find(html, "a")}
    assert links["‹ Previous week"] == f"{WEEK}?date=2026-06-01"
    assert links["Next week ›"] == f"{WEEK}?date=2026-06-15"
    assert links["This week"] == f"{WEEK}?date=2026-06-01"


def test_the_day_the_clocks_go_forward_has_no_1am_and_sessions_at_their_wall_time(
    client_for, reception, treatment, patient, now
):
    sunday = PractitionerFactory(treatments=[treatment], hours=[(6, time(9), time(17))])
    SessionFactory(
        course__patient=patient,
        course__practitioner=sunday,
        course__treatment=treatment,
        start=at(3, 29, 0, 15),
        course__sessions_planned=1,
    )  # before the change
    SessionFactory(
        course__patient=PatientFactory(),
        course__practitioner=sunday,
        course__treatment=treatment,
        start=at(3, 29, 10),
    )  # after: 09:00 UTC

    html = page(client_for(reception), DAY, date="2026-03-29")
    rows = hour_rows(html)

    assert list(rows) == ["00:00", *(f"{h:02}:00" for h in range(2, 17))]
    early, late = blocks(html, "session")
    assert early.startswith("00:15–02:30 ")  # 75 minutes, across the missing hour
    assert late.startswith("10:00–11:15 ")
    assert late in rows["10:00"][0]
    assert rows["09:00"] == ["Free 09:00–10:00 (60 min)"]


def test_the_day_the_clocks_go_back_shows_1am_twice(client_for, reception, treatment, patient):
    sunday = PractitionerFactory(treatments=[treatment], hours=[(6, time(9), time(17))])
    SessionFactory(
        course__patient=patient,
        course__practitioner=sunday,
        course__treatment=treatment,
        start=at(10, 25, 0, 30),
        course__sessions_planned=1,
    )

    rows = hour_rows(page(client_for(reception), DAY, date="2026-10-25"))

    assert list(rows)[:4] == ["00:00", "01:00", "02:00", "03:00"]
    assert len(rows["01:00"]) == 2


def test_the_date_picker_is_a_labelled_date_field(client_for, reception, practitioner, now):
    html = page(client_for(reception), DAY, date="2026-06-10")
    (field,) = [i for i in find(html, "input") if dict(i.attributes).get("name") == "date"]
    attributes = dict(field.attributes)
    assert attributes["type"] == "date"
    assert attributes["value"] == "2026-06-10"
    labels = [
        text(label)
        for label in find(html, "label")
        if dict(label.attributes)["for"] == attributes["id"]
    ]
    assert labels == ["Date"]
    assert "Schedule: Wednesday 10 June 2026" in text(html)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date": "not-a-date"}, "That is not a date; showing today instead."),
        ({"date": "2026-02-30"}, "That is not a date; showing today instead."),
        ({"date": "9999-12-31"}, "Choose a date between 2000 and 2099; showing today instead."),
        ({"date": "0001-01-01"}, "Choose a date between 2000 and 2099; showing today instead."),
        ({"practitioner": "abc"}, "Enter a whole number."),
        ({"practitioner": "99999999999999999999"}, "That is not on the list; showing all"),
        ({"treatment": "-1"}, "That is not on the list; showing all"),
    ],
)
@pytest.mark.parametrize("url", [DAY, WEEK])
def test_a_bad_value_is_named_and_the_schedule_still_shows(
    client_for, reception, practitioner, now, url, params, message
):
    html = text(page(client_for(reception), url, **params))
    assert message in html
    assert "1 June 2026" in html  # today's day or week
    assert practitioner.display_name in html


def test_a_bad_date_in_the_csv_link_falls_back_to_today(client_for, reception, now):
    response = client_for(reception).get(CSV, {"date": "2026-13-01"})
    assert response.status_code == 200
    assert 'filename="schedule-2026-06-01.csv"' in response["Content-Disposition"]


def test_filter_by_practitioner_shows_only_their_column(
    client_for, reception, practitioner, other, patient, treatment, now
):
    SessionFactory(
        course__patient=patient,
        course__practitioner=other,
        course__treatment=treatment,
        start=at(6, 1, 10),
    )
    html = page(client_for(reception), DAY, date="2026-06-01", practitioner=practitioner.pk)
    assert column_names(html) == [practitioner.display_name]
    assert patient.full_name not in text(html)


def test_filter_by_treatment_keeps_other_sessions_as_busy_time_without_details(
    client_for, reception, practitioner, patient, treatment, now
):
    consultation = ConsultationFactory()
    SessionFactory(
        course__patient=patient,
        course__practitioner=practitioner,
        course__treatment=treatment,
        start=at(6, 1, 10),
    )
    someone = PatientFactory(full_name="Consulting Patient")
    SessionFactory(
        course__patient=someone,
        course__practitioner=practitioner,
        course__treatment=consultation,
        start=at(6, 1, 14),
        end=at(6, 1, 15, 15),  # 75 minutes, as the page is read below
        course__sessions_planned=1,
    )

    html = page(client_for(reception), DAY, date="2026-06-01", treatment=consultation.pk)

    assert [c.split(" Session")[0] for c in blocks(html, "session")] == [
        "14:00–15:15 Consulting Patient Consultation"
    ]
    assert blocks(html, "other") == ["Busy: another treatment 10:00–11:15"]
    assert patient.full_name not in text(html)
    assert "11:15–14:00" in blocks(html, "free")[1]  # the free time is still true


def test_hours_breaks_time_off_and_closures_are_shaded_and_named(
    client_for, reception, treatment, now
):
    split = PractitionerFactory(
        treatments=[treatment],
        display_name="Dr Split",
        hours=[(0, time(9), time(12)), (0, time(13), time(17))],
    )
    TimeOff.objects.create(practitioner=split, start=at(6, 1, 15), end=at(6, 3, 9), reason="Course")
    client = client_for(reception)

    html = page(client, DAY, date="2026-06-01")
    assert blocks(html, "break") == ["Break 12:00–13:00"]
    assert blocks(html, "off") == ["Time off 15:00–17:00 Course"]
    assert blocks(html, "free") == ["Free 09:00–12:00 (180 min)", "Free 13:00–15:00 (120 min)"]
    assert column_headers(html) == ["Dr Split 09:00–12:00, 13:00–17:00"]

    ClinicClosure.objects.create(date="2026-06-02", name="Staff training day")
    html = page(client, DAY, date="2026-06-02")
    assert blocks(html, "closed") == ["Clinic closed 09:00–17:00 Staff training day"]
    sunday = page(client, DAY, date="2026-06-07")
    assert blocks(sunday, "out") == ["Not working 09:00–17:00"]
    (hidden,) = find(next(find(sunday, "td", "block--out")), "span", "visually-hidden")
    assert text(hidden) == "Not working 09:00–17:00"


def test_free_gaps_are_listed_for_each_practitioner(
    client_for, reception, practitioner, patient, treatment, now
):
    SessionFactory(
        course__patient=patient,
        course__practitioner=practitioner,
        course__treatment=treatment,
        start=at(6, 1, 10),
    )
    html = page(client_for(reception), DAY, date="2026-06-01")
    (section,) = find(html, "section", "schedule-free")
    assert f"{practitioner.display_name}: 09:00–10:00 (60 min), 11:15–17:00 (345 min)" in text(
        section
    )


def test_cancelled_sessions_are_hidden_unless_asked_for(
    client_for, reception, practitioner, patient, treatment, now
):
    SessionFactory(
        course__patient=patient,
        course__practitioner=practitioner,
        course__treatment=treatment,
        start=at(6, 1, 10),
        cancelled=True,
    )
    client = client_for(reception)
    assert patient.full_name not in text(page(client, DAY, date="2026-06-01"))
    html = page(client, DAY, date="2026-06-01", cancelled="1")
    assert blocks(html, "session") == [
        f"10:00–11:15 {patient.full_name} Microneedling Session 1 of 3 "
        f"P {practitioner.display_name} ⊘ Cancelled"
    ]


def test_a_cancelled_session_and_the_one_booked_in_its_place_share_a_cell(
    client_for, reception, practitioner, patient, treatment, now
):
    SessionFactory(
        course__patient=patient,
        course__practitioner=practitioner,
        course__treatment=treatment,
        start=at(6, 1, 10),
        cancelled=True,
    )
    SessionFactory(
        course__patient=PatientFactory(full_name="Took The Time"),
        course__practitioner=practitioner,
        course__treatment=treatment,
        start=at(6, 1, 10, 30),
    )

    html = page(client_for(reception), DAY, date="2026-06-01", cancelled="1")

    (cell,) = blocks(html, "session")
    who = f"P {practitioner.display_name}"
    assert f"10:00–11:15 {patient.full_name} Microneedling Session 1 of 3 {who} ⊘ Cancelled" in cell
    assert f"10:30–11:45 Took The Time Microneedling Session 1 of 3 {who} ○ Booked" in cell


def test_a_clinician_not_linked_to_a_practitioner_is_told_why_the_page_is_empty(
    client_for, practitioner, now
):
    unlinked = staff_user(CLINICIAN, "new.clinician@clinic.example")
    html = text(page(client_for(unlinked), DAY, date="2026-06-01"))
    assert "Your account is not linked to a practitioner" in html
    assert practitioner.display_name not in html


def test_a_clinician_sees_only_their_own_column_and_sessions(
    client_for, clinician, mine, other, patient, treatment, now
):
    SessionFactory(
        course__patient=patient,
        course__practitioner=mine,
        course__treatment=treatment,
        start=at(6, 1, 10),
    )
    stranger = PatientFactory(full_name="Not Your Patient")
    SessionFactory(
        course__patient=stranger,
        course__practitioner=other,
        course__treatment=treatment,
        start=at(6, 1, 10),
    )
    client = client_for(clinician)

    for params in ({}, {"practitioner": other.pk}):
        html = page(client, DAY, date="2026-06-01", **params)
        assert column_names(html) == ["Dr Own"]
        assert "Not Your Patient" not in text(html)
        assert patient.full_name in text(html)
    week = text(page(client, WEEK, date="2026-06-01"))
    assert "Dr Other" not in week and "Not Your Patient" not in week
    assert "Not Your Patient" not in client.get(CSV, {"date": "2026-06-01"}).content.decode()


def test_staff_without_the_schedule_permission_are_refused(client_for, editor):
    client = client_for(editor)
    for url in (DAY, WEEK, CSV, reverse("admin:booking_scheduleentry_changelist")):
        assert client.get(url).status_code == 403


def test_the_day_csv_is_a_download_with_each_session(
    client_for, reception, practitioner, treatment, now
):
    patient = PatientFactory(full_name="=HYPERLINK(1)", phone="+44 7700 900123")
    SessionFactory(
        course__patient=patient,
        course__practitioner=practitioner,
        course__treatment=treatment,
        start=at(6, 1, 10),
    )

    response = client_for(reception).get(CSV, {"date": "2026-06-01"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="schedule-2026-06-01.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["Start", "End", "Practitioner", "Patient", "Phone", "Treatment", "Session", "Status"],
        [
            "2026-06-01 10:00",
            "2026-06-01 11:15",
            practitioner.display_name,
            "'=HYPERLINK(1)",  # kept as text, not run as a formula
            "+44 7700 900123",
            "Microneedling",
            "1 of 3",
            "Booked",
        ],
    ]


def test_the_day_view_links_its_csv_and_the_print_stylesheet(client_for, reception, now):
    html = page(client_for(reception), DAY, date="2026-06-10")
    links = {text(a): dict(a.attributes)["href"] for a in find(html, "a")}
    assert links["Download the day as CSV"] == f"{CSV}?date=2026-06-10"
    sheets = [dict(link.attributes)["href"] for link in find(html, "link")]
    assert "/static/css/admin-schedule.css" in sheets


def fill_week(patients, practitioners, treatment, count: int) -> None:
    """`count` sessions over Monday to Friday, six a day per practitioner."""
    courses = [
        CourseFactory(
            patient=p, treatment=treatment, practitioner=practitioners[0], sessions_planned=6
        )
        for p in patients
    ]
    rows = []
    for n in range(count):
        practitioner = practitioners[n % len(practitioners)]
        slot = n // len(practitioners)  # 0..29: day, then time of day
        start = at(6, 1, 9) + timedelta(days=slot // 6, minutes=80 * (slot % 6))
        rows.append(
            SessionFactory.build(
                course=courses[n % len(patients)],
                practitioner=practitioner,
                number=n // len(patients) + 1,
                start=start,
            )
        )
    Session.objects.bulk_create(rows)


@pytest.mark.parametrize("role", ["reception", "superuser"])
def test_the_week_view_takes_the_same_few_queries_for_15_or_150_sessions(
    client_for, request, role, treatment, now
):
    practitioners = [PractitionerFactory(treatments=[treatment]) for _ in range(5)]
    patients = [PatientFactory() for _ in range(30)]
    client = client_for(request.getfixturevalue(role))
    client.get(WEEK)  # the clinic's details are read once, then come from the cache
    counts = {}
    for total in (15, 150):
        Session.objects.all().delete()
        fill_week(patients, practitioners, treatment, total)
        with CaptureQueriesContext(connection) as captured:
            html = text(page(client, WEEK, date="2026-06-01"))
        counts[total] = len(captured)
        assert html.count("Session ") >= total  # every session is on the page
    assert counts[15] == counts[150] <= 10, counts
