"""pg_trgm for typo-tolerant search, and the monthly newsletter digest in beat.

TrigramExtension does nothing on SQLite. The periodic task is a row staff can
edit in the admin (django-celery-beat).
"""

from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

TASK_NAME = "Newsletter: monthly digest of new articles"


def add_digest_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # 09:00 on the 1st of each month, clinic time.
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="9",
        day_of_month="1",
        month_of_year="*",
        day_of_week="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "education.newsletter_digest_send", "crontab": schedule},
    )


def remove_digest_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("education", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(add_digest_schedule, remove_digest_schedule),
    ]
