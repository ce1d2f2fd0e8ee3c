"""Checks behind /healthz and the worker's start-up: is each service answering?"""

import os
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from kombu import Connection


def _where(url: str) -> str:
    """Host and port only: a URL may carry a password."""
    parts = urlsplit(url)
    if parts.scheme == "filesystem":
        return "filesystem (var/broker)"
    return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}".rstrip(":")


def database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "backend": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return {"ok": False, "backend": connection.vendor, "error": type(exc).__name__}


def broker_status() -> dict:
    url = settings.CELERY_BROKER_URL
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    status = {"where": _where(url)}
    if url.startswith("filesystem"):
        folder = options.get("data_folder_in", "")
        ok = bool(folder) and os.path.isdir(folder) and os.access(folder, os.W_OK)
        return {**status, "ok": ok, **({} if ok else {"error": "queue folder missing"})}
    try:
        with Connection(url, transport_options=options, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=3)
        return {**status, "ok": True}
    except Exception as exc:  # noqa: BLE001
        return {**status, "ok": False, "error": type(exc).__name__}


def cache_status() -> dict:
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        if settings.CACHES["default"]["BACKEND"].startswith("django_redis."):
            # django-redis hides outages from pages (a miss); here we want them.
            from django_redis import get_redis_connection

            get_redis_connection("default").ping()
        cache.set(key, "1", timeout=5)
        ok = cache.get(key) == "1"
        cache.delete(key)
        return {"ok": ok, "backend": backend}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "backend": backend, "error": type(exc).__name__}
