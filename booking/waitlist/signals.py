"""Time freed by the clinic's calendar, however it is edited (admin pages, bulk actions,
the shell): time off removed or shortened, working hours changed, a closure removed.

Noted generously (the whole old extent); the matcher offers only what is really free.
"""

from datetime import datetime, time, timedelta

from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from ..courses import end_of_day
from ..models import BookingRules, ClinicClosure, TimeOff, WorkingHours
from . import hooks
from .models import FreedTime


def _before(sender, instance, **kwargs):
    """Keep the row as it was, for post_save to free what it no longer covers."""
    instance._waitlist_before = (
        sender.objects.filter(pk=instance.pk).first() if instance.pk else None
    )


def _old(instance, kwargs):
    """The row as it was: before a save (None for a new row), or the deleted row."""
    if "created" in kwargs:  # post_save
        return getattr(instance, "_waitlist_before", None)
    return instance


def _time_off_freed(sender, instance, **kwargs):
    if (old := _old(instance, kwargs)) is not None:
        hooks.time_freed(
            practitioner_id=old.practitioner_id,
            start=old.start,
            end=old.end,
            cause=FreedTime.Cause.TIME_OFF,
        )


def _hours_changed(sender, instance, **kwargs):
    now = timezone.now()
    hooks.time_freed(
        practitioner_id=instance.practitioner_id,
        start=now,
        end=now + BookingRules.current().horizon + timedelta(days=1),
        cause=FreedTime.Cause.HOURS,
    )


def _closure_freed(sender, instance, **kwargs):
    from ..selectors import clinic_zone

    if (old := _old(instance, kwargs)) is not None:
        zone = clinic_zone()
        hooks.time_freed(
            practitioner_id=None,
            start=datetime.combine(old.date, time(0), tzinfo=zone),
            end=end_of_day(old.date, zone),
            cause=FreedTime.Cause.CLOSURE,
        )


def connect() -> None:
    for model, handler in ((TimeOff, _time_off_freed), (ClinicClosure, _closure_freed)):
        uid = f"waitlist:{model.__name__}"
        pre_save.connect(_before, sender=model, dispatch_uid=f"{uid}:before")
        post_save.connect(handler, sender=model, dispatch_uid=f"{uid}:saved")
        post_delete.connect(handler, sender=model, dispatch_uid=f"{uid}:deleted")
    post_save.connect(_hours_changed, sender=WorkingHours, dispatch_uid="waitlist:hours:saved")
