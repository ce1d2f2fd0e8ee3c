"""Booking a course: the one way a course and its sessions are created."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from simple_history.utils import bulk_create_with_history

from clinic.money import CoursePrice, exact, treatment_course_price
from education.models import Treatment

from .. import reminders, rulebook, selectors
from ..availability import Slot
from ..ledger import services as ledger
from ..models import BookingRules, ConsentText, Course, Patient, Practitioner, Session
from .checks import (
    check_free,
    course_length_refusal,
    course_taken,
    is_clinician,
    lock,
    refuse,
    slot_for,
    staff_rules,
)
from .errors import BookingError

logger = logging.getLogger(__name__)


def _agreement(
    *,
    treatment,
    answers_for,
    answers: dict,
    answers_version,
    consent,
    consent_method,
    booked_by,
    clinical_reason,
) -> dict:
    """The answers and consent a course needs (booking/rulebook.py), as the course keeps them."""
    from education.suitability import Suitability, suitability_outcome

    # With their treatment's row, not a cached treatment: the version these questions are.
    questions = list(answers_for.questions.select_related("treatment"))
    version = questions[0].treatment.questions_version if questions else None
    given = {}
    for question in questions:
        answer = answers.get(question.pk, answers.get(str(question.pk)))
        if answer in ("yes", "no"):
            given[question.pk] = answer
    outcome = suitability_outcome([q for q in questions if given.get(q.pk) == "yes"])
    overriding = bool((clinical_reason or "").strip()) and outcome != Suitability.BOOK
    if overriding and not is_clinician(booked_by):
        raise BookingError(
            gettext("Only a clinician can go ahead after a health answer like this one.")
        )
    refuse(
        rulebook.suitability_breach(
            asked=len(questions),
            answered=len(given),
            outcome=outcome,
            consultation=treatment.is_consultation,
            overridden=overriding,
            current_questions=version is None or answers_version in (None, version),
        )
    )
    if consent_method not in Course.ConsentMethod.values:
        consent_method = ""
    refuse(
        rulebook.consent_breach(
            has_version=consent is not None,
            method=consent_method,
            given=True,
            first_attended=False,
        )
    )
    if consent_method != Course.ConsentMethod.ONLINE and not (booked_by and booked_by.is_staff):
        raise BookingError(gettext("Only staff can record consent given by phone or on paper."))
    return {
        "overridden": overriding,
        "version": version,
        "stored": {
            "treatment": answers_for.slug,
            "version": version,
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


@dataclass(frozen=True)
class Checked:
    """What course_checks found: the course may be booked with these."""

    agreement: dict
    overridden: list
    price: CoursePrice
    reasons: list


def course_checks(
    *,
    patient: Patient,
    treatment: Treatment,
    slots: Sequence[Slot],
    now: datetime,
    rules: BookingRules,
    answers: dict,
    answers_for: Treatment,
    answers_version: int | None,
    consent: ConsentText | None,
    consent_method: str,
    booked_by,
    allow_short_notice: bool,
    allow_outside_window: bool,
    override_reason: str,
    clinical_reason: str,
) -> Checked:
    """Every rule a new course must keep, checked under the caller's locks (course_book's,
    or a deposit's hold: booking/deposits/); raises BookingError or SlotTaken."""
    free_rules = staff_rules(rules) if allow_short_notice else rules
    agreement = _agreement(
        treatment=treatment,
        answers_for=answers_for,
        answers=answers,
        answers_version=answers_version,
        consent=consent,
        consent_method=consent_method,
        booked_by=booked_by,
        clinical_reason=clinical_reason,
    )
    course_length_refusal(treatment, len(slots))
    zone = selectors.clinic_zone()
    breaches = rulebook.course_breaches(
        enumerate((s.start for s in slots), 1), rulebook.spacing_of(treatment), zone
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
            gettext(
                "That practitioner does not offer %(treatment)s. "
                "Please choose another practitioner or 'anyone'."
            )
            % {"treatment": treatment.name}
        )
    refuse(
        rulebook.first_session_breach(slots[0].start, now, rules, waive_notice=allow_short_notice)
    )
    across = selectors.new_course_breaches(
        patient=patient, treatment=treatment, first_start=slots[0].start, now=now, rules=rules
    )
    if across:
        raise BookingError(" ".join(b.message for b in across))
    if not allow_outside_window:
        if breaches:
            raise BookingError(breaches[0].message)
    elif any(b.start < a.end + rules.buffer for a, b in zip(slots, slots[1:], strict=False)):
        # The window keeps sessions days apart; waived, two could touch or overlap,
        # which the database would refuse as a clash with no time to offer instead.
        raise BookingError(gettext("Two sessions of this course are too close together."))
    check_free(
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
    price = treatment_course_price(treatment, len(slots))  # what it is sold at, kept
    reasons = [override_reason] if override_reason else []
    if agreement["overridden"]:
        reasons.append(f"Clinical reason: {clinical_reason.strip()}")
    return Checked(agreement, overridden, price, reasons)


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
    answers_version: int | None = None,
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
    first asked about when this is the consultation instead) with the version
    of the questions they answer (`answers_version`: the treatment's
    questions_version when they were asked; answers to an older version are
    refused, None means the current one) and the consent
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
        raise BookingError(gettext("Give a reason for overriding the booking rules."))
    if not (allow_short_notice or allow_outside_window):
        override_reason = ""  # a reason with nothing overridden would mislead the record
    if not slots:
        raise BookingError(gettext("Choose a time for the first session."))
    slots = [slot_for(s.start, treatment, s.practitioner_id) for s in slots]
    lock([s.practitioner_id for s in slots], patient)

    if idempotency_key:
        existing = Course.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.patient_id != patient.pk:
                raise BookingError(
                    gettext("This booking could not be matched. Please start again.")
                )
            return existing

    checked = course_checks(
        patient=patient,
        treatment=treatment,
        slots=slots,
        now=now,
        rules=rules,
        answers=answers or {},
        answers_for=answers_for or treatment,
        answers_version=answers_version,
        consent=consent,
        consent_method=consent_method,
        booked_by=booked_by,
        allow_short_notice=allow_short_notice,
        allow_outside_window=allow_outside_window,
        override_reason=override_reason,
        clinical_reason=clinical_reason,
    )
    agreement, price = checked.agreement, checked.price
    course = Course(
        patient=patient,
        treatment=treatment,
        practitioner_id=slots[0].practitioner_id,
        sessions_planned=len(slots),
        suitability_answers=agreement["stored"],
        questions_version=agreement["version"],
        consent=consent,
        consent_method=consent_method,
        consent_given_at=None if consent_method == Course.ConsentMethod.PAPER else now,
        consent_recorded_by=booked_by if consent_method != Course.ConsentMethod.ONLINE else None,
        idempotency_key=idempotency_key or None,
        booked_by=booked_by,
        override_reason="\n".join(checked.reasons),
        override_by=booked_by if checked.overridden else None,
        overridden_rules=",".join(checked.overridden),
        currency=price.currency,
        price=price.total,
        session_rate=exact(price.total / len(slots), price.currency),
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
                        price=share,
                    )
                    for number, (slot, share) in enumerate(zip(slots, price.each, strict=True), 1)
                ],
                Session,
            )
            ledger.course_sold(course=course, now=now, by=booked_by)
            reminders.queue_for_course(sessions, now=now)
    except IntegrityError as exc:
        logger.warning(
            "booking conflict caught by the database",
            extra={"error": type(exc.__cause__ or exc).__name__},
        )
        raise course_taken(treatment=treatment, slots=slots, now=now, patient=patient) from exc
    logger.info("course booked", extra={"course_id": course.pk, "sessions": len(slots)})
    return course
