"""What the staff schedule shows (booking/schedule.py lays it out)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from education.models import Treatment

from ..deposits.models import DepositCheckout
from ..models import BookingRules, Practitioner, Session
from ..schedule import Away, Entry, Roster, ScheduleData, day_bounds, span
from ..schedule_marks import colours_by_practitioner
from .free_times import availability_inputs, free_slots


def schedule_data(
    *,
    day_from: date,
    day_to: date,
    zone: ZoneInfo,
    cancelled: bool = False,
    only_practitioner: int | None = None,
    contact: bool = True,
    hold_patients: bool = True,
    deposit_patients: bool = True,
) -> ScheduleData:
    """What the staff schedule of these local dates shows, in four queries whatever its size.

    Practitioners: the active ones, and any other with a session in the range
    (their sessions must not vanish when they leave); `only_practitioner` is a
    clinician's scope, applied here so nothing else is read. Their hours, time
    off and the closures come from the one availability read; the sessions are
    listed with their patients and courses (their phone numbers only with
    `contact`). The treatments to filter by: those the practitioners offer and
    those of the sessions shown. Each practitioner's colour comes from everyone's
    ids, so it is the same whoever looks and whatever the filter.

    Live waitlist holds are listed with the sessions (same query), as held, with the
    treatment and entry they are offered for; their patient's name only with
    `hold_patients` (staff who see the waitlist). A time held while its patient pays an
    online deposit (booking/deposits/) has no offer: it is listed with the treatment and
    checkout it is held for, its patient's name only with `deposit_patients` (staff who
    see the deposits). Session.objects leaves holds out, so they are read through
    Session.with_holds; a released hold is nobody's and never shown.
    """
    start, end = day_bounds(day_from, zone)[0], day_bounds(day_to, zone)[1]
    sessions = Session.with_holds.filter(
        Q(course__isnull=False) | Q(status=Session.Status.HELD)
    ).overlapping(start, end)
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
    colours = colours_by_practitioner(
        Practitioner.objects.order_by("pk").values_list("pk", flat=True)
    )
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
            colours.get(calendar.practitioner_id, 0),
        )
        for calendar in found.calendars
    ]
    phone = "patient__phone" if contact else Value("", output_field=CharField())
    # A deposit's hold: its checkout, through the holds table (read in the same query; only
    # for held rows with no course and no offer, as SQL's CASE and COALESCE stop at the first
    # answer).
    deposit = DepositCheckout.holds.through.objects.filter(session_id=OuterRef("pk"))
    entries = [
        # in Entry's field order, to consent_to_sign; then a hold's expiry, entry and checkout
        Entry(
            *row[:5],
            span(row[3], row[4], zone),
            *row[5:13],
            held_until=_held_until(row[13], row[3], zone),
            waitlist_entry_id=row[14],
            checkout_id=row[15],
            colour=colours.get(row[1], 0),
        )
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
            phone,
            # A hold has no course: its treatment is the waitlist entry's, or the checkout's.
            Coalesce(
                "course__treatment_id",
                "offer__entry__treatment_id",
                Subquery(deposit.values("depositcheckout__treatment_id")[:1]),
                output_field=IntegerField(),
            ),
            Coalesce(
                "course__treatment__name",
                "offer__entry__treatment__name",
                Subquery(deposit.values("depositcheckout__treatment__name")[:1]),
                output_field=CharField(),
            ),
            "consent_to_sign",
            "held_until",
            "offer__entry_id",
            Case(
                When(
                    status=Session.Status.HELD,
                    offer__isnull=True,
                    then=Subquery(deposit.values("depositcheckout_id")[:1]),
                ),
                default=None,
                output_field=IntegerField(),
            ),
        )
    ]
    hidden = {"waitlist": not hold_patients, "deposit": not deposit_patients}
    entries = [
        replace(e, patient="", phone="") if e.is_hold and hidden[e.held_for] else e for e in entries
    ]
    treatments.update((e.treatment_id, e.treatment) for e in entries if e.treatment_id)
    return ScheduleData(
        rosters, entries, found.closed, sorted(treatments.items(), key=lambda t: (t[1], t[0]))
    )


def _held_until(until: datetime | None, start: datetime, zone: ZoneInfo) -> str:
    """ "12:00", or "12:00 Tue 2 Jun" when the hold runs out on another day than its time."""
    if until is None:
        return ""
    local = until.astimezone(zone)
    if local.date() == start.astimezone(zone).date():
        return f"{local:%H:%M}"
    return f"{local:%H:%M %a %-d %b}"


def free_starts(
    *,
    day: date,
    practitioner_ids: Sequence[int],
    now: datetime,
    rules: BookingRules,
    treatment_id: int | None = None,
) -> dict[int, tuple[int | None, list[datetime]]]:
    """Where a booking could start on `day`, for the schedule's free gaps: for each active
    practitioner, the treatment it would be for and the start times free for it.

    The treatment: `treatment_id` (the schedule's filter) if they offer it, else the one
    published treatment they offer, else None (several: staff choose; the times are
    those where any of them fits). The times are the slot finder's under `rules`, the
    ones phone booking offers, so the rules are the journey's own. One query for the
    treatments and one availability read a treatment.
    """
    offered = defaultdict(list)
    treatments = {}
    rows = Practitioner.treatments.through.objects.filter(
        practitioner_id__in=practitioner_ids,
        practitioner__is_active=True,
        treatment__in=Treatment.objects.published(),
    ).select_related("treatment")
    for row in rows:
        if treatment_id in (None, row.treatment_id):
            offered[row.practitioner_id].append(row.treatment_id)
            treatments[row.treatment_id] = row.treatment
    starts = defaultdict(set)
    for pk, treatment in treatments.items():
        found = free_slots(
            treatment=treatment,
            day_from=day,
            day_to=day,
            now=now,
            practitioners=[Practitioner(pk=p) for p in offered if pk in offered[p]],
            rules=rules,
        )
        for slot in found:
            starts[slot.practitioner_id].add(slot.start)
    return {
        p: (ids[0] if len(ids) == 1 else None, sorted(starts[p]))
        for p, ids in offered.items()
        if starts[p]
    }
