"""Reads for the education pages: one query per thing the page shows."""

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from django.core.paginator import Paginator
from django.db.models import Min
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import date as date_filter
from django.utils import timezone

from clinic import caching

from .models import FAQ, Article, Topic, Treatment
from .page_cache import PAGE_NUMBER, SLUG


def treatment_published(slug: str) -> Treatment | None:
    """The published treatment with its reviewer: kept until the next content save.

    Read on every treatment page and every booking step; a hit costs no query.
    """
    if len(slug) > Treatment._meta.get_field("slug").max_length:
        return None  # no row has it (and the cache key stays short)
    return caching.read_through(
        caching.TREATMENT,
        slug,
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
    """The treatment's published questions (read when its page is rendered)."""
    return FAQ.objects.published().filter(treatment=treatment)


def treatments_listed():
    """Treatments for menus and the home page; the consultation comes last."""
    return Treatment.objects.published().only("name", "slug", "summary", "is_consultation")


def consultation_bookable() -> Treatment | None:
    """The consultation a patient can book online, offered when a treatment may not suit."""
    return Treatment.objects.published().filter(is_consultation=True, bookable_online=True).first()


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


@dataclass(frozen=True)
class ArticleCard:
    """What the list shows of an article, its link and dates already written out."""

    url: str
    title: str
    summary: str
    topic: str
    published_iso: str
    published_text: str

    @classmethod
    def of(cls, article: Article) -> "ArticleCard":
        published = timezone.localtime(article.published_at)
        return cls(
            url=article.get_absolute_url(),
            title=article.title,
            summary=article.summary,
            topic=article.topic.name if article.topic else "",
            published_iso=date_filter(published, "c"),
            published_text=date_filter(published, "j F Y"),
        )


@dataclass(frozen=True)
class ArticleListPage:
    """One page of the article list, as plain data that can be kept in the cache."""

    topic: Topic | None
    topics: list[Topic]
    articles: list[ArticleCard]
    number: int
    num_pages: int
    shown_until: datetime | None  # the next scheduled article goes live then: not kept past it

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


def article_list_page(topic_slug: str | None, asked: str | None, per_page: int):
    """The page of articles asked for, the last one past the end; None for an unknown topic.

    Kept until the next content save, or until the next scheduled article goes
    live, for page numbers spelled as the links spell them.
    """

    def compute() -> ArticleListPage | None:
        topic = Topic.objects.filter(slug=topic_slug).first() if topic_slug else None
        if topic_slug and topic is None:
            return None
        # The next scheduled article first: one going live in between is then
        # on this page already, or this page is not used past its moment.
        upcoming = Article.objects.filter(
            status=Article.Status.PUBLISHED, published_at__gt=timezone.now()
        ).aggregate(first=Min("published_at"))["first"]
        page = Paginator(articles_published(topic=topic), per_page).get_page(asked)
        return ArticleListPage(
            topic=topic,
            topics=list(topics_with_articles()),
            articles=[ArticleCard.of(article) for article in page.object_list],
            number=page.number,
            num_pages=page.paginator.num_pages,
            shown_until=upcoming,
        )

    if topic_slug is not None and not SLUG.fullmatch(topic_slug):
        return None  # no topic has it
    if asked is not None and not PAGE_NUMBER.fullmatch(asked):
        return compute()  # "?page=abc" shows page 1, and is never kept
    part = f"{topic_slug or '-'}:{asked or '1'}"

    def keep(found: ArticleListPage) -> bool:
        return str(found.number) == (asked or "1")  # past the end: not kept under this number

    found = caching.read_through(caching.ARTICLE_LIST, part, compute, keep)
    if found is not None and found.shown_until and found.shown_until <= timezone.now():
        caching.forget(caching.ARTICLE_LIST, part)  # a scheduled article has gone live since
        found = caching.read_through(caching.ARTICLE_LIST, part, compute, keep)
    return found


def topics_with_articles():
    return Topic.objects.filter(articles__status=Article.Status.PUBLISHED).distinct()


def faqs_by_topic() -> list[tuple[Topic, list[FAQ]]]:
    faqs = FAQ.objects.published().select_related("topic")
    return [(topic, list(items)) for topic, items in groupby(faqs, key=lambda f: f.topic)]


def faqs_common(limit: int = 5):
    return FAQ.objects.published().select_related("topic")[:limit]
