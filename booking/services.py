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
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from education.models import Treatment

from . import reminders, rulebook, selectors
from .availability import Slot
from .courses import PlannedSession, course_replan
from .models import BookingRules, ConsentText, Course, Patient, Practitioner, Session
from .rulebook import spacing_of  # noqa: F401 - the services' callers import it from here

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


class NeedsReplan(BookingError):
    """The change would leave later sessions of the course outside their windows.

    `proposals` say where each of them could go (course_replan's choice, the
    same practitioner first); the caller offers them, and asks again with
    `also` holding the ones the person accepted. Declining is only possible by
    choosing another change: nothing that breaks the course is ever stored.
    """

    def __init__(self, message: str, *, proposals: Sequence[PlannedSession], waivable: bool = True):
        super().__init__(message)
        self.proposals = list(proposals)
        self.waivable = waivable  # staff may keep them, with a reason (a window, not the order)


@dataclass(frozen=True)
class MoveResult:
    session: Session
    moved: list[Session] = field(default_factory=list)  # the later sessions moved with it


def account_create(*, email: str, verified: bool, full_name: str = ""):
    """A patient's account with no password, its address as allauth keeps it.

    The journey's email code makes one verified (the patient typed the code);
    phone booking makes one unverified (reception typed the address), which
    the confirmation email's "choose a password" link verifies.
    """
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(email, None, full_name=full_name)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
    return user


@transaction.atomic
def patient_register(
    *,
    user=None,
    email: str = "",
    full_name: str,
    phone: str,
    date_of_birth=None,
    password: str | None = None,
) -> Patient:
    """A patient and their account, both or neither.

    Online the account exists (the email code made it, or the patient signed
    in); `password` is set when they had none. By phone (`user` None) reception
    typed the address: a new account with no password, not verified until the
    confirmation email's "choose a password" link is opened (booking/welcome.py).
    """
    if user is None:
        user = account_create(email=email, verified=False, full_name=full_name)
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    return patient_create(user=user, full_name=full_name, phone=phone, date_of_birth=date_of_birth)


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


def _refuse(breach: rulebook.Breach | None) -> None:
    if breach is not None:
        raise BookingError(breach.message)


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


def is_clinician(user) -> bool:
    from clinic.roles import CLINICIAN

    return bool(
        user
        and user.is_authenticated
        and (user.is_superuser or user.groups.filter(name=CLINICIAN).exists())
    )


def _agreement(
    *, treatment, answers_for, answers: dict, consent, consent_method, booked_by, clinical_reason
) -> dict:
    """The answers and consent a course needs (booking/rulebook.py), as the course keeps them."""
    from education.suitability import Suitability, suitability_outcome

    questions = list(answers_for.questions.all())
    given = {}
    for question in questions:
        answer = answers.get(question.pk, answers.get(str(question.pk)))
        if answer in ("yes", "no"):
            given[question.pk] = answer
    outcome = suitability_outcome([q for q in questions if given.get(q.pk) == "yes"])
    overriding = bool((clinical_reason or "").strip()) and outcome != Suitability.BOOK
    if overriding and not is_clinician(booked_by):
        raise BookingError("Only a clinician can go ahead after a health answer like this one.")
    _refuse(
        rulebook.suitability_breach(
            asked=len(questions),
            answered=len(given),
            outcome=outcome,
            consultation=treatment.is_consultation,
            overridden=overriding,
        )
    )
    if consent_method not in Course.ConsentMethod.values:
        consent_method = ""
    _refuse(
        rulebook.consent_breach(
            has_version=consent is not None,
            method=consent_method,
            given=True,
            first_attended=False,
        )
    )
    if consent_method != Course.ConsentMethod.ONLINE and not (booked_by and booked_by.is_staff):
        raise BookingError("Only staff can record consent given by phone or on paper.")
    return {
        "overridden": overriding,
        "stored": {
            "treatment": answers_for.slug,
            "questions": [
                {"question": q.text, "answer": given[q.pk]} for q in questions if q.pk in given
            ],
        },
    }


def online_agreement(treatment: Treatment) -> dict:
    """course_book's consent and answers for a patient who agreed online and answered "no"
    to every question: for the demo data and the benchmarks, which book as a patient would."""
    return {
        "answers": {q.pk: "no" for q in treatment.questions.all()},
        "consent": ConsentText.current(),
        "consent_method": Course.ConsentMethod.ONLINE,
    }


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
    answers: dict | None = None,
    answers_for: Treatment | None = None,
    consent: ConsentText | None = None,
    consent_method: str = "",
    booked_by=None,
    allow_short_notice: bool = False,
    allow_outside_window: bool = False,
    override_reason: str = "",
    clinical_reason: str = "",
) -> Course:
    """Book every session of a course, or none.

    `slots` come from the plan (booking/courses.py); each is re-checked here.
    A repeated call with the same `idempotency_key` returns the course it booked.

    Every course records the answers to the health questions (`answers`:
    question id -> "yes" or "no", for `answers_for`, the treatment the patient
    first asked about when this is the consultation instead) and the consent
    version with `consent_method` (Course.ConsentMethod; by phone or on paper
    only by staff, who are named with it). An answer that calls for a
    clinician first stops a course unless `booked_by` is a clinician giving a
    `clinical_reason` (booking/rulebook.py).

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

    agreement = _agreement(
        treatment=treatment,
        answers_for=answers_for or treatment,
        answers=answers or {},
        consent=consent,
        consent_method=consent_method,
        booked_by=booked_by,
        clinical_reason=clinical_reason,
    )
    if not treatment.sessions_min <= len(slots) <= treatment.sessions_max:
        raise BookingError(
            f"A course of {treatment.name} has {treatment.sessions_min} to "
            f"{treatment.sessions_max} sessions."
        )
    zone = selectors.clinic_zone()
    breaches = rulebook.course_breaches(
        enumerate((s.start for s in slots), 1), spacing_of(treatment), zone
    )
    if order := [b for b in breaches if b.rule == rulebook.ORDER]:
        raise BookingError(order[0].message)
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
    _refuse(
        rulebook.first_session_breach(slots[0].start, now, rules, waive_notice=allow_short_notice)
    )
    open_courses, last_start = selectors.treatment_history(
        patient=patient, treatment=treatment, now=now
    )
    across = rulebook.new_course_breaches(
        first_start=slots[0].start,
        open_courses=open_courses,
        allowed=rules.courses_per_treatment,
        last_start=last_start,
        spacing=spacing_of(treatment),
        zone=zone,
        treatment_name=treatment.name,
    )
    if across:
        raise BookingError(" ".join(b.message for b in across))
    if not allow_outside_window:
        if breaches:
            raise BookingError(breaches[0].message)
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

    overridden = [
        rule
        for rule, waived in (
            (rulebook.NOTICE, allow_short_notice),
            (rulebook.WINDOW, allow_outside_window),
            (rulebook.SUITABILITY, agreement["overridden"]),
        )
        if waived
    ]
    reasons = [override_reason] if override_reason else []
    if agreement["overridden"]:
        reasons.append(f"Clinical reason: {clinical_reason.strip()}")
    course = Course(
        patient=patient,
        treatment=treatment,
        practitioner_id=slots[0].practitioner_id,
        sessions_planned=len(slots),
        suitability_answers=agreement["stored"],
        consent=consent,
        consent_method=consent_method,
        consent_given_at=None if consent_method == Course.ConsentMethod.PAPER else now,
        consent_recorded_by=booked_by if consent_method != Course.ConsentMethod.ONLINE else None,
        idempotency_key=idempotency_key or None,
        booked_by=booked_by,
        override_reason="\n".join(reasons),
        override_by=booked_by if overridden else None,
        overridden_rules=",".join(overridden),
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


def _change_refusal(session: Session, now: datetime, rules: BookingRules, by_staff: bool):
    _refuse(rulebook.change_breach(session.status, session.start, now, rules, by_staff=by_staff))


def _record_override(course: Course, *, rule: str, reason: str, by, what: str) -> None:
    """Staff went past `rule` for this course: the reason stays on it, with its author."""
    stamp = f"{what}: {reason}"
    course.override_reason = (
        f"{course.override_reason}\n{stamp}" if course.override_reason else stamp
    )
    course.overridden_rules = ",".join(sorted(course.waived | {rule}))
    course.override_by = by
    course.save(update_fields=["override_reason", "overridden_rules", "override_by"])


def _replan_or_refuse(
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
    spacing = spacing_of(treatment)
    breaches = rulebook.course_breaches(starts.items(), spacing, zone)
    if not breaches:
        return
    own = [b for b in breaches if b.number is not None and b.number <= changed_number]
    if own:
        raise BookingError(own[0].message)
    if by_staff and override_reason and all(b.rule == rulebook.WINDOW for b in breaches):
        _record_override(course, rule=rulebook.WINDOW, reason=override_reason, by=by, what=what)
        return
    numbers = sorted(starts)
    planned = course_replan(
        starts=[starts[n] for n in numbers],
        changed=numbers.index(breaches[0].number) if breaches[0].number in numbers else 1,
        spacing=spacing,
        zone=zone,
        practitioner_id=course.practitioner_id,
        find_slots=selectors.slot_finder(
            treatment=treatment,
            practitioner=course.practitioner,
            now=now,
            patient=course.patient,
            exclude_session_ids=exclude_session_ids,
        ),
    )
    # course_replan counts the active sessions; their numbers are what pages look up.
    proposals = [replace(p, number=numbers[p.number - 1]) for p in planned]
    message = " ".join(b.message for b in breaches)
    waivable = all(b.rule == rulebook.WINDOW for b in breaches)
    raise NeedsReplan(message, proposals=proposals, waivable=waivable)


def _slots_free(
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
        raise BookingError(f"That practitioner does not offer {treatment.name}.")
    _check_free(
        slots=[slot for _s, slot in moves],
        treatment=treatment,
        patient=patient,
        now=now,
        rules=rules,
        exclude_session_ids=exclude,
        practitioners=practitioners,
    )


@transaction.atomic
def session_move(
    *,
    session: Session,
    new_start: datetime,
    now: datetime | None = None,
    practitioner: Practitioner | None = None,
    by_staff: bool = False,
    also: dict[int, Slot] | None = None,
    override_reason: str = "",
    by=None,
) -> MoveResult:
    """Move one session, and with it any later ones in `also` (number -> slot), or nothing.

    The course it leaves must keep the rules (booking/rulebook.py): the moved
    session inside its window after the one before, and every later one inside
    its own. When a later one would fall outside, NeedsReplan proposes where it
    could go; asking again with those in `also` moves them all together.
    """
    now = now or timezone.now()
    rules = BookingRules.current()
    override_reason = (override_reason or "").strip()
    practitioner_id = practitioner.pk if practitioner else session.practitioner_id
    also = dict(also or {})
    _lock(
        [practitioner_id, session.practitioner_id, *(s.practitioner_id for s in also.values())],
        session.patient,
    )
    session = Session.objects.select_related("course__treatment", "patient").get(pk=session.pk)
    course, treatment = session.course, session.course.treatment
    siblings = {s.number: s for s in course.sessions.active().select_related("practitioner")}
    _change_refusal(session, now, rules, by_staff)
    moves = [(session, _slot_for(new_start, treatment, practitioner_id))]
    for number, slot in sorted(also.items()):
        later = siblings.get(number)
        if later is None or number <= session.number:
            raise BookingError("That session is not one that can move with this one.")
        _change_refusal(later, now, rules, by_staff)
        moves.append((later, _slot_for(slot.start, treatment, slot.practitioner_id)))
    if by_staff:  # staff may move inside the notice (a practitioner off sick today)
        rules = staff_rules(rules)
        if any(slot.start <= now for _s, slot in moves):
            raise BookingError("The new time must be in the future.")
    elif any(slot.start < now + rules.min_notice for _s, slot in moves):
        raise BookingError(
            f"The new time must be at least {rules.min_notice_hours} hours from now."
        )
    first_number = min(siblings)
    if not by_staff and session.number == first_number:
        _refuse(rulebook.first_session_breach(moves[0][1].start, now, rules))
    starts = {n: s.start for n, s in siblings.items()}
    starts.update({moved.number: slot.start for moved, slot in moves})
    moved_ids = [moved.pk for moved, _slot in moves]
    _replan_or_refuse(
        course=course,
        starts=starts,
        changed_number=session.number,
        now=now,
        what=f"Session {session.number} moved",
        by_staff=by_staff,
        override_reason=override_reason,
        by=by,
        exclude_session_ids=[s.pk for s in siblings.values()],
    )
    _slots_free(
        moves=moves,
        treatment=treatment,
        patient=session.patient,
        now=now,
        rules=rules,
        exclude=moved_ids,
    )
    for moved, slot in moves:
        moved.start, moved.end, moved.practitioner_id = slot.start, slot.end, slot.practitioner_id
        moved.sequence += 1
    try:
        with transaction.atomic():
            for moved, _slot in sorted(moves, key=lambda m: -m[0].number):  # later first
                moved.save(update_fields=["start", "end", "practitioner", "sequence", "updated_at"])
            for moved, _slot in moves:
                reminders.schedule_move(moved, now=now)
    except IntegrityError as exc:
        raise SlotTaken(
            TAKEN_MESSAGE,
            alternatives=nearest_alternatives(
                treatment=treatment,
                wanted=moves[0][1].start,
                now=now,
                patient=session.patient,
                practitioner_id=practitioner_id,
                exclude_session_ids=moved_ids,
            ),
        ) from exc
    logger.info("session moved", extra={"session_id": session.pk, "with": len(moves) - 1})
    return MoveResult(moves[0][0], [moved for moved, _slot in moves[1:]])


def _mark_cancelled(sessions: Sequence[Session], now: datetime) -> None:
    """Cancelled, with a rising SEQUENCE so calendar apps drop them (and their history rows)."""
    for session in sessions:
        session.status, session.cancelled_at = Session.Status.CANCELLED, now
        session.sequence += 1
        session.updated_at = now  # bulk_update does not apply auto_now
    bulk_update_with_history(
        sessions, Session, ["status", "cancelled_at", "sequence", "updated_at"]
    )


def course_status_after_cancel(course: Course) -> None:
    """After the rest of a course is cancelled: completed if any session stays (attended, a
    no-show, or past and not yet marked: one attended later today counts), else cancelled."""
    kept = course.sessions.active().exists()
    course.status = Course.Status.COMPLETED if kept else Course.Status.CANCELLED
    course.save(update_fields=["status"])


@transaction.atomic
def session_cancel(
    *,
    session: Session,
    now: datetime | None = None,
    by_staff: bool = False,
    notify: bool = True,
    also: dict[int, Slot] | None = None,
    with_later: bool = False,
    override_reason: str = "",
    by=None,
) -> Session:
    """Cancel one session (and, `with_later`, the active ones after it).

    The sessions left after it must still keep their windows (from the one
    before the cancelled session): NeedsReplan proposes new times for those
    that would not, and asking again with them in `also` cancels and moves
    together."""
    now = now or timezone.now()
    rules = BookingRules.current()
    also = dict(also or {})
    _lock([session.practitioner_id, *(s.practitioner_id for s in also.values())], session.patient)
    session = Session.objects.select_related("course__treatment", "patient").get(pk=session.pk)
    course = session.course
    _change_refusal(session, now, rules, by_staff)
    siblings = {s.number: s for s in course.sessions.active() if s.pk != session.pk}
    cancelled = [session]
    if with_later:
        cancelled += [siblings.pop(n) for n in sorted(siblings) if n > session.number]
        for later in cancelled[1:]:
            _change_refusal(later, now, rules, by_staff)
    starts = {n: s.start for n, s in siblings.items()}
    moves = []
    for number, slot in sorted(also.items()):
        later = siblings.get(number)
        if later is None or number <= session.number:
            raise BookingError("That session is not one that can move with this one.")
        _change_refusal(later, now, rules, by_staff)
        moves.append((later, _slot_for(slot.start, course.treatment, slot.practitioner_id)))
        starts[number] = slot.start
    _replan_or_refuse(
        course=course,
        starts=starts,
        changed_number=session.number,
        now=now,
        what=f"Session {session.number} cancelled",
        by_staff=by_staff,
        override_reason=(override_reason or "").strip(),
        by=by,
        exclude_session_ids=[c.pk for c in cancelled] + [s.pk for s in siblings.values()],
    )
    if moves:
        _slots_free(
            moves=moves,
            treatment=course.treatment,
            patient=session.patient,
            now=now,
            rules=staff_rules(rules) if by_staff else rules,
            exclude=[session.pk, *(m.pk for m, _slot in moves)],
        )
    _mark_cancelled(cancelled, now)
    reminders.schedule_cancel(cancelled, now=now, notify=notify)
    for moved, slot in moves:
        moved.start, moved.end, moved.practitioner_id = slot.start, slot.end, slot.practitioner_id
        moved.sequence += 1
        moved.save(update_fields=["start", "end", "practitioner", "sequence", "updated_at"])
        reminders.schedule_move(moved, now=now)
    if not course.sessions.active().exists():
        course.status = Course.Status.CANCELLED
        course.save(update_fields=["status"])
    elif notify and not moves and not with_later:
        reminders.schedule_next_window(session, now=now)
    logger.info("session cancelled", extra={"session_id": session.pk, "moved": len(moves)})
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
        _change_refusal(session, now, rules, by_staff)
    _mark_cancelled(upcoming, now)
    reminders.schedule_cancel(upcoming, now=now, notify=notify)
    course_status_after_cancel(course)
    logger.info("course cancelled", extra={"course_id": course.pk, "sessions": len(upcoming)})
    return upcoming


@transaction.atomic
def course_extend(
    *, course: Course, slot: Slot, now: datetime | None = None, by_staff: bool = False
) -> Session:
    """Add one session after the course's last active one, up to the treatment's maximum.

    Planned and checked as the others are (booking/rulebook.py: after the last
    session inside its window, never inside the minimum notice); the patient
    gets a confirmation listing every session, and the clinic its notice.
    """
    now = now or timezone.now()
    rules = BookingRules.current()
    _lock([slot.practitioner_id], course.patient)
    course = Course.objects.select_related("treatment", "patient").get(pk=course.pk)
    treatment = course.treatment
    active = list(course.sessions.active().order_by("number"))
    if len(active) + 1 > treatment.sessions_max:
        raise BookingError(
            f"A course of {treatment.name} has at most {treatment.sessions_max} sessions."
        )
    if not any(s.status == Session.Status.BOOKED for s in active) and not by_staff:
        raise BookingError("This course has finished. Please book a new course instead.")
    slot = _slot_for(slot.start, treatment, slot.practitioner_id)
    if slot.start < now + (timedelta(0) if by_staff else rules.min_notice):
        raise BookingError(
            f"The new session must be at least {rules.min_notice_hours} hours from now."
        )
    number = course.sessions.aggregate(top=Max("number"))["top"] + 1
    starts = [(s.number, s.start) for s in active] + [(number, slot.start)]
    breaches = rulebook.course_breaches(starts, spacing_of(treatment), selectors.clinic_zone())
    if breaches:
        raise BookingError(breaches[0].message)
    _slots_free(
        moves=[(None, slot)],
        treatment=treatment,
        patient=course.patient,
        now=now,
        rules=staff_rules(rules) if by_staff else rules,
        exclude=[],
    )
    try:
        with transaction.atomic():
            (session,) = bulk_create_with_history(
                [
                    Session(
                        course=course,
                        patient=course.patient,
                        number=number,
                        practitioner_id=slot.practitioner_id,
                        start=slot.start,
                        end=slot.end,
                    )
                ],
                Session,
            )
            course.sessions_planned += 1
            course.status = Course.Status.ACTIVE
            course.save(update_fields=["sessions_planned", "status"])
            reminders.schedule_course([session], now=now)
    except IntegrityError as exc:
        raise SlotTaken(TAKEN_MESSAGE) from exc
    logger.info("course extended", extra={"course_id": course.pk, "session_id": session.pk})
    return session


def extension_proposals(*, course: Course, now: datetime, limit: int = 6) -> list[Slot]:
    """Free times for one more session: inside its window after the last active one,
    the course's practitioner first, nearest the preferred gap."""
    from .courses import preferred_start, session_window

    treatment, zone = course.treatment, selectors.clinic_zone()
    last = course.sessions.active().order_by("-number").first()
    if last is None:
        return []
    spacing = spacing_of(treatment)
    window = session_window(last.start, spacing, zone)
    target = preferred_start(last.start, spacing, zone) or last.start + timedelta(
        days=spacing.preferred_days
    )
    free = selectors.free_slots(
        treatment=treatment,
        day_from=window.first_day,
        day_to=window.last_day,
        now=now,
        patient=course.patient,
        latest=window.ends_at(zone),
    )
    free.sort(key=lambda s: (s.practitioner_id != last.practitioner_id, abs(s.start - target)))
    return sorted(free[:limit])
