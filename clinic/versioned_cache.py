"""Values kept in the cache under a version number that every save moves on.

Rows that change a few times a week (education content, the practitioners who
offer a treatment) are read on every page. Each kind has one version key;
saving or deleting any row of that kind increments it (signals), and a value
kept under an older version is never served. A hit is one ``get_many`` (the
version and the value together) and no query.

A Redis outage reads as a miss (clinic/cache.py): the value is computed from
the database, as if nothing were kept.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")
TIMEOUT = 60 * 60 * 24


def _fresh() -> int:
    """A first version above any an evicted key ever reached (those count up from here)."""
    return time.time_ns() // 1000


def current_version(version_key: str) -> int:
    version = cache.get(version_key)
    if version is None:  # never set, or evicted: values kept under the old one must miss
        cache.add(version_key, _fresh(), timeout=None)
        version = cache.get(version_key)
    return version


def bump(version_key: str) -> None:
    """Move the version on now, and again once the saving transaction commits.

    Signals run inside the transaction: a request reading the rows before the
    commit still sees the old ones and may keep them under the new version.
    The second move, after the commit, leaves those behind.
    """
    _incr(version_key)
    transaction.on_commit(lambda: _incr(version_key))


def _incr(version_key: str) -> None:
    try:
        cache.incr(version_key)
    except ValueError:  # not there yet (or the cache was cleared)
        cache.set(version_key, _fresh(), timeout=None)
    except Exception as exc:  # noqa: BLE001 - Redis down: saves must still succeed
        logger.warning("cache version not moved on", extra={"error": type(exc).__name__})


def read_through(
    version_key: str,
    key: str,
    compute: Callable[[], T],
    timeout=TIMEOUT,
    keep: Callable[[T], bool] | None = None,
) -> T:
    """compute(), kept under the current version of `version_key`.

    None (nothing found) is not kept: a made-up slug must not fill the cache;
    nor is a value `keep` refuses.
    """
    found = cache.get_many([version_key, key])
    version, kept = found.get(version_key), found.get(key)
    if version is not None and kept is not None and kept[0] == version:
        return kept[1]
    if version is None:  # before computing: a move during it must leave this value behind
        version = current_version(version_key)
    value = compute()
    if value is not None and (keep is None or keep(value)):
        cache.set(key, (version, value), timeout)
    return value
