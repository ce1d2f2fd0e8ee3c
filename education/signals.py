from django.db.models.signals import m2m_changed, post_delete, post_save

from . import models
from .content_cache import bump_content_version

CONTENT_MODELS = (
    models.Treatment,
    models.SuitabilityQuestion,
    models.Article,
    models.FAQ,
    models.Topic,
    models.Contributor,
    models.Source,
)


def _refresh_vector(sender, instance, raw=False, **_kwargs) -> None:
    from .search import refresh_search_vectors

    if not raw:
        refresh_search_vectors(sender, [instance.pk])


def connect() -> None:
    from clinic.models import ClinicDetails  # its name and phone are on every kept page

    for model in (models.Treatment, models.Article, models.FAQ):
        post_save.connect(_refresh_vector, sender=model, dispatch_uid=f"vector-{model}")
    for model in (*CONTENT_MODELS, ClinicDetails):
        post_save.connect(bump_content_version, sender=model, dispatch_uid=f"bump-save-{model}")
        post_delete.connect(bump_content_version, sender=model, dispatch_uid=f"bump-del-{model}")
    for through in (models.Treatment.sources.through, models.Article.sources.through):
        m2m_changed.connect(
            bump_content_version, sender=through, dispatch_uid=f"bump-m2m-{through}"
        )
