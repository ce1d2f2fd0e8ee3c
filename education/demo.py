"""Demo content for `seed_demo`: the microneedling guide, articles and FAQs.

Upserts keyed by slug (or name), so running it again changes nothing. The
prose lives in demo_content.py, written fresh from the shared fact sheet.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify

from . import demo_content as content
from .models import FAQ, Article, Contributor, Source, SuitabilityQuestion, Topic, Treatment

TREATMENT_FIELDS = (
    "name", "summary", "body", "who_it_helps", "risks", "aftercare", "treatment_minutes",
    "numbing_minutes", "sessions_usual", "sessions_min", "sessions_max", "spacing_min_days",
    "spacing_preferred_days", "spacing_max_days", "session_price", "package_price",
    "bookable_online", "is_consultation",
)  # fmt: skip
LAST_REVIEWED_DAYS_AGO = 30
REVIEW_EVERY_DAYS = 365


def _save(instance):
    instance.full_clean()
    instance.save()
    return instance


def _upsert(model, lookup: dict, values: dict):
    instance = model.objects.filter(**lookup).first() or model(**lookup)
    for field, value in values.items():
        setattr(instance, field, value)
    return _save(instance)


def _upsert_question(treatment, order: int, values: dict) -> None:
    """Saved only when new or changed: each save starts a new questions version."""
    fields = ("text", "outcome", "explanation")
    existing = SuitabilityQuestion.objects.filter(treatment=treatment, order=order).first()
    if existing and all(getattr(existing, f) == values[f] for f in fields):
        return
    _upsert(
        SuitabilityQuestion,
        {"treatment": treatment, "order": order},
        {f: values[f] for f in fields},
    )


@transaction.atomic
def seed() -> dict[str, QuerySet]:
    today = timezone.localdate()
    review = {
        "last_reviewed": today - timedelta(days=LAST_REVIEWED_DAYS_AGO),
        "next_review_due": today
        - timedelta(days=LAST_REVIEWED_DAYS_AGO)
        + timedelta(days=REVIEW_EVERY_DAYS),
    }
    people = {
        person["key"]: _upsert(
            Contributor,
            {"name": person["name"]},
            {
                "credentials": person["credentials"],
                "role": person["role"],
                "is_clinician": person["is_clinician"],
            },
        )
        for person in content.CONTRIBUTORS
    }
    sources = {
        source["key"]: _upsert(
            Source,
            {"title": source["title"]},
            {"publisher": source["publisher"], "url": source["url"]},
        )
        for source in content.SOURCES
    }
    topics = {
        topic["slug"]: _upsert(
            Topic, {"slug": topic["slug"]}, {"name": topic["name"], "order": topic["order"]}
        )
        for topic in content.TOPICS
    }
    treatments = {}
    for data in content.TREATMENTS:
        values = {field: data[field] for field in TREATMENT_FIELDS}
        values["other_names"] = "\n".join(data["other_names"])
        values["diagram"] = data.get("diagram", "")
        if not data["is_consultation"]:
            values.update(review, reviewed_by=people["reviewer"])
        treatment = _upsert(Treatment, {"slug": data["slug"]}, values)
        treatment.sources.set([sources[key] for key in data["sources"]])
        for order, question in enumerate(data["questions"], start=1):
            _upsert_question(treatment, order, question)
        treatment.questions.filter(order__gt=len(data["questions"])).delete()
        treatments[data["slug"]] = treatment

    now = timezone.now()
    for data in content.ARTICLES:
        existing = Article.objects.filter(slug=data["slug"]).first()
        published_at = (
            existing.published_at
            if existing and existing.published_at
            else now - timedelta(days=data["published_days_ago"])
        )
        article = _upsert(
            Article,
            {"slug": data["slug"]},
            {
                "title": data["title"],
                "summary": data["summary"],
                "body": data["body"],
                "treatment": treatments.get(data["treatment"]),
                "topic": topics[data["topic"]],
                "author": people[data["author"]],
                "reviewed_by": people[data["reviewed_by"]],
                "status": Article.Status.PUBLISHED,
                "published_at": published_at,
                **review,
            },
        )
        article.sources.set([sources[key] for key in data["sources"]])

    for data in content.FAQS:
        _upsert(
            FAQ,
            {"slug": slugify(data["question"])[:120]},
            {
                "question": data["question"],
                "answer": data["answer"],
                "topic": topics[data["topic"]],
                "treatment": treatments.get(data["treatment"]),
                "order": data["order"],
                "is_published": True,
            },
        )
    return {
        "treatments": Treatment.objects.all(),
        "articles": Article.objects.all(),
        "FAQs": FAQ.objects.all(),
    }
