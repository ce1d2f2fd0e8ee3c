"""Agreeing and booking: consent, the confirm step, and the page after booking."""

import uuid
from contextlib import nullcontext

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.money import treatment_course_price
from clinic.security import limit_posts
from education import selectors as education_selectors

from ... import rulebook, selectors, services
from ...deposits import services as deposit_services
from ...forms import ConsentForm
from ...journey import Journey, slot_value
from ...models import ConsentText, Course, Practitioner
from .steps import guard, posted, step_page


@never_cache
@require_http_methods(["GET", "POST"])
def consent(request):
    journey, treatment, early = guard(request, "consent")
    if early:
        return early
    text = ConsentText.current()
    form = ConsentForm(posted(request))
    if request.method == "POST" and form.is_valid() and text is not None:
        journey.consent = text.pk
        journey.save(request)
        return redirect("booking:confirm")
    # The risks the consent asks about, shown in place: for a consultation, those of the
    # treatment it is for.
    about = treatment
    if journey.consultation_for and not treatment.risks_html:
        about = education_selectors.treatment_published(journey.consultation_for) or treatment
    return step_page(
        request,
        "consent",
        "booking/journey/consent.html",
        {
            "journey": journey,
            "treatment": treatment,
            "about": about,
            "form": form,
            "consent_text": text,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@limit_posts("booking-confirm", "RATE_LIMIT_BOOKING_CONFIRM")
def confirm(request):
    if request.method == "POST":
        # A second click after the first one booked: the journey is gone, the course is not.
        key = request.POST.get("key", "")
        done = (
            Course.objects.filter(idempotency_key=key, patient__user=request.user).first()
            if key and request.user.is_authenticated
            else None
        )
        if done:
            return redirect("booking:done", pk=done.pk)
    journey, treatment, early = guard(request, "confirm")
    if early:
        return early
    patient = selectors.patient_of(request.user)
    slots = journey.slots(treatment)
    if request.method == "POST":
        if request.POST.get("key") != journey.key:
            messages.error(
                request,
                gettext("This page was out of date. Please check the details and confirm again."),
            )
            return redirect("booking:confirm")
        terms = deposit_services.deposit_terms(
            treatment, treatment_course_price(treatment, len(slots))
        )
        if terms is not None and (terms.required or request.POST.get("pay") == "deposit"):
            return _to_deposit(request, journey, treatment, patient, slots, terms)
        try:
            # Back from Stripe's page to pay at the clinic instead: the course takes the times
            # held for the payment, in one transaction (without deposits, nothing changes).
            with transaction.atomic() if terms is not None else nullcontext():
                if terms is not None:
                    deposit_services.checkout_replaced(patient=patient, key=journey.key)
                course = services.course_book(
                    patient=patient,
                    treatment=treatment,
                    slots=slots,
                    idempotency_key=journey.key,
                    answers=journey.answers,
                    answers_for=education_selectors.treatment_published(journey.consultation_for)
                    if journey.consultation_for
                    else None,
                    answers_version=journey.answers_version,
                    consent=ConsentText.objects.filter(pk=journey.consent).first(),
                    consent_method=Course.ConsentMethod.ONLINE,
                    booked_by=request.user,
                )
        except services.BookingError as error:
            return _refused(request, journey, error)
        Journey.clear(request)
        return redirect("booking:done", pk=course.pk)
    practitioners = {
        p.pk: p for p in Practitioner.objects.filter(pk__in={s.practitioner_id for s in slots})
    }
    price = treatment_course_price(treatment, len(slots))
    terms = deposit_services.deposit_terms(treatment, price)
    response = step_page(
        request,
        "confirm",
        "booking/journey/confirm.html",
        {
            "journey": journey,
            "treatment": treatment,
            "patient": patient,
            "rows": [
                (n, s, practitioners.get(s.practitioner_id)) for n, s in enumerate(slots, start=1)
            ],
            "practitioners": list(practitioners.values()),  # with their pictures
            "price": price,
            "deposit": terms,
            "deposit_rest": price.total - terms.amount if terms else None,
        },
    )
    if terms is not None:
        # The one other origin a form may lead to: Stripe's payment page, from this step.
        response._csp_update = {"form-action": [settings.STRIPE_CHECKOUT_ORIGIN]}
    return response


def _refused(request, journey, error):
    """Back to the step that can put right what the booking services refused: a time just
    taken (the first-session step, with the nearest free times), health questions changed
    since they were answered (asked again), or another rule (the plan)."""
    messages.error(request, error.message)
    if isinstance(error, services.SlotTaken):
        journey.plan = []
        journey.save(request)
        request.session["booking_alternatives"] = [slot_value(s) for s in error.alternatives]
        return redirect("booking:time")
    if error.rule == rulebook.ANSWERS:
        journey.answered = False
        journey.save(request)
        return redirect("booking:questions")
    return redirect("booking:plan")


def _to_deposit(request, journey, treatment, patient, slots, terms):
    """Hold the times and send the patient to Stripe's page (303), or back with why not."""
    consultation_for = (
        education_selectors.treatment_published(journey.consultation_for)
        if journey.consultation_for
        else None
    )

    try:
        checkout = deposit_services.checkout_start(
            patient=patient,
            treatment=treatment,
            slots=slots,
            key=journey.key,
            return_url=lambda checkout: request.build_absolute_uri(
                reverse("booking:deposit_status", args=[checkout.pk])
            ),
            answers=journey.answers,
            answers_for=consultation_for,
            answers_version=journey.answers_version,
            consent=ConsentText.objects.filter(pk=journey.consent).first(),
        )
    except deposit_services.PaymentUnavailable as error:
        messages.error(
            request,
            error.message
            + " "
            + (
                gettext("Please try again in a few minutes, or call us to book.")
                if terms.required
                else gettext("Please try again, or book now and pay at the clinic instead.")
            ),
        )
        return redirect("booking:confirm")
    except services.BookingError as error:
        return _refused(request, journey, error)
    S = checkout.Status
    if checkout.status == S.BOOKED:
        Journey.clear(request)
        return redirect("booking:done", pk=checkout.course_id)
    if checkout.status != S.OPEN or not checkout.url:
        # An earlier payment page for this booking has closed: start a fresh one.
        journey.key = uuid.uuid4().hex
        journey.save(request)
        messages.info(
            request, gettext("Your earlier payment page has closed. Please confirm again.")
        )
        return redirect("booking:confirm")
    return HttpResponseRedirect(checkout.url, status=303)


@never_cache
@require_http_methods(["GET"])
def done(request, pk: int):
    if not request.user.is_authenticated:
        raise Http404
    course = get_object_or_404(
        Course.objects.select_related("treatment", "practitioner"),
        pk=pk,
        patient__user=request.user,
    )
    return render(
        request,
        "booking/journey/done.html",
        {
            "course": course,
            "sessions": course.sessions.active().select_related("practitioner").order_by("number"),
        },
    )
