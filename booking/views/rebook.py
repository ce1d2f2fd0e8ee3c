"""Booking a cancelled session again, from My appointments or the email that says it can be.

Scoped to the signed-in patient like every page of My appointments: another
patient's session is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import selectors, services
from .appointments import own_session
from .picker import book_posted_time, time_choices


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def rebook_session(request, pk):
    """The free times after the course's last active session, and the booking of one.

    Only for the session the rulebook lets the patient book again
    (selectors.rebook_refusal, as My appointments asks); any other goes back to
    My appointments with the reason.
    """
    session = own_session(request, pk)
    refusal = selectors.rebook_refusal(session)
    if refusal is not None:
        messages.error(request, refusal.message)
        return redirect("booking:appointments")
    course, now = session.course, timezone.now()
    if request.method == "POST":
        return book_posted_time(
            request,
            treatment=course.treatment,
            book=lambda slot: services.session_rebook(session=session, slot=slot, now=now),
            retry=reverse("booking:session_rebook", args=[pk]),
            booked=lambda booked: (
                gettext("Session %(number)d is booked again. We have emailed you.")
                % {"number": booked.number}
            ),
        )
    proposals = services.extension_proposals(course=course, now=now)
    return render(
        request,
        "booking/session_rebook.html",
        {
            "session": session,
            "times": time_choices(course.treatment, proposals),
        },
    )
