"""Moving a session (and the later sessions its course needs moved with it)."""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from .. import rulebook
from ..availability import Slot
from ..models import BookingRules, Practitioner, Session
from .checks import (
    change_refusal,
    lock,
    refuse,
    replan_or_refuse,
    sessions_shift,
    slot_for,
    slots_free,
    staff_rules,
)
from .errors import BookingError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MoveResult:
    session: Session
    moved: list[Session] = field(default_factory=list)  # the later sessions moved with it


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
    waive_reason: str = "",
) -> MoveResult:
    """Move one session, and with it any later ones in `also` (number -> slot), or nothing.

    The course it leaves must keep the rules (booking/rulebook.py): the moved
    session inside its window after the one before, and every later one inside
    its own. When a later one would fall outside, NeedsReplan proposes where it
    could go; asking again with those in `also` moves them all together.

    Moved inside the change notice (staff only), a session has the cancellation
    policy's outcome in the ledger, unless staff waive it with `waive_reason`.
    """
    now = now or timezone.now()
    rules = BookingRules.current()
    override_reason = (override_reason or "").strip()
    practitioner_id = practitioner.pk if practitioner else session.practitioner_id
    also = dict(also or {})
    lock(
        [practitioner_id, session.practitioner_id, *(s.practitioner_id for s in also.values())],
        session.patient,
    )
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("course__treatment", "patient")
        .get(pk=session.pk)
    )
    course, treatment = session.course, session.course.treatment
    siblings = {s.number: s for s in course.sessions.active().select_related("practitioner")}
    change_refusal(session, now, rules, by_staff)
    moves = [(session, slot_for(new_start, treatment, practitioner_id))]
    for number, slot in sorted(also.items()):
        later = siblings.get(number)
        if later is None or number <= session.number:
            raise BookingError(gettext("That session is not one that can move with this one."))
        change_refusal(later, now, rules, by_staff)
        moves.append((later, slot_for(slot.start, treatment, slot.practitioner_id)))
    if by_staff:  # staff may move inside the notice (a practitioner off sick today)
        rules = staff_rules(rules)
        if any(slot.start <= now for _s, slot in moves):
            raise BookingError(gettext("The new time must be in the future."))
    elif any(slot.start < now + rules.min_notice for _s, slot in moves):
        raise BookingError(
            ngettext(
                "The new time must be at least %(hours)d hour from now.",
                "The new time must be at least %(hours)d hours from now.",
                rules.min_notice_hours,
            )
            % {"hours": rules.min_notice_hours}
        )
    first_number = min(siblings)
    if not by_staff and session.number == first_number:
        refuse(rulebook.first_session_breach(moves[0][1].start, now, rules))
    starts = {n: s.start for n, s in siblings.items()}
    starts.update({moved.number: slot.start for moved, slot in moves})
    moved_ids = [moved.pk for moved, _slot in moves]
    replan_or_refuse(
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
    slots_free(
        moves=moves,
        treatment=treatment,
        patient=session.patient,
        now=now,
        rules=rules,
        exclude=moved_ids,
    )
    sessions_shift(
        moves,
        treatment=treatment,
        patient=session.patient,
        now=now,
        practitioner_id=practitioner_id,
        exclude_session_ids=moved_ids,
        by=by,
        waive_reason=waive_reason,
    )
    logger.info("session moved", extra={"session_id": session.pk, "with": len(moves) - 1})
    return MoveResult(moves[0][0], [moved for moved, _slot in moves[1:]])
