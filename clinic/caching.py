"""What the app keeps in the cache, under which key, for how long, and what clears it.

Every value kept here belongs to a *kind* (below): its key names the kind, and
it is kept beside the number of its kind's *version*, a counter in the cache
that every save of the rows the value was made from moves on (``connect``).
A value kept at an older version is never served, so a save clears every
value made from those rows at once, without a list of keys to delete. A hit
is one ``get_many`` (the version and the value together) and no query.

| kind               | what                              | kept for  | cleared by a save of       |
|--------------------|-----------------------------------|-----------|----------------------------|
| TREATMENT          | a published treatment, reviewer   | 1 day     | any content row            |
| ARTICLE_LIST       | a page of the article list        | 1 day (*) | any content row            |
| PAGE               | a whole public page, as a visitor | 10 min    | any content row            |
| PRACTITIONERS_FOR  | who offers a treatment            | 10 min    | a practitioner, its links  |
| settings_row(model)| ClinicDetails, BookingRules, ...  | 5 min     | that row                   |

"content": any education row (treatments, questions, articles, FAQs, topics,
contributors, sources, and their links) and the clinic's details, whose name
and phone are on every kept page; CLEARED_BY below lists them. (*) And not
past the moment the next scheduled article goes live (education/selectors.py).
The times bound a change made around the ORM (``update()``, a shell): saves
clear at once. Also in the cache, but not copies of rows: sessions
(clinic/sessions.py) and rate-limit counters (clinic/security.py, allauth).
The README's "Caching" section lists them all.

The cache is Redis through django-redis, which answers as an empty cache when
Redis does not (DJANGO_REDIS_IGNORE_EXCEPTIONS): everything is then read from
the database; without REDIS_URL it is each process's own memory.
"""

import functools
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

# Versions: each is moved on by the saves connect() wires to it.
CONTENT = "content"  # education rows and the clinic's details (on every kept page)
PRACTITIONERS = "practitioners"


@dataclass(frozen=True)
class Kind:
    """Values kept under one key prefix, cleared by one version."""

    name: str
    version: str
    timeout: int

    def key(self, part: str) -> str:
        return f"kept:{self.name}:{part}"


TREATMENT = Kind("treatment", CONTENT, 24 * 60 * 60)
ARTICLE_LIST = Kind("articles", CONTENT, 24 * 60 * 60)
PAGE = Kind("page", CONTENT, 10 * 60)  # dated wording ("reviewed ...") is never older
PRACTITIONERS_FOR = Kind("practitioners-for", PRACTITIONERS, 10 * 60)


@functools.cache
def settings_row(model) -> Kind:
    """The one row of a SingletonModel (clinic/models.py): its own version.

    The key names the row's fields: a copy kept before a migration added one is
    never read back (it would load the new field with a query, or fail for the
    unsaved default, which has no row to load it from).
    """
    label = f"settings:{model._meta.label_lower}"
    fields = ",".join(field.attname for field in model._meta.concrete_fields)
    return Kind(f"{label}:{zlib.crc32(fields.encode()):08x}", label, 5 * 60)


def _version_key(version: str) -> str:
    return f"version:{version}"


def _fresh() -> int:
    """A first version above any an evicted key ever reached (those count up from here)."""
    return time.time_ns() // 1000


def current_version(version: str) -> int:
    key = _version_key(version)
    number = cache.get(key)
    if number is None:  # never set, or evicted: values kept under the old one must miss
        cache.add(key, _fresh(), timeout=None)
        number = cache.get(key)
    return number if number is not None else 0  # 0: Redis down, nothing is kept anyway


def bump(version: str) -> None:
    """Move the version on now, and again once the saving transaction commits.

    Signals run inside the transaction: a request reading the rows before the
    commit still sees the old ones and may keep them under the new version.
    The second move, after the commit, leaves those behind.
    """
    _incr(version)
    transaction.on_commit(lambda: _incr(version))


def _incr(version: str) -> None:
    key = _version_key(version)
    try:
        cache.incr(key)
    except ValueError:  # not there yet (or evicted, or the cache was cleared)
        cache.set(key, _fresh(), timeout=None)


def kept(kind: Kind, part: str) -> tuple[int | None, Any]:
    """(the kind's current version if known, the value kept at it or None): one round trip."""
    version_key, key = _version_key(kind.version), kind.key(part)
    found = cache.get_many([version_key, key])
    version, value = found.get(version_key), found.get(key)
    if version is not None and value is not None and value[0] == version:
        return version, value[1]
    return version, None


def keep(kind: Kind, part: str, version: int, value) -> None:
    cache.set(kind.key(part), (version, value), kind.timeout)


def forget(kind: Kind, part: str) -> None:
    cache.delete(kind.key(part))


def read_through(
    kind: Kind, part: str, compute: Callable[[], T], keep_if: Callable[[T], bool] | None = None
) -> T:
    """compute(), kept until the kind's version moves on (or its time is up).

    None (nothing found) is not kept: a made-up slug must not fill the cache;
    nor is a value `keep_if` refuses.
    """
    version, value = kept(kind, part)
    if value is not None:
        return value
    if version is None:  # before computing: a move during it must leave this value behind
        version = current_version(kind.version)
    value = compute()
    if value is not None and (keep_if is None or keep_if(value)):
        keep(kind, part, version, value)
    return value


# What moves each version on: a save or delete of these models ("app.Model"),
# or a change to these many-to-many links ("app.Model.field"). By label, as
# education must not import booking, even through this module.
CLEARED_BY = {
    CONTENT: (
        "education.Treatment",
        "education.SuitabilityQuestion",
        "education.Article",
        "education.FAQ",
        "education.Topic",
        "education.Contributor",
        "education.Source",
        "education.Treatment.sources",
        "education.Article.sources",
        "clinic.ClinicDetails",  # its name and phone are on every kept page
    ),
    PRACTITIONERS: ("booking.Practitioner", "booking.Practitioner.treatments"),
}


def _moves_on(version: str):
    def receiver(**_kwargs) -> None:
        bump(version)

    return receiver


def connect() -> None:
    """Wire each version to the saves, deletes and link changes that must clear it."""
    from django.apps import apps
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .models import SingletonModel

    def on_change(model, version: str) -> None:
        receiver, uid = _moves_on(version), f"caching:{version}:{model._meta.label_lower}"
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}:save")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}:delete")

    cleared_by = {version: list(labels) for version, labels in CLEARED_BY.items()}
    for model in apps.get_models():
        if issubclass(model, SingletonModel):  # each settings row clears its own copy
            cleared_by[settings_row(model).version] = [model._meta.label]
    for version, labels in cleared_by.items():
        for label in labels:
            app_label, model_name, *field = label.split(".")
            model = apps.get_model(app_label, model_name)
            if not field:
                on_change(model, version)
                continue
            through = getattr(model, field[0]).through  # as Treatment.sources.through
            uid = f"caching:{version}:{label}:m2m"
            m2m_changed.connect(_moves_on(version), sender=through, weak=False, dispatch_uid=uid)
