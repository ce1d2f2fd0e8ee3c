"""Moving a session from its admin page: free times of any practitioner who offers the
treatment, inside the session's spacing window, then services.session_move (staff's limits)."""

from datetime import datetime, timedelta

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import rulebook, selectors, services
from ..courses import end_of_day
from ..forms import SLOT_YEARS
from ..journey import parse_slot, slot_value
from ..models import Practitioner, Session
from ..services import BookingError
from .base import describe
from .desk import WAIVE_HELP, WAIVE_LABEL, may_waive, policy_preview

MOVE_DAYS = 7


class MoveSearchForm(forms.Form):
    practitioner = forms.ModelChoiceField(
        label=_("Practitioner"), queryset=Practitioner.objects.none(), empty_label=None
    )
    day = forms.DateField(
        label=_("Show free times from"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners


class MoveForm(forms.Form):
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.none())
    start = forms.CharField()
    # After the confirmation page (later sessions would leave their windows):
    together = forms.CharField(required=False)  # "<number>|<slot value>,..." to move with it
    override_reason = forms.CharField(required=False, max_length=500)
    # Inside the change notice: the cancellation policy waived, with the reason.
    waive_reason = forms.CharField(required=False, max_length=250)

    def __init__(self, *args, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners

    def clean_start(self) -> datetime:
        try:
            start = datetime.fromisoformat(self.cleaned_data["start"])
        except ValueError:
            raise forms.ValidationError(gettext("Choose one of the free times shown.")) from None
        if start.tzinfo is None or start.year not in SLOT_YEARS:  # year 1 or 9999 overflows
            raise forms.ValidationError(gettext("Choose one of the free times shown."))
        return start


class SessionMoveMixin:
    """For SessionAdmin: the move page (its URL is registered there)."""

    # --- move ---------------------------------------------------------------

    def move_view(self, request, object_id):
        session, missing = self._session(request, object_id, self.has_reschedule_permission)
        if missing:
            return missing
        now = timezone.now()
        if session.status != Session.Status.BOOKED or session.start <= now:
            # The service refuses these too; saying so here spares a page of times.
            self.message_user(
                request,
                gettext("Only a booked session that has not started can be moved."),
                messages.ERROR,
            )
            return HttpResponseRedirect(self._change_url(session))
        treatment = session.course.treatment
        offering = Practitioner.objects.filter(is_active=True, treatments=treatment)
        if request.method == "POST":
            return self._move(request, session, offering, now)
        zone = selectors.clinic_zone()
        today = now.astimezone(zone).date()
        first_day = max(session.start.astimezone(zone).date(), today)
        default = offering.filter(pk=session.practitioner_id).first() or offering.first()
        search = MoveSearchForm(
            request.GET or None,
            practitioners=offering,
            initial={"practitioner": default, "day": first_day},
        )
        practitioner, day = default, first_day
        if search.is_bound and search.is_valid():
            practitioner, day = search.cleaned_data["practitioner"], search.cleaned_data["day"]
        window = self._window(session)
        last_day = day + timedelta(days=MOVE_DAYS - 1)
        slots = []
        if practitioner is not None:
            slots = selectors.free_slots(
                treatment=treatment,
                day_from=day,
                day_to=last_day,
                now=now,
                practitioners=[practitioner],
                patient=session.patient,
                latest=end_of_day(last_day, zone),  # later sessions may lie past the horizon
                exclude_session_ids=[session.pk],
            )
        days: dict = {}
        for slot in slots:
            where_it_is = (slot.start, slot.practitioner_id) == (
                session.start,
                session.practitioner_id,
            )
            if not where_it_is and (window is None or window.holds(slot.start, zone)):
                local = slot.start.astimezone(zone)
                days.setdefault(local.date(), []).append(
                    (slot.start.isoformat(), f"{local:%a %-d %b}, {local:%H:%M}")
                )
        policy = policy_preview(session, rulebook.LATE_MOVE, now)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Move this session"),
            "policy": policy,
            "waive": {"label": WAIVE_LABEL, "help": WAIVE_HELP}
            if policy and may_waive(request)
            else None,
            "session": session,
            "label": describe(session),
            "search": search,
            "practitioner": practitioner,
            "window": window,
            "days": sorted(days.items()),
            "day": day,
            "last_day": last_day,
            "earlier": self._move_url(session, practitioner, day - timedelta(days=MOVE_DAYS))
            if day > today
            else None,
            "later": self._move_url(session, practitioner, day + timedelta(days=MOVE_DAYS)),
        }
        return TemplateResponse(request, "admin/booking/session/move.html", context)

    def _move_url(self, session, practitioner, day) -> str:
        query = {"day": day.isoformat()}
        if practitioner is not None:
            query["practitioner"] = practitioner.pk
        return reverse("admin:booking_session_move", args=[session.pk]) + "?" + urlencode(query)

    def _window(self, session: Session):
        """The dates the session may move between, given the one before it (None for the first)."""
        starts = [(s.number, s.start) for s in session.course.sessions.active()]
        spacing = rulebook.spacing_of(session.course.treatment)
        return rulebook.window_after_previous(
            starts, session.number, spacing, selectors.clinic_zone()
        )

    def _move(self, request, session, offering, now):
        form = MoveForm(request.POST, practitioners=offering)
        if not form.is_valid():
            self.message_user(
                request, gettext("Choose one of the free times shown."), messages.ERROR
            )
            return HttpResponseRedirect(request.path)
        practitioner, start = form.cleaned_data["practitioner"], form.cleaned_data["start"]
        back = self._move_url(
            session, practitioner, start.astimezone(selectors.clinic_zone()).date()
        )
        treatment = session.course.treatment
        also = {}
        for item in filter(None, form.cleaned_data["together"].split(",")):
            number, _, value = item.partition("|")
            slot = parse_slot(value, treatment)
            if not number.isdigit() or slot is None:
                self.message_user(
                    request, gettext("Choose one of the free times shown."), messages.ERROR
                )
                return HttpResponseRedirect(back)
            also[int(number)] = slot
        try:
            result = services.session_move(
                session=session,
                new_start=start,
                now=now,
                practitioner=practitioner,
                by_staff=True,
                also=also,
                override_reason=form.cleaned_data["override_reason"],
                by=request.user,
                waive_reason=form.cleaned_data["waive_reason"] if may_waive(request) else "",
            )
        except services.NeedsReplan as needed:
            return self._confirm_replan(
                request, session, practitioner, start, needed, form.cleaned_data["waive_reason"]
            )
        except BookingError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(back)
        moved = result.session
        with_it = "".join(
            " " + gettext("Session %(number)d moved with it.") % {"number": later.number}
            for later in result.moved
        )
        self.message_user(
            request,
            gettext(
                "%(session)s with %(practitioner)s is booked.%(with_it)s "
                "The patient is told by email."
            )
            % {"session": describe(moved), "practitioner": practitioner, "with_it": with_it},
        )
        return HttpResponseRedirect(self._change_url(moved))

    def _confirm_replan(self, request, session, practitioner, start, needed, waive_reason=""):
        """Later sessions would leave their windows: move them too, or keep them, with a reason."""
        zone = selectors.clinic_zone()
        later = {s.number: s for s in session.course.sessions.active()}
        names = {p.pk: p for p in Practitioner.objects.filter(treatments=session.course.treatment)}
        rows = [
            {
                "session": later.get(p.number),
                "slot": p.slot,
                "when": f"{p.slot.start.astimezone(zone):%a %-d %b %Y %H:%M}" if p.slot else "",
                "practitioner": names.get(p.slot.practitioner_id) if p.slot else None,
            }
            for p in needed.proposals
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Move the later sessions too?"),
            "session": session,
            "label": describe(session),
            "practitioner": practitioner,
            "start": start.isoformat(),
            "when": f"{start.astimezone(zone):%a %-d %b %Y %H:%M}",
            "message": needed.message,
            "rows": rows,
            "complete": all(row["slot"] for row in rows),
            "waivable": needed.waivable,
            "waive_reason": waive_reason,  # carried through to the move
            "together": ",".join(
                f"{p.number}|{slot_value(p.slot)}" for p in needed.proposals if p.slot
            ),
        }
        return TemplateResponse(request, "admin/booking/session/move_replan.html", context)
