"""The waitlist's pages: joining, changing and leaving it, and answering an offer.

Joining and changing are for the signed-in patient, scoped like My
appointments (another patient's entry or session is a 404). An offer's page
is opened from the link in its email: the link's token names the offer, and
the offer's own status makes it single-use and valid only while the time is
held. Opening it changes nothing (mail scanners open links); its buttons do.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinic.money import treatment_course_price

from .. import selectors
from ..forms import posted_slot
from ..journey import STEPS, Journey, slot_value
from ..models import ConsentText, Session, WaitlistEntry
from ..services import BookingError, SlotTaken
from ..waitlist import services as waitlist
from ..waitlist.forms import OfferConsentForm, WishForm
from ..waitlist.sending import offer_of_token
from .appointments import own_session
from .journey.steps import treatment_of


def own_entry(request, pk) -> WaitlistEntry:
    return get_object_or_404(
        WaitlistEntry.objects.select_related("treatment", "session", "practitioner"),
        pk=pk,
        patient__user=request.user,
    )


def _asked_session(request):
    """The booked session named by ?session= (or the posted field): the patient's own, or 404."""
    value = str(request.GET.get("session") or request.POST.get("session") or "")
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise Http404
    return own_session(request, int(value))


def _to_appointments():
    return redirect(reverse("booking:appointments") + "#waitlist")


def _wish_form(request, *, treatment, first, last, initial):
    return WishForm(
        request.POST if request.method == "POST" else None,
        treatment=treatment,
        first=first,
        last=last,
        initial=initial,
    )


def _wish_page(request, context: dict):
    form = context.get("form")
    return render(
        request,
        "booking/waitlist_join.html",
        context,
        status=400 if form is not None and form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def waitlist_join(request):
    """Join for an earlier time of a booked session (?session=<id>), or for the first
    session of the course chosen in the booking journey (its treatment, length and
    health answers, kept in the patient's session)."""
    now = timezone.now()
    session = _asked_session(request)
    journey = None
    if session is not None:
        treatment = session.course.treatment
        if session.status != Session.Status.BOOKED or session.start <= now:
            messages.info(
                request,
                gettext("Only a booked session still to come can wait for an earlier time."),
            )
            return _to_appointments()
    else:
        journey = Journey.load(request)
        treatment = treatment_of(journey)
        missing = journey.first_missing(treatment, is_patient=lambda: True)
        if STEPS.index(missing) < STEPS.index("time"):
            messages.info(
                request,
                gettext(
                    "Choose a treatment and answer the health questions first. Then, on the "
                    "times page, you can join the waitlist."
                ),
            )
            return redirect("booking:start" if missing == "treatment" else f"booking:{missing}")
    patient = selectors.patient_of(request.user)
    if patient is None:  # a staff account: patients join from their own account
        messages.error(request, gettext("Only a patient's account can join the waitlist."))
        return redirect("booking:appointments")
    waiting = patient.waitlist_entries.filter(status=WaitlistEntry.Status.WAITING)
    waiting = (
        waiting.filter(session=session)
        if session
        else waiting.filter(treatment=treatment, session__isnull=True)
    ).first()
    if waiting is not None:  # one entry each: change the one there is
        messages.info(
            request, gettext("You are on the waitlist for this already. You can change it here.")
        )
        return redirect("booking:waitlist_change", pk=waiting.pk)
    first, last = waitlist.entry_dates(treatment=treatment, session=session, now=now)
    context = {
        "session": session,
        "treatment": treatment,
        "journey": journey,
        "sessions": journey.sessions if journey else None,
        "form": None,
    }
    if first > last:  # no earlier date keeps the course's windows: nothing to wait for
        return _wish_page(request, context)
    form = context["form"] = _wish_form(
        request,
        treatment=treatment,
        first=first,
        last=last,
        initial=WishForm.initial_for(
            first=first, last=last, practitioner=journey.practitioner if journey else None
        ),
    )
    if request.method == "POST" and form.is_valid():
        try:
            waitlist.entry_join(
                patient=patient,
                treatment=treatment,
                session=session,
                sessions=journey.sessions if journey else None,
                answers=journey.answers if journey else None,
                answers_version=journey.answers_version if journey else None,
                wish=form.wish(),
                now=now,
            )
        except BookingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                gettext(
                    "You are on the waitlist. When a time that suits you frees up, we will "
                    "email you and keep it for you for a while."
                ),
            )
            return _to_appointments()
    return _wish_page(request, context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def waitlist_change(request, pk):
    entry = own_entry(request, pk)
    if not entry.is_waiting:
        messages.info(request, gettext("This waitlist entry has ended."))
        return _to_appointments()
    now = timezone.now()
    first, last = waitlist.entry_dates(treatment=entry.treatment, session=entry.session, now=now)
    context = {
        "entry": entry,
        "session": entry.session,
        "treatment": entry.treatment,
        "journey": None,
        "sessions": entry.sessions_wanted,
        "form": None,
    }
    if first > last:  # the session's window leaves no earlier date now
        return _wish_page(request, context)
    initial = WishForm.initial_for(first=first, last=last, entry=entry)
    # Dates chosen earlier may have passed, or left the session's window: the nearest
    # that can still be chosen.
    initial["date_from"] = min(max(entry.date_from, first), last)
    initial["date_to"] = max(min(entry.date_to, last), initial["date_from"])
    form = context["form"] = _wish_form(
        request, treatment=entry.treatment, first=first, last=last, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            waitlist.entry_change(entry=entry, wish=form.wish(), now=now)
        except BookingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, gettext("Your waitlist entry is changed."))
            return _to_appointments()
    return _wish_page(request, context)


@never_cache
@login_required
@require_POST
def waitlist_leave(request, pk):
    entry = own_entry(request, pk)
    if not entry.is_waiting:
        messages.info(request, gettext("This waitlist entry had ended already."))
        return _to_appointments()
    waitlist.entry_leave(entry=entry)
    messages.success(
        request,
        gettext("You have left the waitlist for %(treatment)s.")
        % {"treatment": entry.treatment.name},
    )
    return _to_appointments()


def _offer_or_404(token: str):
    offer = offer_of_token(token)
    if offer is None:
        raise Http404
    return offer


def _ended(request, offer, refusal: str, status: int = 410):
    return render(
        request, "booking/offer_ended.html", {"offer": offer, "refusal": refusal}, status=status
    )


@never_cache
@require_http_methods(["GET", "POST"])
def offer_accept(request, token):
    """The offered time, how long it is held, and (a first session) the course it starts
    and the consent; "Take this time" books it."""
    offer = _offer_or_404(token)
    now = timezone.now()
    if refusal := waitlist.offer_refusal(offer, now):
        return _ended(request, offer, refusal)
    entry = offer.entry
    first_session = entry.session_id is None
    consent = ConsentText.current() if first_session else None
    plan = waitlist.first_course_plan(offer, now) if first_session else []
    # Only a first session's course asks for consent: a moved session keeps its course's.
    form = OfferConsentForm(request.POST if request.method == "POST" and first_session else None)
    error = ""
    if request.method == "POST":
        later = [posted_slot(v, entry.treatment) for v in request.POST.getlist("later")[:12]]
        if first_session and not form.is_valid():
            pass
        elif first_session and (
            any(s is None for s in later) or len(later) != len(plan) - 1 or consent is None
        ):
            error = gettext("The course's times have changed. Please check them again.")
        else:
            try:
                booked = waitlist.offer_accept(
                    offer=offer, now=now, later=later if first_session else None, consent=consent
                )
            except waitlist.OfferEnded as exc:
                return _ended(request, offer, exc.message)
            except (SlotTaken, BookingError) as exc:
                error = exc.message
                plan = waitlist.first_course_plan(offer, now) if first_session else []
            else:
                course = booked.course
                return render(
                    request,
                    "booking/offer_booked.html",
                    {
                        "offer": offer,
                        "booked": booked,
                        "moved": not first_session,
                        "course": course,
                        "sessions": course.sessions.active()
                        .select_related("practitioner")
                        .order_by("number"),
                    },
                )
    names = {p.pk: p.display_name for p in selectors.practitioners_for(entry.treatment)}
    return render(
        request,
        "booking/offer.html",
        {
            "offer": offer,
            "entry": entry,
            "hold": offer.hold,
            "plan": [(p, names.get(p.slot.practitioner_id) if p.slot else None) for p in plan],
            "plan_values": [slot_value(p.slot) for p in plan[1:] if p.slot],
            "plan_complete": all(p.slot for p in plan),
            # A first session books a course: what it costs now (the service sells it so).
            "price": treatment_course_price(entry.treatment, len(plan)) if plan else None,
            "consent": consent,
            "form": form,
            "errors": [error] if error else [],
            "decline_url": reverse("booking:offer_decline", args=[token]),
        },
        status=400 if error or form.errors else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def offer_decline(request, token):
    """Let the time go to the next person (a button, so a mail scanner declines nothing)."""
    offer = _offer_or_404(token)
    now = timezone.now()
    if refusal := waitlist.offer_refusal(offer, now):
        return _ended(request, offer, refusal)
    if request.method == "POST":
        try:
            waitlist.offer_decline(offer=offer, now=now)
        except waitlist.OfferEnded as exc:
            return _ended(request, offer, exc.message)
        return render(request, "booking/offer_declined.html", {"offer": offer})
    return render(
        request,
        "booking/offer_decline.html",
        {
            "offer": offer,
            "hold": offer.hold,
            "accept_url": reverse("booking:offer_accept", args=[token]),
        },
    )
