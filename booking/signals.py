"""Cached reads of booking rows moved on when those rows change (clinic/versioned_cache.py)."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from clinic.versioned_cache import bump

from .models import Practitioner
from .selectors import PRACTITIONERS_VERSION


def _practitioners_changed(**_kwargs) -> None:
    bump(PRACTITIONERS_VERSION)


def connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(_practitioners_changed, sender=Practitioner, dispatch_uid="practitioners")
    m2m_changed.connect(
        _practitioners_changed,
        sender=Practitioner.treatments.through,
        dispatch_uid="practitioner-treatments",
    )
