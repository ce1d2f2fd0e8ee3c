"""Adding sessions to a course: one more after the last (course_extend), or a cancelled one
booked again (session_rebook). Both are planned and checked the same way (_session_add)."""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from simple_history.utils import bulk_create_with_history

from .. import reminders, rulebook, selectors
from ..availability import Slot
from ..ledger import services as ledger
from ..models import TO_HAPPEN, BookingRules, Course, Session
from .checks import lock, refuse, slot_for, slots_free, staff_rules
from .errors import TAKEN_MESSAGE, BookingError, SlotTaken

logger = logging.getLogger(__name__)


@transaction.atomic
def course_extend(
    *, course: Course, slot: Slot, now: datetime | None = None, by_staff: bool = False, by=None
) -> Session:
    """Add one session after the course's last active one, up to the treatment's maximum.

    Planned and checked as the others are (booking/rulebook.py: after the last
    session inside its window, never inside the minimum notice); the patient
    gets a confirmation listing every session, and the clinic its notice.
    """
    course, active = _locked(course, slot)
    treatment = course.treatment
    refuse(rulebook.most_sessions_breach(len(active) + 1, treatment.sessions_max, treatment.name))
    if not any(s.status in TO_HAPPEN for s in active) and not by_staff:
        raise BookingError(gettext("This course has finished. Please book a new course instead."))
    return _session_add(
        course=course,
        active=active,
        slot=slot,
        number=course.sessions.aggregate(top=Max("number"))["top"] + 1,
        now=now,
        by_staff=by_staff,
        planned=1,
        by=by,
    )


@transaction.atomic
def session_rebook(
    *, session: Session, slot: Slot, now: datetime | None = None, by_staff: bool = False, by=None
) -> Session:
    """Book a cancelled session again: a new session with its number, after the course's
    last active one, when the rulebook lets it (booking/rulebook.py rebook_breach).

    The course keeps its number of sessions, and becomes active again if the
    rest had been cancelled. Checked and confirmed as course_extend is.
    """
    course, active = _locked(session.course, slot)
    current = Session.objects.get(pk=session.pk)  # as it is now, under the lock
    treatment = course.treatment
    refuse(
        rulebook.rebook_breach(
            current.number,
            current.status,
            course.sessions.values_list("number", "status"),
            treatment.sessions_max,
            treatment.name,
        )
    )
    return _session_add(
        course=course,
        active=active,
        slot=slot,
        number=current.number,
        now=now,
        by_staff=by_staff,
        planned=0,
        by=by,
    )


def _locked(course: Course, slot: Slot) -> tuple[Course, list[Session]]:
    """Lock the slot's practitioner and the patient; the course and its active sessions,
    read again under the lock."""
    lock([slot.practitioner_id], course.patient)
    course = Course.objects.select_related("treatment", "patient").get(pk=course.pk)
    return course, list(course.sessions.active().order_by("number"))


def _session_add(
    *,
    course: Course,
    active: list[Session],
    slot: Slot,
    number: int,
    now: datetime | None,
    by_staff: bool,
    planned: int,
    by=None,
) -> Session:
    """Book session `number` of `course` at `slot`, after its `active` sessions, and count
    `planned` more sessions on the course: the minimum notice (none for staff), its
    window after the last active session, the patient's other courses of the treatment,
    the time still free; then the confirmation and the clinic's notice. The course's
    ledger charges it at the course's own rate per session (`Course.session_rate`)."""
    now = now or timezone.now()
    rules = BookingRules.current()
    treatment, zone = course.treatment, selectors.clinic_zone()
    slot = slot_for(slot.start, treatment, slot.practitioner_id)
    if slot.start < now + (timedelta(0) if by_staff else rules.min_notice):
        raise BookingError(
            ngettext(
                "The new session must be at least %(hours)d hour from now.",
                "The new session must be at least %(hours)d hours from now.",
                rules.min_notice_hours,
            )
            % {"hours": rules.min_notice_hours}
        )
    starts = [(s.number, s.start) for s in active] + [(number, slot.start)]
    breaches = rulebook.course_breaches(starts, rulebook.spacing_of(treatment), zone)
    if breaches:
        raise BookingError(breaches[0].message)
    others = {"patient": course.patient, "treatment": treatment, "exclude_course_id": course.pk}
    open_courses, _last = selectors.treatment_history(**others, now=now)
    across = rulebook.added_session_breaches(
        start=slot.start,
        open_courses=open_courses,
        allowed=rules.courses_per_treatment,
        next_course_start=selectors.next_course_start(**others, after=slot.start),
        spacing=rulebook.spacing_of(treatment),
        zone=zone,
        treatment_name=treatment.name,
    )
    if across:
        raise BookingError(" ".join(b.message for b in across))
    slots_free(
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
                        price=course.session_rate,
                    )
                ],
                Session,
            )
            ledger.session_added(session=session, now=now, by=by)
            course.sessions_planned += planned
            course.status = Course.Status.ACTIVE
            course.save(update_fields=["sessions_planned", "status"])
            reminders.queue_for_course([session], now=now)
    except IntegrityError as exc:
        raise SlotTaken(TAKEN_MESSAGE) from exc
    logger.info(
        "session added",
        extra={"course_id": course.pk, "session_id": session.pk, "number": number},
    )
    return session


def extension_proposals(*, course: Course, now: datetime, limit: int = 6) -> list[Slot]:
    """Free times for a session after the course's last active one, added (course_extend)
    or a cancelled one booked again (session_rebook): inside its window, the course's
    practitioner first, nearest the preferred gap."""
    from ..courses import preferred_start, session_window

    treatment, zone = course.treatment, selectors.clinic_zone()
    last = course.sessions.active().order_by("-number").first()
    if last is None:
        return []
    spacing = rulebook.spacing_of(treatment)
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
