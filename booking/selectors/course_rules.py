"""The booking rules across a patient's courses, and the stored courses that break a rule."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q
from django.utils.translation import gettext

from education.models import Treatment

from .. import rulebook
from ..models import (
    TO_HAPPEN,
    BookingRules,
    Course,
    Patient,
    Session,
)
from .free_times import clinic_zone


def treatment_history(
    *, patient: Patient, treatment: Treatment, now: datetime, exclude_course_id: int | None = None
) -> tuple[int, datetime | None]:
    """For the across-course rules: the patient's open courses of `treatment` (a session still
    to come is booked), and the start of their last attended or booked session of it
    (booking/rulebook.py new_course_breaches)."""
    sessions = Session.objects.filter(course__patient=patient, course__treatment=treatment)
    if exclude_course_id is not None:
        sessions = sessions.exclude(course_id=exclude_course_id)
    found = sessions.aggregate(  # one query
        open=Count("course", filter=Q(status__in=TO_HAPPEN, start__gt=now), distinct=True),
        last=Max("start", filter=Q(status__in=[*TO_HAPPEN, Session.Status.ATTENDED])),
    )
    return found["open"], found["last"]


def new_course_breaches(*, patient: Patient, treatment: Treatment, first_start, now, rules):
    """The rules across the patient's courses for a new course of `treatment` starting at
    `first_start` (booking/rulebook.py new_course_breaches, fed by treatment_history)."""
    open_courses, last_start = treatment_history(patient=patient, treatment=treatment, now=now)
    return rulebook.new_course_breaches(
        first_start=first_start,
        open_courses=open_courses,
        allowed=rules.courses_per_treatment,
        last_start=last_start,
        spacing=rulebook.spacing_of(treatment),
        zone=clinic_zone(),
        treatment_name=treatment.name,
    )


def next_course_start(
    *, patient: Patient, treatment: Treatment, after: datetime, exclude_course_id: int
) -> datetime | None:
    """For a session added to a course: the first session of the patient's next course of
    `treatment` (another course whose first active session comes after `after`), if any
    (booking/rulebook.py added_session_breaches)."""
    return (
        Session.objects.active()
        .filter(course__patient=patient, course__treatment=treatment)
        .exclude(course_id=exclude_course_id)
        .values("course")
        .annotate(first=Min("start"))
        .filter(first__gt=after)
        .order_by("first")
        .values_list("first", flat=True)
        .first()
    )


def previous_active(session) -> "Session | None":
    """The active session of the same course just before `session` (by number)."""
    return (
        session.course.sessions.active()
        .filter(number__lt=session.number)
        .order_by("-number")
        .first()
    )


@dataclass(frozen=True)
class CourseBreaches:
    course: "Course"
    breaches: list  # booking/rulebook.py Breach


def courses_breaking_rules(*, now: datetime, courses=None) -> list[CourseBreaches]:
    """Every stored course that breaks a booking rule (booking/rulebook.py), oldest first.

    Within a course: order and windows of its active sessions, less the rules
    staff waived for it with a reason; for an open course, its consent (how it
    was given, signed by the first visit when on paper) and health answers.
    Across courses, per patient and
    treatment: more open courses than the clinic allows, and a course whose
    first session comes sooner after the patient's last attended or booked
    session of another course than the treatment's minimum gap. For the
    `course_rules` command, the admin's list, and the tests' database checks.
    """
    from .. import rulebook

    rules = BookingRules.current()
    zone = clinic_zone()
    courses = (courses if courses is not None else Course.objects.all()).select_related(
        "treatment", "patient"
    )
    found: dict[int, CourseBreaches] = {}
    groups: dict[tuple[int, int], list] = defaultdict(list)
    for course in courses.prefetch_related("sessions", "treatment__questions").order_by(
        "created_at", "pk"
    ):
        active = sorted(
            (s for s in course.sessions.all() if s.status != Session.Status.CANCELLED),
            key=lambda s: s.number,
        )
        spacing = rulebook.spacing_of(course.treatment)
        breaches = [
            b
            for b in rulebook.course_breaches(((s.number, s.start) for s in active), spacing, zone)
            if b.rule not in course.waived
        ]
        if any(s.status in TO_HAPPEN for s in active):  # an open course
            consent = rulebook.consent_breach(
                has_version=course.consent_id is not None,
                method=course.consent_method,
                given=course.consent_given_at is not None,
                first_attended=active[0].status == Session.Status.ATTENDED,
            )
            asked = len(course.treatment.questions.all()) and not course.treatment.is_consultation
            if asked and not (course.suitability_answers or {}).get("questions"):
                breaches.append(
                    rulebook.Breach(rulebook.ANSWERS, gettext("No health answers recorded."))
                )
            if consent:
                breaches.append(consent)
        if breaches:
            found[course.pk] = CourseBreaches(course, breaches)
        if active:
            groups[(course.patient_id, course.treatment_id)].append((course, active))
    for group in groups.values():
        group.sort(key=lambda item: min(s.start for s in item[1]))
        open_seen = 0
        for course, active in group:
            first = min(s.start for s in active)
            spacing = rulebook.spacing_of(course.treatment)
            extra = []
            if any(s.status in TO_HAPPEN and s.start > now for s in active):
                open_seen += 1
                if open_seen > rules.courses_per_treatment:
                    extra.append(
                        rulebook.Breach(
                            rulebook.ONE_COURSE, gettext("More open courses than allowed.")
                        )
                    )
            before = [
                s.start
                for other, sessions in group
                if other.pk != course.pk
                for s in sessions
                if s.start < first and s.status in (*TO_HAPPEN, Session.Status.ATTENDED)
            ]
            if before:
                earliest = rulebook.earliest_new_course(max(before), spacing, zone)
                if first.astimezone(zone).date() < earliest:
                    extra.append(
                        rulebook.Breach(
                            rulebook.AFTER_LAST,
                            gettext(
                                "Starts before %(date)s, the treatment's minimum gap "
                                "after the patient's session of another course."
                            )
                            % {"date": f"{earliest:%-d %B %Y}"},
                            1,
                            earliest=earliest,
                        )
                    )
            if extra:
                entry = found.get(course.pk) or CourseBreaches(course, [])
                found[course.pk] = CourseBreaches(course, entry.breaches + extra)
    return sorted(found.values(), key=lambda e: (e.course.created_at, e.course.pk))
