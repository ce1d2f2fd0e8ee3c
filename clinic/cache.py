"""A Redis cache that degrades to a miss when Redis does not answer.

Redis is the broker and the cache; the design says the web process keeps
serving (and bookings keep saving) while it is down. Django's own RedisCache
raises on every call, which would turn a cache outage into 500s, so each
operation here logs one warning and answers as an empty cache would.
/healthz still reports the cache as down (it checks the client directly).
"""

import functools
import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _degrade(default):
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNAVAILABLE as exc:
                logger.warning(
                    "cache unavailable, treated as a miss",
                    extra={"operation": method.__name__, "error": type(exc).__name__},
                )
                return default(*args, **kwargs) if callable(default) else default

        return wrapper

    return decorate


def _default_of_get(key, default=None, *args, **kwargs):
    return default


class ReusedRedisCacheClient(RedisCacheClient):
    """Django's client, keeping one redis.Redis per pool instead of one per operation.

    Django builds a new ``redis.Redis`` for every cache call, and redis-py's
    constructor fills a table of ~170 response callbacks each time: about
    0.2 ms of CPU per get, more than the round trip (measured with cProfile on
    the treatment page, `make bench`). A Redis object is safe to share
    between threads; its connections still come from the pool.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient

    get = _degrade(_default_of_get)(RedisCache.get)
    set = _degrade(None)(RedisCache.set)
    add = _degrade(False)(RedisCache.add)
    touch = _degrade(False)(RedisCache.touch)
    delete = _degrade(False)(RedisCache.delete)
    get_many = _degrade({})(RedisCache.get_many)
    set_many = _degrade([])(RedisCache.set_many)
    delete_many = _degrade(None)(RedisCache.delete_many)
    has_key = _degrade(False)(RedisCache.has_key)
    clear = _degrade(False)(RedisCache.clear)

    def strict_get(self, key):
        """For /healthz: a get that raises when Redis does not answer."""
        return RedisCache.get(self, key)

    def strict_set(self, key, value, timeout):
        return RedisCache.set(self, key, value, timeout)
