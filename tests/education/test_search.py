import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from education.search import clean_query, excerpt, search
from tests.education.factories import ArticleFactory, FAQFactory, TreatmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def content():
    TreatmentFactory()
    TreatmentFactory(
        name="Chemical peel",
        slug="chemical-peel",
        other_names="skin peel",
        summary="An acid solution removes the top layer of skin.",
        body="## What it is\n\nA liquid is painted on the skin.",
    )
    ArticleFactory(
        title="Microneedling for acne scars",
        slug="acne-scars",
        body="## Scars\n\nAcne scars can soften over a course of sessions.",
    )
    FAQFactory(question="Does microneedling hurt?", answer="Most people feel mild discomfort.")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "query",
    [
        "microneedling",
        "collagen induction therapy",
        "skin needling",
        "dermaroller",
        "microneedlign",
        "derma pen",
        "MICRONEEDLING",
    ],
)
def test_every_name_and_a_typo_find_microneedling_first(content, query):
    results = search(query)
    assert results, query
    assert strip_tags(results[0].title) == "Microneedling", [r.title for r in results]


@pytest.mark.postgres
def test_titles_outrank_bodies_and_excerpts_are_highlighted(content):
    results = search("acne scars")
    assert strip_tags(results[0].title) == "Microneedling for acne scars"
    assert "<mark>" in results[0].excerpt


def test_simple_match_works_on_any_database(content):
    titles = [strip_tags(r.title) for r in search("microneedling")]
    assert "Microneedling" in titles and "Does microneedling hurt?" in titles
    assert "Chemical peel" not in titles


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "%%%%",
        "zzzqqqxxx",
        "<script>alert(1)</script>",
        "a" * 5000,
        "' OR 1=1 --",
    ],
)
def test_empty_or_nonsense_queries_get_a_helpful_page(client, content, query):
    response = client.get(reverse("education:search"), {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    if query.strip("\x00 %"):
        assert "Things to try" in html


def test_results_page_lists_kind_title_and_excerpt(client, content):
    html = client.get(reverse("education:search"), {"q": "microneedling"}).content.decode()
    assert 'href="/treatments/microneedling/"' in html
    assert "<mark>" in html.lower()


def test_excerpt_escapes_content_and_marks_words():
    text = excerpt("<p>Use &lt;b&gt; sunscreen daily. Sunscreen helps.</p>", "sunscreen")
    assert "&lt;b&gt;" in text
    assert text.count("<mark>") == 2


def test_clean_query_trims_and_limits():
    assert clean_query("  skin \n needling ") == "skin needling"
    assert len(clean_query("x" * 1000)) == 200
    assert clean_query(None) == ""
