"""Request guards that apply to every view."""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponseBadRequest
from django.utils import timezone
from django.utils.translation import gettext


class RejectNullCharactersMiddleware:
    """A NUL character in a query string or form field is never real input.

    PostgreSQL refuses NUL in text, so a value used in a lookup would raise a
    500 deep in a view; answer 400 at the door instead. Forms already refuse it
    (ProhibitNullCharactersValidator); this covers values read directly.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sources = [request.GET, request.POST] if request.method == "POST" else [request.GET]
        for values in sources:
            for key, items in values.lists():
                if "\x00" in key or any("\x00" in item for item in items):
                    return HttpResponseBadRequest(
                        gettext("Bad request: a field held a NUL character.")
                    )
        return self.get_response(request)


PRIVATE_PREFIXES = ("/book/", "/appointments/", "/accounts/", "/admin/")
# Files that are the same for everyone (practitioners' photos): no session is read for
# them, so their long cache headers stand and no cookie or "Vary: Cookie" comes back.
PUBLIC_FILES_PREFIX = "/media/"


class PrivatePagesMiddleware:
    """Patient and staff pages are never stored by a browser or a proxy.

    Every response to a signed-in user, and every page under the booking,
    appointments, account and admin paths, gets ``Cache-Control: no-store``:
    the back button on a shared computer must not show someone's sessions.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(PUBLIC_FILES_PREFIX):
            return response
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith(
            PRIVATE_PREFIXES
        ):
            response["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response


class SessionIdleTimeoutMiddleware:
    """Sign a user out after a spell without requests: 15 minutes for staff, 30 for patients.

    A signed-in user's request pushes the session's expiry forward by the idle
    limit (Django saves it); one that comes later finds the session expired,
    so the user is anonymous again and the page asks them to sign in. The
    push is written at most once a minute, not on every request (a write per
    page view would cost more than the page's own queries).

    The session's own mark of its last push decides too, before the view: a
    session read from the cache (cached_db) is not checked against its
    database expiry, only by the cache's time to live, so this does not rest
    on any store's clock.
    Settings: SESSION_IDLE_SECONDS_STAFF, SESSION_IDLE_SECONDS_PATIENT.
    """

    REFRESH_SECONDS = 60
    MARK = "_idle_refreshed_at"

    def __init__(self, get_response):
        from django.conf import settings

        self.staff = settings.SESSION_IDLE_SECONDS_STAFF
        self.patient = settings.SESSION_IDLE_SECONDS_PATIENT
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(PUBLIC_FILES_PREFIX):  # no session read (see above)
            return self.get_response(request)
        self._end_if_idle(request)
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # After the view: a sign-in or sign-out during it is already reflected.
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(timezone.now().timestamp())
            if now - request.session.get(self.MARK, 0) >= self.REFRESH_SECONDS:
                request.session[self.MARK] = now
                request.session.set_expiry(self.staff if user.is_staff else self.patient)
        return response

    def _end_if_idle(self, request) -> None:
        session = getattr(request, "session", None)
        marked = session.get(self.MARK) if session is not None else None
        if marked is None or not request.user.is_authenticated:
            return
        limit = self.staff if request.user.is_staff else self.patient
        if int(timezone.now().timestamp()) - marked >= limit:
            session.flush()  # signed out: the view sees a visitor and asks them to sign in
            request.user = AnonymousUser()


class AdminSearchBoundsMiddleware:
    """Admin searches and autocompletes are bounded: so many words, so many characters.

    The admin turns every word of `?q=` into an OR of LIKE tests over each
    search field: 2,000 words took 2 s on PostgreSQL and broke SQLite ("Expression
    tree is too large"). Every admin page, list, CSV export (which reads the same
    list) and autocomplete (`?term=`) takes the search from here, so one bound
    covers them all, the third-party admins included. The search box then shows
    what was searched for, with a note. Settings: ADMIN_SEARCH_MAX_WORDS, _CHARS.
    """

    PARAMETERS = ("q", "term")

    def __init__(self, get_response):
        from django.conf import settings

        self.words = settings.ADMIN_SEARCH_MAX_WORDS
        self.chars = settings.ADMIN_SEARCH_MAX_CHARS
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/") and any(p in request.GET for p in self.PARAMETERS):
            query = request.GET.copy()
            cut = False
            for name in self.PARAMETERS:
                if name in query:
                    value = query[name]
                    bounded = " ".join(value.split()[: self.words])[: self.chars]
                    if bounded != value.strip():
                        query[name], cut = bounded, True
            if cut:
                request.GET = query
                if not request.path.endswith("/autocomplete/"):
                    from django.contrib import messages

                    messages.warning(
                        request,
                        gettext(
                            "Search uses the first %(words)s words (%(chars)s characters) "
                            "of what was typed."
                        )
                        % {"words": self.words, "chars": self.chars},
                    )
        return self.get_response(request)
