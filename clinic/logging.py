"""Log formatters: one line per record, readable by people and machines.

Log records carry ids, never patient names, emails or phone numbers. What the
app does not write itself is redacted on the way out (`redact`): a 500's
exception can quote a template's whole context (a failed variable lookup
prints every dict in it: the user, the CSRF token, a confirmation key), a
database error can quote the row it refused, and a path can hold a token.
"""

import json
import logging
import re
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# "Failed lookup for key [form] in [{'True': True, ...}, {'user': ...}]": keep the key.
_TEMPLATE_CONTEXT = re.compile(r"(Failed lookup for key \[[^\]]*\]) in .*")
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# Tokens, keys and signed values: a long run of URL-safe characters holding both a
# letter and a digit (a CSRF token, a session key, a confirmation key, a signed link).
# Python names and paths in a traceback have no digits, or are shorter.
_TOKEN = re.compile(r"(?<![\w:=-])(?=[\w:=-]*\d)(?=[\w:=-]*[A-Za-z])[\w:=-]{20,}")


def redact(text: str) -> str:
    """`text` with template contexts, email addresses and token-like values taken out."""
    text = _TEMPLATE_CONTEXT.sub(r"\1 in (the template context is not logged)", text)
    text = _EMAIL.sub("[email]", text)
    return _TOKEN.sub("[token]", text)


def _extra(record: logging.LogRecord) -> dict:
    return {
        k: redact(v) if isinstance(v, str) else v
        for k, v in vars(record).items()
        if k not in _STANDARD and k != "request"
    }


class _Redacting(logging.Formatter):
    def formatException(self, exc_info) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(exc_info))

    def message(self, record: logging.LogRecord) -> str:
        return redact(record.getMessage())


class JsonFormatter(_Redacting):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.message(record),
            **_extra(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class KeyValueFormatter(_Redacting):
    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        line = f"{time} level={record.levelname.lower()} logger={record.name} "
        line += self.message(record)
        if extra := _extra(record):
            line += " " + " ".join(f"{k}={v}" for k, v in extra.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def logging_config(*, formatter: str, level: str) -> dict:
    """LOGGING for the settings: every record, Django's own included, through `formatter`.

    Django's default configuration gives its "django" logger a console handler
    (when DEBUG) that prints a 500's exception as it is, and "django.server" a
    handler of its own: both send their records to the root handler instead,
    which redacts them.
    """
    formatters = {"keyvalue": KeyValueFormatter, "json": JsonFormatter}
    through_root = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {formatter: {"()": formatters[formatter]}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": formatter,
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django": {**through_root, "level": "INFO"},
            "django.server": {**through_root, "level": "INFO"},
            "django.db.backends": {"level": "WARNING"},
            # axes' own lines name the email typed; clinic.security logs ids instead.
            "axes": {"level": "ERROR"},
        },
    }
