"""Which waiting entry a freed time goes to, and at what time (reads only).

For one freed stretch of time: the waiting entries it could suit, found by one
SQL query (treatment offered there, practitioner, dates, days of the week, no
live offer, under the day's cap) in the clinic's fair order, at most
CANDIDATES of them; then, in that order, the first whose patient is free and
whose course keeps every rule at the earliest free time that overlaps the
freed stretch and suits the entry's days and parts of the day. The queries
are bounded by CANDIDATES, not by the number of entries.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db.models import Count, F, Q

from .. import rulebook, selectors
from ..availability import Slot, slots_available
from ..models import BookingRules, Practitioner, ReminderSettings, Session
from ..reminder_timing import after_quiet_hours
from .models import STALE_ANSWERS, Offer, WaitlistEntry, WaitlistSettings, part_of_day

CANDIDATES = 25
# The treatment's page text: never needed to match, and the largest part of its row.
TREATMENT_PAGE_TEXT = (
    "body",
    "body_html",
    "toc",
    "who_it_helps",
    "who_it_helps_html",
    "aftercare",
    "aftercare_html",
    "risks",
    "risks_html",
    "other_names",
    "search_vector",
)
SLOTS_CHECKED = 3  # times checked against one patient's own sessions and course rules
# An offer leaves the patient at least this long to answer, or is not made.
SHORTEST_HOLD = timedelta(minutes=15)


@dataclass(frozen=True)
class Match:
    entry: WaitlistEntry
    slot: Slot


def offer_due(now: datetime, config: ReminderSettings | None = None) -> datetime:
    """When an offer made now is sent: now, or when the quiet hours end."""
    config = config or ReminderSettings.current()
    return after_quiet_hours(now, selectors.clinic_zone(), config.quiet_from, config.quiet_until)


def shortest_hold(config=None) -> timedelta:
    """The least time an offer leaves the patient to answer: SHORTEST_HOLD, or the clinic's
    whole hold when that is shorter (a hold set in seconds would otherwise never be offered)."""
    config = config or WaitlistSettings.current()
    return min(SHORTEST_HOLD, config.hold_for)


def hold_expiry(start: datetime, sent_at: datetime, *, rules=None, config=None) -> datetime:
    """Until when an offer sent at `sent_at` for a time starting at `start` holds it: the
    clinic's hold length, never past the minimum notice before the session."""
    rules = rules or BookingRules.current()
    config = config or WaitlistSettings.current()
    # In UTC: real hours (Python adds wall time to a datetime in a zone with DST).
    sent_at, start = sent_at.astimezone(UTC), start.astimezone(UTC)
    return min(sent_at + config.hold_for, start - rules.min_notice)


def _midnight(now: datetime) -> datetime:
    zone = selectors.clinic_zone()
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)


def candidates(
    *,
    practitioner_ids: Sequence[int],
    start: datetime,
    end: datetime,
    now: datetime,
    exclude: Sequence[int] = (),
    config: WaitlistSettings | None = None,
) -> list[WaitlistEntry]:
    """Waiting entries the time from `start` to `end` could suit, fairest first (one query)."""
    config = config or WaitlistSettings.current()
    zone = selectors.clinic_zone()
    first_day, last_day = start.astimezone(zone).date(), end.astimezone(zone).date()
    days = min((last_day - first_day).days + 1, 7)
    mask = 0
    for n in range(days):
        mask |= 1 << (first_day + timedelta(days=n)).weekday()
    offered = Practitioner.treatments.through.objects.filter(
        practitioner_id__in=practitioner_ids, practitioner__is_active=True
    ).values("treatment_id")
    # Patients with a live offer, or today's number of offers: each read once (a hashed
    # NOT IN), not once per entry as a correlated subquery would be.
    at_cap = (
        Offer.objects.filter(created_at__gte=_midnight(now))
        .order_by()
        .values("patient_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=config.offers_per_day)
        .values("patient_id")
    )
    order = ["created_at", "pk"]
    if config.prefer_mid_course:
        order = [F("window_closes").asc(nulls_last=True), *order]
    return list(
        WaitlistEntry.objects.filter(
            status=WaitlistEntry.Status.WAITING,
            date_from__lte=last_day,
            date_to__gte=max(first_day, now.astimezone(zone).date()),
            treatment_id__in=offered,
        )
        .filter(Q(practitioner__isnull=True) | Q(practitioner_id__in=practitioner_ids))
        .exclude(pk__in=list(exclude))
        .annotate(on_days=F("weekdays").bitand(mask))
        .filter(on_days__gt=0)
        .exclude(patient_id__in=Offer.objects.live().values("patient_id"))
        .exclude(patient_id__in=at_cap)
        .exclude(STALE_ANSWERS)  # not bookable with those answers (the sweep ends them)
        .select_related("treatment", "patient", "session")
        .defer(*(f"treatment__{name}" for name in TREATMENT_PAGE_TEXT))
        .order_by(*order)[:CANDIDATES]
    )


def suits_entry(entry: WaitlistEntry, slot: Slot) -> bool:
    """Inside the entry's dates, days of the week and parts of the day."""
    local = slot.start.astimezone(selectors.clinic_zone())
    return (
        entry.date_from <= local.date() <= entry.date_to
        and bool(entry.weekdays & (1 << local.weekday()))
        and bool(entry.parts_of_day & part_of_day(local.time()))
    )


def course_refusal(
    entry: WaitlistEntry, slot: Slot, now: datetime, rules=None, *, plan: bool = True
) -> str:
    """Why booking `slot` for this entry would break a booking rule ("" when it would not).

    A first session: the notice and horizon, the rules across the patient's
    courses, and a time for every later session of the course. An earlier time for
    a booked session: the session can still be moved by the patient, the time is
    earlier, and the course keeps every window.
    """
    rules = rules or BookingRules.current()
    zone, treatment = selectors.clinic_zone(), entry.treatment
    if entry.session_id is None:
        if breach := rulebook.first_session_breach(slot.start, now, rules):
            return breach.message
        across = selectors.new_course_breaches(
            patient=entry.patient, treatment=treatment, first_start=slot.start, now=now, rules=rules
        )
        if across or not plan:
            return across[0].message if across else ""
        # An offer the patient can take: every later session of the course has a time.
        plan = selectors.course_proposal(
            first=slot,
            treatment=treatment,
            sessions=entry.sessions_wanted or treatment.sessions_usual,
            now=now,
            patient=entry.patient,
            rules=rules,
        )
        return "" if all(p.slot for p in plan) else "No time for a later session."
    session = entry.session
    if breach := rulebook.change_breach(session.status, session.start, now, rules, by_staff=False):
        return breach.message
    if slot.start >= session.start:
        return "Not earlier than the session."
    if slot.start < now + rules.min_notice:
        return "Inside the minimum notice."
    starts = dict(
        Session.objects.active().filter(course_id=session.course_id).values_list("number", "start")
    )
    first = session.number == min(starts, default=session.number)
    if first and (breach := rulebook.first_session_breach(slot.start, now, rules)):
        return breach.message
    starts[session.number] = slot.start
    breaches = rulebook.course_breaches(starts.items(), rulebook.spacing_of(treatment), zone)
    return breaches[0].message if breaches else ""


def patient_busy(entry: WaitlistEntry, slot: Slot) -> bool:
    """The patient has a session or a hold at that time (the one the entry is for aside)."""
    return (
        Session.with_holds.active()
        .overlapping(slot.start, slot.end)
        .filter(patient_id=entry.patient_id)
        .exclude(pk=entry.session_id)
        .exists()
    )


def entry_match(
    *,
    practitioner_ids: Sequence[int] | None,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude: Sequence[int] = (),
    tried: set[int] | None = None,
    rules: BookingRules | None = None,
    config: WaitlistSettings | None = None,
    quiet: ReminderSettings | None = None,
) -> Match | None:
    """The first entry, in the clinic's order, with a time for it in [start, end); None.
    (`rules`, `config` and `quiet`: the settings rows, when the caller has read them.)"""
    rules, config = rules or BookingRules.current(), config or WaitlistSettings.current()
    zone = selectors.clinic_zone()
    sent = offer_due(now, quiet).astimezone(UTC)  # in UTC: real hours across a DST change
    # A start the patient can still take.
    earliest = sent + shortest_hold(config) + rules.min_notice
    if end <= earliest:
        return None
    if practitioner_ids is None:
        practitioner_ids = list(
            Practitioner.objects.filter(is_active=True).values_list("pk", flat=True)
        )
    found = candidates(
        practitioner_ids=practitioner_ids,
        start=start,
        end=end,
        now=now,
        exclude=exclude,
        config=config,
    )
    if not found:
        return None
    # The one availability read for all these practitioners, made once: every entry's
    # free times are worked out from it (the same read per treatment cost a query each).
    longest = max(timedelta(minutes=e.treatment.appointment_minutes) for e in found)
    inputs = selectors.availability_inputs(
        practitioner_ids=practitioner_ids,
        day_from=(start - longest).astimezone(zone).date(),
        day_to=end.astimezone(zone).date(),
        buffer=rules.buffer,
    )
    calendars = {c.practitioner_id: c for c in inputs.calendars}
    # The times these entries were offered already (declined, lapsed): not offered again.
    offered_before: dict[int, list] = {}
    for entry_id, *held in Session.with_holds.filter(
        offer__entry_id__in=[e.pk for e in found]
    ).values_list("offer__entry_id", "practitioner_id", "start", "end"):
        offered_before.setdefault(entry_id, []).append(held)
    free: dict[tuple[int, int | None], list[Slot]] = {}  # (treatment, practitioner) -> slots
    for entry in found:
        if tried is not None:
            tried.add(entry.pk)
        key = (entry.treatment_id, entry.practitioner_id)
        if key not in free:
            who = [
                calendars[p.pk]
                for p in selectors.practitioners_for(entry.treatment)
                if p.pk in calendars and entry.practitioner_id in (None, p.pk)
            ]
            duration = timedelta(minutes=entry.treatment.appointment_minutes)
            free[key] = [
                slot
                for slot in slots_available(
                    calendars=who,
                    duration=duration,
                    day_from=(start - duration).astimezone(zone).date(),
                    day_to=end.astimezone(zone).date(),
                    zone=zone,
                    earliest=max(earliest, start - duration),
                    latest=end,
                    step=rules.step,
                    buffer=rules.buffer,
                    closures=inputs.closures,
                )
                if slot.start < end and slot.end > start
            ]
            # The freed time's own start first (a cancelled 10:00 is offered at 10:00).
            free[key].sort(key=lambda slot: (abs(slot.start - start), slot.start))
        checked = 0
        for slot in free[key]:
            if not suits_entry(entry, slot) or any(
                slot.practitioner_id == p and slot.start < e and s < slot.end
                for p, s, e in offered_before.get(entry.pk, ())
            ):
                continue
            if not (patient_busy(entry, slot) or course_refusal(entry, slot, now, rules)):
                return Match(entry, slot)
            checked += 1
            if checked == SLOTS_CHECKED:
                break
    return None
