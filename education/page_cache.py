"""Whole public pages for visitors who are not signed in, at one Redis round trip.

The education pages are the same for every visitor who is not signed in: no
CSRF token, no nonce, no name in the menu. So the whole page is kept, under
its path and its allowed query parameters, beside the content version it was
rendered at. A hit is one ``get_many`` (the version and the page together) and
no query or template; any content save, or a change to the clinic's details,
moves the version on and every kept page misses at once (content_cache.py).

A page is served from here only when it would be the same for this request
(a GET or HEAD, nobody signed in, no message waiting, no htmx swap, only the
view's own query parameters, each once). It is kept only when nothing about
it was personal after all: a 200, no cookie set, no CSRF token or CSP nonce
used while rendering, no ``no-store`` or ``private``. Signed-in visitors get
the page rendered, with its fragments from content_cache.
"""

import functools
import hashlib

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from .content_cache import VERSION_KEY, content_version

TIMEOUT = 10 * 60  # dated wording ("reviewed ...") is never more than this old
KEY_PREFIX = "education:page:"


def page_key(request, params: tuple[str, ...]) -> str | None:
    """This request's page key, or None when the page must be rendered for it."""
    if request.method not in ("GET", "HEAD") or getattr(request, "htmx", False):
        return None
    query = request.GET
    if any(name not in params or len(query.getlist(name)) != 1 for name in query):
        return None  # unknown or repeated parameters: rendered, never kept
    if request.user.is_authenticated or len(messages.get_messages(request)):
        return None
    wanted = "&".join(f"{name}={query[name]}" for name in sorted(query))
    digest = hashlib.blake2b(f"{request.path}?{wanted}".encode(), digest_size=16).hexdigest()
    return KEY_PREFIX + digest


def _keepable(request, response) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and "CSRF_COOKIE" not in request.META
        and getattr(request, "_csp_nonce", None) is None
        and "no-store" not in cache_control
        and "private" not in cache_control
    )


def cached_public_page(*, params: tuple[str, ...] = ()):
    """Serve the view's page from the cache for visitors who are not signed in."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            key = page_key(request, params)
            if key is None:
                return view(request, *args, **kwargs)
            found = cache.get_many([VERSION_KEY, key])
            version, kept = found.get(VERSION_KEY), found.get(key)
            if kept is not None and version is not None and kept[0] == version:
                _version, content_type, content = kept
                response = HttpResponse(content, content_type=content_type)
                patch_vary_headers(response, ("Cookie",))  # as the rendered page has
                return response
            version = version if version is not None else content_version()
            response = view(request, *args, **kwargs)
            if _keepable(request, response):
                cache.set(key, (version, response["Content-Type"], response.content), TIMEOUT)
            return response

        return wrapper

    return decorate
