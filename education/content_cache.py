"""Cached fragments of education pages, invalidated when any content is saved.

Content changes a few times a week, so one version number for all of it is
enough: saving or deleting any education row (or the clinic's details) bumps
it, and every fragment key, kept row and kept page names it. Whole pages are
kept only for visitors who are not signed in (page_cache.py).
"""

from django.core.cache import cache

from clinic.versioned_cache import bump, current_version, read_through

VERSION_KEY = "education:content-version"
TIMEOUT = 60 * 60 * 24


def content_version() -> int:
    return current_version(VERSION_KEY)


def bump_content_version(**_kwargs) -> None:
    bump(VERSION_KEY)


def content_read_through(name: str, compute, keep=None):
    """compute(), kept until the next content save (clinic/versioned_cache.py)."""
    return read_through(VERSION_KEY, f"education:kept:{name}", compute, keep=keep)


def content_forget(name: str) -> None:
    cache.delete(f"education:kept:{name}")
