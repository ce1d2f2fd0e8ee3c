"""What the staff schedule shows (booking/schedule.py lays it out)."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, Case, Q, Value, When

from ..models import (
    Practitioner,
    Session,
)
from ..schedule import Away, Entry, Roster, ScheduleData, day_bounds, span
from .free_times import availability_inputs


def schedule_data(
    *,
    day_from: date,
    day_to: date,
    zone: ZoneInfo,
    cancelled: bool = False,
    only_practitioner: int | None = None,
) -> ScheduleData:
    """What the staff schedule of these local dates shows, in three queries whatever its size.

    Practitioners: the active ones, and any other with a session in the range
    (their sessions must not vanish when they leave); `only_practitioner` is a
    clinician's scope, applied here so nothing else is read. Their hours, time
    off and the closures come from the one availability read; the sessions are
    listed with their patients and courses. The treatments to filter by: those
    the practitioners offer and those of the sessions shown.
    """
    start, end = day_bounds(day_from, zone)[0], day_bounds(day_to, zone)[1]
    sessions = Session.objects.overlapping(start, end)
    if not cancelled:
        sessions = sessions.active()
    practitioners = Practitioner.objects.filter(
        Q(is_active=True) | Q(pk__in=sessions.values("practitioner_id"))
    )
    if only_practitioner is not None:
        practitioners = practitioners.filter(pk=only_practitioner)
        sessions = sessions.filter(practitioner_id=only_practitioner)

    names: dict[int, str] = {}
    treatments: dict[int, str] = {}
    rows = practitioners.order_by("display_name", "pk").values_list(
        "pk", "display_name", "treatments__pk", "treatments__name"
    )
    for pk, name, treatment_id, treatment in rows:
        names[pk] = name
        if treatment_id is not None:
            treatments[treatment_id] = treatment
    found = availability_inputs(
        practitioner_ids=list(names), day_from=day_from, day_to=day_to, buffer=timedelta(0)
    )
    rosters = [
        Roster(
            calendar.practitioner_id,
            names[calendar.practitioner_id],
            tuple(sorted(set(calendar.shifts), key=lambda s: (s.weekday, s.start))),
            tuple(
                sorted(
                    (
                        Away(s, e, reason)
                        for s, e, reason in found.away.get(calendar.practitioner_id, [])
                        if s < end and e > start
                    ),
                    key=lambda away: away.start,
                )
            ),
        )
        for calendar in found.calendars
    ]
    entries = [
        Entry(*row[:5], span(row[3], row[4], zone), *row[5:])  # in Entry's field order
        for row in sessions.annotate(
            consent_to_sign=Case(
                When(
                    course__consent_method="paper",
                    course__consent_given_at__isnull=True,
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("start", "pk")
        .values_list(
            "pk",
            "practitioner_id",
            "practitioner__display_name",
            "start",
            "end",
            "status",
            "number",
            "course__sessions_planned",
            "patient__full_name",
            "patient__phone",
            "course__treatment_id",
            "course__treatment__name",
            "consent_to_sign",
        )
    ]
    treatments.update((e.treatment_id, e.treatment) for e in entries)
    return ScheduleData(
        rosters, entries, found.closed, sorted(treatments.items(), key=lambda t: (t[1], t[0]))
    )
