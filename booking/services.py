"""Writes: the only way a course or session is created, moved or cancelled.

Each service runs in one transaction, locks the practitioner rows (then the
patient's, always in that order), re-checks the times against fresh data and
only then writes. PostgreSQL's exclusion constraints are the last guard: a
conflict that slips past the re-check comes back as SlotTaken with the nearest
free alternatives, never as an IntegrityError.
"""

import logging
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from education.models import Treatment

from . import reminders, selectors
from .availability import Slot
from .courses import PlannedSession, Spacing, course_replan, session_window
from .models import BookingRules, ConsentText, Course, Patient, Practitioner, Session

logger = logging.getLogger(__name__)
ALTERNATIVES = 6
ALTERNATIVES_DAYS = 7


class BookingError(Exception):
    """A request the clinic's rules refuse; `message` is for the patient."""

    def __init__(self, message: str, *, alternatives: Sequence[Slot] = ()):
        super().__init__(message)
        self.message = message
        self.alternatives = list(alternatives)


class SlotTaken(BookingError):
    """The time was free a moment ago and is not now."""


TAKEN_MESSAGE = "That time has just been booked. Here are the nearest free times."


@dataclass(frozen=True)
class MoveResult:
    session: Session
    replan: list[PlannedSession] = field(default_factory=list)


def spacing_of(treatment: Treatment) -> Spacing:
    return Spacing(
        treatment.spacing_min_days, treatment.spacing_preferred_days, treatment.spacing_max_days
    )


def patient_create(*, user, full_name: str, phone: str, date_of_birth=None) -> Patient:
    patient = Patient(
        user=user, full_name=full_name.strip(), phone=phone.strip(), date_of_birth=date_of_birth
    )
    patient.full_clean()
    patient.save()
    return patient


def _lock(practitioner_ids: Sequence[int], patient: Patient) -> None:
    """Row locks in one fixed order (practitioners by id, then the patient): no deadlock."""
    list(
        Practitioner.objects.select_for_update()
        .filter(pk__in=sorted(set(practitioner_ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True))


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


def _check_spacing(slots: Sequence[Slot], spacing: Spacing) -> None:
    zone = selectors.clinic_zone()
    for number, (previous, current) in enumerate(zip(slots, slots[1:], strict=False), start=2):
        if not session_window(previous.start, spacing, zone).holds(current.start, zone):
            raise BookingError(
                f"Session {number} must be {spacing.min_days} to {spacing.max_days} days after "
                f"session {number - 1}. Please choose a time inside that window."
            )


def _check_free(
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
            raise SlotTaken(
                TAKEN_MESSAGE,
                alternatives=nearest_alternatives(
                    treatment=treatment,
                    wanted=slot.start,
                    now=now,
                    patient=patient,
                    practitioner_id=slot.practitioner_id,
                    exclude_session_ids=exclude_session_ids,
                ),
            )
        raise BookingError("That time is not one we offer. Please choose one of the free times.")


def staff_rules(rules: BookingRules) -> BookingRules:
    """The rules with no minimum notice: staff book (with a reason) and move inside it.

    The free-slot check applies the notice too, so it gets this copy (never
    saved, and not the cached row). A time must still be in the future.
    """
    waived = copy(rules)
    waived.min_notice_hours = 0
    return waived


def _slot_for(start: datetime, treatment: Treatment, practitioner_id: int) -> Slot:
    return Slot(start, start + timedelta(minutes=treatment.appointment_minutes), practitioner_id)


@transaction.atomic
def course_book(
    *,
    patient: Patient,
    treatment: Treatment,
    slots: Sequence[Slot],
    now: datetime | None = None,
    idempotency_key: str | None = None,
    suitability_answers: dict | None = None,
    consent: ConsentText | None = None,
    booked_by=None,
    allow_short_notice: bool = False,
    allow_outside_window: bool = False,
    override_reason: str = "",
) -> Course:
    """Book every session of a course, or none.

    `slots` come from the plan (booking/courses.py); each is re-checked here.
    A repeated call with the same `idempotency_key` returns the course it booked.

    Staff (phone booking) may waive the minimum notice or the spacing window,
    only with an `override_reason`, which is kept on the course. Nothing else
    is waived: working hours, time off, the horizon and no-overlap still hold.
    """
    now = now or timezone.now()
    rules = BookingRules.current()
    override_reason = (override_reason or "").strip()
    if (allow_short_notice or allow_outside_window) and not override_reason:
        raise BookingError("Give a reason for overriding the booking rules.")
    if not (allow_short_notice or allow_outside_window):
        override_reason = ""  # a reason with nothing overridden would mislead the record
    free_rules = staff_rules(rules) if allow_short_notice else rules
    if not slots:
        raise BookingError("Choose a time for the first session.")
    slots = [_slot_for(s.start, treatment, s.practitioner_id) for s in slots]
    _lock([s.practitioner_id for s in slots], patient)

    if idempotency_key:
        existing = Course.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.patient_id != patient.pk:
                raise BookingError("This booking could not be matched. Please start again.")
            return existing

    if not treatment.sessions_min <= len(slots) <= treatment.sessions_max:
        raise BookingError(
            f"A course of {treatment.name} has {treatment.sessions_min} to "
            f"{treatment.sessions_max} sessions."
        )
    if any(b.start <= a.start for a, b in zip(slots, slots[1:], strict=False)):
        raise BookingError("The sessions must be in date order.")
    practitioners = list(
        Practitioner.objects.filter(
            pk__in={s.practitioner_id for s in slots}, is_active=True, treatments=treatment
        )
    )
    if len(practitioners) != len({s.practitioner_id for s in slots}):
        raise BookingError(
            f"That practitioner does not offer {treatment.name}. "
            "Please choose another practitioner or 'anyone'."
        )
    if allow_short_notice:
        if slots[0].start <= now:
            raise BookingError("The first session must be in the future.")
    elif slots[0].start < now + rules.min_notice:
        raise BookingError(
            f"The first session must be at least {rules.min_notice_hours} hours "
            "from now. Please choose a later time."
        )
    if slots[0].start > now + rules.horizon:
        raise BookingError(
            f"The first session must be within {rules.horizon_weeks} weeks. "
            "Please choose an earlier time."
        )
    if not allow_outside_window:
        _check_spacing(slots, spacing_of(treatment))
    elif any(b.start < a.end + rules.buffer for a, b in zip(slots, slots[1:], strict=False)):
        # The window keeps sessions days apart; waived, two could touch or overlap,
        # which the database would refuse as a clash with no time to offer instead.
        raise BookingError("Two sessions of this course are too close together.")
    _check_free(
        slots=slots,
        treatment=treatment,
        patient=patient,
        now=now,
        rules=free_rules,
        practitioners=practitioners,
    )

    course = Course(
        patient=patient,
        treatment=treatment,
        practitioner_id=slots[0].practitioner_id,
        sessions_planned=len(slots),
        suitability_answers=suitability_answers or {},
        consent=consent,
        consent_given_at=now if consent else None,
        idempotency_key=idempotency_key or None,
        booked_by=booked_by,
        override_reason=override_reason,
    )
    try:
        with transaction.atomic():  # a savepoint: the constraint is the last guard
            course.save()
            sessions = bulk_create_with_history(
                [
                    Session(
                        course=course,
                        patient=patient,
                        number=number,
                        practitioner_id=slot.practitioner_id,
                        start=slot.start,
                        end=slot.end,
                    )
                    for number, slot in enumerate(slots, start=1)
                ],
                Session,
            )
            reminders.schedule_course(sessions, now=now)
    except IntegrityError as exc:
        logger.warning(
            "booking conflict caught by the database",
            extra={"error": type(exc.__cause__ or exc).__name__},
        )
        raise SlotTaken(
            TAKEN_MESSAGE,
            alternatives=nearest_alternatives(
                treatment=treatment,
                wanted=slots[0].start,
                now=now,
                patient=patient,
                practitioner_id=slots[0].practitioner_id,
            ),
        ) from exc
    logger.info("course booked", extra={"course_id": course.pk, "sessions": len(slots)})
    return course


def _check_change_allowed(
    session: Session, now: datetime, rules: BookingRules, by_staff: bool
) -> None:
    if session.status != Session.Status.BOOKED:
        raise BookingError("Only a booked session can be changed.")
    if session.start <= now:
        raise BookingError("This session has already started.")
    if not by_staff and session.start - now < rules.change_notice:
        raise BookingError(
            f"This session is less than {rules.change_notice_hours} hours away. "
            "Please call us to change it."
        )


@transaction.atomic
def session_move(
    *,
    session: Session,
    new_start: datetime,
    now: datetime | None = None,
    practitioner: Practitioner | None = None,
    by_staff: bool = False,
) -> MoveResult:
    """Move one session inside its window; say which later sessions no longer fit."""
    now = now or timezone.now()
    rules = BookingRules.current()
    practitioner_id = practitioner.pk if practitioner else session.practitioner_id
    _lock([practitioner_id, session.practitioner_id], session.patient)
    session = Session.objects.select_related("course__treatment", "patient").get(pk=session.pk)
    course, treatment = session.course, session.course.treatment
    _check_change_allowed(session, now, rules, by_staff)
    slot = _slot_for(new_start, treatment, practitioner_id)
    if by_staff:  # staff may move inside the notice (a practitioner off sick today)
        rules = staff_rules(rules)
        if slot.start <= now:
            raise BookingError("The new time must be in the future.")
    elif slot.start < now + rules.min_notice:
        raise BookingError(
            f"The new time must be at least {rules.min_notice_hours} hours from now."
        )
    siblings = list(course.sessions.active().order_by("number"))
    before = [s for s in siblings if s.number < session.number]
    spacing = spacing_of(treatment)
    zone = selectors.clinic_zone()
    if before and not session_window(before[-1].start, spacing, zone).holds(slot.start, zone):
        window = session_window(before[-1].start, spacing, zone)
        raise BookingError(
            f"Session {session.number} must be between "
            f"{window.first_day:%-d %B} and {window.last_day:%-d %B}."
        )
    practitioners = list(
        Practitioner.objects.filter(pk=practitioner_id, is_active=True, treatments=treatment)
    )
    if not practitioners:
        raise BookingError(f"That practitioner does not offer {treatment.name}.")
    _check_free(
        slots=[slot],
        treatment=treatment,
        patient=session.patient,
        now=now,
        rules=rules,
        exclude_session_ids=[session.pk],
        practitioners=practitioners,
    )
    session.start, session.end, session.practitioner_id = slot.start, slot.end, practitioner_id
    session.sequence += 1
    try:
        with transaction.atomic():
            session.save(update_fields=["start", "end", "practitioner", "sequence", "updated_at"])
            reminders.schedule_move(session, now=now)
    except IntegrityError as exc:
        raise SlotTaken(
            TAKEN_MESSAGE,
            alternatives=nearest_alternatives(
                treatment=treatment,
                wanted=slot.start,
                now=now,
                patient=session.patient,
                practitioner_id=practitioner_id,
                exclude_session_ids=[session.pk],
            ),
        ) from exc
    starts = [slot.start if s.pk == session.pk else s.start for s in siblings]
    index = [s.pk for s in siblings].index(session.pk)
    planned = course_replan(
        starts=starts,
        changed=index + 1,
        spacing=spacing,
        zone=zone,
        practitioner_id=course.practitioner_id,
        find_slots=selectors.slot_finder(
            treatment=treatment,
            practitioner=course.practitioner,
            now=now,
            patient=session.patient,
            exclude_session_ids=[s.pk for s in siblings],
        ),
    )
    # course_replan counts the active sessions; with an earlier one cancelled that is not
    # their number, which the patient's replan page and the admin look them up by.
    replan = [replace(p, number=siblings[p.number - 1].number) for p in planned]
    logger.info("session moved", extra={"session_id": session.pk, "replan": len(replan)})
    return MoveResult(session, replan)


def _mark_cancelled(sessions: Sequence[Session], now: datetime) -> None:
    """Cancelled, with a rising SEQUENCE so calendar apps drop them (and their history rows)."""
    for session in sessions:
        session.status, session.cancelled_at = Session.Status.CANCELLED, now
        session.sequence += 1
        session.updated_at = now  # bulk_update does not apply auto_now
    bulk_update_with_history(
        sessions, Session, ["status", "cancelled_at", "sequence", "updated_at"]
    )


@transaction.atomic
def session_cancel(
    *,
    session: Session,
    now: datetime | None = None,
    by_staff: bool = False,
    notify: bool = True,
) -> Session:
    now = now or timezone.now()
    rules = BookingRules.current()
    _lock([session.practitioner_id], session.patient)
    session = Session.objects.select_related("course").get(pk=session.pk)
    _check_change_allowed(session, now, rules, by_staff)
    _mark_cancelled([session], now)
    reminders.schedule_cancel([session], now=now, notify=notify)
    course = session.course
    if not course.sessions.active().exists():
        course.status = Course.Status.CANCELLED
        course.save(update_fields=["status"])
    elif notify:
        reminders.schedule_next_window(session, now=now)
    logger.info("session cancelled", extra={"session_id": session.pk})
    return session


@transaction.atomic
def course_cancel(
    *,
    course: Course,
    now: datetime | None = None,
    by_staff: bool = False,
    notify: bool = True,
) -> list[Session]:
    """Cancel every session still to come; all or none."""
    now = now or timezone.now()
    rules = BookingRules.current()
    upcoming = list(course.sessions.filter(status=Session.Status.BOOKED, start__gt=now))
    _lock([s.practitioner_id for s in upcoming] or [course.practitioner_id], course.patient)
    upcoming = list(
        course.sessions.filter(status=Session.Status.BOOKED, start__gt=now).order_by("start")
    )
    for session in upcoming:
        _check_change_allowed(session, now, rules, by_staff)
    _mark_cancelled(upcoming, now)
    reminders.schedule_cancel(upcoming, now=now, notify=notify)
    if not course.sessions.active().filter(start__lte=now).exists():
        course.status = Course.Status.CANCELLED
    else:
        course.status = Course.Status.COMPLETED
    course.save(update_fields=["status"])
    logger.info("course cancelled", extra={"course_id": course.pk, "sessions": len(upcoming)})
    return upcoming
