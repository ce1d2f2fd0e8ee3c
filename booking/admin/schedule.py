"""The schedule in the admin: a day and a week, one column per practitioner, and a day's CSV.

Linked from the admin index through the ScheduleEntry proxy. Only the
schedule's own URLs are registered for it, not the usual change pages: a
session is opened through SessionAdmin, whose queryset keeps a clinician to
their own sessions.

Sessions carry their practitioner's colour and initials and their status in
words (booking/schedule_marks.py), with a key on the page. For staff who book by
phone, the day's free gaps link to phone booking at their free start times.
Patients' phone numbers are in the day list (and its print and CSV) for staff
who may see patients' contact details. A held time shows as held until its expiry:
for a waitlist offer, linked to the waitlist entry for staff who see the waitlist;
while its patient pays an online deposit, linked to that deposit for staff who see
the deposits.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext_lazy as _

from clinic.roles import hidden_fields, scope_of

from ..export import csv_response
from ..models import BookingRules, ScheduleEntry
from ..schedule import LABELS, SESSION, Day, day_grid, day_plan, export_rows, with_openings
from ..schedule_marks import status_marks
from ..selectors import clinic_zone, free_starts, schedule_data
from .base import NOTHING, ReadOnlyAdmin, limited_to_practitioner
from .phone import PERMISSION as BOOK_BY_PHONE
from .phone import phone_start_url
from .phone_plan import rules_for

# A typed or edited URL can hold any date; the grid's arithmetic needs one it can
# step a week either side of, and nobody plans a clinic outside these.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


class ScheduleForm(forms.Form):
    """The GET form above the schedule; a bad value is named beside its field and ignored."""

    date = forms.DateField(
        label=_("Date"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("That is not a date; showing today instead.")},
    )
    practitioner = forms.IntegerField(label=_("Practitioner"), required=False, widget=forms.Select)
    treatment = forms.IntegerField(label=_("Treatment"), required=False, widget=forms.Select)
    cancelled = forms.BooleanField(label=_("Show cancelled sessions"), required=False)

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise forms.ValidationError(
                _("Choose a date between 2000 and 2099; showing today instead.")
            )
        return value

    def choose(self, name: str, options: list[tuple[int, str]], everyone: str) -> int | None:
        """Offer `options` in the field's list; the chosen id, or None for all of them."""
        self.fields[name].widget.choices = [("", everyone), *options]
        value = self.cleaned_data.get(name)
        if value is not None and value not in dict(options):
            self.add_error(name, _("That is not on the list; showing all instead."))
            return None
        return value


def sees_contact_details(user) -> bool:
    """Whether `user` may see the phone numbers of the patients on their schedule: their
    role sees patients (clinic/roles.py ACCESS; a clinician their own, the only ones on
    their schedule) and not with the phone hidden."""
    return scope_of(user, "booking.patient") is not None and "phone" not in hidden_fields(
        user, "booking.patient"
    )


def sees_waitlist(user) -> bool:
    """Whether a time held for a waitlist offer shows its patient and links to their entry:
    for staff who see the waitlist (reception); to anyone else it is just held time."""
    return user.has_perm("booking.view_waitlistentry")


def sees_deposits(user) -> bool:
    """Whether a time held while its patient pays an online deposit shows the patient and
    links to the deposit: for staff who see the deposits (reception)."""
    return user.has_perm("booking.view_depositcheckout")


@admin.register(ScheduleEntry)
class ScheduleAdmin(ReadOnlyAdmin):
    def has_view_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("booking.view_schedule")

    def has_module_permission(self, request):
        return request.user.has_perm("booking.view_schedule")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(self.day_view), name="booking_scheduleentry_changelist"),
            path("day/", view(self.day_view), name="booking_schedule_day"),
            path("week/", view(self.week_view), name="booking_schedule_week"),
            path("day.csv", view(self.csv_view), name="booking_schedule_csv"),
        ]

    def changelist_view(self, request, extra_context=None):
        return self.day_view(request)

    def day_view(self, request):
        asked = self._asked(request, week=False)
        plan = day_plan(day=asked.day, **asked.layout)
        if request.user.has_perm(BOOK_BY_PHONE):
            plan = self._openings(plan, asked)
        title = _("Schedule: %(day)s") % {"day": date_format(asked.day, "l j F Y")}
        context = {
            **self._context(request, asked, title, "day", step=timedelta(days=1)),
            "plan": plan,
            "rows": day_grid(plan, asked.zone),
            "csv_url": self._url("csv", asked.day, asked.filters),
            "contact": asked.contact,
            # Today's sessions get "Arrived" (then "Attended") buttons for those who mark
            # attendance; the services decide (booking/attendance.py).
            "marking_today": request.user.has_perm("booking.mark_attendance")
            and asked.day == timezone.now().astimezone(asked.zone).date(),
        }
        return TemplateResponse(request, "admin/booking/schedule/day.html", context)

    def week_view(self, request):
        asked = self._asked(request, week=True)
        days = []
        for n in range(7):
            day = asked.first + timedelta(days=n)
            days.append(
                {
                    "plan": day_plan(day=day, **asked.layout),
                    "label": date_format(day, "l j M"),
                    "url": self._url("day", day, asked.filters),
                }
            )
        title = _("Schedule: week of %(day)s") % {"day": date_format(asked.first, "j F Y")}
        context = {
            **self._context(request, asked, title, "week", step=timedelta(weeks=1)),
            "days": days,
        }
        return TemplateResponse(request, "admin/booking/schedule/week.html", context)

    def csv_view(self, request):
        asked = self._asked(request, week=False)
        plan = day_plan(day=asked.day, **asked.layout)
        rows = export_rows(plan, asked.zone, contact=asked.contact)
        return csv_response(f"schedule-{asked.day.isoformat()}.csv", rows)

    @staticmethod
    def _openings(plan: Day, asked: "Asked") -> Day:
        """The free gaps' start times, each a link to phone booking: the times phone booking
        offers with "inside the minimum notice" ticked (so a gap this afternoon can still be
        booked, with a reason), carrying that tick when a time needs it."""
        now = timezone.now()
        found = free_starts(
            day=asked.day,
            practitioner_ids=[c.practitioner_id for c in plan.columns],
            now=now,
            rules=rules_for(short_notice=True),
            treatment_id=asked.layout["treatment_id"],
        )
        notice_ends = now + BookingRules.current().min_notice

        def link(practitioner_id, start):
            return phone_start_url(
                practitioner_id=practitioner_id,
                start=start,
                treatment_id=found[practitioner_id][0],
                short_notice=start < notice_ends,
            )

        starts = {pk: times for pk, (_, times) in found.items()}
        return with_openings(plan, starts, asked.zone, link)

    def _asked(self, request, *, week: bool) -> "Asked":
        """Who may see what, the form, and the day or week it asks for."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        zone = clinic_zone()
        form = ScheduleForm(request.GET)
        form.is_valid()  # each valid field is used; the others carry their message
        day = form.cleaned_data.get("date") or timezone.now().astimezone(zone).date()
        first = day - timedelta(days=day.weekday()) if week else day
        cancelled = form.cleaned_data.get("cancelled", False)
        scope = limited_to_practitioner(request)
        contact = sees_contact_details(request.user)
        data = schedule_data(
            day_from=first,
            day_to=first + timedelta(days=6 if week else 0),
            zone=zone,
            cancelled=cancelled,
            only_practitioner=scope,
            contact=contact,
            hold_patients=sees_waitlist(request.user),
            deposit_patients=sees_deposits(request.user),
        )
        names = [(r.practitioner_id, r.name) for r in data.rosters]
        practitioner = form.choose("practitioner", names, _("All practitioners"))
        treatment = form.choose("treatment", data.treatments, _("All treatments"))
        filters = {"practitioner": practitioner, "treatment": treatment, "cancelled": cancelled}
        return Asked(
            day=day,
            first=first,
            zone=zone,
            form=form,
            unlinked=scope == NOTHING,
            contact=contact,
            filters={k: int(v) for k, v in filters.items() if v},
            layout={
                "zone": zone,
                "rosters": [r for r in data.rosters if practitioner in (None, r.practitioner_id)],
                "entries": data.entries,
                "closures": data.closures,
                "treatment_id": treatment,
            },
        )

    def _url(self, view: str, day: date, filters: dict) -> str:
        return reverse(f"admin:booking_schedule_{view}") + "?" + urlencode({"date": day, **filters})

    def _context(self, request, asked: "Asked", title, view: str, *, step: timedelta) -> dict:
        other = "week" if view == "day" else "day"
        today = timezone.now().astimezone(asked.zone).date()
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "view": view,
            "form": asked.form,
            "unlinked": asked.unlinked,
            "waitlist_link": sees_waitlist(request.user),
            "deposit_link": sees_deposits(request.user),
            "statuses": status_marks(),
            "kinds": [(kind, label) for kind, label in LABELS.items() if kind != SESSION],
            "nav": {
                "previous": self._url(view, asked.first - step, asked.filters),
                "today": self._url(view, today, asked.filters),
                "next": self._url(view, asked.first + step, asked.filters),
                "other": self._url(other, asked.day, asked.filters),
            },
        }


@dataclass(frozen=True)
class Asked:
    """What a schedule request asks for, once checked."""

    day: date  # the date asked for (today when none, or a bad one)
    first: date  # the first day shown: that day, or the Monday of its week
    zone: ZoneInfo
    form: ScheduleForm
    unlinked: bool  # a clinician whose account has no practitioner: nothing to show
    contact: bool  # may see patients' phone numbers
    filters: dict  # the valid filters, carried by every link
    layout: dict  # day_plan's arguments but the day
