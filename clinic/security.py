"""Sign-in defences and their pages: rate limits, lockouts, staff two-factor, the auth log.

- Rate limits count in the shared cache (Redis in production). allauth limits
  sign-up, sign-in failures and password reset (ACCOUNT_RATE_LIMITS); the
  app's own forms (newsletter sign-up, booking confirmation) use `rate_limit`.
  Either way the visitor gets one clear page: what happened, and when to try again.
- django-axes locks an account at one address out after repeated failures,
  for a cool-off only (AXES_COOLOFF_TIME), never for good.
- Sign-in, sign-out, failed sign-ins and refused access are logged with ids
  and the path only: never the email typed, never a password.
"""

import functools
import logging
import math
import time

from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import salted_hmac

logger = logging.getLogger("clinic.security")

# What each allauth-limited page allows, for the "try again in N minutes" line:
# allauth's 429 does not say which limit was hit, so the longest window of that page's.
# (Sign-up is limited by `limit_posts` instead: its counter is shared with the
# booking journey's email codes, see clinic/urls.py.)
PAGE_WINDOWS = {"/accounts/password/reset/": "reset_password"}


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def rate_limit(request, *, action: str, limit: int, period: int, key: str = "") -> int | None:
    """Count this request against `limit` per `period` seconds for its address (or `key`).

    Returns None while under the limit, else the seconds until the window ends.
    A fixed window: simple, and a burst at a window's edge gets at most twice
    the limit, which is enough for forms a person fills in by hand. `key`
    counts something else than the address: a staff account, an email address
    (hashed, so the cache holds no address).
    """
    now = int(time.time())
    window = now // period
    who = salted_hmac("clinic.rate-limit", key).hexdigest()[:32] if key else None
    key = f"ratelimit:{action}:{who or _client_address(request)}:{window}"
    cache.add(key, 0, timeout=period + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # the cache lost the key: let the request through
        return None
    if count is None:  # Redis does not answer (django-redis reads that as a miss): as above
        return None
    if count > limit:
        return period - now % period
    return None


def too_many_requests(request, retry_seconds: int, *, what: str = "") -> HttpResponse:
    minutes = max(1, math.ceil(retry_seconds / 60))
    logger.warning(
        "rate limited", extra={"path": request.path, "retry_seconds": int(retry_seconds)}
    )
    # Rendered now: axes returns it from inside the sign-in, past the response phase.
    response = render(request, "429.html", {"minutes": minutes, "what": what}, status=429)
    response["Retry-After"] = str(int(retry_seconds))
    return response


SECONDS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}


def _longest_window(action: str) -> int:
    """The longest window of allauth's limits on `action`, in seconds (60 when it has none).

    Read from the setting as allauth documents it: "<amount>/<duration>/<per>",
    comma-separated, the duration a unit (s, m, h, d) after an optional number:
    "10/15m/ip,3/15m/key" is 900.
    """
    windows = []
    for rate in (settings.ACCOUNT_RATE_LIMITS.get(action) or "").split(","):
        parts = rate.strip().split("/")
        if len(parts) >= 2 and parts[1] and parts[1][-1] in SECONDS:
            windows.append(float(parts[1][:-1] or 1) * SECONDS[parts[1][-1]])
    return int(max(windows, default=60))


def rate_limited(request, exception=None):
    """handler429: allauth's limits on sign-up, sign-in and password reset."""
    action = PAGE_WINDOWS.get(request.path, "login_failed")
    return too_many_requests(request, _longest_window(action))


def locked_out(request, credentials, *args, **kwargs):
    """django-axes: too many failed sign-ins for this account from this address."""
    cool_off = settings.AXES_COOLOFF_TIME
    return too_many_requests(request, int(cool_off.total_seconds()), what="sign-in")


def access_refused(request, exception=None):
    """handler403, logged: who (an id) was refused what (the path)."""
    user = getattr(request, "user", None)
    logger.warning(
        "access refused",
        extra={
            "path": request.path,
            "user_id": user.pk if user and user.is_authenticated else None,
        },
    )
    return render(request, "403.html", status=403)


@receiver(auth_signals.user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    logger.info("signed in", extra={"user_id": user.pk, "staff": user.is_staff})


@receiver(auth_signals.user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    logger.info("signed out", extra={"user_id": user.pk if user else None})


@receiver(auth_signals.user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    # `credentials` holds the email typed (Django already masks the password):
    # neither is logged, only where it happened.
    logger.warning("sign-in failed", extra={"path": request.path if request else None})


class StaffTwoFactorMiddleware:
    """With STAFF_TWO_FACTOR_REQUIRED, staff set up two-factor sign-in before the admin opens.

    The admin's own login page sends everyone to the site's sign-in (urls.py),
    where allauth asks for the code of anyone who has two-factor turned on, so
    /admin/login/ cannot be used to skip it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.STAFF_TWO_FACTOR_REQUIRED
            and request.path.startswith("/admin/")
            and user is not None
            and user.is_authenticated
            and user.is_staff
        ):
            from allauth.mfa.models import Authenticator

            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                return redirect(reverse("mfa_activate_totp") + "?next=" + request.path)
        return self.get_response(request)


def limit_posts(action: str, setting: str, *, when=None):
    """A view decorator: POSTs past settings.<setting> = (limit, seconds) get the 429 page.

    `when(request)`, if given, says which POSTs count (a page with several forms).
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST" and (when is None or when(request)):
                limit, period = getattr(settings, setting)
                wait = rate_limit(request, action=action, limit=limit, period=period)
                if wait is not None:
                    return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def axes_username(request, credentials) -> str | None:
    """The account a sign-in was for, for django-axes (allauth passes the email as `email`)."""
    credentials = credentials or {}
    typed = credentials.get("email") or credentials.get("username")
    if not typed and request is not None:
        typed = request.POST.get("login")
    return typed.strip().lower() if typed else None
