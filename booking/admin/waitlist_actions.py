"""What staff do with the waitlist (for WaitlistEntryAdmin): offer a time by hand, withdraw a
live offer, pause and resume the automatic offers; and the list's summary line.

Each is one call to booking/waitlist/services.py; a refusal (BookingError) comes back
as an admin message. The free times offered are the slot finder's (selectors.free_slots,
as phone booking and the move page use), for the practitioner the patient asked for,
inside the entry's dates and, unless staff ask for every time, its days and parts of
the day.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import selectors
from ..courses import end_of_day
from ..forms import SLOT_YEARS
from ..journey import parse_slot, slot_value
from ..models import BookingRules, Offer, Practitioner, Reminder, WaitlistEntry, WaitlistSettings
from ..services import BookingError
from ..waitlist import matching
from ..waitlist import services as waitlist

OFFER_BY_HAND = "booking.offer_by_hand"
PAUSE = "booking.change_waitlistsettings"
OFFER_DAYS = 7  # the free times one page shows


class OfferSearchForm(forms.Form):
    """Whose free times, from which day; every time or only those that suit the entry."""

    practitioner = forms.ModelChoiceField(
        label=_("Practitioner"),
        queryset=Practitioner.objects.none(),
        required=False,
        empty_label=_("Anyone who offers the treatment"),
    )
    day = forms.DateField(
        label=_("Show free times from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    every_time = forms.BooleanField(
        label=_("Also show times outside the days and times of day the patient chose"),
        required=False,
    )

    def __init__(self, *args, practitioners, fixed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["practitioner"]
        field.queryset = practitioners
        if fixed:  # the patient asked for this one
            field.empty_label = None


@dataclass(frozen=True)
class FreeTimes:
    """One page of free times for an entry: the days shown, and their times by day."""

    first: date
    last: date
    days: list  # [(date, [(slot value, "10:00 with Dr Demo")])]
    earlier: date | None
    later: date | None


class WaitlistActionsMixin:
    def get_urls(self):
        def view(function, route, name):
            return path(
                route, self.admin_site.admin_view(function), name=f"booking_waitlistentry_{name}"
            )

        return [
            view(self.pause_view, "pause/", "pause"),
            view(self.offer_view, "<path:object_id>/offer/", "offer"),
            view(self.withdraw_view, "<path:object_id>/withdraw/", "withdraw"),
            *super().get_urls(),
        ]

    # --- the list's summary --------------------------------------------------

    def summary(self, request, now: datetime) -> dict:
        """Whether the automatic offers are on, what the waitlist filled this month, and
        how many wait and how many offers await an answer."""
        return {
            "paused": WaitlistSettings.current().paused,
            "pause_url": reverse("admin:booking_waitlistentry_pause")
            if request.user.has_perm(PAUSE)
            else None,
            "filled": waitlist.offers_filled(now=now),
            "waiting": WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING).count(),
            "live": Offer.objects.live().count(),
        }

    def pause_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(PAUSE):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:booking_waitlistentry_changelist"))
        if request.POST.get("paused") not in ("0", "1"):
            self.message_user(
                request, gettext("Use the button on the waitlist page."), messages.ERROR
            )
            return back
        paused = request.POST["paused"] == "1"
        waitlist.offers_pause(paused=paused, by=request.user)
        self.message_user(
            request,
            gettext(
                "Automatic offers are paused. Freed times wait until you turn them back on; "
                "you can still offer a time by hand."
            )
            if paused
            else gettext(
                "Automatic offers are on again. Times freed while they were paused are "
                "offered within a minute."
            ),
        )
        return back

    # --- an entry's page -----------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        entry = self.get_object(request, unquote(object_id))
        extra = {}
        if entry is not None and request.user.has_perm(OFFER_BY_HAND):
            live = entry.live_offers[0] if entry.live_offers else None
            extra["entry_actions"] = {
                "offer": reverse("admin:booking_waitlistentry_offer", args=[entry.pk])
                if entry.is_waiting and live is None
                else None,
                "withdraw": reverse("admin:booking_waitlistentry_withdraw", args=[entry.pk])
                if live
                else None,
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def _entry(self, request, object_id):
        """The entry in the user's scope, or the admin's answer for a missing row;
        permission first (403 whatever the id)."""
        if not request.user.has_perm(OFFER_BY_HAND):
            raise PermissionDenied
        entry = self.get_object(request, unquote(object_id))
        if entry is None:
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return entry, None

    def _change_url(self, entry) -> str:
        return reverse("admin:booking_waitlistentry_change", args=[entry.pk])

    def withdraw_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        entry, missing = self._entry(request, object_id)
        if missing:
            return missing
        offer = entry.live_offers[0] if entry.live_offers else None
        if offer is None:
            self.message_user(request, gettext("This entry has no live offer."), messages.ERROR)
            return HttpResponseRedirect(self._change_url(entry))
        try:
            waitlist.offer_withdraw(
                offer=offer,
                by=request.user,
                reason=request.POST.get("reason", "")[:200],
                hand_on=request.POST.get("hand_on") == "1",
            )
        except BookingError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("The offer of %(offer)s is withdrawn; the time is free again.")
                % {"offer": offer_in_words(offer)},
            )
        return HttpResponseRedirect(self._change_url(entry))

    # --- offering a time by hand ---------------------------------------------

    def offer_view(self, request, object_id):
        entry, missing = self._entry(request, object_id)
        if missing:
            return missing
        if request.method == "POST":
            return self._offer(request, entry)
        if not entry.is_waiting:
            self.message_user(
                request, gettext("This patient is no longer waiting."), messages.ERROR
            )
            return HttpResponseRedirect(self._change_url(entry))
        now = timezone.now()
        offering = Practitioner.objects.filter(is_active=True, treatments=entry.treatment)
        if entry.practitioner_id:
            offering = offering.filter(pk=entry.practitioner_id)
        search = OfferSearchForm(
            request.GET or None, practitioners=offering, fixed=bool(entry.practitioner_id)
        )
        asked = search.cleaned_data if search.is_bound and search.is_valid() else {}
        chosen = asked.get("practitioner") or (offering.first() if entry.practitioner_id else None)
        times = free_times(
            entry,
            practitioners=[chosen] if chosen else list(offering),
            day=asked.get("day"),
            every_time=asked.get("every_time", False),
            now=now,
        )
        query = {k: v for k, v in request.GET.items() if k != "day"}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Offer a time by hand"),
            "entry": entry,
            "entry_url": self._change_url(entry),
            "live": entry.live_offers[0] if entry.live_offers else None,
            "search": search,
            "times": times,
            "earlier": _day_url(entry, query, times.earlier),
            "later": _day_url(entry, query, times.later),
        }
        return TemplateResponse(request, "admin/booking/waitlistentry/offer.html", context)

    def _offer(self, request, entry):
        back = reverse("admin:booking_waitlistentry_offer", args=[entry.pk])
        slot = parse_slot(request.POST.get("slot", ""), entry.treatment)
        if slot is None or slot.start.year not in SLOT_YEARS:
            self.message_user(
                request, gettext("Choose one of the free times shown."), messages.ERROR
            )
            return HttpResponseRedirect(back)
        try:
            offer = waitlist.offer_make(entry=entry, slot=slot, by=request.user)
        except BookingError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(back)
        offer = Offer.objects.select_related("hold__practitioner").get(pk=offer.pk)
        due = (
            Reminder.objects.filter(session_id=offer.hold_id, kind=Reminder.Kind.OFFER)
            .values_list("due_at", flat=True)
            .first()
        )
        held = gettext(
            "%(offer)s is held for %(patient)s until %(until)s, and the offer email is on its way."
        )
        if due and due > timezone.now() + timedelta(minutes=1):
            held = gettext(
                "%(offer)s is held for %(patient)s. The offer email goes at %(due)s, after "
                "the quiet hours; the time is held until %(until)s."
            )
        self.message_user(
            request,
            held
            % {
                "offer": offer_in_words(offer),
                "patient": entry.patient,
                "until": local_time(offer.hold.held_until),
                "due": local_time(due),
            },
        )
        return HttpResponseRedirect(self._change_url(entry))


def free_times(
    entry: WaitlistEntry,
    *,
    practitioners: list,
    day: date | None,
    every_time: bool,
    now: datetime,
) -> FreeTimes:
    """A week of free times inside the entry's dates that could be offered now: the slot
    finder's, for the patient (their own sessions and holds are busy), late enough to leave
    time to answer, and for a booked session only earlier ones."""
    rules, zone = BookingRules.current(), selectors.clinic_zone()
    earliest = matching.offer_due(now) + matching.shortest_hold() + rules.min_notice
    first_day = max(entry.date_from, earliest.astimezone(zone).date())
    day = min(max(day or first_day, first_day), max(entry.date_to, first_day))
    last_day = min(day + timedelta(days=OFFER_DAYS - 1), entry.date_to)
    latest = None  # a first session: the booking horizon
    if entry.session_id:
        latest = min(entry.session.start, end_of_day(last_day, zone))
    slots = []
    if practitioners and day <= last_day:
        slots = selectors.free_slots(
            treatment=entry.treatment,
            day_from=day,
            day_to=last_day,
            now=now,
            practitioners=practitioners,
            patient=entry.patient,
            earliest=earliest,
            latest=latest,
            exclude_session_ids=[entry.session_id] if entry.session_id else (),
        )
    names = {p.pk: p.display_name for p in practitioners}
    days: dict[date, list] = {}
    for slot in slots:
        if not every_time and not matching.suits_entry(entry, slot):
            continue
        local = slot.start.astimezone(zone)
        if not entry.date_from <= local.date() <= entry.date_to:
            continue
        label = gettext("%(time)s with %(practitioner)s") % {
            "time": f"{local:%H:%M}",
            "practitioner": names.get(slot.practitioner_id, ""),
        }
        days.setdefault(local.date(), []).append((slot_value(slot), label))
    return FreeTimes(
        first=day,
        last=last_day,
        days=sorted(days.items()),
        earlier=max(day - timedelta(days=OFFER_DAYS), first_day) if day > first_day else None,
        later=last_day + timedelta(days=1) if last_day < entry.date_to else None,
    )


def _day_url(entry, query: dict, day: date | None) -> str | None:
    if day is None:
        return None
    url = reverse("admin:booking_waitlistentry_offer", args=[entry.pk])
    return url + "?" + urlencode({**query, "day": day.isoformat()})


def local_time(moment) -> str:
    """'Wed 3 Jun 10:00' in the clinic's time ("" for none)."""
    if moment is None:
        return ""
    return date_format(moment.astimezone(selectors.clinic_zone()), "D j M H:i")


def offer_in_words(offer: Offer) -> str:
    """'Wed 3 Jun 10:00 with Dr Demo'."""
    return gettext("%(time)s with %(practitioner)s") % {
        "time": local_time(offer.hold.start),
        "practitioner": offer.hold.practitioner,
    }
