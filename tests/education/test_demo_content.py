"""The demo content: readable, complete, and every page of it answers."""

import json
import re

import pytest

from clinic import demo as clinic_demo
from clinic.models import ClinicDetails
from education import demo as education_demo
from education.models import FAQ, Article, Source, Treatment
from education.readability import MAX_GRADE, reading_grade

pytestmark = pytest.mark.django_db
LD_JSON = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def _content():
    """The demo's content: the clinic's details and education's pages. The booking
    demo (courses booked through the services) is tested in tests/clinic/test_seed_demo.py,
    which also runs the whole seed_demo twice."""
    clinic_demo.seed()
    education_demo.seed()


@pytest.fixture
def demo():
    _content()


def published_texts():
    yield "clinic travel notes", ClinicDetails.current().travel_notes
    for article in Article.objects.published():
        yield f"article {article.slug}", article.body
        yield f"article summary {article.slug}", article.summary
    for faq in FAQ.objects.published():
        yield f"FAQ {faq.question}", faq.answer
    for treatment in Treatment.objects.published():
        for field in ("body", "who_it_helps", "risks", "aftercare"):
            if getattr(treatment, field):
                yield f"{treatment.slug} {field}", getattr(treatment, field)


def test_every_published_text_reads_at_grade_8_or_lower(demo):
    grades = {name: reading_grade(text) for name, text in published_texts()}
    assert len(grades) >= 25
    too_hard = {name: round(g, 1) for name, g in grades.items() if g > MAX_GRADE}
    assert too_hard == {}


def test_the_demo_clinic_says_how_to_find_it(demo):
    clinic = ClinicDetails.current()
    assert len(clinic.travel_notes_lines) >= 4
    assert clinic.map_url.startswith("https://www.openstreetmap.org/?mlat=51.5068&mlon=-0.0965")
    clinic.full_clean()


def test_demo_has_the_content_the_clinic_needs(demo):
    microneedling = Treatment.objects.get(slug="microneedling")
    assert {"collagen induction therapy", "dermaroller", "skin needling"} <= {
        n.lower() for n in microneedling.other_names_list
    }
    assert (
        microneedling.sessions_usual,
        microneedling.sessions_min,
        microneedling.sessions_max,
    ) == (3, 1, 6)
    assert (
        microneedling.spacing_min_days,
        microneedling.spacing_preferred_days,
        microneedling.spacing_max_days,
    ) == (28, 28, 42)
    assert microneedling.questions.count() >= 5
    consultation = Treatment.objects.get(is_consultation=True)
    assert (consultation.appointment_minutes, consultation.sessions_max) == (30, 1)
    assert Article.objects.published().count() >= 3
    assert FAQ.objects.published().count() >= 15
    assert all(a.sources.exists() and a.reviewed_by.is_clinician for a in Article.objects.all())
    assert all("(demo)" in p.name for p in {a.reviewed_by for a in Article.objects.all()})


def test_demo_sources_come_only_from_the_checked_list(demo):
    checked = {"fda.gov", "dermnetnz.org", ""}
    for source in Source.objects.all():
        host = re.sub(r"^https://(www\.)?", "", source.url).split("/")[0]
        assert host in checked, source.url


def test_every_demo_page_answers_with_valid_json_ld(client, demo):
    pages = [
        "/",
        "/articles/",
        "/faq/",
        "/search/?q=microneedling",
        "/newsletter/",
        "/sitemap.xml",
        "/robots.txt",
    ]
    for treatment in Treatment.objects.all():
        pages += [treatment.get_absolute_url(), f"{treatment.get_absolute_url()}suitability/"]
    pages += [article.get_absolute_url() for article in Article.objects.all()]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        for block in LD_JSON.findall(response.content.decode()):
            assert json.loads(block)["@context"] == "https://schema.org", url


def test_seeding_twice_changes_nothing(demo):
    counts = (
        Treatment.objects.count(),
        Article.objects.count(),
        FAQ.objects.count(),
        Source.objects.count(),
    )
    _content()
    assert counts == (
        Treatment.objects.count(),
        Article.objects.count(),
        FAQ.objects.count(),
        Source.objects.count(),
    )
