"""Course plans: the proposal from a chosen first session, and changes to a planned session."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from education.models import Treatment

from .. import rulebook
from ..availability import Slot
from ..courses import PlannedSession, course_replan
from ..models import (
    BookingRules,
    Course,
    Patient,
    Practitioner,
    Session,
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


def later_sessions_replan(
    *,
    course: Course,
    starts: dict[int, datetime],
    first_breach: int | None,
    now: datetime,
    exclude_session_ids: Sequence[int],
) -> list[PlannedSession]:
    """Where the later sessions of `course` could go when `starts` (number -> start of each
    active session, with the change in it) leaves them outside their windows, from the
    first one that breaks (`first_breach`): course_replan's choice, the same practitioner
    first. Numbered as the sessions are (course_replan counts the active ones)."""
    treatment, zone = course.treatment, clinic_zone()
    numbers = sorted(starts)
    planned = course_replan(
        starts=[starts[n] for n in numbers],
        changed=numbers.index(first_breach) if first_breach in numbers else 1,
        spacing=rulebook.spacing_of(treatment),
        zone=zone,
        practitioner_id=course.practitioner_id,
        find_slots=slot_finder(
            treatment=treatment,
            practitioner=course.practitioner,
            now=now,
            patient=course.patient,
            exclude_session_ids=exclude_session_ids,
        ),
    )
    return [replace(p, number=numbers[p.number - 1]) for p in planned]


@dataclass(frozen=True)
class MovePreview:
    """What moving a session to a slot would do, before anything changes."""

    refusal: str  # why it cannot move there ("" when it can)
    later: list[tuple[Session, Slot | None]]  # later sessions that would move, and where

    @property
    def complete(self) -> bool:
        """Every later session that has to move has somewhere to go."""
        return not self.refusal and all(slot for _session, slot in self.later)


def move_preview(*, session: Session, slot: Slot, now: datetime) -> MovePreview:
    """The course after moving `session` to `slot`, judged by the rulebook as
    services.session_move judges it (which checks it all again, under its locks)."""
    course = session.course
    siblings = {s.number: s for s in course.sessions.active().select_related("practitioner")}
    starts = {n: s.start for n, s in siblings.items()}
    starts[session.number] = slot.start
    breaches = rulebook.course_breaches(
        starts.items(), rulebook.spacing_of(course.treatment), clinic_zone()
    )
    own = [b for b in breaches if b.number is not None and b.number <= session.number]
    if own:
        return MovePreview(own[0].message, [])
    if not breaches:
        return MovePreview("", [])
    planned = later_sessions_replan(
        course=course,
        starts=starts,
        first_breach=breaches[0].number,
        now=now,
        exclude_session_ids=[s.pk for s in siblings.values()],
    )
    return MovePreview("", [(siblings[p.number], p.slot) for p in planned])
