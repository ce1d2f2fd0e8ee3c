"""What every write shares: locks in one order, the re-check against fresh data, the
nearest alternatives, and the rulebook's refusals and overrides."""

from collections.abc import Sequence
from copy import copy
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from education.models import Treatment

from .. import reminders, rulebook, selectors
from ..availability import Slot
from ..ledger import services as ledger
from ..models import BookingRules, Course, FreedTime, Patient, Practitioner, Session
from ..waitlist import hooks as waitlist_hooks
from .errors import TAKEN_MESSAGE, BookingError, NeedsReplan, SlotTaken

ALTERNATIVES = 6


ALTERNATIVES_DAYS = 7


def lock(practitioner_ids: Sequence[int], patient: Patient) -> None:
    """Row locks in one fixed order (practitioners by id, then the patient): no deadlock."""
    list(
        Practitioner.objects.select_for_update()
        .filter(pk__in=sorted(set(practitioner_ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True))


def course_taken(*, treatment: Treatment, slots, now: datetime, patient: Patient) -> SlotTaken:
    """The refusal when the database's constraints catch a course's times as taken: the
    nearest free times to its first session, the same practitioner first."""
    return SlotTaken(
        TAKEN_MESSAGE,
        alternatives=nearest_alternatives(
            treatment=treatment,
            wanted=slots[0].start,
            now=now,
            patient=patient,
            practitioner_id=slots[0].practitioner_id,
        ),
    )


def nearest_alternatives(
    *,
    treatment: Treatment,
    wanted: datetime,
    now: datetime,
    patient: Patient | None,
    practitioner_id: int | None = None,
    exclude_session_ids: Sequence[int] = (),
    latest: datetime | None = None,
) -> list[Slot]:
    """The free slots closest to `wanted`, the same practitioner first."""
    zone = selectors.clinic_zone()
    day = wanted.astimezone(zone).date()
    slots = selectors.free_slots(
        treatment=treatment,
        day_from=day - timedelta(days=ALTERNATIVES_DAYS),
        day_to=day + timedelta(days=ALTERNATIVES_DAYS),
        now=now,
        patient=patient,
        exclude_session_ids=exclude_session_ids,
        latest=latest or wanted + timedelta(days=30),
    )
    slots.sort(key=lambda s: (s.practitioner_id != practitioner_id, abs(s.start - wanted)))
    return sorted(slots[:ALTERNATIVES])


def refuse(breach: rulebook.Breach | None) -> None:
    if breach is not None:
        raise BookingError(breach.message, rule=breach.rule)


def check_free(
    *,
    slots: Sequence[Slot],
    treatment: Treatment,
    patient: Patient,
    now: datetime,
    rules: BookingRules,
    exclude_session_ids: Sequence[int] = (),
    practitioners: Sequence[Practitioner],
) -> None:
    """Every slot must be one the clinic would offer now (fresh data, under the lock)."""
    zone = selectors.clinic_zone()
    days = [s.start.astimezone(zone).date() for s in slots]
    free = set(
        selectors.free_slots(
            treatment=treatment,
            day_from=min(days),
            day_to=max(days),
            now=now,
            practitioners=practitioners,
            patient=patient,
            rules=rules,
            latest=max(s.start for s in slots),
            exclude_session_ids=exclude_session_ids,
        )
    )

    def nearest(slot: Slot) -> list[Slot]:
        return nearest_alternatives(
            treatment=treatment,
            wanted=slot.start,
            now=now,
            patient=patient,
            practitioner_id=slot.practitioner_id,
            exclude_session_ids=exclude_session_ids,
        )

    for slot in slots:
        if slot in free:
            continue
        clash = (
            Session.objects.active()
            .overlapping(slot.start - rules.buffer, slot.end + rules.buffer)
            .exclude(pk__in=exclude_session_ids)
            .filter(practitioner_id=slot.practitioner_id)
            .union(
                Session.objects.active()
                .overlapping(slot.start, slot.end)
                .exclude(pk__in=exclude_session_ids)
                .filter(patient=patient)
            )
            .exists()
        )
        if clash:
            raise SlotTaken(TAKEN_MESSAGE, alternatives=nearest(slot))
        held = (
            Session.with_holds.held()
            .overlapping(slot.start - rules.buffer, slot.end + rules.buffer)
            .filter(practitioner_id=slot.practitioner_id)
            .order_by("held_until")
            .last()
        )
        if held is not None:
            raise SlotTaken(
                gettext(
                    "That time is held for another patient until %(time)s. "
                    "Here are the nearest free times."
                )
                % {"time": f"{held.held_until.astimezone(selectors.clinic_zone()):%H:%M}"},
                alternatives=nearest(slot),
            )
        raise BookingError(
            gettext("That time is not one we offer. Please choose one of the free times.")
        )


def course_length_refusal(treatment: Treatment, sessions: int | None) -> None:
    """A course of `treatment` has from sessions_min to sessions_max sessions."""
    if not (sessions and treatment.sessions_min <= sessions <= treatment.sessions_max):
        raise BookingError(
            gettext("A course of %(treatment)s has %(min)d to %(max)d sessions.")
            % {
                "treatment": treatment.name,
                "min": treatment.sessions_min,
                "max": treatment.sessions_max,
            }
        )


def staff_rules(rules: BookingRules) -> BookingRules:
    """The rules with no minimum notice: staff book (with a reason) and move inside it.

    The free-slot check applies the notice too, so it gets this copy (never
    saved, and not the cached row). A time must still be in the future.
    """
    waived = copy(rules)
    waived.min_notice_hours = 0
    return waived


def is_clinician(user) -> bool:
    from clinic.roles import CLINICIAN

    return bool(
        user
        and user.is_authenticated
        and (user.is_superuser or user.groups.filter(name=CLINICIAN).exists())
    )


def slot_for(start: datetime, treatment: Treatment, practitioner_id: int) -> Slot:
    return Slot(start, start + timedelta(minutes=treatment.appointment_minutes), practitioner_id)


def change_refusal(session: Session, now: datetime, rules: BookingRules, by_staff: bool):
    refuse(rulebook.change_breach(session.status, session.start, now, rules, by_staff=by_staff))


def record_override(course: Course, *, rule: str, reason: str, by, what: str) -> None:
    """Staff went past `rule` for this course: the reason stays on it, with its author."""
    stamp = f"{what}: {reason}"
    course.override_reason = (
        f"{course.override_reason}\n{stamp}" if course.override_reason else stamp
    )
    course.overridden_rules = ",".join(sorted(course.waived | {rule}))
    course.override_by = by
    course.save(update_fields=["override_reason", "overridden_rules", "override_by"])


def replan_or_refuse(
    *,
    course: Course,
    starts: dict[int, datetime],
    changed_number: int,
    now: datetime,
    what: str,
    by_staff: bool,
    override_reason: str,
    by,
    exclude_session_ids: Sequence[int],
) -> None:
    """Judge the course `starts` (number -> start of each active session) would leave.

    A breach on a session after `changed_number` can be mended by moving it:
    NeedsReplan says where. One on the changed session itself cannot. Staff may
    keep a later session outside its window, with a reason; never before the
    session it follows (ORDER is not waived: the numbers would mean nothing).
    """
    treatment, zone = course.treatment, selectors.clinic_zone()
    spacing = rulebook.spacing_of(treatment)
    breaches = rulebook.course_breaches(starts.items(), spacing, zone)
    if not breaches:
        return
    own = [b for b in breaches if b.number is not None and b.number <= changed_number]
    if own:
        raise BookingError(own[0].message)
    if by_staff and override_reason and all(b.rule == rulebook.WINDOW for b in breaches):
        record_override(course, rule=rulebook.WINDOW, reason=override_reason, by=by, what=what)
        return
    proposals = selectors.later_sessions_replan(
        course=course,
        starts=starts,
        first_breach=breaches[0].number,
        now=now,
        exclude_session_ids=exclude_session_ids,
    )
    message = " ".join(b.message for b in breaches)
    waivable = all(b.rule == rulebook.WINDOW for b in breaches)
    raise NeedsReplan(message, proposals=proposals, waivable=waivable)


def slots_free(
    *, moves: Sequence[tuple[Session, Slot]], treatment, patient, now, rules, exclude
) -> None:
    practitioners = list(
        Practitioner.objects.filter(
            pk__in={slot.practitioner_id for _s, slot in moves},  # _s: the session, or None
            is_active=True,
            treatments=treatment,
        )
    )
    if len(practitioners) != len({slot.practitioner_id for _s, slot in moves}):
        raise BookingError(
            gettext("That practitioner does not offer %(treatment)s.")
            % {"treatment": treatment.name}
        )
    check_free(
        slots=[slot for _s, slot in moves],
        treatment=treatment,
        patient=patient,
        now=now,
        rules=rules,
        exclude_session_ids=exclude,
        practitioners=practitioners,
    )


def sessions_shift(
    moves: Sequence[tuple[Session, Slot]],
    *,
    treatment: Treatment,
    patient: Patient,
    now: datetime,
    practitioner_id: int | None = None,
    exclude_session_ids: Sequence[int] = (),
    by=None,
    waive_reason: str = "",
) -> None:
    """Write the new times of `moves` ((session, slot) pairs, checked free by the caller)
    and re-time their reminders. A clash the re-check missed (another booking committed
    in between) writes nothing and comes back as SlotTaken with the nearest free times.
    A session moved inside the change notice has the cancellation policy's outcome in
    its course's ledger (or, `waive_reason` given by staff, the policy waived).
    For session_move and session_cancel alike."""
    rules = BookingRules.current()
    for moved, slot in moves:  # judged at the time it had; one staying where it is has none
        if (slot.start, slot.practitioner_id) == (moved.start, moved.practitioner_id):
            continue
        ledger.policy_apply(
            session=moved,
            event=rulebook.LATE_MOVE,
            now=now,
            rules=rules,
            by=by,
            waive_reason=waive_reason,
        )
    left = [moved for moved, _slot in moves]  # their old times, free from this commit
    waitlist_hooks.sessions_freed(left, cause=FreedTime.Cause.MOVED, now=now)
    waitlist_hooks.entries_end(left, reason="The session was moved.", now=now)
    for moved, slot in moves:
        moved.start, moved.end, moved.practitioner_id = slot.start, slot.end, slot.practitioner_id
        moved.sequence += 1
    try:
        with transaction.atomic():
            for moved, _slot in sorted(moves, key=lambda m: -m[0].number):  # later first
                moved.save(update_fields=["start", "end", "practitioner", "sequence", "updated_at"])
            for moved, _slot in moves:
                reminders.queue_for_move(moved, now=now)
    except IntegrityError as exc:
        raise SlotTaken(
            TAKEN_MESSAGE,
            alternatives=nearest_alternatives(
                treatment=treatment,
                wanted=moves[0][1].start,
                now=now,
                patient=patient,
                practitioner_id=practitioner_id,
                exclude_session_ids=exclude_session_ids,
            ),
        ) from exc
