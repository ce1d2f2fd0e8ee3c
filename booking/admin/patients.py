"""Patients and their courses: contact details, preferences, sessions, reminders, answers."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from ..models import Course, Patient, Reminder, Session
from ..selectors import courses_breaking_rules
from .base import ReadOnlyInline, ScopedAdmin
from .desk import CourseDeskMixin
from .phone import PERMISSION as BOOK_BY_PHONE
from .phone import phone_urls


class CourseInline(ReadOnlyInline):
    model = Course
    fields = ["treatment", "practitioner", "sessions_planned", "status", "created_at"]
    show_change_link = True


@admin.register(Patient)
class PatientAdmin(ScopedAdmin, SimpleHistoryAdmin):
    list_display = ["full_name", "email", "phone", "date_of_birth"]
    search_fields = ["full_name", "phone", "user__email"]
    list_select_related = ["user"]
    fieldsets = [
        (None, {"fields": ["full_name", "email", "phone", "date_of_birth"]}),
        (_("Optional emails"), {"fields": ["email_check_in", "email_next_window"]}),
    ]
    readonly_fields = ["email"]
    inlines = [CourseInline]

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, obj):
        return obj.user.email

    def has_add_permission(self, request):
        return False  # a patient comes with an account: phone booking creates both

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pk = str(object_id)
        # ASCII digits only, as the URL takes: "²".isdigit() is true too.
        if request.user.has_perm(BOOK_BY_PHONE) and pk.isascii() and pk.isdigit():
            url = reverse("admin:booking_course_phone_course", args=[pk])
            extra_context = {**(extra_context or {}), "phone_booking_url": url}
        return super().change_view(request, object_id, form_url, extra_context)


class BreaksRuleFilter(admin.SimpleListFilter):
    """Courses stored before a rule existed (or with data mended by hand) that break one."""

    title = _("booking rules")
    parameter_name = "rules"

    def lookups(self, request, model_admin):
        return [("broken", _("Breaks a booking rule"))]

    def queryset(self, request, queryset):
        if self.value() != "broken":
            return queryset
        found = courses_breaking_rules(now=timezone.now(), courses=queryset)
        return queryset.filter(pk__in=[entry.course.pk for entry in found])


class SessionInline(ReadOnlyInline):
    model = Session
    fields = ["number", "start", "end", "practitioner", "status"]
    show_change_link = True


@admin.register(Course)
class CourseAdmin(CourseDeskMixin, ScopedAdmin, SimpleHistoryAdmin):
    list_display = [
        "patient",
        "treatment",
        "practitioner",
        "sessions_planned",
        "status",
        "created_at",
    ]
    list_filter = ["status", BreaksRuleFilter, "treatment", "practitioner"]
    search_fields = ["patient__full_name", "patient__user__email", "patient__phone"]
    list_select_related = ["patient", "treatment", "practitioner"]
    date_hierarchy = "created_at"
    fields = [
        "patient_link",
        "treatment",
        "practitioner",
        "sessions_planned",
        "status",
        "booked",
        "rules",
        "override_reason",
        "override_by",
        "consent_version",
        "answers",
        "reminder_log",
    ]
    readonly_fields = fields
    inlines = [SessionInline]

    def get_urls(self):
        return [*phone_urls(self), *self.desk_urls(), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The account and the whole ledger, with the desk's actions (booking/admin/desk.py).
        extra_context = {**(extra_context or {}), **self.desk_context(request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_add_permission(self, request):
        # "Add" is phone booking, which books through the services like the journey.
        return request.user.has_perm(BOOK_BY_PHONE)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return redirect("admin:booking_course_phone")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("patient"))
    def patient_link(self, obj):
        url = reverse("admin:booking_patient_change", args=[obj.patient_id])
        return format_html('<a href="{}">{}</a>', url, obj.patient)

    @admin.display(description=_("booking rules"))
    def rules(self, obj):
        found = courses_breaking_rules(now=timezone.now(), courses=Course.objects.filter(pk=obj.pk))
        if not found:
            if obj.overridden_rules:
                return gettext("Kept (staff overrode: %(rules)s)") % {"rules": obj.overridden_rules}
            return gettext("Kept")
        return format_html(
            "<strong>{}</strong><ul>{}</ul>",
            gettext("Breaks:"),
            format_html_join("", "<li>{}</li>", ((b.message,) for b in found[0].breaches)),
        )

    @admin.display(description=_("booked"))
    def booked(self, obj):
        by = obj.booked_by.email if obj.booked_by else gettext("the patient, online")
        return gettext("%(when)s by %(who)s") % {
            "when": f"{obj.created_at:%-d %b %Y %H:%M}",
            "who": by,
        }

    @admin.display(description=_("consent"))
    def consent_version(self, obj):
        if obj.consent is None:
            return gettext("none recorded")
        how = obj.get_consent_method_display() or gettext("how it was given not recorded")
        by = f" ({obj.consent_recorded_by.email})" if obj.consent_recorded_by else ""
        if obj.consent_to_sign:
            return gettext("version %(version)d, %(how)s: not signed yet%(by)s") % {
                "version": obj.consent.version,
                "how": how.lower(),
                "by": by,
            }
        return gettext("version %(version)d, %(how)s%(by)s, %(when)s") % {
            "version": obj.consent.version,
            "how": how.lower(),
            "by": by,
            "when": f"{obj.consent_given_at:%-d %b %Y %H:%M}",
        }

    @admin.display(description=_("suitability answers"))
    def answers(self, obj):
        rows = obj.suitability_answers.get("questions", [])
        if not rows:
            return gettext("none given")
        version = (
            gettext("To version %(version)d of the questions.") % {"version": obj.questions_version}
            if obj.questions_version
            else ""
        )
        return format_html(
            "<p>{}</p><dl>{}</dl>",
            version,
            format_html_join(
                "", "<dt>{}</dt><dd>{}</dd>", ((r["question"], r["answer"]) for r in rows)
            ),
        )

    @admin.display(description=_("reminders"))
    def reminder_log(self, obj):
        reminders = Reminder.objects.filter(session__course=obj).select_related("session")
        if not reminders:
            return gettext("none")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            gettext("session"),
            gettext("kind"),
            gettext("due"),
            gettext("status"),
            format_html_join(
                "",
                '<tr><td>{}</td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td></tr>',
                (
                    (
                        r.session.number,
                        reverse("admin:booking_reminder_change", args=[r.pk]),
                        r.get_kind_display(),
                        f"{r.due_at:%-d %b %Y %H:%M}",
                        r.get_status_display(),
                    )
                    for r in reminders.order_by("due_at")
                ),
            ),
        )
