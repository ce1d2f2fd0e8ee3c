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

from .. import selectors
from ..forms import posted_slot
from ..journey import Journey, slot_value
from ..models import ConsentText, WaitlistEntry
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


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def waitlist_join(request):
    """Join for an earlier time of a booked session (?session=<id>), or for the first
    session of the course chosen in the booking journey (its treatment, length and
    health answers, kept in the patient's session)."""
    now = timezone.now()
    session_id = request.GET.get("session") or request.POST.get("session")
    session, journey, treatment = None, None, None
    if session_id:
        if not str(session_id).isdigit():
            raise Http404
        session = own_session(request, int(session_id))
        treatment = session.course.treatment
    else:
        journey = Journey.load(request)
        treatment = treatment_of(journey)
        if treatment is None or journey.sessions is None or not journey.answered:
            messages.info(
                request,
                gettext(
                    "Choose a treatment and answer the health questions first. Then, on the "
                    "times page, choose to join the waitlist."
                ),
            )
            return redirect("booking:start")
    patient = selectors.patient_of(request.user)
    if patient is None:  # a staff account: patients join from their own account
        messages.error(request, gettext("Only a patient's account can join the waitlist."))
        return redirect("booking:appointments")
    first, last = waitlist.entry_dates(treatment=treatment, session=session, now=now)
    form = WishForm(
        request.POST if request.method == "POST" else None,
        treatment=treatment,
        first=first,
        last=last,
        initial=WishForm.initial_for(
            first=first, last=last, practitioner=journey.practitioner if journey else None
        ),
    )
    if first > last:
        form = None  # no earlier date keeps the course's windows: nothing to wait for
    elif request.method == "POST" and form.is_valid():
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
            return redirect(reverse("booking:appointments") + "#waitlist")
    return render(
        request,
        "booking/waitlist_join.html",
        {"form": form, "session": session, "treatment": treatment, "journey": journey},
        status=400 if form is not None and form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def waitlist_change(request, pk):
    entry = own_entry(request, pk)
    if not entry.is_waiting:
        messages.info(request, gettext("This waitlist entry has ended."))
        return redirect("booking:appointments")
    now = timezone.now()
    first, last = waitlist.entry_dates(treatment=entry.treatment, session=entry.session, now=now)
    first = min(first, entry.date_from)  # dates already chosen stay choosable
    form = WishForm(
        request.POST if request.method == "POST" else None,
        treatment=entry.treatment,
        first=first,
        last=max(last, first),
        initial=WishForm.initial_for(first=first, last=last, entry=entry),
    )
    if request.method == "POST" and form.is_valid():
        try:
            waitlist.entry_change(entry=entry, wish=form.wish(), now=now)
        except BookingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, gettext("Your waitlist entry is changed."))
            return redirect(reverse("booking:appointments") + "#waitlist")
    return render(
        request,
        "booking/waitlist_join.html",
        {"form": form, "entry": entry, "session": entry.session, "treatment": entry.treatment},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_POST
def waitlist_leave(request, pk):
    entry = own_entry(request, pk)
    waitlist.entry_leave(entry=entry)
    messages.success(
        request,
        gettext("You have left the waitlist for %(treatment)s.")
        % {"treatment": entry.treatment.name},
    )
    return redirect(reverse("booking:appointments") + "#waitlist")


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
    form = OfferConsentForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST":
        later = [posted_slot(v, entry.treatment) for v in request.POST.getlist("later")]
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
                return render(
                    request, "booking/offer_booked.html", {"offer": offer, "booked": booked}
                )
    return render(
        request,
        "booking/offer.html",
        {
            "offer": offer,
            "entry": entry,
            "hold": offer.hold,
            "plan": plan,
            "plan_values": [slot_value(p.slot) for p in plan[1:] if p.slot],
            "plan_complete": all(p.slot for p in plan),
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
    return render(request, "booking/offer_decline.html", {"offer": offer, "hold": offer.hold})
