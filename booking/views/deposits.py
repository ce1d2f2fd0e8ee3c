"""Online deposits: the page Stripe sends the patient back to, letting the times go, and
Stripe's webhook. The confirm step that starts a deposit is booking/views/journey/confirm.py."""

import logging
import uuid

import stripe
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from clinic.security import rate_limit

from .. import deposits
from ..deposits import services, stripe_api
from ..deposits.models import DepositCheckout
from ..journey import Journey, slot_value

logger = logging.getLogger(__name__)
S = DepositCheckout.Status


def _own_checkout(request, pk: int) -> DepositCheckout:
    """The signed-in patient's own checkout; anyone else's is 404."""
    if not request.user.is_authenticated:
        raise Http404
    return get_object_or_404(
        DepositCheckout.objects.select_related("treatment", "course"),
        pk=pk,
        patient__user=request.user,
    )


@never_cache
@require_http_methods(["GET"])
def deposit_status(request, pk: int):
    """Where Stripe sends the patient back (paid, or `?left=1`: they left its page).
    Only the webhook books the course; this page says where things stand, and checks
    again every few seconds while the payment is being confirmed (htmx: 204 while
    nothing has changed, so the live region speaks only when something has)."""
    if not request.user.is_authenticated:
        # Signed out while on Stripe's page (idle for longer than the session allows): sign
        # in again, then back here.
        login = redirect_to_login(request.get_full_path())
        return HttpResponseClientRedirect(login.url) if request.htmx else login
    checkout = _own_checkout(request, pk)
    if checkout.status == S.BOOKED:
        Journey.clear(request)
        done = reverse("booking:done", args=[checkout.course_id])
        return HttpResponseClientRedirect(done) if request.htmx else redirect(done)
    now = timezone.now()
    holding = checkout.status in (S.STARTING, S.OPEN)
    left = request.GET.get("left") == "1"
    # Back from Stripe's page without paying, after its time ran out: the sweep is about
    # to let the times go, and Stripe's page no longer takes a payment.
    ran_out = holding and left and checkout.expires_at <= now
    waiting = holding and not ran_out
    if waiting and request.htmx:
        return HttpResponse(status=204)
    journey = Journey.load(request)
    # The journey this checkout came from, to go on with: times offered as buttons that
    # plan the course from them (the first-session step), as after a time taken.
    ours = journey.treatment == checkout.treatment.slug
    times, held = [], []
    if waiting and left:  # the times kept for them, listed
        held = list(services.held_times(checkout).select_related("practitioner"))
        held.sort(key=lambda s: s.number)
    elif not waiting:
        times = services.nearest_times(checkout, now)
        if ours and journey.practitioner is not None:
            times = [s for s in times if s.practitioner_id == journey.practitioner]
        times = times[:5]
        if ours:  # the first-session step shows them too
            request.session["booking_alternatives"] = [slot_value(s) for s in times]
        if journey.key == checkout.key:
            # This booking's payment page is closed: confirming again starts a new one.
            journey.key = uuid.uuid4().hex
            journey.save(request)
    context = {
        "checkout": checkout,
        "left": left,
        "ran_out": ran_out,
        "waiting": waiting,
        "held": held,
        "times": times,
        "ours": ours,
    }
    template = (
        "booking/deposits/status_part.html" if request.htmx else "booking/deposits/status.html"
    )
    return render(request, template, context)


@require_POST
def deposit_abandon(request, pk: int):
    """The patient lets the held times go instead of paying."""
    checkout = _own_checkout(request, pk)
    services.checkout_abandon(checkout=checkout)
    return redirect("booking:deposit_status", pk=checkout.pk)


@csrf_exempt  # only for a request Stripe signed: any other gets the CSRF check below
@require_POST
def stripe_webhook(request):
    """Stripe's events, each verified by its signature with STRIPE_WEBHOOK_SECRET, then
    processed once by id. Only requests whose signature fails are rate-limited."""
    if not deposits.enabled():
        raise Http404
    try:
        event = stripe_api.event_from(request.body, request.headers.get("Stripe-Signature", ""))
    except (stripe.SignatureVerificationError, ValueError):
        limit, period = settings.RATE_LIMIT_WEBHOOK_FORGED
        wait = rate_limit(request, action="stripe-webhook-forged", limit=limit, period=period)
        logger.warning("stripe webhook refused", extra={"limited": wait is not None})
        if wait is not None:
            return HttpResponse(status=429, headers={"Retry-After": str(wait)})
        # Not from Stripe: the request is what CSRF protection is for, and it refuses it.
        refused = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        return refused or HttpResponse(status=400)
    result = services.event_handle(event)
    return JsonResponse({"received": True, "result": result})
