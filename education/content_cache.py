"""Cached fragments of education pages, invalidated when any content is saved.

Content changes a few times a week, so one version number for all of it is
enough: saving or deleting any education row bumps it, and every fragment key
includes it. Whole pages are never cached (they hold CSRF tokens and the
signed-in navigation).
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

VERSION_KEY = "education:content-version"
TIMEOUT = 60 * 60 * 24


def content_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = 1
        cache.add(VERSION_KEY, version, timeout=None)
    return version


def bump_content_version(**_kwargs) -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not there yet (or the cache was cleared)
        cache.set(VERSION_KEY, 2, timeout=None)
    except Exception as exc:  # noqa: BLE001 - Redis down: content saves must still succeed
        logger.warning("content cache version not bumped", extra={"error": type(exc).__name__})


def fragment_key(name: str, *parts) -> str:
    return ":".join(["education", "fragment", str(content_version()), name, *map(str, parts)])
