import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from education.models import Article
from tests.booking.factories import UserFactory
from tests.education.factories import (
    ArticleFactory,
    ConsultationFactory,
    FAQFactory,
    SourceFactory,
    TopicFactory,
    TreatmentFactory,
    usual_questions,
)

pytestmark = pytest.mark.django_db
LD_JSON = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def json_ld(response) -> list[dict]:
    return [json.loads(block) for block in LD_JSON.findall(response.content.decode())]


@pytest.fixture
def microneedling():
    treatment = TreatmentFactory()
    treatment.sources.add(SourceFactory(title="Skin needling"))
    FAQFactory(
        question="Does it hurt?", answer="Most people feel mild discomfort.", treatment=treatment
    )
    usual_questions(treatment)
    return treatment


def test_treatment_page_has_every_section_in_reading_order(client, microneedling):
    response = client.get(reverse("education:treatment", args=["microneedling"]))
    html = response.content.decode()
    assert response.status_code == 200
    order = [
        "What it is",
        "How it works",
        "Who it may help",
        "The appointment",
        "A course of sessions",
        "Aftercare",
        "When to contact us",
        "Questions people ask",
        "Sources",
    ]
    positions = [html.index(f">{title}</h2>") for title in order]
    assert positions == sorted(positions)
    assert "usually <strong>4 weeks apart</strong>" in html
    assert "Each one can be 4 weeks to 6 weeks after the one before." in html
    assert "You can book from 1 to 6" in html
    assert "Reviewed by <strong>Dr Test Reviewer" in html
    assert 'href="/treatments/microneedling/suitability/"' in html


def test_treatment_page_json_ld(client, microneedling):
    blocks = json_ld(client.get(reverse("education:treatment", args=["microneedling"])))
    page = next(b for b in blocks if b["@type"] == "MedicalWebPage")
    assert page["about"]["@type"] == "MedicalProcedure"
    assert page["about"]["name"] == "Microneedling"
    assert page["medicalAudience"]["audienceType"] == "Patient"
    assert page["reviewedBy"]["name"].startswith("Dr Test Reviewer")
    assert page["lastReviewed"] == timezone.localdate().isoformat()
    faq = next(b for b in blocks if b["@type"] == "FAQPage")
    assert faq["mainEntity"][0]["name"] == "Does it hurt?"


def test_treatment_page_meta_tags(client, microneedling, settings):
    settings.SITE_URL = "https://clinic.test"
    html = client.get(reverse("education:treatment", args=["microneedling"])).content.decode()
    assert f'<meta name="description" content="{microneedling.summary}">' in html
    assert '<link rel="canonical" href="https://clinic.test/treatments/microneedling/">' in html
    assert '<meta property="og:title" content="Microneedling">' in html


def test_treatment_page_stays_within_six_queries(
    client, microneedling, django_assert_max_num_queries
):
    url = reverse("education:treatment", args=["microneedling"])
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(0):  # the whole page, kept for visitors
        assert client.get(url).status_code == 200
    client.force_login(UserFactory())
    client.get(url)
    with django_assert_max_num_queries(6):  # signed in: rendered, the article from the cache
        assert client.get(url).status_code == 200


def test_cached_faq_block_changes_when_a_faq_is_saved(client, microneedling):
    url = reverse("education:treatment", args=["microneedling"])
    client.get(url)
    faq = microneedling.faqs.get()
    faq.question = "Is it painful?"
    faq.save()
    assert "Is it painful?" in client.get(url).content.decode()


def test_unpublished_or_unknown_treatment_is_404(client):
    TreatmentFactory(is_published=False)
    assert client.get(reverse("education:treatment", args=["microneedling"])).status_code == 404
    assert client.get("/treatments/no-such-thing/").status_code == 404


def test_article_page(client, django_assert_max_num_queries):
    article = ArticleFactory(title="Acne scars", slug="acne-scars")
    article.sources.add(SourceFactory())
    with django_assert_max_num_queries(6):
        response = client.get(reverse("education:article", args=["acne-scars"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "On this page" in html and 'href="#first-part"' in html
    data = json_ld(response)[0]
    assert data["@type"] == "MedicalWebPage" and data["headline"] == "Acne scars"


def test_drafts_and_future_articles_are_hidden(client):
    ArticleFactory(slug="draft", status=Article.Status.DRAFT, published_at=None)
    ArticleFactory(slug="later", published_at=timezone.now() + timedelta(days=2))
    assert client.get(reverse("education:article", args=["draft"])).status_code == 404
    assert client.get(reverse("education:article", args=["later"])).status_code == 404
    assert b"later" not in client.get(reverse("education:articles")).content


def test_article_list_paginates_and_filters_by_topic(client):
    scars = TopicFactory(name="Scars", slug="scars")
    ArticleFactory.create_batch(12, topic=scars)
    ArticleFactory(title="About aftercare", topic=TopicFactory(name="Aftercare", slug="after"))
    first = client.get(reverse("education:articles"))
    assert first.status_code == 200
    assert "Page 1 of 2" in first.content.decode()
    assert client.get(reverse("education:articles") + "?page=2").status_code == 200
    assert client.get(reverse("education:articles") + "?page=999").status_code == 200
    assert client.get(reverse("education:articles") + "?page=abc").status_code == 200
    filtered = client.get(reverse("education:articles") + "?topic=after").content.decode()
    assert "About aftercare" in filtered and "Article " not in filtered
    assert client.get(reverse("education:articles") + "?topic=nope").status_code == 404


def test_faq_page_groups_by_topic_with_anchors_and_json_ld(client):
    FAQFactory(
        question="Does it hurt?",
        slug="does-it-hurt",
        topic=TopicFactory(name="The day", slug="the-day", order=1),
    )
    FAQFactory(
        question="When will I see results?",
        slug="results",
        topic=TopicFactory(name="Results", slug="results", order=2),
    )
    response = client.get(reverse("education:faq"))
    html = response.content.decode()
    assert html.index('id="topic-the-day"') < html.index('id="topic-results"')
    assert '<details class="faq border-bottom py-2" id="does-it-hurt">' in html
    assert len(json_ld(response)[0]["mainEntity"]) == 2


class TestSuitability:
    def url(self):
        return reverse("education:suitability", args=["microneedling"])

    def answers(self, treatment, **yes):
        return {
            f"q{q.pk}": "yes" if q.text in yes.values() else "no" for q in treatment.questions.all()
        }

    def test_the_form_lists_each_question_with_labels(self, client, microneedling):
        html = client.get(self.url()).content.decode()
        assert "Are you pregnant?" in html and "Do you form keloid scars?" in html
        assert html.count('type="radio"') == 4

    def test_no_yes_means_book_online(self, client, microneedling):
        html = client.post(self.url(), self.answers(microneedling)).content.decode()
        assert "You can book online" in html

    def test_a_consult_yes_offers_a_consultation(self, client, microneedling):
        ConsultationFactory()
        response = client.post(
            self.url(), self.answers(microneedling, a="Do you form keloid scars?")
        )
        html = response.content.decode()
        assert "Talk to a clinician first" in html
        assert "A clinician should see your skin first." in html

    def test_a_not_suitable_yes_wins_and_offers_the_phone(self, client, microneedling):
        answers = self.answers(microneedling, a="Are you pregnant?", b="Do you form keloid scars?")
        html = client.post(self.url(), answers).content.decode()
        assert "Not suitable for you right now" in html
        assert "Wait until after pregnancy" in html
        assert "Book a consultation" not in html

    def test_missing_answers_are_shown_beside_each_question(self, client, microneedling):
        response = client.post(self.url(), {})
        assert response.status_code == 400
        assert response.content.decode().count("Choose yes or no for this question.") == 2

    def test_nothing_is_stored_for_a_visitor(self, client, microneedling):
        from django.contrib.sessions.models import Session

        response = client.post(self.url(), self.answers(microneedling, a="Are you pregnant?"))
        assert "Not suitable" in response.content.decode()
        assert "sessionid" not in response.cookies
        assert Session.objects.count() == 0


def test_home_shows_treatments_articles_questions_and_the_newsletter(client, microneedling):
    ArticleFactory(title="What to expect on the day")
    html = client.get(reverse("home")).content.decode()
    assert 'href="/treatments/microneedling/"' in html
    assert "What to expect on the day" in html
    assert "Does it hurt?" in html
    assert 'action="/newsletter/"' in html


def test_sitemap_lists_treatments_and_articles(client, microneedling):
    ArticleFactory(slug="acne-scars")
    xml = client.get("/sitemap.xml").content.decode()
    assert "/treatments/microneedling/" in xml and "/articles/acne-scars/" in xml
    assert "/faq/" in xml


def test_article_list_is_read_once_per_content_version(client):
    from tests.booking.factories import UserFactory as Member

    ArticleFactory(title="Kept article", slug="kept-article")
    client.force_login(Member())  # signed in: rendered each time, its list from the cache
    client.get("/articles/")
    with CaptureQueriesContext(connection) as queries:  # the session and the user at most
        assert "Kept article" in client.get("/articles/").content.decode()
    assert len(queries) <= 2
    assert not [q for q in queries if "education_" in q["sql"]]
    ArticleFactory(title="Newer article", slug="newer-article")
    assert "Newer article" in client.get("/articles/").content.decode()


def test_a_scheduled_article_shows_once_its_time_comes(client, time_machine):
    from tests.booking.factories import UserFactory as Member

    now = timezone.now()
    time_machine.move_to(now, tick=False)
    ArticleFactory(title="Out now", slug="out-now", published_at=now - timedelta(days=1))
    ArticleFactory(title="Out soon", slug="out-soon", published_at=now + timedelta(hours=2))
    client.force_login(Member())
    assert "Out soon" not in client.get("/articles/").content.decode()
    time_machine.move_to(now + timedelta(hours=2, minutes=1), tick=False)
    assert "Out soon" in client.get("/articles/").content.decode()


def test_article_list_past_the_end_and_odd_pages_show_a_real_page(client):
    for n in range(12):
        ArticleFactory(title=f"Article number {n}", slug=f"article-{n}")
    last = client.get("/articles/?page=999").content.decode()
    assert "Page 2 of 2" in last and "Previous page" in last
    first = client.get("/articles/?page=abc").content.decode()
    assert "Page 1 of 2" in first and "Next page" in first
    assert client.get("/articles/?topic=" + "x" * 300).status_code == 404
