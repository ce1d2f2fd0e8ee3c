import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from tests.helpers import clinic_details

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    return clinic_details()


def test_home_page_has_the_site_layout(client, clinic):
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en-GB">' in html
    assert 'href="#main-content"' in html and '<main id="main-content"' in html
    assert '<nav class="navbar navbar-expand-md" aria-label="Main">' in html
    for detail in (
        "Harbour Skin Clinic",
        "1 Quay Street",
        "0117 496 0000",
        "Monday to Friday: 9am to 5pm",
    ):
        assert detail in html
    assert "Sign in" in html


def test_clinic_details_edited_by_staff_show_at_once(client, clinic):
    clinic.phone = "0117 496 0999"
    clinic.save()
    assert "0117 496 0999" in client.get(reverse("home")).content.decode()


def test_every_page_carries_a_content_security_policy(client, clinic):
    csp = client.get(reverse("home"))["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


def test_pages_load_nothing_from_another_origin(client, clinic):
    html = client.get(reverse("home")).content.decode()
    for attribute in ('src="http', 'src="//', 'href="//'):
        assert attribute not in html
    stylesheets = [line for line in html.splitlines() if 'rel="stylesheet"' in line]
    assert stylesheets and all('href="/static/' in line for line in stylesheets)


def test_bootstrap_and_htmx_are_served_by_the_app(client):
    for path in (
        "/static/vendor/bootstrap/css/bootstrap.min.css",
        "/static/vendor/bootstrap/js/bootstrap.bundle.min.js",
        "/static/django_htmx/htmx-2.min.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        b"".join(response.streaming_content)


def test_signed_in_user_sees_sign_out(client, django_user_model):
    user = django_user_model.objects.create_user("p@example.org", "x-Password-123")
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    assert "Sign out" in html and "Sign in" not in html


def test_unknown_page_is_the_site_404(client, clinic):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We cannot find that page" in response.content.decode()
    assert "0117 496 0000" in response.content.decode()


def test_server_error_page_is_friendly():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"something went wrong on our side" in response.content


def test_robots_and_sitemap(client, settings):
    settings.SITE_URL = "https://clinic.test"
    robots = client.get("/robots.txt").content.decode()
    assert "Disallow: /admin/" in robots
    assert "Sitemap: https://clinic.test/sitemap.xml" in robots
    sitemap = client.get("/sitemap.xml")
    assert sitemap.status_code == 200
    assert b"<loc>" in sitemap.content
