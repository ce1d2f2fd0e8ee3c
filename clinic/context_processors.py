import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from .models import ClinicDetails

# The menu's links, by name in the header (templates/includes/header.html).
NAV = {
    "home": "home",
    "articles": "education:articles",
    "faq": "education:faq",
    "book": "booking:start",
    "appointments": "booking:appointments",
    "search": "education:search",
    "admin": "admin:index",
    "sign_out": "account_logout",
    "sign_in": "account_login",
    "sign_up": "account_signup",
}


def clinic_details(request):
    """The clinic's details (cached, no query) and this page's canonical URL."""
    return {
        "clinic": ClinicDetails.current(),
        "canonical_url": settings.SITE_URL + request.path,
    }


@functools.cache
def _nav(urlconf, script_prefix) -> dict[str, str]:
    """Reversed once per URLconf and prefix: ten reverse() calls were 0.3 ms of every page."""
    return {name: reverse(route, urlconf=urlconf) for name, route in NAV.items()}


def navigation(request):
    """The header's links ({{ site_nav.book }} and so on)."""
    return {"site_nav": _nav(get_urlconf(), get_script_prefix())}
