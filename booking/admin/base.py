"""What the booking admin pages share: read-only rows and each role's object-level scope."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext

from clinic.admin_access import FieldAccessAdmin
from clinic.roles import ALL, OWN, scope_of

from .. import selectors
from ..models import Course, Practitioner, Session

NOTHING = 0  # a practitioner id no row has: a clinician not linked to one sees nothing


def limited_to_practitioner(request, label: str = "booking.session") -> int | None:
    """None when the user sees every row of `label`; else the practitioner they are limited to.

    The scope comes from clinic/roles.py's ACCESS table: ALL (superusers,
    reception) gives None; OWN (a clinician) their own practitioner's id, or
    NOTHING when no practitioner is linked to their account; no access NOTHING.
    Cached on the request.
    """
    cache = request.__dict__.setdefault("_booking_scope", {})
    if label not in cache:
        scope = scope_of(request.user, label)
        if scope == ALL:
            cache[label] = None
        elif scope == OWN:
            cache[label] = (
                Practitioner.objects.filter(user=request.user).values_list("pk", flat=True).first()
                or NOTHING
            )
        else:
            cache[label] = NOTHING
    return cache[label]


def patients_of(practitioner_id: int) -> Q:
    """A filter on patient ids: those with a course or a session with this practitioner."""
    return Q(
        pk__in=Session.objects.filter(practitioner_id=practitioner_id).values("patient_id")
    ) | Q(pk__in=Course.objects.filter(practitioner_id=practitioner_id).values("patient_id"))


def courses_of(practitioner_id: int) -> Q:
    """A filter on courses: theirs, or with a session of theirs (as their sessions are)."""
    return Q(practitioner_id=practitioner_id) | Q(
        pk__in=Session.objects.filter(practitioner_id=practitioner_id).values("course_id")
    )


# What OWN means for each model a clinician may open: the rows of their own practitioner.
OWN_ROWS = {
    "booking.session": lambda p: Q(practitioner_id=p),
    "booking.course": courses_of,
    "booking.patient": patients_of,
    "booking.clinicalnote": lambda p: Q(session__practitioner_id=p),
    "booking.reminder": lambda p: Q(session__practitioner_id=p),
}


def in_scope(request, queryset):
    """`queryset` cut to the rows of its model the user's role reaches (clinic/roles.py)."""
    label = queryset.model._meta.label_lower
    practitioner_id = limited_to_practitioner(request, label)
    if practitioner_id is None:
        return queryset
    if practitioner_id == NOTHING or label not in OWN_ROWS:
        return queryset.none()
    return queryset.filter(OWN_ROWS[label](practitioner_id))


def describe(session: Session) -> str:
    """'Session 1 of 3 for Patient 1, Tue 2 Jun 10:00' (clinic time)."""
    start = session.start.astimezone(selectors.clinic_zone())
    return gettext("Session %(number)d of %(planned)d for %(patient)s, %(start)s") % {
        "number": session.number,
        "planned": session.course.sessions_planned,
        "patient": session.patient,
        "start": f"{start:%a %-d %b %H:%M}",
    }


class ScopedAdmin(FieldAccessAdmin):
    """Rows outside the user's scope are not in the queryset, so their URLs answer
    exactly as a row that does not exist would. Scope and hidden fields come from
    clinic/roles.py's ACCESS table."""

    def get_queryset(self, request):
        return in_scope(request, super().get_queryset(request))

    def _in_scope_or_404(self, request, object_id, version_id=None) -> None:
        # django-simple-history's pages look rows up in the history table, past
        # get_queryset: an id that is not one (typed into the URL) must 404 there, not
        # raise ValueError in the lookup, and a row outside the scope must 404 as a
        # missing one does.
        try:
            pk = self.opts.pk.to_python(unquote(object_id))
            if version_id is not None:
                self.model.history.model._meta.pk.to_python(unquote(version_id))
        except ValidationError:
            raise Http404 from None
        if limited_to_practitioner(request) is None:
            return
        if not self.get_queryset(request).filter(pk=pk).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._in_scope_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._in_scope_or_404(request, object_id, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, in the user's scope; changes go through the services."""

    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return in_scope(request, super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(FieldAccessAdmin):
    """Rows staff read; their changes go through the services' own pages and actions."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
