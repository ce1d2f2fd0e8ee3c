"""Practitioners, with their photo, working hours and time off inline, and adding time off safely.

A photo is checked and made ready by the form (booking/photos.py: a refused
upload is a form error and stores nothing) and saved with the row by
services.practitioner_save, which removes the files of a replaced or removed one.

Time off over booked sessions is never saved as it stands (booking/time_off.py):
the inline and the time off page refuse it, list the sessions and link to
"Add time off", where staff choose for each session who takes it or that it
is cancelled, and everything is applied together.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.admin_access import FieldAccessAdmin
from clinic.admin_labels import TabularInline

from .. import photos, selectors, services
from ..models import Practitioner, TimeOff, WorkingHours
from ..services import BookingError
from ..time_off import (
    CANCEL,
    handover_choices,
    session_label,
    time_off_add,
    time_off_collisions,
)

LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def time_off_url(practitioner_id: int, start, end, reason: str = "", change: int | None = None):
    """The "Add time off" page, filled in with this time off."""
    zone = selectors.clinic_zone()
    query = {
        "start": f"{start.astimezone(zone):{LOCAL_INPUT}}",
        "end": f"{end.astimezone(zone):{LOCAL_INPUT}}",
        "reason": reason,
    }
    if change:
        query["change"] = change
    url = reverse("admin:booking_practitioner_time_off", args=[practitioner_id])
    return f"{url}?{urlencode(query)}"


def collision_error(practitioner_id, start, end, reason, change, sessions) -> forms.ValidationError:
    return forms.ValidationError(
        format_html(
            '{}<ul>{}</ul><a href="{}">{}</a>.',
            gettext("This time off falls over %(count)d booked session(s), so it is not saved:")
            % {"count": len(sessions)},
            format_html_join("", "<li>{}</li>", ((session_label(s),) for s in sessions)),
            time_off_url(practitioner_id, start, end, reason, change),
            gettext("Choose who takes each one or cancel it, and save the time off"),
        ),
        code="collides",
    )


class TimeOffModelForm(forms.ModelForm):
    """The inline's and the time off page's form: refuses time off over booked sessions."""

    class Meta:
        model = TimeOff
        fields = ["practitioner", "start", "end", "reason"]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if not (start and end):
            return data
        if end <= start:
            raise forms.ValidationError(gettext("The end of the time off must be after its start."))
        practitioner = data.get("practitioner") or getattr(self.instance, "practitioner", None)
        moved = not self.instance.pk or {"start", "end", "practitioner"} & set(self.changed_data)
        if practitioner is None or practitioner.pk is None or not moved:
            return data
        if sessions := time_off_collisions(practitioner=practitioner, start=start, end=end):
            raise collision_error(
                practitioner.pk, start, end, data.get("reason", ""), self.instance.pk, sessions
            )
        return data


class WorkingHoursInline(TabularInline):
    model = WorkingHours
    extra = 0


class TimeOffInline(TabularInline):
    model = TimeOff
    form = TimeOffModelForm
    fields = ["start", "end", "reason"]
    extra = 0


class TimeOffForm(forms.Form):
    start = forms.DateTimeField(
        label=_("Start"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )
    end = forms.DateTimeField(
        label=_("End"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", gettext("The end of the time off must be after its start."))
        return data


class ResolutionForm(forms.Form):
    """One required choice per colliding session: a free practitioner, or cancel and tell."""

    def __init__(self, *args, sessions, choices, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for session in sessions:
            options = [
                (str(p.pk), gettext("Hand it to %(practitioner)s") % {"practitioner": p})
                for p in choices[session.pk]
            ]
            options.append((CANCEL, gettext("Cancel it and tell the patient by email")))
            name = f"session_{session.pk}"
            self.fields[name] = forms.ChoiceField(
                label=gettext("What happens to %(session)s?") % {"session": session_label(session)},
                choices=options,
                widget=forms.RadioSelect,
                error_messages={
                    "required": gettext("Choose who takes this session, or cancel it."),
                    "invalid_choice": gettext(
                        "That practitioner is no longer free then. Choose again."
                    ),
                },
            )
            self.rows.append(
                {"session": session, "field": self[name], "note": self._note(session, choices, now)}
            )

    @staticmethod
    def _note(session, choices, now) -> str:
        """Why a session has fewer choices than staff might expect."""
        if session.start <= now:
            return gettext(
                "It has already started: mark it attended or a no-show on its page first."
            )
        if choices[session.pk]:
            return ""
        return gettext("No other practitioner who offers %(treatment)s is free at that time.") % {
            "treatment": session.course.treatment
        }

    def resolutions(self) -> dict[int, int | str]:
        return {
            int(name.removeprefix("session_")): choice for name, choice in self.cleaned_data.items()
        }


class PractitionerForm(forms.ModelForm):
    """The practitioner's details, with a new photo or its removal (`self.photo` for the save)."""

    photo_upload = forms.FileField(
        label=_("New photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_(
            "A JPEG, PNG or WebP photo, up to 8 MB and 6000 by 6000 pixels. It is cut to "
            "a square around the middle, a little above centre, so keep the face there."
        ),
    )
    photo_remove = forms.BooleanField(label=_("Remove the photo"), required=False)

    class Meta:
        model = Practitioner
        fields = [
            "display_name",
            "credentials",
            "bio",
            "user",
            "treatments",
            "is_active",
            "photo_alt",
        ]
        widgets = {"photo_alt": forms.TextInput(attrs={"class": "vLargeTextField"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.photo = services.UNCHANGED  # or PhotoFiles (a new photo), or None (removed)

    def clean_photo_upload(self):
        upload = self.cleaned_data.get("photo_upload")
        if upload:
            try:
                self.photo = photos.photo_prepare(upload)
            except photos.PhotoRefused as refused:
                raise forms.ValidationError(refused.message, code="photo") from None
        return upload

    def clean(self):
        data = super().clean()
        upload, remove = data.get("photo_upload"), data.get("photo_remove")
        if upload and remove:
            self.add_error(
                "photo_remove", gettext("Either upload a new photo or remove it, not both.")
            )
        elif remove:
            self.photo = None
        new_photo = bool(upload) or "photo_upload" in self.errors
        keeps_photo = bool(self.instance.photo) and not remove
        if (new_photo or keeps_photo) and not data.get("photo_alt", "").strip():
            self.add_error(
                "photo_alt",
                gettext(
                    "Describe the photo for people who cannot see it, for example: "
                    "Priya smiling, in a navy tunic."
                ),
            )
        return data


@admin.register(Practitioner)
class PractitionerAdmin(FieldAccessAdmin):
    form = PractitionerForm
    list_display = ["display_name", "credentials", "has_photo", "is_active"]
    list_filter = ["is_active", "treatments"]
    search_fields = ["display_name"]
    filter_horizontal = ["treatments"]
    readonly_fields = ["photo_preview"]
    fieldsets = [
        (
            None,
            {"fields": ["display_name", "credentials", "bio", "user", "treatments", "is_active"]},
        ),
        (
            _("Photo"),
            {
                "fields": ["photo_preview", "photo_upload", "photo_remove", "photo_alt"],
                "description": _(
                    "Shown to patients when they choose whom to see and when they confirm "
                    "a booking. Without a photo they see the practitioner's initials."
                ),
            },
        ),
    ]
    inlines = [WorkingHoursInline, TimeOffInline]

    @admin.display(description=_("photo"), boolean=True)
    def has_photo(self, obj):
        return bool(obj.photo)

    @admin.display(description=_("current photo"))
    def photo_preview(self, obj):
        if obj is None or not obj.photo:
            return gettext("No photo yet.")
        small, large = (photos.photo_url(obj.photo, size) for size in photos.SIZES)
        return format_html(
            '<img src="{}" srcset="{} 2x" width="96" height="96" alt="{}">',
            small,
            large,
            obj.photo_alt,
        )

    def save_model(self, request, obj, form, change):
        services.practitioner_save(
            practitioner=obj,
            photo=getattr(form, "photo", services.UNCHANGED),  # any form
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/time-off/",
                self.admin_site.admin_view(self.time_off_view),
                name="booking_practitioner_time_off",
            ),
            *super().get_urls(),
        ]

    def time_off_view(self, request, object_id):
        """Add (or change) time off; first resolve every booked session it falls over."""
        if not request.user.has_perm("booking.add_timeoff"):
            raise PermissionDenied
        practitioner = self.get_object(request, unquote(object_id))
        if practitioner is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        replacing = self._replacing(request, practitioner)
        initial = {"start": request.GET.get("start"), "end": request.GET.get("end")}
        initial["reason"] = request.GET.get("reason", "")
        if replacing and not request.GET.get("start"):
            initial = {"start": replacing.start, "end": replacing.end, "reason": replacing.reason}
        form = TimeOffForm(request.POST or None, initial=initial)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Time off for %(practitioner)s") % {"practitioner": practitioner},
            "practitioner": practitioner,
            "replacing": replacing,
            "form": form,
            "resolve": None,
            "can_resolve": request.user.has_perm("booking.reschedule_session"),
        }
        if request.method == "POST" and form.is_valid():
            now = timezone.now()
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            sessions = time_off_collisions(practitioner=practitioner, start=start, end=end)
            resolve = ResolutionForm(
                request.POST if "resolving" in request.POST else None,
                sessions=sessions,
                choices=handover_choices(sessions=sessions, now=now),
                now=now,
            )
            context["resolve"] = resolve
            if not sessions or (context["can_resolve"] and resolve.is_valid()):
                try:
                    time_off_add(
                        practitioner=practitioner,
                        start=start,
                        end=end,
                        reason=form.cleaned_data["reason"],
                        resolutions=resolve.resolutions() if sessions else {},
                        now=now,
                        by=request.user,
                        replacing=replacing,
                    )
                except BookingError as error:
                    self.message_user(request, error.message, messages.ERROR)
                    # Someone booked meanwhile: offer only who is free now.
                    context["resolve"] = ResolutionForm(
                        request.POST,
                        sessions=sessions,
                        choices=handover_choices(sessions=sessions, now=now),
                        now=now,
                    )
                else:
                    self._saved_message(request, resolve.resolutions() if sessions else {})
                    url = reverse("admin:booking_practitioner_change", args=[practitioner.pk])
                    return HttpResponseRedirect(url)
            elif resolve.is_bound and context["can_resolve"]:
                self.message_user(
                    request,
                    gettext("Nothing was changed: choose again for the sessions marked below."),
                    messages.ERROR,
                )
        return TemplateResponse(request, "admin/booking/practitioner/time_off.html", context)

    def _replacing(self, request, practitioner) -> TimeOff | None:
        """The time off row being changed (?change=<id>), when that is what the link is for."""
        change = request.GET.get("change", "")
        # "²".isdigit(), yet int("²") fails; past 18 digits it is no id (and past
        # 4,300 Python refuses to read it at all).
        if not (change.isascii() and change.isdigit() and len(change) <= 18):
            return None
        if not request.user.has_perm("booking.change_timeoff"):
            raise PermissionDenied
        return TimeOff.objects.filter(pk=change, practitioner=practitioner).first()

    def _saved_message(self, request, resolutions) -> None:
        cancelled = sum(choice == CANCEL for choice in resolutions.values())
        handed = len(resolutions) - cancelled
        parts = [gettext("The time off is saved.")]
        if handed:
            parts.append(
                gettext("%(count)d session(s) handed to another practitioner.") % {"count": handed}
            )
        if cancelled:
            parts.append(gettext("%(count)d session(s) cancelled.") % {"count": cancelled})
        if resolutions:
            parts.append(gettext("Each patient is told by email."))
        self.message_user(request, " ".join(parts))


@admin.register(TimeOff)
class TimeOffAdmin(FieldAccessAdmin):
    """Everyone's time off in one list; the form refuses time off over booked sessions."""

    form = TimeOffModelForm
    list_display = ["practitioner", "start", "end", "reason"]
    list_filter = ["practitioner"]
    date_hierarchy = "start"
    list_select_related = ["practitioner"]
