import re
import threading
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from education.admin import NewsletterSubscriberAdmin
from education.models import NewsletterDelivery, NewsletterSubscriber
from education.services import newsletter_digest_send
from tests.education.factories import ArticleFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def confirm_link() -> str:
    return re.search(r"https?://\S+/newsletter/confirm/\S+/", mail.outbox[-1].body).group(0)


def test_sign_up_sends_a_signed_confirmation_link_and_counts_only_once_confirmed(client):
    response = client.post(reverse("education:newsletter"), {"email": "Reader@Example.org"})
    assert response.status_code == 302
    assert mail.outbox[0].to == ["reader@example.org"]
    assert NewsletterSubscriber.objects.confirmed().count() == 0

    link = confirm_link()
    page = client.get(link)  # a mail scanner's GET confirms nothing
    assert "Yes, sign me up" in page.content.decode()
    assert NewsletterSubscriber.objects.confirmed().count() == 0
    client.post(link)
    assert NewsletterSubscriber.objects.confirmed().get().email == "reader@example.org"


def test_a_tampered_or_old_link_is_refused(client):
    client.post(reverse("education:newsletter"), {"email": "reader@example.org"})
    assert client.post(confirm_link()[:-3] + "xx/").status_code == 404
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("education.services.CONFIRM_MAX_AGE", timedelta(seconds=-1))
        assert client.post(confirm_link()).status_code == 404
    assert NewsletterSubscriber.objects.confirmed().count() == 0


def test_bad_email_is_explained_and_nothing_saved(client):
    response = client.post(reverse("education:newsletter"), {"email": "not-an-email"})
    assert response.status_code == 400
    assert "Enter an email address like name@example.com." in response.content.decode()
    assert NewsletterSubscriber.objects.count() == 0 and mail.outbox == []


def test_signing_up_again_does_not_reveal_or_resend_to_a_confirmed_reader(client):
    SubscriberFactory(email="known@example.org", confirmed_at=timezone.now())
    response = client.post(reverse("education:newsletter"), {"email": "known@example.org"})
    assert response.status_code == 302 and mail.outbox == []


def test_mail_server_down_says_try_again(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    response = client.post(reverse("education:newsletter"), {"email": "reader@example.org"})
    assert response.status_code == 503
    assert "try again" in response.content.decode()


def test_unsubscribe_get_asks_and_post_without_session_or_csrf_unsubscribes():
    reader = SubscriberFactory(confirmed_at=timezone.now())
    url = reverse("education:newsletter_unsubscribe", args=[reader.token])
    strict = Client(enforce_csrf_checks=True)
    assert "Stop the newsletter" in strict.get(url).content.decode()
    reader.refresh_from_db()
    assert reader.unsubscribed_at is None
    response = strict.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    reader.refresh_from_db()
    assert reader.unsubscribed_at is not None
    assert (
        Client().post(reverse("education:newsletter_unsubscribe", args=["nope"])).status_code == 404
    )


def test_digest_goes_to_confirmed_readers_once_with_one_click_unsubscribe():
    ArticleFactory(title="New article", published_at=timezone.now() - timedelta(days=3))
    confirmed = SubscriberFactory(confirmed_at=timezone.now())
    SubscriberFactory()  # never confirmed
    SubscriberFactory(confirmed_at=timezone.now(), unsubscribed_at=timezone.now())
    now = timezone.now()
    assert newsletter_digest_send(now=now) == 1
    assert newsletter_digest_send(now=now) == 0  # the task ran twice
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [confirmed.email]
    assert "New article" in message.body
    assert message.extra_headers["List-Unsubscribe"] == (
        f"<http://127.0.0.1:8000/newsletter/unsubscribe/{confirmed.token}/>"
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.alternatives[0][1] == "text/html"


def test_no_new_articles_means_no_digest():
    SubscriberFactory(confirmed_at=timezone.now())
    assert newsletter_digest_send(now=timezone.now()) == 0
    assert mail.outbox == []


def test_next_digest_covers_only_articles_since_the_last_one():
    SubscriberFactory(confirmed_at=timezone.now())
    ArticleFactory(title="Old news", published_at=timezone.now() - timedelta(days=5))
    newsletter_digest_send(now=timezone.now() - timedelta(days=1))
    ArticleFactory(title="Fresh news", published_at=timezone.now() - timedelta(hours=2))
    newsletter_digest_send(now=timezone.now() + timedelta(days=31))
    assert "Old news" in mail.outbox[0].body
    assert "Fresh news" in mail.outbox[1].body and "Old news" not in mail.outbox[1].body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_digest_runs_at_once_send_each_reader_one_email():
    ArticleFactory(published_at=timezone.now() - timedelta(days=1))
    SubscriberFactory.create_batch(5, confirmed_at=timezone.now())
    now = timezone.now()
    barrier = threading.Barrier(2)
    totals = []

    def run():
        from django.db import connection

        barrier.wait()
        try:
            totals.append(newsletter_digest_send(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(totals) == 5
    assert len(mail.outbox) == 5
    assert NewsletterDelivery.objects.filter(sent_at__isnull=False).count() == 5


def test_staff_export_confirmed_subscribers_as_csv(admin_user):
    SubscriberFactory(email="yes@example.org", confirmed_at=timezone.now())
    SubscriberFactory(email="no@example.org")
    SubscriberFactory(email="=cmd@example.org", confirmed_at=timezone.now())
    request = RequestFactory().post("/")
    request.user = admin_user
    response = NewsletterSubscriberAdmin(NewsletterSubscriber, site).export_confirmed_csv(
        request, NewsletterSubscriber.objects.all()
    )
    body = response.content.decode()
    assert "yes@example.org" in body and "no@example.org" not in body
    assert "'=cmd@example.org" in body
    assert response["Content-Type"].startswith("text/csv")
