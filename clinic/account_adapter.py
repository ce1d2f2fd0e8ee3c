"""django-allauth's emails and links, in the clinic's name.

allauth builds its links from the request's host and greets with the Sites
framework's name ("Hello from 127.0.0.1:8611!"). Here every account email
is a kind in clinic/emails.py, rendered from our templates with the clinic's
details, and every link in it starts with SITE_URL: a forged Host header
cannot put another site's address into a password-reset email.
https://docs.allauth.org/en/latest/account/advanced.html#custom-redirects
"""

import logging
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.urls import reverse

from clinic.emails import email_kind_for_template, email_message, render_text

logger = logging.getLogger(__name__)


def site_url(path: str) -> str:
    return settings.SITE_URL + path


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        kind = email_kind_for_template(f"{template_prefix}_message")
        if kind is None:  # an allauth email no kind describes: sent as allauth would, and said
            logger.error("unregistered email kind", extra={"template": template_prefix})
            super().send_mail(template_prefix, email, context)
            return
        context = {"email": email, **context}
        subject = " ".join(render_text(f"{template_prefix}_subject.txt", context).split())
        message = email_message(
            kind.name,
            to=[email],
            subject=self.format_email_subject(subject),
            context=context,
            from_email=self.get_from_email(),
        )
        message.send()

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return site_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key: str) -> str:
        # allauth's own construction (its key is "<uidb36>-<token>"), on SITE_URL.
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return site_url(path.replace("UID-KEY", quote(key)))
