"""Sessions kept in the database, read through the cache; a cached copy lives a minute.

Django's cached_db store does the same but keeps each copy as long as the
session lasts (30 minutes of idle time here). This one keeps it CACHE_SECONDS
at most: most requests still read the session from Redis (no query), and a
session is read from the database at most once a minute. A sign-out or an
account deletion deletes the row and the copy; if Redis did not answer at that
moment, the copy it keeps stops being used within a minute instead of
outliving the sign-out by the whole idle limit.

Built on the database store's public methods (load, save, delete, exists),
as Django's guide to extending the session engines shows, with the copies
under cached_db's keys (KEY_PREFIX) in the SESSION_CACHE_ALIAS cache.
"""

from django.conf import settings
from django.contrib.sessions.backends import cached_db, db
from django.core.cache import caches

CACHE_SECONDS = 60


class SessionStore(db.SessionStore):
    cache_key_prefix = cached_db.KEY_PREFIX

    def __init__(self, session_key=None):
        super().__init__(session_key)
        self.copies = caches[settings.SESSION_CACHE_ALIAS]

    def _copy_key(self, session_key: str) -> str:
        return self.cache_key_prefix + session_key

    def load(self):
        key = self.session_key
        data = self.copies.get(self._copy_key(key)) if key else None
        if data is None:
            data = super().load()  # forgets the key if there is no such session
            if self.session_key and data:
                self.copies.set(self._copy_key(self.session_key), data, CACHE_SECONDS)
        return data

    def save(self, must_create=False):
        super().save(must_create)
        self.copies.set(self._copy_key(self.session_key), dict(self.items()), CACHE_SECONDS)

    def exists(self, session_key):
        return bool(session_key) and (
            self.copies.has_key(self._copy_key(session_key)) or super().exists(session_key)
        )

    def delete(self, session_key=None):
        key = session_key or self.session_key
        super().delete(session_key)
        if key:
            self.copies.delete(self._copy_key(key))

    async def aload(self):
        key = self.session_key
        data = await self.copies.aget(self._copy_key(key)) if key else None
        if data is None:
            data = await super().aload()
            if self.session_key and data:
                await self.copies.aset(self._copy_key(self.session_key), data, CACHE_SECONDS)
        return data

    async def asave(self, must_create=False):
        await super().asave(must_create)
        copy = dict(await self.aitems())
        await self.copies.aset(self._copy_key(self.session_key), copy, CACHE_SECONDS)

    async def aexists(self, session_key):
        return bool(session_key) and (
            await self.copies.ahas_key(self._copy_key(session_key))
            or await super().aexists(session_key)
        )

    async def adelete(self, session_key=None):
        key = session_key or self.session_key
        await super().adelete(session_key)
        if key:
            await self.copies.adelete(self._copy_key(key))
