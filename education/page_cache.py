"""Whole public pages, kept as a visitor sees them, at one Redis round trip.

The education pages are the same for every visitor who is not signed in: no
CSRF token, no nonce, no name in the menu. So the whole page is kept, under
its path and its allowed query parameters, beside the content version it was
rendered at. A hit is one ``get_many`` (the version and the page together) and
no query or template; any content save, or a change to the clinic's details,
moves the version on and every kept page misses at once (clinic/caching.py: PAGE).

A page is served from here only when it would be the same for this request
(a GET or HEAD, no message waiting, no htmx swap, only the view's own query
parameters, each once and in its one spelling: "?page=2", never "?page=02").
It is kept only when nothing about it was personal after all: rendered for
nobody signed in, a 200, no cookie set, no CSRF token or CSP nonce used while
rendering, no ``no-store`` or ``private``, and the view did not call
dont_keep() (say, a page number past the end, answered with the last page).
So the number of pages kept is bounded by the content, whatever URLs are
asked for.

Someone signed in gets the same kept page with the site header (the menu: their
links and the sign-out form with its CSRF token) rendered for them and put in
place of the visitor's. base.html writes the header between two markers
(HEADER_START, HEADER_END); where they are is found once, when the page is
kept, and a page without exactly one of each is never spliced. So the pages
that use this must differ by who is signed in only in that header;
tests/education/test_page_cache.py compares each with a whole render for a
signed-in patient and for staff. A signed-in request that finds nothing kept
is rendered whole, and nothing is kept from it.
"""

import functools
import hashlib
import re

from django.contrib import messages
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers

from clinic import caching

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,3}")
SITE_HEADER = "includes/header.html"
# Written by templates/base.html around its {% include SITE_HEADER %}.
HEADER_START = b"<!-- site-header -->"
HEADER_END = b"<!-- /site-header -->"


def dont_keep(request) -> None:
    """This response is right for this request but must not be kept for the URL."""
    request.page_cache_dont_keep = True


def page_key(request, params: dict[str, re.Pattern]) -> str | None:
    """This request's page key (within caching.PAGE), or None when it must be rendered."""
    if request.method not in ("GET", "HEAD") or getattr(request, "htmx", False):
        return None
    query = request.GET
    for name in query:
        values = query.getlist(name)
        if name not in params or len(values) != 1 or not params[name].fullmatch(values[0]):
            return None  # unknown, repeated or odd parameters: rendered, never kept
    if len(messages.get_messages(request)):
        return None
    wanted = "&".join(f"{name}={query[name]}" for name in sorted(query))
    digest = hashlib.blake2b(f"{request.path}?{wanted}".encode(), digest_size=16).hexdigest()
    return digest


def header_span(content: bytes) -> tuple[int, int] | None:
    """Where the site header is (between its markers) in a rendered page, if it has one.

    None unless the page has each marker once, in order: then nothing else
    (no article, no name) could have put one there.
    """
    if content.count(HEADER_START) != 1 or content.count(HEADER_END) != 1:
        return None
    start = content.index(HEADER_START) + len(HEADER_START)
    end = content.index(HEADER_END)
    return (start, end) if start <= end else None


def _with_own_header(request, content: bytes, span: tuple[int, int]) -> bytes:
    """The kept page with the site header rendered for this (signed-in) request."""
    header = render_to_string(SITE_HEADER, request=request).encode()
    start, end = span
    return b"".join((content[:start], header, content[end:]))


def _keepable(request, response) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (
        not request.user.is_authenticated
        and not getattr(request, "page_cache_dont_keep", False)
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and "CSRF_COOKIE" not in request.META
        and getattr(request, "_csp_nonce", None) is None
        and "no-store" not in cache_control
        and "private" not in cache_control
    )


def cached_public_page(*, params: dict[str, re.Pattern] | None = None):
    """Serve the view's page from the cache; the site header is rendered for whoever is signed in.

    `params`: the query parameters the view reads, each with the one spelling
    of a value that may be kept (anything else is rendered and not kept).
    """
    params = params or {}

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            key = page_key(request, params)
            if key is None:
                return view(request, *args, **kwargs)
            version, kept = caching.kept(caching.PAGE, key)
            if kept is not None:
                content_type, content, span = kept
                if request.user.is_authenticated:
                    content = _with_own_header(request, content, span) if span else None
                if content is not None:
                    response = HttpResponse(content, content_type=content_type)
                    patch_vary_headers(response, ("Cookie",))  # as the rendered page has
                    return response
            if version is None:  # before rendering: a save during it must leave this page behind
                version = caching.current_version(caching.PAGE.version)
            response = view(request, *args, **kwargs)
            if _keepable(request, response):
                content = response.content
                kept = (response["Content-Type"], content, header_span(content))
                caching.keep(caching.PAGE, key, version, kept)
            return response

        return wrapper

    return decorate
