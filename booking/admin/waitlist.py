"""The waitlist in the admin: who waits for what, each entry's offers and their outcomes,
and the waitlist's settings (with the pause).

Entries are read-only rows: patients join, change and leave on their own pages.
Staff act through the entry's page (offer a time by hand, withdraw a live offer)
and the list's pause button (booking/admin/waitlist_actions.py), each a call to
booking/waitlist/services.py.
"""

from django.contrib import admin
from django.db.models import OuterRef, Prefetch, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.admin import SingletonAdmin

from ..models import Offer, Practitioner, Reminder, WaitlistEntry, WaitlistSettings
from ..waitlist.models import ALL_DAY, EVERY_DAY, PARTS_OF_DAY
from .base import ReadOnlyAdmin, ReadOnlyInline, ScopedAdmin
from .waitlist_actions import WaitlistActionsMixin, local_time, offer_in_words

MONDAY_TO_FRIDAY, WEEKENDS = 0b0011111, 0b1100000


def days_in_words(bits: int) -> str:
    """'Every day', 'Monday to Friday', 'Weekends', or 'Mon, Wed, Fri'."""
    named = {
        EVERY_DAY: _("Every day"),
        MONDAY_TO_FRIDAY: _("Monday to Friday"),
        WEEKENDS: _("Weekends"),
    }
    if bits in named:
        return str(named[bits])
    return ", ".join(str(WEEKDAYS_ABBR[n]) for n in range(7) if bits & (1 << n))


def parts_in_words(bits: int) -> str:
    """'Any time of day', or the parts chosen: 'Morning (before 12:00), Evening (from 17:00)'."""
    if bits == ALL_DAY:
        return gettext("Any time of day")
    return ", ".join(str(name) for bit, name, _start, _until in PARTS_OF_DAY if bits & bit)


class PractitionerWantedFilter(admin.SimpleListFilter):
    """Whom the patient asked for: a practitioner, or anyone."""

    title = _("practitioner asked for")
    parameter_name = "practitioner"
    ANYONE = "anyone"

    def lookups(self, request, model_admin):
        return [
            (self.ANYONE, _("Anyone")),
            *(
                (str(pk), name)
                for pk, name in Practitioner.objects.values_list("pk", "display_name")
            ),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ANYONE:
            return queryset.filter(practitioner__isnull=True)
        if value and value.isdigit():
            return queryset.filter(practitioner_id=int(value))
        return queryset


class OfferInline(ReadOnlyInline):
    """Each offer made to the entry, newest first, with how it ended."""

    model = Offer
    fk_name = "entry"
    verbose_name_plural = _("offers")
    fields = [
        "time_offered",
        "status",
        "cause",
        "offered_by",
        "created_at",
        "sent_at",
        "held_until",
        "decided_at",
        "reason",
    ]

    def get_queryset(self, request):
        sent = Reminder.objects.filter(session_id=OuterRef("hold_id"), kind=Reminder.Kind.OFFER)
        return (
            super()
            .get_queryset(request)
            .select_related("hold__practitioner", "offered_by")
            .annotate(email_sent_at=Subquery(sent.values("sent_at")[:1]))
        )

    @admin.display(description=_("time offered"))
    def time_offered(self, obj):
        return offer_in_words(obj)

    @admin.display(description=_("email sent"))
    def sent_at(self, obj):
        if obj.email_sent_at:
            return local_time(obj.email_sent_at)
        return gettext("Not yet") if obj.is_live else gettext("Not sent")

    @admin.display(description=_("held until"))
    def held_until(self, obj):
        return local_time(obj.hold.held_until)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(WaitlistActionsMixin, ScopedAdmin, ReadOnlyAdmin):
    list_display = [
        "patient",
        "treatment",
        "wanted_for",
        "dates",
        "when",
        "practitioner_wanted",
        "created_at",
        "live_offer",
    ]
    list_filter = ["treatment", PractitionerWantedFilter, "status"]
    list_select_related = ["patient", "treatment", "practitioner", "session__course"]
    search_fields = ["patient__full_name", "patient__user__email", "patient__phone"]
    fields = [
        "patient_link",
        "treatment",
        "wanted_for",
        "practitioner_wanted",
        "dates",
        "days",
        "parts",
        "status",
        "ended_reason",
        "created_at",
        "live_offer",
    ]
    readonly_fields = fields
    inlines = [OfferInline]

    def get_queryset(self, request):
        live = Offer.objects.live().select_related("hold__practitioner")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("offers", queryset=live, to_attr="live_offers"))
        )

    @admin.display(description=_("patient"), ordering="patient__full_name")
    def patient_link(self, obj):
        url = reverse("admin:booking_patient_change", args=[obj.patient_id])
        return format_html('<a href="{}">{}</a>', url, obj.patient)

    @admin.display(description=_("for"))
    def wanted_for(self, obj):
        if obj.session_id is None:
            return gettext("First session (a course of %(count)s)") % {
                "count": obj.sessions_wanted or obj.treatment.sessions_usual
            }
        return gettext("An earlier time for session %(number)s, now on %(start)s") % {
            "number": obj.session.number,
            "start": local_time(obj.session.start),
        }

    @admin.display(description=_("dates"), ordering="date_from")
    def dates(self, obj):
        return gettext("%(first)s to %(last)s") % {
            "first": date_format(obj.date_from, "j M Y"),
            "last": date_format(obj.date_to, "j M Y"),
        }

    @admin.display(description=_("days"))
    def days(self, obj):
        return days_in_words(obj.weekdays)

    @admin.display(description=_("times of day"))
    def parts(self, obj):
        return parts_in_words(obj.parts_of_day)

    @admin.display(description=_("days and times of day"))
    def when(self, obj):
        return f"{days_in_words(obj.weekdays)}; {parts_in_words(obj.parts_of_day).lower()}"

    @admin.display(description=_("practitioner"), ordering="practitioner__display_name")
    def practitioner_wanted(self, obj):
        return obj.practitioner or gettext("Anyone")

    @admin.display(description=_("live offer"))
    def live_offer(self, obj):
        offers = getattr(obj, "live_offers", None)
        if offers is None:
            offers = list(obj.offers.live().select_related("hold__practitioner"))
        if not offers:
            return "-"
        offer = offers[0]
        return gettext("%(offer)s, held until %(until)s") % {
            "offer": offer_in_words(offer),
            "until": local_time(offer.hold.held_until),
        }

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {**(extra_context or {}), **self.summary(request, timezone.now())}
        )


@admin.register(WaitlistSettings)
class WaitlistSettingsAdmin(SingletonAdmin):
    list_display = ["__str__", "paused", "hold_for", "offers_per_day", "prefer_mid_course"]
    fields = ["paused", "hold_for", "offers_per_day", "prefer_mid_course"]
