"""Course plans: the proposal from a chosen first session, and changes to a planned session."""

from collections.abc import Sequence
from datetime import datetime

from education.models import Treatment

from ..availability import Slot
from ..models import (
    BookingRules,
    Patient,
    Practitioner,
)
from .free_times import clinic_zone, free_slots, practitioners_for, slot_finder


def course_proposal(
    *,
    first: Slot,
    treatment: Treatment,
    sessions: int,
    now: datetime,
    patient: Patient | None = None,
    anyone: bool = False,
    rules: BookingRules | None = None,
) -> list:
    """The course plan (booking/courses.py course_plan) from a chosen first session.

    One practitioner for the whole course where one can take it: the first
    slot's own practitioner keeps every session they have time for, and with
    `anyone` (the patient did not choose), each practitioner free at that same
    first time is tried, and the first who can take every session is chosen.
    Otherwise a session goes to someone else only where the plan says why.
    The journey, phone booking, the demo and the benchmarks all plan here.
    """
    from ..courses import course_plan
    from ..rulebook import spacing_of

    def plan_with(slot: Slot) -> list:
        return course_plan(
            first=slot,
            sessions=sessions,
            spacing=spacing_of(treatment),
            zone=clinic_zone(),
            find_slots=slot_finder(
                treatment=treatment,
                practitioner=Practitioner(pk=slot.practitioner_id),
                now=now,
                patient=patient,
                rules=rules,
            ),
        )

    plan = plan_with(first)
    if not anyone or _one_practitioner(plan):
        return plan
    day = first.start.astimezone(clinic_zone()).date()
    for other in free_slots(
        treatment=treatment, day_from=day, day_to=day, now=now, patient=patient, rules=rules
    ):
        if other.start == first.start and other.practitioner_id != first.practitioner_id:
            candidate = plan_with(other)
            if _one_practitioner(candidate):
                return candidate
    return plan


def _one_practitioner(plan) -> bool:
    return all(p.slot for p in plan) and len({p.slot.practitioner_id for p in plan}) == 1


def plan_session_choices(
    *,
    treatment: Treatment,
    slots: Sequence[Slot | None],
    number: int,
    window,
    now: datetime,
    patient: Patient | None,
) -> list[Slot]:
    """Free times for session `number` of a plan inside its window (booking/courses.py
    Window), clashing with none of the plan's other sessions."""
    others = [s for i, s in enumerate(slots) if s and i != number - 1]
    return [
        s
        for s in free_slots(
            treatment=treatment,
            day_from=window.first_day,
            day_to=window.last_day,
            now=now,
            practitioners=practitioners_for(treatment),
            patient=patient,
            latest=window.ends_at(clinic_zone()),
        )
        if not any(s.start < o.end and o.start < s.end for o in others)
    ]


def plan_session_change(
    *,
    treatment: Treatment,
    slots: Sequence[Slot | None],
    number: int,
    slot: Slot,
    now: datetime,
    patient: Patient | None,
) -> tuple[list[Slot | None], list[int]]:
    """The plan with session `number` at `slot`, and the numbers of the later sessions
    moved to keep the gap between sessions (booking/courses.py course_replan)."""
    from ..courses import course_replan
    from ..rulebook import spacing_of

    changed = list(slots)
    changed[number - 1] = slot
    starts = [s.start if s else None for s in changed]
    if not all(starts):
        return changed, []
    practitioner = Practitioner(pk=changed[0].practitioner_id)
    proposals = course_replan(
        starts=starts,
        changed=number,
        spacing=spacing_of(treatment),
        zone=clinic_zone(),
        practitioner_id=practitioner.pk,
        find_slots=slot_finder(
            treatment=treatment, practitioner=practitioner, now=now, patient=patient
        ),
    )
    for proposal in proposals:
        changed[proposal.number - 1] = proposal.slot
    return changed, [p.number for p in proposals]
