"""Whole public pages kept as visitors see them (education/page_cache.py)."""

import re
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import constants, get_messages
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic import caching
from clinic.models import ClinicDetails
from education.page_cache import (
    HEADER_END,
    HEADER_START,
    PAGE_NUMBER,
    SLUG,
    header_span,
    page_key,
)
from tests.booking.factories import UserFactory
from tests.education.factories import ArticleFactory, FAQFactory, TopicFactory, TreatmentFactory

pytestmark = pytest.mark.django_db
TREATMENT = "/treatments/microneedling/"


def kept_pages() -> int:
    """Pages kept in the cache (Redis here; the test settings' local memory otherwise)."""
    from django.core.cache import cache

    prefix = caching.PAGE.key("")
    if hasattr(cache, "keys"):  # django-redis
        return len(cache.keys(f"{prefix}*"))
    return sum(1 for key in cache._cache if prefix in key)  # LocMemCache: no public listing


def bump_content_version():
    caching.bump(caching.CONTENT)


@pytest.fixture
def treatment():
    treatment = TreatmentFactory()
    FAQFactory(question="Does it hurt?", answer="A little.", treatment=treatment)
    return treatment


def test_a_visitor_gets_the_kept_page_without_a_query(client, treatment, django_assert_num_queries):
    first = client.get(TREATMENT)
    with django_assert_num_queries(0):
        second = client.get(TREATMENT)
    assert second.status_code == 200
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert "Cookie" in second["Vary"]
    assert "Content-Security-Policy" in second  # the middleware still runs


def test_a_content_save_shows_at_once(client, treatment):
    client.get(TREATMENT)
    treatment.summary = "A new summary for the page."
    treatment.save()
    assert "A new summary for the page." in client.get(TREATMENT).content.decode()
    faq = treatment.faqs.get()
    faq.question = "Is it painful?"
    faq.save()
    assert "Is it painful?" in client.get(TREATMENT).content.decode()


def test_new_clinic_details_show_at_once(client, treatment):
    ClinicDetails.objects.create(
        name="Old Name Clinic", address="1 Road", phone="0100", email="a@example.org"
    )
    assert "Old Name Clinic" in client.get(TREATMENT).content.decode()
    details = ClinicDetails.current()
    details.name = "New Name Clinic"
    details.save()
    html = client.get(TREATMENT).content.decode()
    assert "New Name Clinic" in html and "Old Name Clinic" not in html


CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def _without_token(content: bytes) -> bytes:
    """The page with its CSRF token's value blanked: a new one is masked for each render."""
    return CSRF_TOKEN.sub(b'name="csrfmiddlewaretoken" value=""', content)


@pytest.fixture
def content(treatment):
    """A page of each kind that is kept: the treatment, an article, the list, the FAQ."""
    topic = TopicFactory(name="Acne", slug="acne")
    ArticleFactory(title="About acne scars", slug="acne-scars", topic=topic)
    return [TREATMENT, "/articles/acne-scars/", "/articles/", "/articles/?topic=acne", "/faq/"]


def _not_rendered(*args, **kwargs):
    raise AssertionError("the view rendered its page: the kept one was not used")


@pytest.mark.parametrize("staff", [False, True], ids=["patient", "staff"])
def test_someone_signed_in_gets_the_kept_page_with_their_own_menu(content, staff):
    """Byte for byte the page a whole render gives them, but for the CSRF token's mask."""
    visitor, signed_in = Client(), Client()
    signed_in.force_login(UserFactory(is_staff=staff))
    for url in content:
        visitor_page = visitor.get(url)  # kept
        with (
            mock.patch("education.views.render", _not_rendered),
            CaptureQueriesContext(connection) as queries,
        ):
            spliced = signed_in.get(url)
        assert spliced.status_code == 200, url
        touched = {table for q in queries for table in re.findall(r'FROM "(\w+)"', q["sql"])}
        assert touched <= {"clinic_user", "django_session"}, (url, touched)  # no page query
        assert spliced["Cache-Control"] == "no-store" and "Cookie" in spliced["Vary"]
        bump_content_version()  # nothing kept now: the page is rendered whole for them
        whole = signed_in.get(url)
        assert _without_token(spliced.content) == _without_token(whole.content), url
        html = spliced.content.decode()
        assert "Sign out" in html and "Create an account" not in html
        assert ("Clinic admin" in html) == staff
        assert "Create an account" in visitor_page.content.decode()


def test_the_menu_s_sign_out_form_works_from_a_kept_page(treatment, settings):
    client = Client(enforce_csrf_checks=True)
    Client().get(TREATMENT)  # kept by a visitor
    client.force_login(UserFactory())
    with mock.patch("education.views.render", _not_rendered):
        response = client.get(TREATMENT)
    assert settings.CSRF_COOKIE_NAME in response.cookies  # set with the token it carries
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    signed_out = client.post(reverse("account_logout"), {"csrfmiddlewaretoken": token.group(1)})
    assert signed_out.status_code == 302
    assert "Sign in" in client.get(TREATMENT).content.decode()


def test_a_signed_in_user_with_a_message_waiting_gets_it_on_a_whole_page(client, treatment):
    client.get(TREATMENT)  # kept
    client.force_login(UserFactory())
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.SUCCESS, "Welcome back.")])
    html = client.get(TREATMENT).content.decode()
    assert "Welcome back." in html and "Sign out" in html


def test_a_kept_page_without_a_site_header_is_rendered_whole_for_someone_signed_in(
    client, treatment
):
    request = RequestFactory().get(TREATMENT)
    request.user = AnonymousUser()
    request._messages = CookieStorage(request)
    kept = ("text/html; charset=utf-8", b"<p>no site header here</p>", None)
    version = caching.current_version(caching.PAGE.version)
    caching.keep(caching.PAGE, page_key(request, {}), version, kept)
    assert client.get(TREATMENT).content == b"<p>no site header here</p>"  # a visitor: as kept
    client.force_login(UserFactory())
    html = client.get(TREATMENT).content.decode()
    assert "no site header here" not in html and "Sign out" in html and "<h1>" in html


def test_every_kept_page_marks_its_site_header_once(client, content):
    """base.html writes the markers; the splice needs exactly one of each around the header."""
    for url in content:
        page = client.get(url).content
        start, end = header_span(page)
        assert page[start:end].strip().startswith(b'<header class="site-header'), url
        assert page[start:end].count(b"</header>") == 1  # just the header, nothing after it


def test_header_span_needs_each_marker_once_and_in_order():
    page = b"<body>" + HEADER_START + b"<header>menu</header>" + HEADER_END + b"<main>x</main>"
    start, end = header_span(page)
    assert page[start:end] == b"<header>menu</header>"
    assert header_span(b"<body><header>no markers</header></body>") is None
    assert header_span(page + HEADER_START) is None  # a second one: never spliced
    assert header_span(HEADER_END + b"<header>x</header>" + HEADER_START) is None


def test_an_article_cannot_write_a_marker(client):
    """Its Markdown is sanitised (comments dropped): the page still has one of each."""
    body = f"Before {HEADER_START.decode()} inside {HEADER_END.decode()} after."
    ArticleFactory(title="Tricky", slug="tricky", body=body)
    assert header_span(client.get("/articles/tricky/").content) is not None


def test_signed_in_visitors_get_their_own_page_and_never_leave_it_behind(client, treatment):
    client.get(TREATMENT)  # the visitors' page is kept
    client.force_login(UserFactory())
    signed_in = client.get(TREATMENT).content.decode()
    assert "Sign out" in signed_in and "Create an account" not in signed_in
    client.logout()
    visitor = client.get(TREATMENT).content.decode()
    assert "Sign out" not in visitor and "csrfmiddlewaretoken" not in visitor


def test_a_signed_in_page_is_never_kept(client, treatment):
    client.force_login(UserFactory())
    client.get(TREATMENT)
    client.logout()
    assert "Sign out" not in client.get(TREATMENT).content.decode()


def test_unknown_or_repeated_parameters_are_rendered_and_not_kept(client, treatment):
    kept_before = kept_pages()
    for url in (f"{TREATMENT}?utm_source=x", "/articles/?page=1&page=2", "/articles/?page=02"):
        for _ in range(2):
            assert client.get(url).status_code == 200
    assert kept_pages() == kept_before
    client.get(TREATMENT)
    assert kept_pages() == kept_before + 1


def test_article_list_pages_and_topics_are_kept_apart(client):
    acne, ageing = TopicFactory(name="Acne", slug="acne"), TopicFactory(name="Ageing", slug="age")
    ArticleFactory(title="About acne scars", slug="acne-scars", topic=acne)
    ArticleFactory(title="About fine lines", slug="fine-lines", topic=ageing)
    everything = client.get("/articles/").content.decode()
    only_acne = client.get("/articles/?topic=acne").content.decode()
    assert "About fine lines" in everything and "About acne scars" in everything
    assert "About acne scars" in only_acne and "About fine lines" not in only_acne
    assert client.get("/articles/?topic=age").content.decode().count("About acne scars") == 0
    assert client.get("/articles/?topic=acne").content.decode() == only_acne


def test_a_page_past_the_end_is_shown_but_not_kept(client):
    ArticleFactory(title="Only one", slug="only-one")
    kept_before = kept_pages()
    for _ in range(2):
        assert "Only one" in client.get("/articles/?page=999").content.decode()  # the last page
    assert kept_pages() == kept_before
    client.get("/articles/?page=1")
    assert kept_pages() == kept_before + 1


def test_errors_are_not_kept(client):
    assert client.get("/articles/?topic=nothing").status_code == 404
    TopicFactory(name="Nothing", slug="nothing")
    assert client.get("/articles/?topic=nothing").status_code == 200


def test_a_waiting_message_is_shown_not_a_kept_page(client, treatment):
    client.get(TREATMENT)
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode(
        [Message(constants.SUCCESS, "You are signed out.")]
    )
    assert "You are signed out." in client.get(TREATMENT).content.decode()


def test_page_key_names_only_what_makes_the_page(rf):
    request = rf.get("/articles/", {"page": "2", "topic": "acne"})
    request.user = type("Anonymous", (), {"is_authenticated": False})()
    same = rf.get("/articles/?topic=acne&page=2")
    same.user = request.user
    params = {"topic": SLUG, "page": PAGE_NUMBER}
    assert page_key(request, params) == page_key(same, params)
    assert page_key(request, {"topic": SLUG}) is None  # "page" not the view's own
    for odd in ("02", "0", "-1", "abc", "1" * 5, ""):
        spelled = rf.get("/articles/", {"page": odd})
        spelled.user = request.user
        assert page_key(spelled, params) is None, odd
    post = rf.post("/articles/")
    post.user = request.user
    assert page_key(post, params) is None
    htmx = rf.get("/articles/", headers={"HX-Request": "true"})
    htmx.user, htmx.htmx = request.user, True
    assert page_key(htmx, {}) is None
    assert list(get_messages(request)) == []


def test_the_page_is_served_while_redis_is_down(client, treatment, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing answers there
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    for _ in range(2):
        response = client.get(reverse("education:treatment", args=["microneedling"]))
        assert response.status_code == 200 and "<h1>" in response.content.decode()
