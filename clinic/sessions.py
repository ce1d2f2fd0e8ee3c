"""Sessions read from Redis, written to the database too; a cached copy lives a minute.

Django's cached_db store, with one change: the copy in the cache lives at most
CACHE_SECONDS, whatever the session's own expiry. Most requests still read
the session from Redis, and each session is read from the database at most
once a minute. A sign-out or account deletion deletes the row and the copy. If
Redis did not answer at that moment, the copy it keeps stops being used within
a minute, instead of outliving the sign-out by the whole idle limit.
"""

from django.contrib.sessions.backends import cached_db

CACHE_SECONDS = 60


class _ShortLived:
    """The session cache, with every copy's time to live capped."""

    def __init__(self, cache):
        self._cache = cache

    def set(self, key, value, timeout=None, version=None):
        timeout = CACHE_SECONDS if timeout is None else min(timeout, CACHE_SECONDS)
        return self._cache.set(key, value, timeout, version=version)

    async def aset(self, key, value, timeout=None, version=None):
        timeout = CACHE_SECONDS if timeout is None else min(timeout, CACHE_SECONDS)
        return await self._cache.aset(key, value, timeout, version=version)

    def __contains__(self, key):
        return key in self._cache

    def __getattr__(self, name):
        return getattr(self._cache, name)


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = _ShortLived(self._cache)
