"""Adding sessions to a course."""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from simple_history.utils import bulk_create_with_history

from .. import reminders, rulebook, selectors
from ..availability import Slot
from ..models import BookingRules, Course, Session
from .checks import lock, slot_for, slots_free, staff_rules
from .errors import TAKEN_MESSAGE, BookingError, SlotTaken

logger = logging.getLogger(__name__)


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
    lock([slot.practitioner_id], course.patient)
    course = Course.objects.select_related("treatment", "patient").get(pk=course.pk)
    treatment = course.treatment
    active = list(course.sessions.active().order_by("number"))
    if len(active) + 1 > treatment.sessions_max:
        raise BookingError(
            ngettext(
                "A course of %(treatment)s has at most %(max)d session.",
                "A course of %(treatment)s has at most %(max)d sessions.",
                treatment.sessions_max,
            )
            % {"treatment": treatment.name, "max": treatment.sessions_max}
        )
    if not any(s.status == Session.Status.BOOKED for s in active) and not by_staff:
        raise BookingError(gettext("This course has finished. Please book a new course instead."))
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
    number = course.sessions.aggregate(top=Max("number"))["top"] + 1
    starts = [(s.number, s.start) for s in active] + [(number, slot.start)]
    breaches = rulebook.course_breaches(
        starts, rulebook.spacing_of(treatment), selectors.clinic_zone()
    )
    if breaches:
        raise BookingError(breaches[0].message)
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
                    )
                ],
                Session,
            )
            course.sessions_planned += 1
            course.status = Course.Status.ACTIVE
            course.save(update_fields=["sessions_planned", "status"])
            reminders.queue_for_course([session], now=now)
    except IntegrityError as exc:
        raise SlotTaken(TAKEN_MESSAGE) from exc
    logger.info("course extended", extra={"course_id": course.pk, "session_id": session.pk})
    return session


def extension_proposals(*, course: Course, now: datetime, limit: int = 6) -> list[Slot]:
    """Free times for one more session: inside its window after the last active one,
    the course's practitioner first, nearest the preferred gap."""
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
