"""Writes for the education app: the newsletter's subscriptions and digests."""

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from clinic.emails import email_message
from clinic.tokens import token_make, token_read

from .models import Article, NewsletterDelivery, NewsletterIssue, NewsletterSubscriber

logger = logging.getLogger(__name__)
# The confirmation link: an opaque token naming the subscription (clinic/tokens.py),
# for 7 days. The unsubscribe link carries the subscription's own random token
# (192 bits, never shown anywhere else) and works as long as the subscription
# exists: RFC 8058 and the UK's PECR expect every newsletter's unsubscribe link to
# keep working, and a link that only ever turns emails off harms nobody if found.
CONFIRM_PURPOSE = "newsletter-confirm"
CONFIRM_MAX_AGE = timedelta(days=7)
FIRST_DIGEST_LOOKBACK = timedelta(days=31)


class EmailNotSent(Exception):
    """The mail server did not take the message; the caller says 'try again'."""


def _send(*, kind: str, to: str, subject: str, context: dict, headers=None) -> None:
    message = email_message(kind, to=[to], subject=subject, context=context, headers=headers)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailNotSent(type(exc).__name__) from exc


def unsubscribe_url(subscriber: NewsletterSubscriber) -> str:
    return settings.SITE_URL + reverse("education:newsletter_unsubscribe", args=[subscriber.token])


def _unsubscribe_headers(subscriber: NewsletterSubscriber) -> dict:
    # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to the URL.
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def newsletter_signup(*, email: str) -> NewsletterSubscriber:
    """Ask for confirmation by email (double opt-in).

    An address that is already confirmed gets nothing new, and the page says
    the same either way, so the form never tells who subscribes.
    """
    email = email.strip().lower()
    with transaction.atomic():
        subscriber, created = NewsletterSubscriber.objects.select_for_update().get_or_create(
            email=email
        )
        if subscriber.is_active:
            return subscriber
        if subscriber.unsubscribed_at:
            subscriber.unsubscribed_at = None
            subscriber.confirmed_at = None
            subscriber.save(update_fields=["unsubscribed_at", "confirmed_at"])
    signed = token_make(CONFIRM_PURPOSE, {"s": subscriber.pk})
    _send(
        to=subscriber.email,
        subject=gettext("Please confirm your newsletter sign-up"),
        kind="newsletter.confirm",
        context={
            "confirm_url": settings.SITE_URL
            + reverse("education:newsletter_confirm", args=[signed])
        },
    )
    logger.info("newsletter confirmation sent", extra={"subscriber_id": subscriber.pk})
    return subscriber


def subscriber_from_confirmation(signed: str) -> NewsletterSubscriber | None:
    """The subscriber a confirmation link names, or None when it is bad or too old."""
    payload = token_read(CONFIRM_PURPOSE, signed, max_age=CONFIRM_MAX_AGE) or {}
    if not isinstance(payload.get("s"), int):
        return None
    return NewsletterSubscriber.objects.filter(pk=payload["s"]).first()


def newsletter_confirm(*, subscriber: NewsletterSubscriber) -> None:
    NewsletterSubscriber.objects.filter(pk=subscriber.pk, confirmed_at__isnull=True).update(
        confirmed_at=timezone.now(), unsubscribed_at=None
    )


def newsletter_unsubscribe(*, token: str) -> bool:
    """True when the token names a subscriber (already unsubscribed counts)."""
    subscriber = NewsletterSubscriber.objects.filter(token=token).first()
    if subscriber is None:
        return False
    NewsletterSubscriber.objects.filter(pk=subscriber.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now()
    )
    logger.info("newsletter unsubscribed", extra={"subscriber_id": subscriber.pk})
    return True


def newsletter_issue_for(now: datetime) -> NewsletterIssue | None:
    """This month's issue: the articles published since the last issue (None if none)."""
    period = timezone.localtime(now).strftime("%Y-%m")
    existing = NewsletterIssue.objects.filter(period=period).first()
    if existing:
        return existing
    previous = NewsletterIssue.objects.order_by("-covers_to").first()
    covers_from = previous.covers_to if previous else now - FIRST_DIGEST_LOOKBACK
    articles = list(
        Article.objects.published().filter(published_at__gt=covers_from, published_at__lte=now)
    )
    if not articles:
        return None
    try:
        with transaction.atomic():
            issue = NewsletterIssue.objects.create(
                period=period, covers_from=covers_from, covers_to=now
            )
            issue.articles.set(articles)
    except IntegrityError:  # another run made it a moment ago
        issue = NewsletterIssue.objects.get(period=period)
    return issue


def newsletter_digest_send(*, now: datetime) -> int:
    """Send this month's digest to confirmed subscribers; return how many went out.

    A delivery row per (issue, subscriber) is claimed under a row lock
    (skip_locked) and marked sent in the same transaction, so a second run, or
    two at once, never sends anyone the same issue twice.
    """
    issue = newsletter_issue_for(now)
    if issue is None:
        return 0
    NewsletterDelivery.objects.bulk_create(
        [
            NewsletterDelivery(issue=issue, subscriber=s)
            for s in NewsletterSubscriber.objects.confirmed()
        ],
        ignore_conflicts=True,
    )
    articles = list(issue.articles.order_by("-published_at"))
    sent = 0
    pending = NewsletterDelivery.objects.filter(issue=issue, sent_at__isnull=True)
    for delivery_id in pending.values_list("pk", flat=True):
        with transaction.atomic():
            delivery = (
                NewsletterDelivery.objects.select_for_update(skip_locked=True)
                .select_related("subscriber")
                .filter(pk=delivery_id, sent_at__isnull=True)
                .first()
            )
            if delivery is None or not delivery.subscriber.is_active:
                continue
            try:
                _send(
                    to=delivery.subscriber.email,
                    subject=ngettext(
                        "New from the clinic: %(count)d new article",
                        "New from the clinic: %(count)d new articles",
                        len(articles),
                    )
                    % {"count": len(articles)},
                    kind="newsletter.digest",
                    context={
                        "articles": articles,
                        "issue": issue,
                        "unsubscribe_url": unsubscribe_url(delivery.subscriber),
                    },
                    headers=_unsubscribe_headers(delivery.subscriber),
                )
            except EmailNotSent:
                logger.warning(
                    "newsletter digest not sent; retried next run",
                    extra={"delivery_id": delivery.pk},
                )
                continue
            delivery.sent_at = timezone.now()
            delivery.save(update_fields=["sent_at"])
            sent += 1
    return sent
