"""Reads for the education pages: one query per thing the page shows."""

from itertools import groupby

from django.http import Http404
from django.shortcuts import get_object_or_404

from .content_cache import content_read_through
from .models import FAQ, Article, Topic, Treatment


def treatment_published(slug: str) -> Treatment | None:
    """The published treatment with its reviewer: kept until the next content save.

    Read on every treatment page and every booking step; a hit costs no query.
    """
    if len(slug) > Treatment._meta.get_field("slug").max_length:
        return None  # no row has it (and the cache key stays short)
    return content_read_through(
        f"treatment:{slug}",
        lambda: (
            Treatment.objects.published().select_related("reviewed_by").filter(slug=slug).first()
        ),
    )


def treatment_for_page(slug: str) -> Treatment:
    treatment = treatment_published(slug)
    if treatment is None:
        raise Http404("No such treatment")
    return treatment


def treatment_faqs(treatment: Treatment):
    """Lazy: evaluated only when the cached FAQ fragment must be rendered again."""
    return FAQ.objects.published().filter(treatment=treatment)


def treatments_listed():
    """Treatments for menus and the home page; the consultation comes last."""
    return Treatment.objects.published().only("name", "slug", "summary", "is_consultation")


def articles_published(*, topic: Topic | None = None):
    articles = Article.objects.published().select_related("topic", "treatment")
    return articles.filter(topic=topic) if topic else articles


def article_for_page(slug: str) -> Article:
    return get_object_or_404(
        Article.objects.published()
        .select_related("author", "reviewed_by", "treatment", "topic")
        .prefetch_related("sources"),
        slug=slug,
    )


def topics_with_articles():
    return Topic.objects.filter(articles__status=Article.Status.PUBLISHED).distinct()


def faqs_by_topic() -> list[tuple[Topic, list[FAQ]]]:
    faqs = FAQ.objects.published().select_related("topic")
    return [(topic, list(items)) for topic, items in groupby(faqs, key=lambda f: f.topic)]


def faqs_common(limit: int = 5):
    return FAQ.objects.published().select_related("topic")[:limit]
