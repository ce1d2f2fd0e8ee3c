"""Rows read on every booking page, kept in the cache until they change (clinic/caching.py)."""

import pytest
from django.core.cache import cache

from booking import selectors
from clinic import caching
from clinic.caching import bump, current_version
from education.selectors import treatment_published
from tests.booking.factories import PractitionerFactory
from tests.education.factories import TreatmentFactory

pytestmark = pytest.mark.django_db
KIND = caching.Kind("test", "test", 60)  # kept as "kept:test:...", cleared by version "test"


def names(treatment):
    return sorted(p.display_name for p in selectors.practitioners_for(treatment))


def test_practitioners_are_read_once_then_kept(treatment, django_assert_num_queries):
    PractitionerFactory(display_name="Ana", treatments=[treatment])
    assert names(treatment) == ["Ana"]
    with django_assert_num_queries(0):
        assert names(treatment) == ["Ana"]


def test_every_change_to_who_offers_what_shows_at_once(treatment):
    ana = PractitionerFactory(display_name="Ana", treatments=[treatment])
    other = TreatmentFactory(name="Peel", slug="peel")
    assert names(treatment) == ["Ana"]
    ben = PractitionerFactory(display_name="Ben", treatments=[treatment])
    assert names(treatment) == ["Ana", "Ben"]
    ben.is_active = False
    ben.save()
    assert names(treatment) == ["Ana"]
    ana.treatments.remove(treatment)
    assert names(treatment) == []
    ana.treatments.add(treatment, other)
    assert names(treatment) == ["Ana"] and names(other) == ["Ana"]
    ana.delete()
    assert names(treatment) == [] and names(other) == []


def test_a_treatment_taken_off_the_site_is_gone_at_once(django_assert_num_queries):
    treatment = TreatmentFactory()
    assert treatment_published(treatment.slug) == treatment
    with django_assert_num_queries(0):
        assert treatment_published(treatment.slug).reviewed_by == treatment.reviewed_by
    treatment.is_published = False
    treatment.save()
    assert treatment_published(treatment.slug) is None
    assert treatment_published("x" * 500) is None  # longer than any slug: no query, no key


def test_nothing_found_is_not_kept(django_assert_num_queries):
    for _ in range(2):
        with django_assert_num_queries(1):
            assert treatment_published("no-such-treatment") is None


def test_an_older_version_is_never_served():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert caching.read_through(KIND, "value", compute) == 1
    assert caching.read_through(KIND, "value", compute) == 1
    first = current_version("test")
    bump("test")
    assert current_version("test") == first + 1
    assert caching.read_through(KIND, "value", compute) == 2
    cache.delete("version:test")  # evicted: it starts above any number it reached
    assert current_version("test") > first + 1
    assert caching.read_through(KIND, "value", compute) == 3
    assert caching.read_through(KIND, "value", compute) == 3


def test_reads_go_to_the_database_while_redis_is_down(treatment, settings):
    PractitionerFactory(display_name="Ana", treatments=[treatment])
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing answers there
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    assert names(treatment) == ["Ana"]
    assert treatment_published(treatment.slug) == treatment
    bump("test")  # logged, not raised


def test_a_value_read_before_the_save_commits_is_left_behind(
    django_capture_on_commit_callbacks,
):
    rows = ["old"]
    assert caching.read_through(KIND, "row", lambda: rows[0]) == "old"
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        bump("test")  # the save's signal, inside its transaction
        # A request in that moment still reads the old row and keeps it under the new version.
        assert caching.read_through(KIND, "row", lambda: rows[0]) == "old"
    rows[0] = "new"  # committed
    for callback in after_commit:
        callback()
    assert caching.read_through(KIND, "row", lambda: rows[0]) == "new"
