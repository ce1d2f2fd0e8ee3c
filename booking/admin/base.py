"""What the booking admin pages share: read-only rows and each role's object-level scope."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404

from clinic.roles import CLINICIAN, RECEPTION

from .. import selectors
from ..models import Course, Practitioner, Session

NOTHING = 0  # a practitioner id no row has: a clinician not linked to one sees nothing


def limited_to_practitioner(request) -> int | None:
    """None when the user sees every patient record; else the practitioner they are limited to.

    Superusers and reception see everything; a clinician sees their own
    sessions and their patients. Cached on the request.
    """
    if not hasattr(request, "_booking_scope"):
        user = request.user
        names = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        if user.is_superuser or RECEPTION in names:
            scope = None
        elif CLINICIAN in names:
            scope = (
                Practitioner.objects.filter(user=user).values_list("pk", flat=True).first()
                or NOTHING
            )
        else:
            scope = NOTHING
        request._booking_scope = scope
    return request._booking_scope


def patients_of(practitioner_id: int) -> Q:
    """A filter on patient ids: those with a course or a session with this practitioner."""
    return Q(
        pk__in=Session.objects.filter(practitioner_id=practitioner_id).values("patient_id")
    ) | Q(pk__in=Course.objects.filter(practitioner_id=practitioner_id).values("patient_id"))


def describe(session: Session) -> str:
    """'Session 1 of 3 for Patient 1, Tue 2 Jun 10:00' (clinic time)."""
    start = session.start.astimezone(selectors.clinic_zone())
    return (
        f"Session {session.number} of {session.course.sessions_planned} for {session.patient}, "
        f"{start:%a %-d %b %H:%M}"
    )


class ScopedAdmin(admin.ModelAdmin):
    """Rows outside the user's scope are not in the queryset, so their URLs answer
    exactly as a row that does not exist would."""

    def scope(self, queryset, practitioner_id: int):
        raise NotImplementedError

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        practitioner_id = limited_to_practitioner(request)
        if practitioner_id is None:
            return queryset
        return self.scope(queryset, practitioner_id)

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
    """Rows shown under their parent; changes go through the services, not here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows staff read; their changes go through the services' own pages and actions."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
