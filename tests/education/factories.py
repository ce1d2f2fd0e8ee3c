from decimal import Decimal

import factory
from django.utils import timezone

from education.models import (
    FAQ,
    Article,
    Contributor,
    NewsletterSubscriber,
    Source,
    SuitabilityQuestion,
    Topic,
    Treatment,
)


class ContributorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contributor

    name = factory.Sequence(lambda n: f"Dr Test Reviewer {n}")
    credentials = "MBBS"
    role = "Dermatologist"
    is_clinician = True


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    title = factory.Sequence(lambda n: f"Source {n}")
    publisher = "DermNet"
    url = factory.Sequence(lambda n: f"https://dermnetnz.org/topics/test-{n}")


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class TreatmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Treatment
        django_get_or_create = ["slug"]

    name = "Microneedling"
    slug = "microneedling"
    other_names = "collagen induction therapy\nskin needling\ndermaroller\ndermapen"
    summary = "Tiny needles make small marks so the skin makes new collagen."
    body = (
        "## What it is\n\nA pen with fine needles.\n\n## How it works\n\nThe skin heals.\n\n"
        "## The appointment\n\nWe clean your skin.\n\n## When to contact us\n\nCall us if it "
        "gets worse."
    )
    who_it_helps = "It may help acne scars."
    aftercare = "### The first 24 hours\n\nKeep your skin clean."
    treatment_minutes = 45
    numbing_minutes = 30
    sessions_usual = 3
    sessions_min = 1
    sessions_max = 6
    spacing_min_days = 28
    spacing_preferred_days = 28
    spacing_max_days = 42
    session_price = Decimal("100.00")
    reviewed_by = factory.SubFactory(ContributorFactory)
    last_reviewed = factory.LazyFunction(lambda: timezone.localdate())


class ConsultationFactory(TreatmentFactory):
    name = "Consultation"
    slug = "consultation"
    other_names = ""
    body = "## What happens\n\nWe talk."
    aftercare = ""
    treatment_minutes = 30
    numbing_minutes = 0
    sessions_usual = sessions_min = sessions_max = 1
    spacing_min_days = spacing_preferred_days = spacing_max_days = 0
    is_consultation = True
    session_price = Decimal("0.00")


class SuitabilityQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SuitabilityQuestion

    treatment = factory.SubFactory(TreatmentFactory)
    text = factory.Sequence(lambda n: f"Question {n}?")
    outcome = SuitabilityQuestion.Outcome.CONSULT
    explanation = "A clinician should check first."
    order = factory.Sequence(int)


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    summary = "A short summary."
    body = "## First part\n\nSome words.\n\n## Second part\n\nMore words."
    status = Article.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)
    author = factory.SubFactory(ContributorFactory, is_clinician=False)
    reviewed_by = factory.SubFactory(ContributorFactory)
    last_reviewed = factory.LazyFunction(lambda: timezone.localdate())
    topic = factory.SubFactory(TopicFactory)


class FAQFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FAQ

    question = factory.Sequence(lambda n: f"Question number {n}?")
    slug = factory.Sequence(lambda n: f"question-number-{n}")
    answer = "A short answer."
    topic = factory.SubFactory(TopicFactory)
    order = factory.Sequence(int)


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NewsletterSubscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.org")


def usual_questions(treatment) -> list:
    """The two health questions the booking tests ask: one rules the treatment out,
    one asks for a clinician first."""
    return [
        SuitabilityQuestionFactory(
            treatment=treatment,
            text="Are you pregnant?",
            outcome=SuitabilityQuestion.Outcome.NOT_SUITABLE,
            explanation="Wait until after pregnancy.",
        ),
        SuitabilityQuestionFactory(
            treatment=treatment,
            text="Do you form keloid scars?",
            explanation="A clinician should see your skin first.",
        ),
    ]
