"""Search vectors follow the rows they index (what saves clear in the cache: clinic/caching.py),
and a treatment's questions version follows its health questions."""

from django.db.models import F
from django.db.models.signals import post_delete, post_save

from . import models


def _refresh_vector(sender, instance, raw=False, **_kwargs) -> None:
    from .search import refresh_search_vectors

    if not raw:
        refresh_search_vectors(sender, [instance.pk])


def _questions_changed(sender, instance, raw=False, **_kwargs) -> None:
    """A question added, edited or removed: answers given before were to other questions."""
    if not raw:
        models.Treatment.objects.filter(pk=instance.treatment_id).update(
            questions_version=F("questions_version") + 1
        )


def connect() -> None:
    for model in (models.Treatment, models.Article, models.FAQ):
        post_save.connect(_refresh_vector, sender=model, dispatch_uid=f"vector-{model}")
    for signal in (post_save, post_delete):
        signal.connect(
            _questions_changed,
            sender=models.SuitabilityQuestion,
            dispatch_uid=f"questions-version-{signal is post_save}",
        )
