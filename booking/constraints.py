"""An exclusion constraint that exists on PostgreSQL and is skipped elsewhere.

A plain ExclusionConstraint makes `migrate` fail on SQLite (near "EXCLUDE").
This subclass emits no SQL and skips validation on other databases, so one
migration serves both; on SQLite the booking service's re-check inside an
IMMEDIATE transaction (which serialises writers) is the guard.
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.db import DEFAULT_DB_ALIAS, connections


def _is_postgres(schema_editor_or_alias) -> bool:
    connection = (
        getattr(schema_editor_or_alias, "connection", None) or connections[schema_editor_or_alias]
    )
    return connection.vendor == "postgresql"


class PortableExclusionConstraint(ExclusionConstraint):
    def check_supported(self, schema_editor):
        if _is_postgres(schema_editor):
            super().check_supported(schema_editor)

    def constraint_sql(self, model, schema_editor):
        return super().constraint_sql(model, schema_editor) if _is_postgres(schema_editor) else None

    def create_sql(self, model, schema_editor):
        return super().create_sql(model, schema_editor) if _is_postgres(schema_editor) else None

    def remove_sql(self, model, schema_editor):
        return super().remove_sql(model, schema_editor) if _is_postgres(schema_editor) else None

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if _is_postgres(using):
            super().validate(model, instance, exclude=exclude, using=using)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        return "booking.constraints.PortableExclusionConstraint", args, kwargs
