"""Settings shared by every environment.

One django-environ ``env`` reads the contract's variables (see README,
"Configuration"). Development defaults need no server; each URL variable
switches to the real service. Bad configuration stops the process with one
clear line (``config_error``) rather than a traceback.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from babel.numbers import is_currency
from csp.constants import NONCE, NONE, SELF

from clinic.config import config_error, database_from_env, redis_url_from_env
from clinic.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# --- Core -------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default=None)  # each settings module decides the fallback
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
PORT = env.int("PORT", default=8000)
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")

CLINIC_TIME_ZONE = env("CLINIC_TIME_ZONE", default="Europe/London")
try:
    ZoneInfo(CLINIC_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    config_error(f"CLINIC_TIME_ZONE {CLINIC_TIME_ZONE!r} is not an IANA time zone name")
TIME_ZONE = CLINIC_TIME_ZONE
USE_TZ = True  # stored in UTC; shown and planned in the clinic's wall time
LANGUAGE_CODE = "en-gb"
# The clinic's currency (ISO 4217), for prices and the course ledger (clinic/money.py).
# Each course keeps the currency it was sold in, so a change applies to new courses only.
CLINIC_CURRENCY = env("CLINIC_CURRENCY", default="GBP").upper()
if not is_currency(CLINIC_CURRENCY):
    config_error(f"CLINIC_CURRENCY {CLINIC_CURRENCY!r} is not an ISO 4217 currency code")
USE_I18N = True
# The catalogue every marked string goes to: `manage.py makemessages -l en` (README).
LOCALE_PATHS = [BASE_DIR / "locale"]
# 24-hour times in the admin too (en-gb's own TIME_FORMAT is "P": "10 a.m.", "9:08 p.m.").
FORMAT_MODULE_PATH = ["clinic.formats"]

# Online deposits through Stripe Checkout (booking/deposits/): on when both keys are set;
# without them the journey says "pay at the clinic". The webhook endpoint to give Stripe
# is <SITE_URL>/payments/stripe/webhook/ (events: checkout.session.completed and .expired,
# refund.created and .updated). The API's address and Checkout's origin change only in tests.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com").rstrip("/")
STRIPE_CHECKOUT_ORIGIN = env("STRIPE_CHECKOUT_ORIGIN", default="https://checkout.stripe.com")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",  # the widgets' own templates, for FORM_RENDERER below
    "django.contrib.sitemaps",
    "django.contrib.postgres",  # full-text search, trigram, exclusion constraints
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_celery_beat",
    "simple_history",  # the audit history of sessions, courses and patients
    "csp",
    "clinic",
    "education",
    "booking",
    "axes",  # last, as its docs ask
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "clinic.middleware.RejectNullCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "clinic.middleware.SessionIdleTimeoutMiddleware",
    "clinic.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.middleware.AdminSearchBoundsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",  # who made each change
    "clinic.security.StaffTwoFactorMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as its docs ask
]

# Widgets render through TEMPLATES, so templates/ can correct one of Django's
# (templates/admin/widgets/split_datetime.html labels its date and time boxes).
# https://docs.djangoproject.com/en/5.2/ref/forms/renderers/#templatessetting
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "clinic.context_processors.clinic_details",
                "clinic.context_processors.navigation",
            ],
        },
    },
    {
        # Plain-text emails (clinic/emails.py): the same templates, nothing HTML-escaped,
        # so a name reads "O'Brien" in the text part, not "O&#x27;Brien".
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# --- Database ---------------------------------------------------------------
# SQLite under var/ by default; DATABASE_URL switches to PostgreSQL.
DATABASES = {"default": database_from_env(env, VAR_DIR / "clinic.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -------------------------------------------------------
# The web process keeps serving while Redis is down (design.md): django-redis
# then answers every cache call as an empty cache would, and logs it once per
# call at ERROR under "clinic.caching" (/healthz still says the cache is down).
# https://github.com/jazzband/django-redis#memcached-exceptions-behavior
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "clinic.caching"
REDIS_URL = redis_url_from_env(env)
if REDIS_URL:
    CACHES = {
        "default": {
            # What is kept, for how long and what clears it: clinic/caching.py.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "clinic",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
    # Sessions read from Redis, written to both (clinic/sessions.py: the database
    # store read through the cache, each copy living a minute at most): the database query every
    # signed-in or booking request made (~0.5 ms of its CPU) is gone, and a Redis
    # outage reads from the database. Only with a shared cache: a per-process one
    # would keep a signed-out session alive in the other processes.
    SESSION_ENGINE = "clinic.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # kombu's filesystem transport: a broker that needs no server.
    # https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.filesystem.html
    _queue_dir = VAR_DIR / "broker" / "queue"
    # "localhost": without a host kombu warns "No hostname was supplied" on every connection.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "control_folder": str(VAR_DIR / "broker" / "control"),  # else ./control/
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'broker' / 'results'}"
    for _folder in (
        _queue_dir,
        *(VAR_DIR / "broker" / f for f in ("processed", "results", "control")),
    ):
        _folder.mkdir(parents=True, exist_ok=True)

# --- Celery -----------------------------------------------------------------
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")  # tests use their own
CELERY_TASK_ACKS_LATE = True  # a task lost with its worker is delivered again
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Without this, Celery's Django fixup closes the database connection before and
# after every task: a new PostgreSQL backend per reminder cost more CPU than
# the reminder itself. With it, a worker's connection lives as a web request's
# does (CONN_MAX_AGE, health checks; clinic/celery.py closes old or broken ones
# around each task), and Celery still closes it every 1000 tasks.
CELERY_DB_REUSE_MAX = 1000
# A reminder claimed this long ago and still "sending" is taken again (its worker died).
REMINDER_LEASE_SECONDS = env.int("REMINDER_LEASE_SECONDS", default=600)
# Sooner when its worker is gone: a claim this old whose worker no longer answers
# is released by the next dispatcher (booking/reminders.py: orphaned_claims_release).
# At most 30 s, so that a dead worker's claims go out within two beat minutes.
REMINDER_CLAIM_CHECK_SECONDS = env.int("REMINDER_CLAIM_CHECK_SECONDS", default=30)

# --- Email ------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Clinic <no-reply@clinic.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if "EMAIL_URL" in env:
    try:
        globals().update(env.email_url("EMAIL_URL"))
        if env("EMAIL_URL").startswith("filemail:"):  # django-environ drops the leading "/"
            EMAIL_FILE_PATH = urlsplit(env("EMAIL_URL")).path
    except Exception as exc:  # noqa: BLE001 - any parse error is a config error
        config_error(f"EMAIL_URL is not a valid email URL ({exc})")
else:
    # Files, not the console: emails hold patient details, and the console is a log.
    # One .eml file an email, named by time, recipient and subject (clinic/mail_files.py).
    EMAIL_BACKEND = "clinic.mail_files.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_TIMEOUT = 10

# --- Accounts ---------------------------------------------------------------
AUTH_USER_MODEL = "clinic.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out sign-in
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
# django-allauth: sign in with the email address, once it is verified. Only a
# verified address is matched across records (booking/privacy.py), and with
# mandatory verification sign-up answers the same whether or not the address
# has an account (ACCOUNT_PREVENT_ENUMERATION, on by default: the owner gets an
# email instead). The booking journey verifies with a code on its own page.
# https://docs.allauth.org/en/latest/account/configuration.html
ACCOUNT_ADAPTER = "clinic.account_adapter.AccountAdapter"  # our emails, links on SITE_URL
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# One address per account: a new one replaces the old only once it is verified,
# so an address typed in never becomes the one bookings go to unproven.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True  # "your password was changed", to the account's address
# allauth's forms with the site's wording (sentence-case labels); validation is allauth's.
ACCOUNT_FORMS = {
    "login": "clinic.account_forms.LoginForm",
    "signup": "clinic.account_forms.SignupForm",
    "add_email": "clinic.account_forms.ChangeEmailForm",
    "change_password": "clinic.account_forms.ChangePasswordForm",
    "set_password": "clinic.account_forms.SetPasswordForm",
    "reset_password": "clinic.account_forms.ResetPasswordForm",
    "reset_password_from_key": "clinic.account_forms.ResetPasswordKeyForm",
    "reauthenticate": "clinic.account_forms.ReauthenticateForm",
}
MFA_FORMS = {
    "authenticate": "clinic.account_forms.AuthenticateForm",
    "reauthenticate": "clinic.account_forms.MfaReauthenticateForm",
    "activate_totp": "clinic.account_forms.ActivateTOTPForm",
}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
# Counted in the shared cache; over the limit, clinic/security.py's page says when
# to try again. https://docs.allauth.org/en/latest/account/rate_limits.html
ACCOUNT_RATE_LIMITS = {
    "signup": "",  # SIGN_UP_RATE below, shared with the booking journey's email codes
    "reset_password": "10/15m/ip,3/15m/key",
    # Per account, django-axes below locks out (with a cool-off): allauth counts per address.
    "login_failed": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "confirm_email": "1/3m/key",
    "reauthenticate": "10/m/user",
}
# Staff two-factor sign-in (allauth MFA, an authenticator app's codes).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Clinic admin"
STAFF_TWO_FACTOR_REQUIRED = env.bool("STAFF_TWO_FACTOR_REQUIRED", default=False)
# django-axes: 5 failures for an account from one address lock that pair out for
# 15 minutes; never for good (no permanent lockout a patient cannot undo).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "clinic.security.axes_username"  # allauth signs in by email
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "clinic.security.locked_out"
AXES_VERBOSE = False  # its messages name the email typed: clinic.security logs ids instead
# Our own limits (clinic/security.py rate_limit): per address.
# New accounts: the sign-up form and the booking journey's email codes count
# together, so neither makes accounts, or says whether one exists, any faster.
SIGN_UP_RATE = (20, 60 * 60)
BOOKING_CODES_PER_ADDRESS = (3, 15 * 60)  # codes emailed to one address (no inbox flooding)
RATE_LIMIT_EMAIL_CODE_CHECK = (20, 15 * 60)  # codes typed in the booking journey
RATE_LIMIT_PHONE_PATIENTS = (60, 60 * 60)  # patients one staff account adds by phone
RATE_LIMIT_NEWSLETTER = (5, 15 * 60)  # sign-ups per 15 minutes
RATE_LIMIT_BOOKING_CONFIRM = (10, 15 * 60)  # booking confirmations per 15 minutes
RATE_LIMIT_WEBHOOK_FORGED = (20, 60)  # webhook posts whose signature fails, per address

# --- Uploaded files ---------------------------------------------------------
# Practitioners' photos (booking/photos.py), under MEDIA_ROOT/practitioners/, in
# "default" storage below, in every environment. The app serves them itself
# (booking/views/photos.py), DEBUG or not: no web server needs to be set up for them.
# docker-compose.yml keeps the folder on a named volume.
# A relative MEDIA_ROOT is taken from the project folder, as `make run` starts there.
MEDIA_ROOT = BASE_DIR / env("MEDIA_ROOT", default="var/media")
MEDIA_URL = "/media/"

# --- Static files -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Bootstrap from the npm registry (package.json), served by whitenoise.
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Forms ------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security headers in every environment ----------------------------------
# Content Security Policy (django-csp 4): nothing from another origin, no
# inline script without the per-request nonce.
# https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Admin searches (lists, exports, autocompletes) read this many words and characters.
ADMIN_SEARCH_MAX_WORDS = 10
ADMIN_SEARCH_MAX_CHARS = 100
# Signed out after this long without a request (clinic/middleware.py).
SESSION_IDLE_SECONDS_STAFF = env.int("SESSION_IDLE_SECONDS_STAFF", default=15 * 60)
SESSION_IDLE_SECONDS_PATIENT = env.int("SESSION_IDLE_SECONDS_PATIENT", default=30 * 60)

# --- Logging ----------------------------------------------------------------
# One line per record; exceptions and messages redacted (clinic/logging.py).
LOGGING = logging_config(formatter="keyvalue", level=env("LOG_LEVEL", default="INFO"))
