"""Search vectors follow the rows they index (what saves clear in the cache: clinic/caching.py)."""

from django.db.models.signals import post_save

from . import models


def _refresh_vector(sender, instance, raw=False, **_kwargs) -> None:
    from .search import refresh_search_vectors

    if not raw:
        refresh_search_vectors(sender, [instance.pk])


def connect() -> None:
    for model in (models.Treatment, models.Article, models.FAQ):
        post_save.connect(_refresh_vector, sender=model, dispatch_uid=f"vector-{model}")
