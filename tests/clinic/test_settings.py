"""Settings read the environment as the design's contract says.

Each case runs Django in a subprocess with a controlled environment, as a
fresh shell would.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "SITE_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CLINIC_TIME_ZONE",
    "CLINIC_CURRENCY",
    "PORT",
)

DUMP = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "db_engine": db["ENGINE"], "db_name": str(db["NAME"]), "db_options": db.get("OPTIONS", {}),
    "db_host": db.get("HOST"), "cache": settings.CACHES["default"]["BACKEND"],
    "cache_location": settings.CACHES["default"].get("LOCATION"),
    "broker": settings.CELERY_BROKER_URL, "email": settings.EMAIL_BACKEND,
    "email_host": getattr(settings, "EMAIL_HOST", None),
    "email_port": getattr(settings, "EMAIL_PORT", None),
    "from": settings.DEFAULT_FROM_EMAIL, "site_url": settings.SITE_URL, "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS, "tz": settings.TIME_ZONE,
    "currency": settings.CLINIC_CURRENCY,
    "csp": settings.CONTENT_SECURITY_POLICY,
}, default=str))
"""

STRONG_KEY = secrets.token_urlsafe(64)


def run_django(code: str, settings_module: str, **env_vars: str) -> subprocess.CompletedProcess:
    # As a fresh shell: none of the contract's variables, nor the browser tests' flag.
    unset = {*CONTRACT_VARIABLES, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(DJANGO_SETTINGS_MODULE=settings_module, **env_vars)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def dump(settings_module="clinic.settings.development", **env_vars) -> dict:
    result = run_django(DUMP, settings_module, **env_vars)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def manage(*args: str, settings_module: str, **env_vars: str) -> subprocess.CompletedProcess:
    code = (
        f"import sys; sys.argv = ['manage.py', *{list(args)!r}]; "
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(sys.argv)"
    )
    return run_django(code, settings_module, **env_vars)


def test_development_defaults_need_no_server():
    s = dump()
    assert s["db_engine"] == "django.db.backends.sqlite3"
    assert Path(s["db_name"]).parent == ROOT / "var"
    assert s["db_options"]["transaction_mode"] == "IMMEDIATE"
    assert s["broker"] == "filesystem://localhost/"
    assert s["cache"].endswith("LocMemCache")
    assert s["email"] == "clinic.mail_files.EmailBackend"
    assert s["debug"] is True
    assert s["tz"] == "Europe/London"
    assert s["site_url"] == "http://127.0.0.1:8000"
    assert s["csp"]["DIRECTIVES"]["default-src"] == ["'self'"]


def test_database_url_switches_to_postgresql():
    s = dump(DATABASE_URL="postgres://clinic:pw@db.internal:5432/clinic")
    assert s["db_engine"] == "django.db.backends.postgresql"
    assert s["db_host"] == "db.internal"
    assert s["db_name"] == "clinic"


def test_redis_url_switches_cache_and_broker():
    s = dump(REDIS_URL="redis://cache.internal:6379/2")
    assert s["cache"].endswith("RedisCache")
    assert s["cache_location"] == "redis://cache.internal:6379/2"
    assert s["broker"] == "redis://cache.internal:6379/2"


def test_email_url_switches_to_smtp():
    s = dump(EMAIL_URL="smtp://127.0.0.1:1025", DEFAULT_FROM_EMAIL="Clinic <hi@clinic.test>")
    assert s["email"].endswith("smtp.EmailBackend")
    assert (s["email_host"], s["email_port"]) == ("127.0.0.1", 1025)
    assert s["from"] == "Clinic <hi@clinic.test>"


def test_other_contract_variables_are_read():
    s = dump(
        CLINIC_TIME_ZONE="Europe/Dublin",
        CLINIC_CURRENCY="eur",
        PORT="9000",
        DEBUG="false",
        ALLOWED_HOSTS="clinic.test,www.clinic.test",
    )
    assert s["tz"] == "Europe/Dublin"
    assert s["currency"] == "EUR"
    assert s["site_url"] == "http://127.0.0.1:9000"
    assert s["debug"] is False
    assert s["hosts"] == ["clinic.test", "www.clinic.test"]
    assert dump(SITE_URL="https://clinic.test/")["site_url"] == "https://clinic.test"


@pytest.mark.parametrize(
    ("env_vars", "expected"),
    [
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL must look like"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL scheme 'mysql' is not supported"),
        ({"DATABASE_URL": "postgres://u@h:5432/"}, "DATABASE_URL names no database"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must look like"),
        ({"CLINIC_TIME_ZONE": "Mars/Olympus"}, "CLINIC_TIME_ZONE 'Mars/Olympus'"),
        ({"CLINIC_CURRENCY": "POUNDS"}, "CLINIC_CURRENCY 'POUNDS' is not an ISO 4217"),
    ],
)
def test_bad_configuration_stops_with_one_clear_line(env_vars, expected):
    result = manage("check", settings_module="clinic.settings.development", **env_vars)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("clinic: configuration error: ")
    assert expected in lines[0]


PRODUCTION = "clinic.settings.production"
PRODUCTION_DB = "postgres://clinic:pw@db:5432/clinic"
PRODUCTION_REDIS = "redis://redis:6379/0"


def run_production(code: str) -> subprocess.CompletedProcess:
    """`code` under the production settings, with the least they need to start."""
    return run_django(
        code,
        PRODUCTION,
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL=PRODUCTION_DB,
        REDIS_URL=PRODUCTION_REDIS,
    )


@pytest.mark.parametrize(
    ("env_vars", "expected"),
    [
        ({"DATABASE_URL": PRODUCTION_DB}, "SECRET_KEY is not set"),
        ({"DATABASE_URL": PRODUCTION_DB, "SECRET_KEY": STRONG_KEY}, "REDIS_URL is not set"),
        ({"DATABASE_URL": PRODUCTION_DB, "SECRET_KEY": "short"}, "SECRET_KEY is too short"),
        ({"SECRET_KEY": STRONG_KEY}, "DATABASE_URL is not set"),
        (
            {"SECRET_KEY": STRONG_KEY, "DATABASE_URL": "sqlite:////tmp/x.sqlite3"},
            "must point at PostgreSQL",
        ),
    ],
)
def test_production_refuses_to_start_without_secret_key_and_real_database(env_vars, expected):
    result = manage("check", settings_module=PRODUCTION, **env_vars)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_production_check_deploy_is_clean():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        settings_module=PRODUCTION,
        SECRET_KEY=STRONG_KEY,
        DATABASE_URL=PRODUCTION_DB,
        REDIS_URL=PRODUCTION_REDIS,
        ALLOWED_HOSTS="clinic.test",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_requires_staff_two_factor_unless_turned_off_with_a_warning():
    code = "import django; from django.conf import settings; django.setup(); "
    code += "print(settings.STAFF_TWO_FACTOR_REQUIRED)"
    base = {"SECRET_KEY": STRONG_KEY, "DATABASE_URL": PRODUCTION_DB, "REDIS_URL": PRODUCTION_REDIS}
    assert run_django(code, PRODUCTION, **base).stdout.strip() == "True"
    result = manage(
        "check",
        "--deploy",
        settings_module=PRODUCTION,
        ALLOWED_HOSTS="clinic.test",
        STAFF_TWO_FACTOR_REQUIRED="false",
        **base,
    )
    assert "clinic.W001" in result.stderr + result.stdout


def test_production_logs_one_json_object_per_line():
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('clinic.test').warning('reminder sent', extra={'reminder_id': 7})"
    )
    result = run_production(code)
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout.strip().splitlines()[-1])
    assert entry["message"] == "reminder sent"
    assert entry["level"] == "warning"
    assert entry["reminder_id"] == 7
