"""Reads behind phone booking: patients by name, email or phone; free times; the plan.

The plan comes from the journey's own planner (booking/courses.py) fed by the
journey's own selectors; nothing here decides what may be booked, only what
to show. The booking service re-checks everything on "Book".
"""

import uuid
from datetime import date, datetime, timedelta

from django.db.models import F, Q, Value
from django.db.models.functions import Replace
from django.utils import timezone

from education.models import Treatment

from .. import rulebook, selectors, services
from ..availability import Slot
from ..courses import PlannedSession, course_replan, session_window
from ..journey import slot_value
from ..models import BookingRules, Practitioner

RESULTS = 20


def patients_matching(queryset, text: str):
    """Patients whose name or email contains `text`, or whose phone holds its digits."""
    digits = "".join(c for c in text if c.isdigit())
    match = Q(full_name__icontains=text) | Q(user__email__icontains=text)
    if len(digits) >= 4:  # fewer would match half the list
        phone = F("phone")
        for mark in (" ", "-", "(", ")", ".", "+"):  # "07700 900-123" is 07700900123
            phone = Replace(phone, Value(mark), Value(""))
        queryset = queryset.annotate(phone_digits=phone)
        match |= Q(phone_digits__contains=digits)
    return queryset.filter(match).select_related("user")[:RESULTS]


def rules_for(*, short_notice: bool) -> BookingRules:
    """The clinic's rules, without the minimum notice when staff look inside it."""
    rules = BookingRules.current()
    return services.staff_rules(rules) if short_notice else rules


def new_key() -> str:
    """The booking's idempotency key: a second click on "Book" finds the first course."""
    return f"phone-{uuid.uuid4().hex}"


def practitioners_chosen(treatment: Treatment, chosen: Practitioner | None) -> list[Practitioner]:
    everyone = selectors.practitioners_for(treatment)
    return everyone if chosen is None else [p for p in everyone if p.pk == chosen.pk]


def is_offered(
    slot: Slot | None,
    *,
    treatment: Treatment,
    practitioner: Practitioner | None,
    patient,
    short_notice: bool,
) -> bool:
    """Is `slot` one of the free times step 2 shows (as the journey checks its choice)?"""
    if slot is None:
        return False
    day = slot.start.astimezone(selectors.clinic_zone()).date()
    return slot in set(
        selectors.free_slots(
            treatment=treatment,
            day_from=day,
            day_to=day,
            now=timezone.now(),
            practitioners=practitioners_chosen(treatment, practitioner),
            patient=patient,
            rules=rules_for(short_notice=short_notice),
        )
    )


def first_session_times(
    *,
    treatment: Treatment,
    practitioner: Practitioner | None,
    patient,
    short_notice: bool,
    day: date | None,
    days: int,
) -> tuple[date, list[dict], date | None]:
    """`day`'s free times for a first session (by default the first bookable day),
    and the next day after it with some, looking `days` ahead: one search."""
    now, zone = timezone.now(), selectors.clinic_zone()
    rules = rules_for(short_notice=short_notice)
    day = day or (now + rules.min_notice).astimezone(zone).date()
    found = selectors.free_slots(
        treatment=treatment,
        day_from=day,
        day_to=day + timedelta(days=days - 1),
        now=now,
        practitioners=practitioners_chosen(treatment, practitioner),
        patient=patient,
        rules=rules,
    )
    names = {p.pk: p for p in selectors.practitioners_for(treatment)}
    notice_ends = now + BookingRules.current().min_notice
    on_day = [
        {
            "slot": s,
            "value": slot_value(s),
            "practitioner": names.get(s.practitioner_id),
            "short_notice": s.start < notice_ends,
        }
        for s in found
        if s.start.astimezone(zone).date() == day
    ]
    later = sorted({s.start.astimezone(zone).date() for s in found} - {day})
    return day, on_day, later[0] if later else None


def planned(
    first: Slot, *, treatment: Treatment, sessions: int, patient, anyone: bool = False
) -> list[PlannedSession]:
    """The journey's planner (selectors.course_proposal), for the phone booking's step 3."""
    return selectors.course_proposal(
        first=first,
        treatment=treatment,
        sessions=sessions,
        now=timezone.now(),
        patient=patient,
        anyone=anyone,
    )


def form_values(number: int, slot: Slot | None) -> dict[str, str]:
    """The plan form's values for one later session (blank where there is no time)."""
    local = slot.start.astimezone(selectors.clinic_zone()) if slot else None
    return {
        f"s{number}_date": f"{local:%Y-%m-%d}" if local else "",
        f"s{number}_time": f"{local:%H:%M}" if local else "",
        f"s{number}_practitioner": str(slot.practitioner_id) if slot else "",
    }


def plan_values(plan: list[PlannedSession]) -> dict[str, str]:
    values = {}
    for item in plan[1:]:
        values.update(form_values(item.number, item.slot))
    return values


def plan_rows(slots: list[Slot | None], treatment: Treatment, notes: dict[int, str]) -> list[dict]:
    """Each session's time, practitioner and window (from the session before, as it stands)."""
    zone, spacing = selectors.clinic_zone(), rulebook.spacing_of(treatment)
    names = {p.pk: p for p in Practitioner.objects.filter(treatments=treatment)}
    rows = []
    for index, slot in enumerate(slots):
        before = slots[index - 1] if index else None
        window = session_window(before.start, spacing, zone) if before else None
        rows.append(
            {
                "number": index + 1,
                "slot": slot,
                "practitioner": names.get(slot.practitioner_id) if slot else None,
                "window": window,
                "outside": bool(slot and window and not window.holds(slot.start, zone)),
                "note": notes.get(index + 1, ""),
            }
        )
    return rows


def suggestions(slots: list[Slot | None], *, treatment: Treatment, patient) -> dict[int, dict]:
    """For sessions outside their window, the planner's time inside it, by session number.

    Only offered: staff may keep a time outside the window, with a reason.
    """
    zone, spacing = selectors.clinic_zone(), rulebook.spacing_of(treatment)
    if not all(slots) or all(
        session_window(a.start, spacing, zone).holds(b.start, zone)
        for a, b in zip(slots, slots[1:], strict=False)
    ):
        return {}
    proposals = course_replan(
        starts=[s.start for s in slots],
        changed=1,
        spacing=spacing,
        zone=zone,
        practitioner_id=slots[0].practitioner_id,
        find_slots=selectors.slot_finder(
            treatment=treatment,
            practitioner=Practitioner(pk=slots[0].practitioner_id),
            now=timezone.now(),
            patient=patient,
        ),
    )
    names = {p.pk: p for p in Practitioner.objects.filter(treatments=treatment)}
    return {
        p.number: {
            "slot": p.slot,
            "practitioner": names.get(p.slot.practitioner_id),
            "value": f"{p.number}|{slot_value(p.slot)}",
        }
        for p in proposals
        if p.slot
    }


def alternatives_shown(alternatives: list[Slot], slots: list[Slot | None]) -> list[dict]:
    """The nearest free times after a refusal, each offered for the session it is nearest."""
    chosen = [(n, s.start) for n, s in enumerate(slots, start=1) if s]
    names = {
        p.pk: p
        for p in Practitioner.objects.filter(pk__in={a.practitioner_id for a in alternatives})
    }

    def nearest_session(start: datetime) -> int:
        return min(chosen, key=lambda c: abs(c[1] - start))[0] if chosen else 1

    return [
        {
            "slot": slot,
            "number": (number := nearest_session(slot.start)),
            "practitioner": names.get(slot.practitioner_id),
            "value": f"{number}|{slot_value(slot)}",
        }
        for slot in alternatives
    ]
