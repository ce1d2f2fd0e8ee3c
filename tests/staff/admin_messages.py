"""The admin's messages, as the staff tests read them back."""

from django.contrib.messages import get_messages


def said(response) -> list[str]:
    """The admin's messages after a request."""
    return [str(m) for m in get_messages(response.wsgi_request)]
