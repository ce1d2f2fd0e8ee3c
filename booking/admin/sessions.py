"""Sessions (read-only rows; changes through the services) and clinical notes.

Staff act on sessions from their page and from the list: mark attended or
no-show (booking/attendance.py), cancel or move (booking/services/, the
rules the patient's own pages use, with staff's wider limits). Every action
goes through get_queryset, so a clinician acts only on their own sessions and
another's answers exactly as a missing row does.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .. import attendance, rulebook, selectors, services
from ..export import SESSION_COLUMNS, csv_response
from ..models import TO_HAPPEN, ClinicalNote, Session
from ..services import BookingError
from .base import ReadOnlyAdmin, ScopedAdmin, describe
from .desk import WAIVE_HELP, WAIVE_LABEL, may_waive, policy_preview
from .moves import SessionMoveMixin


def sessions_csv(sessions, filename: str) -> HttpResponse:
    zone = selectors.clinic_zone()

    def local(moment):
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"

    rows = (
        [
            local(s.start),
            local(s.end),
            s.practitioner,
            s.patient,
            s.patient.phone,
            s.course.treatment,
            f"{s.number} of {s.course.sessions_planned}",
            s.get_status_display(),
        ]
        for s in sessions.select_related("patient", "practitioner", "course__treatment")
    )
    return csv_response(filename, [SESSION_COLUMNS, *rows])


# What marking one session, or several, says: (one, several).
MARKED_ATTENDED = (
    _("%(session)s is marked attended."),
    ngettext_lazy(
        "%(count)s session is marked attended.", "%(count)s sessions are marked attended.", "count"
    ),
)
MARKED_ARRIVED = (
    _("%(session)s: the patient has arrived."),
    ngettext_lazy(
        "%(count)s session is marked arrived.", "%(count)s sessions are marked arrived.", "count"
    ),
)
NOT_ARRIVED = (
    _("%(session)s is booked again (not arrived)."),
    ngettext_lazy(
        "%(count)s session is booked again.", "%(count)s sessions are booked again.", "count"
    ),
)
MARKED_NO_SHOW = (
    _("%(session)s is marked a no-show."),
    ngettext_lazy(
        "%(count)s session is marked a no-show.",
        "%(count)s sessions are marked a no-show.",
        "count",
    ),
)


class CancelForm(forms.Form):
    notify = forms.TypedChoiceField(
        label=_("Tell the patient?"),
        choices=[
            ("yes", _("Yes: email them that it is cancelled, with the calendar update")),
            ("no", _("No: do not email them (for example, they cancelled by phone)")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="yes",
    )
    later = forms.ChoiceField(
        label=_("The sessions after it"),
        required=False,  # left out: keep them
        choices=[
            ("keep", _("Keep them (allowed when they still fit their spacing windows)")),
            ("cancel", _("Cancel them too")),
        ],
        widget=forms.RadioSelect,
        initial="keep",
    )
    override_reason = forms.CharField(
        label=_("Keep them even outside their windows, because"),
        required=False,
        max_length=500,
        help_text=_("Only if a later session would fall outside its window. Kept on the course."),
    )
    # Inside the change notice, for staff who may waive the cancellation policy.
    waive_reason = forms.CharField(
        label=WAIVE_LABEL, required=False, max_length=250, help_text=WAIVE_HELP
    )

    def __init__(self, *args, waivable: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not waivable:
            del self.fields["waive_reason"]


@admin.register(Session)
class SessionAdmin(SessionMoveMixin, ScopedAdmin, ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ["start", "patient", "treatment", "number_of", "practitioner", "status"]
    list_filter = ["status", "practitioner", "course__treatment"]
    date_hierarchy = "start"
    search_fields = ["patient__full_name", "patient__user__email", "patient__phone"]
    list_select_related = ["patient", "practitioner", "course__treatment"]
    fields = [
        "course_link",
        "patient",
        "number_of",
        "practitioner",
        "start",
        "end",
        "status",
        "cancelled_at",
    ]
    readonly_fields = fields
    actions = [
        "mark_arrived",
        "mark_attended",
        "mark_no_show",
        "cancel_with_notice",
        "cancel_without_notice",
        "export_selected",
    ]

    def has_mark_attendance_permission(self, request, obj=None):
        return request.user.has_perm("booking.mark_attendance")

    def has_reschedule_permission(self, request, obj=None):
        return request.user.has_perm("booking.reschedule_session")

    @admin.display(description=_("treatment"), ordering="course__treatment__name")
    def treatment(self, obj):
        return obj.course.treatment

    @admin.display(description=_("session"))
    def number_of(self, obj):
        return gettext("%(number)s of %(planned)s") % {
            "number": obj.number,
            "planned": obj.course.sessions_planned,
        }

    @admin.display(description=_("course"))
    def course_link(self, obj):
        url = reverse("admin:booking_course_change", args=[obj.course_id])
        return format_html('<a href="{}">{}</a>', url, obj.course)

    # --- the session's page -------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "clinical_note": self._note_link(request, object_id),
            "session_actions": self._actions_for(request, object_id),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _note_link(self, request, object_id) -> dict | None:
        """The clinical note's link for clinicians; nothing at all for anyone else."""
        if not request.user.has_perm("booking.view_clinicalnote"):
            return None
        session = self.get_object(request, unquote(object_id))
        if session is None:  # no such session (or an id typed that is none): no link
            return None
        note = ClinicalNote.objects.filter(session=session).values_list("pk", flat=True)
        if note:
            url = reverse("admin:booking_clinicalnote_change", args=[note[0]])
            return {"url": url, "label": gettext("Open the clinical note")}
        if request.user.has_perm("booking.add_clinicalnote"):
            url = reverse("admin:booking_clinicalnote_add") + f"?session={session.pk}"
            return {"url": url, "label": gettext("Write the clinical note")}
        return None

    def _actions_for(self, request, object_id) -> dict | None:
        """The buttons this user may use on this session now (URLs), and why others are absent."""
        session = self.get_object(request, unquote(object_id))
        if session is None or session.status not in TO_HAPPEN:
            return None
        now, found = timezone.now(), {}
        if self.has_mark_attendance_permission(request) and session.course.consent_to_sign:
            found["consent"] = reverse("admin:booking_session_consent", args=[session.pk])
        if self.has_mark_attendance_permission(request):
            for name in (
                attendance.ARRIVED,
                attendance.NOT_ARRIVED,
                attendance.ATTENDED,
                attendance.NO_SHOW,
            ):
                if not attendance.attendance_refusal(session, now, mark=name):
                    found[name] = reverse(f"admin:booking_session_{name}", args=[session.pk])
            if not found:
                found["note"] = gettext("Attendance can be marked from the day of the session.")
        if self.has_reschedule_permission(request) and session.start > now:
            for name in ("move", "cancel"):
                found[name] = reverse(f"admin:booking_session_{name}", args=[session.pk])
        return found or None

    def get_urls(self):
        def view(function, route, name):
            return path(route, self.admin_site.admin_view(function), name=f"booking_session_{name}")

        return [
            view(self.export_view, "export/", "export"),
            view(self.arrived_view, "<path:object_id>/arrived/", "arrived"),
            view(self.not_arrived_view, "<path:object_id>/not-arrived/", "not_arrived"),
            view(self.attended_view, "<path:object_id>/attended/", "attended"),
            view(self.no_show_view, "<path:object_id>/no-show/", "no_show"),
            view(self.consent_view, "<path:object_id>/consent-signed/", "consent"),
            view(self.cancel_view, "<path:object_id>/cancel/", "cancel"),
            view(self.move_view, "<path:object_id>/move/", "move"),
            *super().get_urls(),
        ]

    def _session(self, request, object_id, allowed) -> tuple[Session | None, HttpResponse | None]:
        """The session in the user's scope, or the admin's answer for a missing row.

        Permission first (403 whatever the id), then the scoped lookup, so an
        id outside the scope cannot be told from one that does not exist.
        """
        if not allowed(request):
            raise PermissionDenied
        session = self.get_object(request, unquote(object_id))
        if session is None:
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return session, None

    def _change_url(self, session: Session) -> str:
        return reverse("admin:booking_session_change", args=[session.pk])

    # --- attendance ---------------------------------------------------------

    def arrived_view(self, request, object_id):
        return self._mark_one(request, object_id, attendance.session_mark_arrived, MARKED_ARRIVED)

    def not_arrived_view(self, request, object_id):
        return self._mark_one(request, object_id, attendance.session_mark_not_arrived, NOT_ARRIVED)

    def attended_view(self, request, object_id):
        return self._mark_one(request, object_id, attendance.session_mark_attended, MARKED_ATTENDED)

    def no_show_view(self, request, object_id):
        return self._mark_one(request, object_id, attendance.session_mark_no_show, MARKED_NO_SHOW)

    def consent_view(self, request, object_id):
        """The paper consent form, signed at the first visit, is recorded."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        session, missing = self._session(request, object_id, self.has_mark_attendance_permission)
        if missing:
            return missing
        try:
            attendance.course_consent_signed(course=session.course, by=request.user)
        except BookingError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, gettext("The signed consent form is recorded."))
        return HttpResponseRedirect(self._change_url(session))

    def _mark_one(self, request, object_id, service, done: tuple):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        session, missing = self._session(request, object_id, self.has_mark_attendance_permission)
        if missing:
            return missing
        self._mark(request, [session], service, done)
        back = request.POST.get("next", "")  # the schedule's day view marks people in too
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = self._change_url(session)
        return HttpResponseRedirect(back)

    def _mark(self, request, sessions, service, done: tuple) -> None:
        """One transaction per session: one that cannot be marked does not stop the rest."""
        now, marked = timezone.now(), []
        for session in sessions:
            try:
                service(session=session, by=request.user, now=now)
            except BookingError as error:
                self.message_user(
                    request,
                    gettext("%(session)s: %(error)s")
                    % {"session": describe(session), "error": error.message},
                    messages.ERROR,
                )
            else:
                marked.append(session)
        if len(marked) == 1:
            self.message_user(request, done[0] % {"session": describe(marked[0])})
        elif marked:
            self.message_user(request, done[1] % {"count": len(marked)})

    @admin.action(
        description=_("Mark the selected sessions arrived"), permissions=["mark_attendance"]
    )
    def mark_arrived(self, request, queryset):
        self._mark(request, self._listed(queryset), attendance.session_mark_arrived, MARKED_ARRIVED)

    @admin.action(
        description=_("Mark the selected sessions attended"), permissions=["mark_attendance"]
    )
    def mark_attended(self, request, queryset):
        self._mark(
            request, self._listed(queryset), attendance.session_mark_attended, MARKED_ATTENDED
        )

    @admin.action(
        description=_("Mark the selected sessions as no-shows"), permissions=["mark_attendance"]
    )
    def mark_no_show(self, request, queryset):
        self._mark(request, self._listed(queryset), attendance.session_mark_no_show, MARKED_NO_SHOW)

    def _listed(self, queryset) -> list[Session]:
        return list(queryset.select_related("patient", "course").order_by("start"))

    # --- cancel -------------------------------------------------------------

    def cancel_view(self, request, object_id):
        session, missing = self._session(request, object_id, self.has_reschedule_permission)
        if missing:
            return missing
        policy = policy_preview(session, rulebook.LATE_CANCEL, timezone.now())
        form = CancelForm(request.POST or None, waivable=bool(policy) and may_waive(request))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.session_cancel(
                    session=session,
                    now=timezone.now(),
                    by_staff=True,
                    notify=data["notify"],
                    with_later=data["later"] == "cancel",
                    override_reason=data["override_reason"],
                    by=request.user,
                    waive_reason=data.get("waive_reason", ""),
                )
            except BookingError as error:
                form.add_error(None, error.message)
            else:
                told = (
                    gettext("The patient is told by email.")
                    if data["notify"]
                    else gettext("No email.")
                )
                self.message_user(
                    request,
                    gettext("%(session)s is cancelled. %(told)s")
                    % {"session": describe(session), "told": told},
                )
                return HttpResponseRedirect(self._change_url(session))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Cancel this session?"),
            "session": session,
            "label": describe(session),
            "form": form,
            "policy": policy,
        }
        return TemplateResponse(request, "admin/booking/session/cancel.html", context)

    def _cancel(self, request, sessions, *, notify: bool) -> None:
        now, cancelled = timezone.now(), []
        for session in sessions:
            try:
                services.session_cancel(
                    session=session, now=now, by_staff=True, notify=notify, by=request.user
                )
            except BookingError as error:
                self.message_user(
                    request,
                    gettext("%(session)s: %(error)s")
                    % {"session": describe(session), "error": error.message},
                    messages.ERROR,
                )
            else:
                cancelled.append(session)
        if len(cancelled) == 1:
            told = (
                gettext("The patient is told by email.")
                if notify
                else gettext("The patient is not emailed.")
            )
            self.message_user(
                request,
                gettext("%(session)s is cancelled. %(told)s")
                % {"session": describe(cancelled[0]), "told": told},
            )
        elif cancelled:
            told = (
                gettext("The patients are told by email.")
                if notify
                else gettext("The patients are not emailed.")
            )
            self.message_user(
                request,
                ngettext(
                    "%(count)s session is cancelled. %(told)s",
                    "%(count)s sessions are cancelled. %(told)s",
                    len(cancelled),
                )
                % {"count": len(cancelled), "told": told},
            )

    @admin.action(
        description=_("Cancel the selected sessions and tell the patients"),
        permissions=["reschedule"],
    )
    def cancel_with_notice(self, request, queryset):
        return self._cancel_selected(request, queryset, "cancel_with_notice", notify=True)

    @admin.action(
        description=_("Cancel the selected sessions without telling the patients"),
        permissions=["reschedule"],
    )
    def cancel_without_notice(self, request, queryset):
        return self._cancel_selected(request, queryset, "cancel_without_notice", notify=False)

    def _cancel_selected(self, request, queryset, action: str, *, notify: bool):
        """A confirmation page first (as the admin's delete does), then the cancellations."""
        sessions = self._listed(queryset)
        if request.POST.get("post") == "yes":
            self._cancel(request, sessions, notify=notify)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Cancel these sessions?"),
            "sessions": [(s.pk, describe(s)) for s in sessions],
            # Inside the change notice the policy applies to each (waived only one by one).
            "policies": [
                (describe(s), policy)
                for s in sessions
                if (policy := policy_preview(s, rulebook.LATE_CANCEL, timezone.now()))
            ],
            "action": action,
            "notify": notify,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/booking/session/cancel_selected.html", context)

    # --- CSV ----------------------------------------------------------------

    @admin.action(description=_("Export selected to CSV"), permissions=["view"])
    def export_selected(self, request, queryset):
        return sessions_csv(queryset.order_by("start"), self._csv_name())

    def export_view(self, request):
        """The whole list as currently filtered, searched and ordered, every page of it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:booking_session_changelist") + "?e=1")
        return sessions_csv(changelist.get_queryset(request), self._csv_name())

    def _csv_name(self) -> str:
        return f"sessions-{timezone.localtime():%Y%m%d-%H%M}.csv"
