"""Reads for the education pages: one query per thing the page shows."""

from itertools import groupby

from django.shortcuts import get_object_or_404

from .models import FAQ, Article, Topic, Treatment


def treatment_for_page(slug: str) -> Treatment:
    """The published treatment with its reviewer (one query)."""
    return get_object_or_404(Treatment.objects.published().select_related("reviewed_by"), slug=slug)


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
