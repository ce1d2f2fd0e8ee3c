"""Production: real services only, every secret from the environment.

Refuses to start without SECRET_KEY and a PostgreSQL DATABASE_URL. Passes
``manage.py check --deploy`` with no warning (tests/clinic/test_settings.py).
"""

from clinic.config import config_error
from clinic.logging import logging_config

from .base import *  # noqa: F403
from .base import DATABASES, REDIS_URL, SITE_URL, env

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    config_error("SECRET_KEY is not set (production needs a long random value)")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    config_error("SECRET_KEY is too short (use at least 50 random characters)")
if "DATABASE_URL" not in env:
    config_error("DATABASE_URL is not set (production needs PostgreSQL)")
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    config_error("DATABASE_URL must point at PostgreSQL in production, not SQLite")
# Rate limits, lockouts and sessions' cached copies must be shared by every web
# process: with a cache per process, two gunicorn workers let twice the sign-ups in.
if not REDIS_URL:
    config_error("REDIS_URL is not set (production shares rate limits and sessions in Redis)")

# Staff sign in with an authenticator app's code as well as a password, unless the
# clinic says otherwise (STAFF_TWO_FACTOR_REQUIRED=false): `check --deploy` then warns.
STAFF_TWO_FACTOR_REQUIRED = env.bool("STAFF_TWO_FACTOR_REQUIRED", default=True)

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container health check speaks plain HTTP
SECURE_HSTS_SECONDS = 31536000  # one year
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# The __Host- prefix: the browser keeps these cookies only if they are Secure,
# for path / and set by this exact host (no Domain), so a sibling subdomain
# cannot plant or read them. https://developer.mozilla.org/docs/Web/HTTP/Cookies
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING = logging_config(formatter="json", level=env("LOG_LEVEL", default="INFO"))

# seed_demo creates accounts with published passwords: never here.
SEED_DEMO_ALLOWED = False
