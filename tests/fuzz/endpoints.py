"""An endpoint to fuzz (its paths, fields, the state it expects and what it may store), and
the run that posts hypothesis's requests to it."""

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.clinic import Clinic
from tests.fuzz.junk import TEXT, form_data
from tests.fuzz.stored import Snapshot, nothing_stored, snapshot

# FUZZ_SCALE=10 runs ten times the examples (a longer hunt, by hand; CI runs the default).
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
FUZZ = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "database": None,  # one inner test per endpoint: stored examples would mix them up
    "print_blob": True,
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    data: dict[str, list[str]]
    body: str = "form"  # form, multipart or json
    htmx: bool = False

    def last(self, name: str) -> str | None:
        """What request.POST.get / GET.get returns: the last value of the field."""
        found = self.data.get(name)
        return found[-1] if found and self.body != "json" else None


def send(client: Client, request: Request):
    headers = {"HX-Request": "true"} if request.htmx else {}
    if request.method == "get":
        return client.get(request.path, request.data, headers=headers)
    if request.body == "multipart":
        return client.post(request.path, request.data, headers=headers)
    if request.body == "json":
        return client.post(
            request.path, json.dumps(request.data), content_type="application/json", headers=headers
        )
    return client.post(
        request.path,
        urlencode(request.data, doseq=True),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


@dataclass
class Endpoint:
    name: str
    paths: Callable[[Clinic], st.SearchStrategy[str]]
    fields: Callable[[Clinic], dict[str, st.SearchStrategy]]
    check: Callable[[Clinic, Request, Snapshot, Snapshot], None] = (
        lambda clinic, request, before, after: nothing_stored(before, after)
    )
    setup: Callable[[Client, Clinic], None] | None = None
    methods: tuple[str, ...] = ("get", "post")
    max_examples: int = 30


def fixed(*paths: str) -> Callable[[Clinic], st.SearchStrategy[str]]:
    return lambda clinic: st.sampled_from(paths)


def with_ids(*patterns: str) -> Callable[[Clinic], st.SearchStrategy[str]]:
    """Paths with a real or random id (quoted, so any text fits in the path)."""

    def paths(clinic: Clinic):
        ids = st.one_of(clinic.ids(), TEXT.filter(bool), st.sampled_from(["²", "٣", "_2F", "-1"]))
        real = {
            "patient": clinic.patient.pk,
            "session": clinic.sessions[0].pk,
            "course": clinic.course.pk,
        }
        return st.builds(
            lambda pattern, pk: pattern.format(quote(pk, safe=""), **real),
            st.sampled_from(patterns),
            ids,
        )

    return paths


def ints_in(*patterns: str, real: Callable[[Clinic], list[int]]) -> Callable:
    """Paths whose URL pattern takes an <int:…>: real ids, or any digits."""

    def paths(clinic: Clinic):
        pks = st.one_of(
            st.sampled_from([str(pk) for pk in real(clinic)]),
            st.integers(0, 10**30).map(str),
        )
        return st.builds(lambda p, pk: p.format(pk), st.sampled_from(patterns), pks)

    return paths


def no_fields(clinic: Clinic) -> dict:
    return {}


def fuzz(endpoint: Endpoint, clinic: Clinic) -> None:
    """Hypothesis's requests to `endpoint`, each in a savepoint rolled back after its checks."""
    client = Client()
    if endpoint.setup:
        endpoint.setup(client, clinic)
    cookies = copy.deepcopy(client.cookies)
    paths, fields = endpoint.paths(clinic), endpoint.fields(clinic)

    @settings(max_examples=max(1, int(endpoint.max_examples * SCALE)), **FUZZ)
    @given(data=st.data())
    def run(data):
        request = Request(
            method=data.draw(st.sampled_from(endpoint.methods), label="method"),
            path=data.draw(paths, label="path"),
            data=data.draw(form_data(fields), label="data"),
            body=data.draw(st.sampled_from(["form", "form", "multipart", "json"]), label="body"),
            htmx=data.draw(st.booleans(), label="htmx"),
        )
        client.cookies = copy.deepcopy(cookies)
        cache.clear()  # rate limits count in the cache; each example starts afresh
        mail.outbox = []
        with transaction.atomic():  # a savepoint, rolled back: the next example starts afresh
            before = snapshot()
            try:
                response = send(client, request)
            except Exception as exc:
                raise AssertionError(f"{request.method.upper()} {request.path} raised") from exc
            assert response.status_code < 500, f"{request.method.upper()} {request.path}"
            endpoint.check(clinic, request, before, snapshot())
            transaction.set_rollback(True)

    run()
