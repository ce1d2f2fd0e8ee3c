"""Time off that falls over booked sessions: found, resolved session by session, then saved.

Time off is not saved over a booked session: the patient would be left with an
appointment nobody keeps. Staff first say, for each such session, who takes it
instead (someone who offers the treatment and is free at exactly that time,
found with the same availability code the booking services check against) or
that it is cancelled and the patient told. The handovers, the cancellations
and the time off are one transaction: if one handover fails because the other
practitioner was booked a moment ago, nothing is applied.
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from . import selectors, services
from .courses import end_of_day
from .models import TO_HAPPEN, BookingRules, Practitioner, Session, TimeOff
from .services import BookingError, staff_rules

logger = logging.getLogger(__name__)
CANCEL = "cancel"
Resolution = int | str  # another practitioner's id, or CANCEL


def session_label(session: Session) -> str:
    """'Patient 1, Tue 2 Jun 2026 10:00–11:15, Microneedling' (clinic time)."""
    zone = selectors.clinic_zone()
    start, end = session.start.astimezone(zone), session.end.astimezone(zone)
    return f"{session.patient}, {start:%a %-d %b %Y %H:%M}–{end:%H:%M}, {session.course.treatment}"


def time_off_collisions(
    *, practitioner: Practitioner, start: datetime, end: datetime
) -> list[Session]:
    """The practitioner's booked (or arrived) sessions that overlap [start, end), by start."""
    return list(
        Session.objects.filter(practitioner=practitioner, status__in=TO_HAPPEN)
        .overlapping(start, end)
        .select_related("patient", "course__treatment")
        .order_by("start")
    )


def handover_choices(
    *, sessions: Sequence[Session], now: datetime
) -> dict[int, list[Practitioner]]:
    """For each session: the other practitioners who could take it at exactly its time.

    The same free-slot search `services.session_move` re-checks a handover
    with (working hours, their time off, their sessions plus the buffer,
    closures, the patient's other sessions; staff may hand over inside the
    booking notice), so a choice offered here is one the service accepts
    unless someone books it first.
    """
    zone, rules = selectors.clinic_zone(), staff_rules(BookingRules.current())
    offering: dict[int, list[Practitioner]] = {}
    choices = {}
    for session in sessions:
        treatment = session.course.treatment
        if treatment.pk not in offering:
            offering[treatment.pk] = selectors.practitioners_for(treatment)
        others = [p for p in offering[treatment.pk] if p.pk != session.practitioner_id]
        day = session.start.astimezone(zone).date()
        free = selectors.free_slots(
            treatment=treatment,
            day_from=day,
            day_to=day,
            now=now,
            practitioners=others,
            patient=session.patient,
            latest=end_of_day(day, zone),
            exclude_session_ids=[session.pk],
            rules=rules,
        )
        free_ids = {slot.practitioner_id for slot in free if slot.start == session.start}
        choices[session.pk] = [p for p in others if p.pk in free_ids]
    return choices


def _lock_practitioners(ids) -> None:
    # All at once in id order, the order booking/services/ locks in: the
    # services below lock these again (a no-op) and never wait on each other.
    list(
        Practitioner.objects.select_for_update()
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _apply(
    session: Session, choice: Resolution, practitioner: Practitioner, now: datetime, by
) -> str:
    # The clinic's doing, not the patient's: inside the notice, the cancellation policy
    # is waived (recorded with its author; by the shell with no author, it applies).
    reason = gettext("The practitioner is away: the clinic changed this session.")
    waived = {"by": by, "waive_reason": reason if by is not None else ""}
    if choice == CANCEL:
        try:
            services.session_cancel(session=session, now=now, by_staff=True, notify=True, **waived)
        except BookingError as error:
            raise BookingError(
                gettext("%(session)s: %(error)s")
                % {"session": session_label(session), "error": error.message}
            ) from error
        return CANCEL
    other = Practitioner.objects.filter(pk=choice).exclude(pk=practitioner.pk).first()
    if other is None:
        raise BookingError(
            gettext("%(session)s: choose another practitioner or cancel it.")
            % {"session": session_label(session)}
        )
    try:
        services.session_move(
            session=session,
            new_start=session.start,
            now=now,
            practitioner=other,
            by_staff=True,
            **waived,
        )
    except BookingError as error:
        raise BookingError(
            gettext(
                "%(session)s: %(practitioner)s is no longer free then. "
                "Nothing was changed; please choose again."
            )
            % {"session": session_label(session), "practitioner": other}
        ) from error
    return other.display_name


def _normalised(resolutions: Mapping[int, Resolution]) -> dict[int, Resolution]:
    """Ids as ints whether they came from a form (strings) or from code."""
    try:
        return {
            int(session_id): choice if choice == CANCEL else int(choice)
            for session_id, choice in resolutions.items()
        }
    except (TypeError, ValueError) as error:
        raise BookingError(
            gettext("Choose another practitioner or cancel, for each session.")
        ) from error


@transaction.atomic
def time_off_add(
    *,
    practitioner: Practitioner,
    start: datetime,
    end: datetime,
    reason: str = "",
    resolutions: Mapping[int, Resolution],
    now: datetime | None = None,
    by=None,
    replacing: TimeOff | None = None,
) -> TimeOff:
    """Hand over or cancel each colliding session as `resolutions` says, then save the time off.

    `resolutions` maps a session id to another practitioner's id or CANCEL;
    every booked session under the time off needs one. `replacing`: change
    that time off row instead of adding one. All or nothing.
    """
    now = now or timezone.now()
    if end <= start:
        raise BookingError(gettext("The end of the time off must be after its start."))
    if replacing is not None and replacing.practitioner_id != practitioner.pk:
        raise BookingError(gettext("That time off belongs to another practitioner."))
    resolutions = _normalised(resolutions)
    _lock_practitioners([practitioner.pk, *(c for c in resolutions.values() if c != CANCEL)])
    # Read under the lock: nothing can be booked with this practitioner now.
    sessions = time_off_collisions(practitioner=practitioner, start=start, end=end)
    if missing := [s for s in sessions if s.pk not in resolutions]:
        raise BookingError(
            gettext("Choose who takes each session or cancel it first: %(sessions)s")
            % {"sessions": "; ".join(session_label(s) for s in missing)}
        )
    outcomes = [_apply(s, resolutions[s.pk], practitioner, now, by) for s in sessions]
    time_off = replacing or TimeOff(practitioner=practitioner)
    time_off.start, time_off.end, time_off.reason = start, end, reason.strip()
    time_off.full_clean()
    time_off.save()
    logger.info(
        "time off saved",
        extra={
            "time_off_id": time_off.pk,
            "handed_over": sum(o != CANCEL for o in outcomes),
            "cancelled": outcomes.count(CANCEL),
            "by": getattr(by, "pk", None),
        },
    )
    return time_off
