"""When each reminder falls due: pure functions over datetimes, in clinic time."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .availability import local_datetime


def in_quiet_hours(moment: datetime, zone: ZoneInfo, quiet_from: time, quiet_until: time) -> bool:
    wall = moment.astimezone(zone).time()
    if quiet_from > quiet_until:  # overnight, e.g. 21:00 to 08:00
        return wall >= quiet_from or wall < quiet_until
    return quiet_from <= wall < quiet_until


def after_quiet_hours(
    moment: datetime, zone: ZoneInfo, quiet_from: time, quiet_until: time
) -> datetime:
    """`moment`, or the end of the quiet hours it falls in (08:00 clinic time)."""
    if not in_quiet_hours(moment, zone, quiet_from, quiet_until):
        return moment
    local = moment.astimezone(zone)
    day: date = local.date()
    if quiet_from > quiet_until and local.time() >= quiet_from:
        day += timedelta(days=1)
    return local_datetime(day, quiet_until, zone) or datetime.combine(day, quiet_until, tzinfo=zone)


def due_times(
    *, start: datetime, end: datetime, booked_at: datetime, zone: ZoneInfo, settings
) -> dict[str, datetime | None]:
    """Due instants for one session's reminder, aftercare and check-in (None: none).

    Hours are real hours (arithmetic in UTC: Python subtracts wall time within one
    zone); days are calendar days at the same local time.
    """

    def quiet(moment):
        return after_quiet_hours(moment, zone, settings.quiet_from, settings.quiet_until)

    start, end = start.astimezone(UTC), end.astimezone(UTC)
    reminder = quiet(start - timedelta(hours=settings.reminder_hours_before))
    latest_reminder = start - timedelta(hours=settings.reminder_min_hours_before)
    if reminder <= booked_at or reminder > latest_reminder:
        reminder = None  # already past at booking, or quiet hours push it too close
    local_end = end.astimezone(zone)
    check_in = local_datetime(
        local_end.date() + timedelta(days=settings.check_in_days_after),
        local_end.time().replace(tzinfo=None),
        zone,
    )
    return {
        "reminder": reminder,
        "aftercare": quiet(end + timedelta(hours=settings.aftercare_hours_after)),
        "check_in": quiet(check_in or end + timedelta(days=settings.check_in_days_after)),
    }
