"""The one rulebook (booking/rulebook.py): its rules, and the findings that showed a rule
holding on one path only, tried again on the path they were found on."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse

from booking import rulebook
from booking.attendance import session_mark_attended
from booking.availability import Slot
from booking.courses import Spacing
from booking.models import BookingRules, Course, Session
from booking.services import NeedsReplan, course_cancel, session_move
from clinic.roles import RECEPTION
from tests.booking.conftest import LONDON, confirm_move, move_page
from tests.booking.test_journey import answer_all, walk_to_plan
from tests.education.factories import ConsultationFactory
from tests.helpers import at, book
from tests.staff.conftest import staff_user
from tests.staff.test_phone_booking import open_plan, plan_data, url

pytestmark = pytest.mark.django_db
SPACING = Spacing(28, 28, 42)


# --- the rules, as pure functions ------------------------------------------------------


def test_course_breaches_name_the_session_the_rule_and_where_it_must_go():
    starts = [(1, at(6, 10)), (2, at(7, 8)), (3, at(8, 24))]  # 3 is 47 days after 2
    (breach,) = rulebook.course_breaches(starts, SPACING, LONDON)
    assert (breach.rule, breach.number) == (rulebook.WINDOW, 3)
    assert (breach.window.first_day.isoformat(), breach.window.last_day.isoformat()) == (
        "2026-08-05",
        "2026-08-19",
    )
    assert "between 5 August and 19 August 2026" in breach.message
    out_of_order = rulebook.course_breaches([(1, at(8, 1)), (2, at(7, 1))], SPACING, LONDON)
    assert [b.rule for b in out_of_order] == [rulebook.ORDER]


def test_a_session_may_move_only_where_both_neighbours_stay_in_their_windows():
    starts = [(1, at(6, 10)), (2, at(7, 8)), (3, at(8, 5))]
    window = rulebook.move_window(starts, 2, SPACING, LONDON)
    # After 1: 8 July to 22 July; leaving 3 in place: 24 June to 8 July.
    assert (window.first_day.isoformat(), window.last_day.isoformat()) == (
        "2026-07-08",
        "2026-07-08",
    )
    assert rulebook.move_window([(1, at(6, 10))], 1, SPACING, LONDON) is None


def test_a_new_course_waits_for_the_last_session_and_the_open_one():
    breaches = rulebook.new_course_breaches(
        first_start=at(7, 1),
        open_courses=1,
        allowed=1,
        last_start=at(6, 10),
        spacing=SPACING,
        zone=LONDON,
        treatment_name="Microneedling",
    )
    assert [b.rule for b in breaches] == [rulebook.ONE_COURSE, rulebook.AFTER_LAST]
    assert breaches[1].earliest.isoformat() == "2026-07-08"
    assert "Wednesday 8 July 2026" in breaches[1].message
    assert (
        rulebook.new_course_breaches(
            first_start=at(7, 8),
            open_courses=0,
            allowed=1,
            last_start=at(6, 10),
            spacing=SPACING,
            zone=ZoneInfo("Europe/London"),
            treatment_name="Microneedling",
        )
        == []
    )


def test_one_session_treatments_have_no_spacing_words(treatment):
    consultation = ConsultationFactory()
    assert rulebook.spacing_sentence(consultation) == ""
    assert "4 weeks apart" in rulebook.spacing_sentence(treatment)


# --- 1. A second course on top of the first ---------------------------------------------


def confirm(client):
    page = client.get(reverse("booking:confirm")).content.decode()
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    return client.post(reverse("booking:confirm"), {"key": key}, follow=True)


def test_a_patient_with_an_open_course_is_offered_what_fits_not_a_second_course(
    client, clinic_ready, patient, practitioner
):
    book(patient, clinic_ready, practitioner, [at(6, 9), at(7, 7), at(8, 4)])
    client.force_login(patient.user)
    walk_to_plan(client, clinic_ready)
    client.post(reverse("booking:consent"), {"agree": "on"})
    page = confirm(client).content.decode()
    assert "already have a microneedling course" in page and "My appointments" in page
    assert Course.objects.filter(patient=patient).count() == 1


@pytest.fixture
def desk(db):
    return staff_user(RECEPTION, "reception@clinic.example")


def test_phone_booking_refuses_a_second_course_for_the_same_patient(
    client, desk, clinic_ready, patient, practitioner
):
    book(patient, clinic_ready, practitioner, [at(6, 9), at(7, 7), at(8, 4)])
    client.force_login(desk)
    plan = open_plan(client, patient, clinic_ready, practitioner, at(6, 16))
    response = client.post(url("_plan", patient.pk), plan_data(plan))
    assert response.status_code == 400
    assert "already have a microneedling course" in response.content.decode()
    assert Course.objects.filter(patient=patient).count() == 1


def test_a_new_course_keeps_the_gap_after_the_last_session_of_a_finished_one(
    clinic_ready, patient, practitioner, settings
):
    rules = BookingRules.current()
    rules.courses_per_treatment = 2  # a clinic that allows a second open course
    rules.save()
    book(patient, clinic_ready, practitioner, [at(6, 9)])
    with pytest.raises(Exception, match="first date that works is Tuesday 7 July"):
        book(patient, clinic_ready, practitioner, [at(6, 23)])
    book(patient, clinic_ready, practitioner, [at(7, 7)])


# --- 3 and 4. Moves that broke the course's spacing, the horizon or the order -----------


@pytest.fixture
def course(clinic_ready, patient, practitioner):
    return book(patient, clinic_ready, practitioner, [at(6, 10), at(7, 8), at(8, 5)])


def move(client, session, start, practitioner):
    return confirm_move(client, session, start, practitioner)


def starts_of(course):
    return [s.start for s in course.sessions.active().order_by("number")]


def test_declining_the_retiming_leaves_the_course_as_it_was(client, course, practitioner):
    client.force_login(course.patient.user)
    before = starts_of(course)
    page = move_page(client, course.sessions.get(number=2), at(7, 9, 10), practitioner)
    assert "Session 3: from" in page.content.decode()  # 3 would be 27 days on
    assert starts_of(course) == before  # the page moves nothing; leaving it keeps it so
    assert (
        rulebook.course_breaches(
            [(s.number, s.start) for s in course.sessions.active()], SPACING, LONDON
        )
        == []
    )


def test_a_first_session_cannot_move_past_the_horizon(client, course, practitioner):
    client.force_login(course.patient.user)
    first = course.sessions.get(number=1)
    move(client, first, at(6, 10) + timedelta(days=540), practitioner)
    first.refresh_from_db()
    assert first.start == at(6, 10)


def test_a_first_session_cannot_pass_the_ones_after_it(client, course, practitioner):
    client.force_login(course.patient.user)
    first = course.sessions.get(number=1)
    page = move_page(client, first, at(8, 12), practitioner)  # after sessions 2 and 3
    assert "Session 2: from" in page.content.decode()
    assert starts_of(course) == [at(6, 10), at(7, 8), at(8, 5)]


def test_staff_may_waive_a_window_with_a_reason_but_never_the_order(course, desk):
    """Found by the state machine: a reason let staff put session 1 after session 2."""
    first = course.sessions.get(number=1)
    with pytest.raises(NeedsReplan, match="Session 2 must come after session 1"):
        session_move(
            session=first,
            new_start=at(7, 9),  # a day after session 2
            now=at(6, 1, 8),
            by_staff=True,
            override_reason="Patient asked",
            by=desk,
        )
    course.refresh_from_db()
    assert starts_of(course) == [at(6, 10), at(7, 8), at(8, 5)] and not course.waived


def admin_move(client, session, start, practitioner, **extra):
    return client.post(
        reverse("admin:booking_session_move", args=[session.pk]),
        {"practitioner": practitioner.pk, "start": start.isoformat(), **extra},
    )


def test_reception_moves_later_sessions_together_or_keeps_them_with_a_reason(
    client, desk, course, practitioner
):
    client.force_login(desk)
    second = course.sessions.get(number=2)
    page = admin_move(client, second, at(7, 14), practitioner).content.decode()
    assert "Session 3 must be between" in page  # 22 days before session 3
    assert "Move them all together" in page and "Move only this session" in page
    assert starts_of(course) == [at(6, 10), at(7, 8), at(8, 5)]  # nothing yet
    admin_move(client, second, at(7, 14), practitioner, override_reason="Check-up only")
    course.refresh_from_db()
    assert starts_of(course) == [at(6, 10), at(7, 14), at(8, 5)]
    assert "window" in course.waived and "Check-up only" in course.override_reason


def test_reception_cannot_keep_a_later_session_before_the_one_moved(
    client, desk, course, practitioner
):
    client.force_login(desk)
    first = course.sessions.get(number=1)
    page = admin_move(client, first, at(7, 9), practitioner).content.decode()
    assert "Session 2 must come after session 1" in page
    assert "Move only this session" not in page and "cannot stay before this one" in page
    admin_move(client, first, at(7, 9), practitioner, override_reason="Forged")  # as if offered
    course.refresh_from_db()
    assert starts_of(course) == [at(6, 10), at(7, 8), at(8, 5)] and not course.waived


def test_a_course_cancelled_after_a_session_marked_attended_early_is_completed(course, desk):
    """Found by the state machine: session 1 marked attended on its morning, before its start,
    then the rest cancelled, left a course "cancelled" with an attended session in it."""
    first = course.sessions.get(number=1)  # 10 June, 10:00
    session_mark_attended(session=first, by=desk, now=at(6, 10, 8))
    course_cancel(course=course, now=at(6, 10, 8, 30))
    course.refresh_from_db()
    assert course.status == Course.Status.COMPLETED
    assert list(course.sessions.active()) == [first]


# --- 6. Cancelling a middle session broke the course silently ----------------------------


def test_cancelling_a_middle_session_offers_a_new_time_for_the_next_one(client, course):
    client.force_login(course.patient.user)
    second, third = course.sessions.get(number=2), course.sessions.get(number=3)
    response = client.post(reverse("booking:session_cancel", args=[second.pk]))
    assert response.url == reverse("booking:replan", args=[course.pk])
    page = client.get(response.url).content.decode()
    assert "Session 3: from" in page and "Cancel session 2 and every session after it" in page
    second.refresh_from_db()
    assert second.status == Session.Status.BOOKED  # nothing yet
    client.post(response.url, {"choice": "together"})
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.status == Session.Status.CANCELLED
    window = rulebook.window_after_previous([(1, at(6, 10)), (3, third.start)], 3, SPACING, LONDON)
    assert window.holds(third.start, LONDON)


def test_staff_cancel_a_middle_session_only_with_the_later_ones_or_a_reason(client, desk, course):
    client.force_login(desk)
    second = course.sessions.get(number=2)
    page = client.post(reverse("admin:booking_session_cancel", args=[second.pk]), {"notify": "yes"})
    assert "Session 3 must be between" in page.content.decode()
    second.refresh_from_db()
    assert second.status == Session.Status.BOOKED
    client.post(
        reverse("admin:booking_session_cancel", args=[second.pk]),
        {"notify": "yes", "override_reason": "Session 3 is a check-up only, agreed"},
    )
    course.refresh_from_db()
    assert "window" in course.waived and course.override_by == desk


# --- 7. A one-session booking read "about 0 days apart" ---------------------------------


def test_a_consultation_never_speaks_of_spacing(client, now, practitioner):
    consultation = ConsultationFactory()
    practitioner.treatments.add(consultation)
    pages = [client.get(reverse("booking:start_with", args=[consultation.slug]), follow=True)]
    client.post(reverse("booking:start"), {"treatment": consultation.pk})
    pages.append(client.get(reverse("booking:length"), follow=True))
    answer_all(client, consultation)
    client.post(reverse("booking:practitioner"), {"practitioner": "any"})
    html = client.get(reverse("booking:time") + "?day=2026-06-08").content.decode()
    value = re.search(r'name="slot" value="([^"]+)"', html).group(1)
    client.post(reverse("booking:time"), {"slot": value})
    pages.append(client.get(reverse("booking:plan")))
    for page in pages:
        text = page.content.decode()
        assert "apart" not in text and "0 days" not in text and "Most people have 1" not in text


# --- Databases that already break a rule keep working, and say so ------------------------


def test_the_command_and_the_admin_list_a_course_that_breaks_a_rule(course, capsys, client):
    Session.objects.filter(course=course, number=3).update(
        start=at(8, 24), end=at(8, 24) + timedelta(minutes=75)
    )
    with pytest.raises(SystemExit) as ended:
        call_command("course_rules")
    assert ended.value.code == 1
    out = capsys.readouterr().out
    assert f"Course {course.pk}" in out and "Session 3 must be between" in out
    client.force_login(staff_user(None, "owner@clinic.example", is_superuser=True))
    listed = client.get(reverse("admin:booking_course_changelist"), {"rules": "broken"})
    assert [c.pk for c in listed.context["cl"].queryset] == [course.pk]
    page = client.get(reverse("admin:booking_course_change", args=[course.pk])).content.decode()
    assert "Breaks:" in page


# --- Instead of a second course: more sessions on the open one -------------------------


def test_a_patient_adds_a_session_to_their_course_from_my_appointments(
    client, course, django_capture_on_commit_callbacks
):
    client.force_login(course.patient.user)
    page = client.get(reverse("booking:appointments")).content.decode()
    assert reverse("booking:course_extend", args=[course.pk]) in page
    form = client.get(reverse("booking:course_extend", args=[course.pk])).content.decode()
    value = re.search(r'name="slot" id="time-1" value="([^"]+)"', form).group(1)
    client.post(reverse("booking:course_extend", args=[course.pk]), {"slot": value})
    course.refresh_from_db()
    fourth = course.sessions.get(number=4)
    assert course.sessions_planned == 4
    assert (
        rulebook.course_breaches(
            [(s.number, s.start) for s in course.sessions.active()], SPACING, LONDON
        )
        == []
    )
    assert fourth.start.astimezone(LONDON).date() >= at(9, 2).date()


def test_a_course_never_grows_past_the_treatments_maximum(course, practitioner):
    from booking.services import BookingError, course_extend, extension_proposals

    for _ in range(3):  # 3 sessions, at most 6
        (slot, *_rest) = extension_proposals(course=course, now=at(6, 1, 8))
        course_extend(course=course, slot=slot, now=at(6, 1, 8))
    assert extension_proposals(course=course, now=at(6, 1, 8))  # times exist, but
    with pytest.raises(BookingError, match="at most 6 sessions"):
        course_extend(
            course=course,
            slot=extension_proposals(course=course, now=at(6, 1, 8))[0],
            now=at(6, 1, 8),
        )


def test_an_added_session_outside_its_window_is_refused(course, practitioner):
    from booking.services import BookingError, course_extend

    too_soon = at(8, 12)  # 7 days after session 3
    with pytest.raises(BookingError, match="Session 4 must be between"):
        course_extend(
            course=course,
            slot=Slot(too_soon, too_soon + timedelta(minutes=75), practitioner.pk),
            now=at(6, 1, 8),
        )
    assert course.sessions.count() == 3


# --- 5. The practitioner changed silently ------------------------------------------------


def test_anyone_gets_one_practitioner_for_the_whole_course_where_one_can_take_it(
    now, treatment, patient
):
    from booking import selectors
    from booking.models import TimeOff
    from tests.booking.factories import PractitionerFactory

    away, steady = (PractitionerFactory(treatments=[treatment]) for _ in range(2))
    # The first slot's practitioner is away for all of session 2's window.
    TimeOff.objects.create(practitioner=away, start=at(7, 1, 0), end=at(7, 30, 0))
    first = Slot(at(6, 3, 10), at(6, 3, 11, 15), away.pk)
    chosen = selectors.course_proposal(
        first=first, treatment=treatment, sessions=3, now=now, patient=patient, anyone=True
    )
    assert {p.slot.practitioner_id for p in chosen} == {steady.pk}
    asked_for = selectors.course_proposal(
        first=first, treatment=treatment, sessions=3, now=now, patient=patient
    )
    assert asked_for[0].slot.practitioner_id == away.pk  # chosen by name: kept where it can be
    assert asked_for[1].reason  # and where it cannot, it says why


def test_a_move_offers_the_same_practitioner_unless_the_patient_asks_for_anyone(
    client, course, practitioner
):
    from tests.booking.factories import PractitionerFactory

    PractitionerFactory(treatments=[course.treatment], display_name="Dr Other")
    client.force_login(course.patient.user)
    second = course.sessions.get(number=2)
    url = reverse("booking:session_move", args=[second.pk])
    own = client.get(url, {"day": "2026-07-08"}).content.decode()
    values = re.findall(r'name="slot" value="[^"|]+\|(\d+)"', own)
    assert values and set(values) == {str(practitioner.pk)}
    assert f"Showing free times with {practitioner.display_name}" in own
    anyone = client.get(url, {"day": "2026-07-08", "with": "any"}).content.decode()
    assert 'aria-label="Wednesday 8 July 2026, 10:00 to 11:15 with Dr Other"' in anyone
    assert f'10:00 to 11:15</span><span class="slot-who">with {practitioner.display_name}' in anyone


def test_a_session_with_someone_else_is_shown_as_such_on_the_plan(
    client, clinic_ready, practitioner
):
    from booking.journey import Journey, slot_value
    from tests.booking.factories import PractitionerFactory

    other = PractitionerFactory(treatments=[clinic_ready], display_name="Dr Other")
    walk_to_plan(client, clinic_ready)
    journey = Journey.load(client)
    first, second, third = journey.slots(clinic_ready)
    moved = Slot(second.start, second.end, other.pk)
    session = client.session
    session["booking_journey"]["plan"] = [slot_value(s) for s in (first, moved, third)]
    session.save()
    page = client.get(reverse("booking:plan")).content.decode()
    assert "with Dr Other" in page and "Not the same practitioner as session 1" in page


# --- Nothing stored breaks a rule: the admin's change forms cannot edit times -----------


def test_the_session_and_course_forms_change_nothing(client, course, practitioner):
    owner = staff_user(None, "owner@clinic.example", is_superuser=True)
    client.force_login(owner)
    second = course.sessions.get(number=2)
    client.post(
        reverse("admin:booking_session_change", args=[second.pk]),
        {"start_0": "2026-07-30", "start_1": "10:00", "status": "cancelled"},
    )
    client.post(reverse("admin:booking_course_change", args=[course.pk]), {"sessions_planned": "6"})
    second.refresh_from_db()
    course.refresh_from_db()
    assert (second.start, second.status, course.sessions_planned) == (at(7, 8), "booked", 3)
