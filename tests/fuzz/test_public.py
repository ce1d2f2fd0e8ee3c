"""Public pages, the newsletter and the links emails carry."""

from urllib.parse import quote, unquote

import pytest
from django.contrib.auth import get_user_model
from hypothesis import strategies as st

from booking.reminder_emails import UNSUBSCRIBE_PURPOSE, unsubscribe_payload, unsubscribe_token
from clinic.tokens import token_make
from education.models import NewsletterSubscriber
from education.services import CONFIRM_PURPOSE
from tests.fuzz.clinic import Clinic
from tests.fuzz.endpoints import Endpoint, fixed, fuzz, no_fields
from tests.fuzz.junk import NUMBERS, PATH_TOKENS, SLUGS, URLSAFE
from tests.fuzz.stored import is_email, new_rows, nothing_stored

pytestmark = pytest.mark.django_db
User = get_user_model()


def newsletter_check(clinic, request, before, after):
    nothing_stored(before, after, but={"NewsletterSubscriber"})
    added = new_rows(NewsletterSubscriber, before, after)
    email = request.last("email")
    assert added in (0, 1)
    if added:
        assert request.method == "post" and is_email(email), f"subscribed {email!r}"
        row = NewsletterSubscriber.objects.order_by("-pk").first()
        assert row.email == email.strip().lower()


def stop_emails_check(clinic, request, before, after):
    nothing_stored(before, after, but={"Patient"})
    if before.patients != after.patients:  # only a POST of a link the clinic signed
        assert request.method == "post"
        token = unquote(request.path).split("/")[3]
        data = unsubscribe_payload(token)
        assert data["p"] == clinic.patient.pk and data["k"] in ("check_in", "next_window")
        changed = [k for k in before.patients if before.patients[k] != after.patients.get(k)]
        assert changed == [clinic.patient.pk]


def stop_setup(client, clinic):
    clinic.extra["stop_paths"] = {
        f"/emails/stop/{unsubscribe_token(clinic.patient.pk, kind)}/"
        for kind in ("check_in", "next_window")
    }


def stop_paths(clinic: Clinic):
    payloads = st.fixed_dictionaries(
        {"p": st.one_of(st.integers(-(10**30), 10**30), st.just(clinic.patient.pk))},
        # What the server may have signed: a patient since deleted, a kind since retired.
        optional={"k": st.sampled_from(["check_in", "next_window", "reminder"])},
    )
    tokens = st.one_of(
        st.sampled_from(sorted(clinic.extra["stop_paths"])).map(lambda p: p.split("/")[3]),
        payloads.map(lambda data: token_make(UNSUBSCRIBE_PURPOSE, data)),
        payloads.map(lambda data: token_make(CONFIRM_PURPOSE, data)),  # another link's
        PATH_TOKENS,
    )
    return tokens.map(lambda token: f"/emails/stop/{quote(token, safe='')}/")


def newsletter_paths(clinic: Clinic):
    token = clinic.subscriber.token
    tokens = st.one_of(
        st.sampled_from([str(token), token_make(CONFIRM_PURPOSE, {"s": clinic.subscriber.pk})]),
        # A token the server made for a subscriber since removed, or of another shape.
        st.integers(-(10**30), 10**30).map(lambda n: token_make(CONFIRM_PURPOSE, {"s": n})),
        URLSAFE.map(lambda text: token_make(CONFIRM_PURPOSE, {"s": text})),
        PATH_TOKENS,
    )
    return st.builds(
        lambda pattern, value: pattern.format(quote(value, safe="")),
        st.sampled_from(
            [
                "/newsletter/confirm/{}/",
                "/newsletter/unsubscribe/{}/",
                "/accounts/confirm-email/{}/",
                "/accounts/password/reset/key/{}/",
                "/accounts/password/reset/key/1-{}/",
            ]
        ),
        tokens,
    )


def newsletter_link_check(clinic, request, before, after):
    nothing_stored(before, after, but={"NewsletterSubscriber"})
    assert before.counts == after.counts
    if before.subscribers != after.subscribers:
        assert request.method == "post"


ENDPOINTS = [
    Endpoint(
        "search",
        fixed("/search/", "/articles/", "/faq/", "/"),
        lambda c: {"q": st.sampled_from(["needling", "acne scars", "dermapen"]), "page": NUMBERS},
        methods=("get",),
        max_examples=40,
    ),
    Endpoint(
        "slug pages",
        lambda c: st.builds(
            lambda pattern, slug: pattern.format(slug),
            st.sampled_from(
                [
                    "/treatments/{}/",
                    "/treatments/{}/suitability/",
                    "/book/treatment/{}/",
                    "/articles/{}/",
                ]
            ),
            SLUGS,
        ),
        no_fields,
        max_examples=40,
    ),
    Endpoint(
        "suitability",
        lambda c: st.just(f"/treatments/{c.treatment.slug}/suitability/"),
        lambda c: {f"q{q.pk}": st.sampled_from(["no", "yes"]) for q in c.questions},
    ),
    Endpoint(
        "newsletter sign-up",
        fixed("/newsletter/"),
        lambda c: {"email": st.one_of(st.emails(), st.just(c.subscriber.email))},
        check=newsletter_check,
    ),
    Endpoint(
        "newsletter and account links",
        newsletter_paths,
        no_fields,
        check=newsletter_link_check,
        max_examples=25,
    ),
    Endpoint(
        "stop emails link",
        stop_paths,
        no_fields,
        check=stop_emails_check,
        setup=stop_setup,
        max_examples=30,
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_generated_requests_never_fail_or_store_bad_rows(endpoint: Endpoint, clinic: Clinic):
    fuzz(endpoint, clinic)
