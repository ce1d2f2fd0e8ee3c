"""Reading the environment into settings, with one clear line on bad input.

Kept apart from the settings modules so the rules (what a valid DATABASE_URL
is, how a missing service is found) are in one place and can be tested.
"""

import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ

SUPPORTED_DATABASES = {
    "django.db.backends.postgresql": "PostgreSQL",
    "django.db.backends.sqlite3": "SQLite",
}


class ConfigurationError(SystemExit):
    """Raised while reading settings: the process stops with one line."""


def config_error(message: str):
    """Stop the process with one line on stderr (no traceback wall)."""
    line = f"clinic: configuration error: {message}"
    print(line, file=sys.stderr, flush=True)
    raise ConfigurationError(2)


def sqlite_database(path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # IMMEDIATE takes the write lock at BEGIN, so writers queue up instead of
        # failing half-way with "database is locked" (Django 5.1+).
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def database_from_url(url: str, *, sqlite_default: Path) -> dict:
    scheme = urlsplit(url).scheme
    if not scheme or "://" not in url:
        config_error("DATABASE_URL must look like postgres://user:password@host:5432/name")
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # noqa: BLE001 - django-environ raises several kinds
        config_error(f"DATABASE_URL could not be read ({exc})")
    engine = config.get("ENGINE")
    if engine not in SUPPORTED_DATABASES:
        config_error(
            f"DATABASE_URL scheme {scheme!r} is not supported (use postgres:// or sqlite://)"
        )
    if engine == "django.db.backends.sqlite3":
        name = config.get("NAME") or ""
        return sqlite_database(Path(name) if name and name != ":memory:" else sqlite_default)
    if not config.get("NAME"):
        config_error("DATABASE_URL names no database (postgres://user@host:5432/<name>)")
    config["CONN_MAX_AGE"] = 60
    config["CONN_HEALTH_CHECKS"] = True
    config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    return config


def database_from_env(env: environ.Env, sqlite_default: Path) -> dict:
    url = env("DATABASE_URL", default="")
    if not url:
        return sqlite_database(sqlite_default)
    return database_from_url(url, sqlite_default=sqlite_default)


def redis_url_from_env(env: environ.Env) -> str | None:
    url = env("REDIS_URL", default="")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        config_error("REDIS_URL must look like redis://host:6379/0")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        config_error("REDIS_URL has a port that is not a number")
    return url


def service_reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
