from celery import shared_task
from django.utils import timezone

from . import services


@shared_task(name="education.newsletter_digest_send")
def newsletter_digest_send() -> int:
    """Monthly (django-celery-beat): new articles to confirmed subscribers, once each."""
    return services.newsletter_digest_send(now=timezone.now())
