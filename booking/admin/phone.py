"""Phone booking in the admin: reception books a course on a patient's behalf.

Step 1 finds the patient (or adds one); step 2 chooses the treatment and the
first session from the real free times; step 3 shows the course the journey's
own planner proposes, lets staff change later sessions, and books it through
the journey's own service. Staff may waive the minimum notice or the spacing
window only with a reason, which the course keeps; everything else (hours,
time off, the horizon, no double booking) still holds.

State travels in the query string and hidden fields, so nothing is written
before "Add patient" or "Book", and two bookings in two tabs never mix.

A booking can also start from a free gap on the schedule (`phone_start_url`): its
time and practitioner (and treatment, when there is only one) ride along from step 1,
into step 3 when the treatment is known, else into step 2 with them filled in.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.money import treatment_course_price
from clinic.security import rate_limit, too_many_requests

from .. import rulebook, selectors, services
from ..availability import Slot
from ..forms import posted_slot
from ..journey import slot_value
from ..models import BookingRules, ConsentText, Course, Patient
from .base import in_scope
from .phone_forms import (
    ChosenStartForm,
    CourseChoiceForm,
    PatientSearchForm,
    PhonePatientForm,
    PlanForm,
)
from .phone_plan import (
    alternatives_shown,
    first_session_times,
    form_values,
    is_offered,
    new_key,
    patients_matching,
    plan_rows,
    plan_values,
    planned,
    suggestions,
)

PERMISSION = "booking.book_by_phone"
DAYS_SHOWN = 14  # how far ahead step 2 looks for the next day with free times
CHOICES = ("treatment", "sessions", "practitioner", "short_notice")  # carried from step 2
STEPS = {"find": 1, "course": 2, "plan": 3}


def phone_start_url(
    *, practitioner_id: int, start: datetime, treatment_id: int | None, short_notice: bool
) -> str:
    """Step 1 with the first session's time and practitioner already chosen (the
    schedule's free gaps); the treatment too when there is only one to book."""
    query = [
        ("practitioner", practitioner_id),
        ("treatment", treatment_id or ""),
        ("short_notice", "on" if short_notice else ""),
        ("first", slot_value(Slot(start, start, practitioner_id))),
    ]
    return f"{reverse('admin:booking_course_phone')}?{urlencode([q for q in query if q[1]])}"


def patient_add(user, data: dict) -> Patient:
    """A patient from the phone form; an account made online that never booked is linked,
    not duplicated (services.patient_register)."""
    return services.patient_register(
        user=user,
        email=data["email"],
        full_name=data["full_name"],
        phone=data["phone"],
        date_of_birth=data.get("date_of_birth"),
    )


class PhoneBooking:
    """The views; `phone_urls` wraps each in the admin site's sign-in and CSRF checks."""

    def __init__(self, model_admin):
        self.admin_site = model_admin.admin_site

    def _check(self, request) -> None:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied

    def _render(self, request, name: str, title: str, context: dict, status: int = 200):
        return TemplateResponse(
            request,
            f"admin/booking/phone/{name}.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": Course._meta,
                "step": STEPS[name],
                **context,
            },
            status=status,
        )

    def _patients(self, request):
        """The patients this user may see; an id outside them answers 404, as a missing one."""
        return in_scope(request, Patient.objects.all())

    @staticmethod
    def _chosen(data) -> ChosenStartForm | None:
        """The time chosen on the schedule, if `data` carries one that makes sense."""
        chosen = ChosenStartForm(data if "first" in data else None)
        return chosen if chosen.is_valid() else None

    @staticmethod
    def _after_patient(patient, chosen: ChosenStartForm) -> str:
        """Where a time chosen on the schedule goes once the patient is known: the plan
        when its treatment is known, else the treatment to choose."""
        step = "plan" if chosen.cleaned_data["treatment"] else "course"
        query = urlencode(chosen.carried())
        return f"{reverse(f'admin:booking_course_phone_{step}', args=[patient.pk])}?{query}"

    # --- step 1: the patient ----------------------------------------------------

    def _find_page(self, request, search, results, new_form, offered=None, status=200):
        context = {
            "search": search,
            "results": results,
            "new_form": new_form,
            "offered": [offered] if offered else None,
            "chosen": self._chosen(request.POST if request.method == "POST" else request.GET),
        }
        return self._render(request, "find", gettext("Book a course by phone"), context, status)

    def find(self, request):
        self._check(request)
        search = PatientSearchForm(request.GET if "q" in request.GET else None)
        results = None
        if search.is_valid():
            results = list(patients_matching(self._patients(request), search.cleaned_data["q"]))
        status = 400 if search.errors else 200
        return self._find_page(request, search, results, PhonePatientForm(), status=status)

    def patient_new(self, request):
        self._check(request)
        # Staff are not held to the patients' sign-up limit (a busy phone morning), but
        # each staff account has its own: a stolen session cannot mint accounts unbounded.
        limit, period = settings.RATE_LIMIT_PHONE_PATIENTS
        key = f"staff:{request.user.pk}"
        wait = rate_limit(request, action="phone-patient", limit=limit, period=period, key=key)
        if wait is not None:
            return too_many_requests(request, wait)
        form = PhonePatientForm(request.POST)
        offered = None
        if form.is_valid():
            existing = form.existing_user()
            if existing is not None and (hasattr(existing, "patient") or existing.is_staff):
                # Never a second patient for one email; offer the one there is.
                offered = self._patients(request).filter(user=existing).first()
                form.add_error(
                    "email",
                    gettext("There is already a patient with this email: book for them below.")
                    if offered
                    else gettext("There is already an account with this email."),
                )
            else:
                try:
                    patient = patient_add(existing, form.cleaned_data)
                except (IntegrityError, ValidationError):  # the same email, added a moment ago
                    form.add_error("email", gettext("There is already an account with this email."))
                else:
                    messages.success(
                        request,
                        gettext("Added %(name)s as a patient.") % {"name": patient.full_name},
                    )
                    chosen = self._chosen(request.POST)
                    if chosen is not None:
                        return redirect(self._after_patient(patient, chosen))
                    return redirect("admin:booking_course_phone_course", patient.pk)
        return self._find_page(request, PatientSearchForm(), None, form, offered, status=400)

    # --- step 2: the course and its first session -------------------------------

    def course(self, request, patient_id: int):
        self._check(request)
        patient = get_object_or_404(self._patients(request), pk=patient_id)
        chosen = self._chosen(request.GET)
        if "treatment" in request.GET:
            choice = CourseChoiceForm(request.GET)
        else:  # a time chosen on the schedule fills in what it can
            initial = dict(chosen.carried()) if chosen else {}
            choice = CourseChoiceForm(initial={k: v for k, v in initial.items() if k != "first"})
        return self._course_page(request, patient, choice, chosen=chosen)

    def _course_page(self, request, patient, choice, error: str = "", chosen=None):
        context = {"patient": patient, "choice": choice, "error": error, "chosen": chosen}
        if choice.is_bound and choice.is_valid():
            context.update(self._free_times(patient, choice, chosen))
        status = 400 if error or choice.errors else 200
        return self._render(
            request, "course", gettext("Book by phone: the course"), context, status
        )

    def _free_times(self, patient, choice, chosen=None) -> dict:
        """The chosen day's free times for the first session, and the next day with some;
        the time chosen on the schedule, if one was, marked among them."""
        data = choice.cleaned_data
        day, slots, next_free = first_session_times(
            treatment=data["treatment"],
            practitioner=data["practitioner"],
            patient=patient,
            short_notice=data["short_notice"],
            day=data["day"],
            days=DAYS_SHOWN,
        )
        if chosen is not None:
            start, pk = chosen.cleaned_data["start"], chosen.cleaned_data["practitioner"].pk
            for item in slots:
                item["chosen"] = item["slot"].start == start and item["slot"].practitioner_id == pk
        return {
            "day": day,
            "slots": slots,
            "chosen_missing": chosen is not None and not any(i["chosen"] for i in slots),
            "choice_fields": self._carried(choice),
            "previous_day_url": self._day_url(choice, patient, day - timedelta(days=1)),
            "next_day_url": self._day_url(choice, patient, day + timedelta(days=1)),
            "next_free_day": next_free,
            "next_free_url": self._day_url(choice, patient, next_free) if next_free else None,
        }

    @staticmethod
    def _carried(choice) -> list[tuple[str, str]]:
        """Step 2's choices as typed, for hidden fields and links."""
        return [(n, choice.data[n]) for n in CHOICES if choice.data.get(n)]

    def _day_url(self, choice, patient, day) -> str:
        query = urlencode([*self._carried(choice), ("day", day.isoformat())])
        return f"{reverse('admin:booking_course_phone_course', args=[patient.pk])}?{query}"

    # --- step 3: the plan, and booking it ---------------------------------------

    def plan(self, request, patient_id: int):
        self._check(request)
        patient = get_object_or_404(self._patients(request), pk=patient_id)
        choice = CourseChoiceForm(request.POST if request.method == "POST" else request.GET)
        if not choice.is_valid():
            return self._course_page(request, patient, choice)
        if request.method == "GET":
            return self._plan_start(request, patient, choice)
        posted, error = request.POST.copy(), ""
        if "use" in posted:  # an alternative or a suggestion, for one session
            error = self._use(posted, posted["use"], patient, choice)
        form = self._form(posted, choice)
        if posted.get("action") == "book" and "use" not in posted:
            return self._book(request, patient, choice, form)
        form.is_valid()
        return self._plan_page(request, patient, choice, form, error=error)

    def _form(self, data, choice, **kwargs) -> PlanForm:
        return PlanForm(
            data,
            treatment=choice.cleaned_data["treatment"],
            sessions=choice.cleaned_data["sessions"],
            consent_text=ConsentText.current(),
            **kwargs,
        )

    def _offered(self, slot, patient, choice, *, anyone: bool = False) -> bool:
        data = choice.cleaned_data
        return is_offered(
            slot,
            treatment=data["treatment"],
            practitioner=None if anyone else data["practitioner"],
            patient=patient,
            short_notice=data["short_notice"],
        )

    def _planned(self, first, patient, choice):
        data = choice.cleaned_data
        return planned(
            first,
            treatment=data["treatment"],
            sessions=data["sessions"],
            patient=patient,
            anyone=data.get("practitioner") is None,
        )

    def _plan_start(self, request, patient, choice):
        first = posted_slot(request.GET.get("first", ""), choice.cleaned_data["treatment"])
        if not self._offered(first, patient, choice):
            error = gettext("That time is not free. Please choose one of the times shown.")
            return self._course_page(request, patient, choice, error)
        plan = self._planned(first, patient, choice)
        form = self._form(
            None,
            choice,
            initial={"first": slot_value(first), "key": new_key(), **plan_values(plan)},
        )
        notes = {p.number: p.reason for p in plan if p.reason}
        slots = [p.slot for p in plan]
        return self._plan_page(request, patient, choice, form, slots=slots, notes=notes)

    def _use(self, posted, value: str, patient, choice) -> str:
        """Put one offered time into the plan; for session 1, plan the rest from it again."""
        number, _, slot_text = value.partition("|")
        slot = posted_slot(slot_text, choice.cleaned_data["treatment"])
        if slot is None or number not in {
            str(n) for n in range(1, choice.cleaned_data["sessions"] + 1)
        }:
            return gettext("That time was not understood. Please choose again.")
        if number != "1":
            posted.update(form_values(int(number), slot))
            return ""
        if not self._offered(slot, patient, choice, anyone=True):
            return gettext("That time is not free any more. Please choose another.")
        posted["first"] = slot_value(slot)
        posted.update(plan_values(self._planned(slot, patient, choice)))
        return ""

    def _book(self, request, patient, choice, form):
        if not form.is_valid():
            return self._plan_page(request, patient, choice, form)
        data = form.cleaned_data
        if not data["key"]:  # a page from before keys, or edited by hand
            posted = request.POST.copy()
            posted["key"] = new_key()
            form = self._form(posted, choice)
            form.is_valid()
            error = gettext("This page was out of date. Please check the details and book again.")
            return self._plan_page(request, patient, choice, form, error=error)
        try:
            course = services.course_book(
                patient=patient,
                treatment=choice.cleaned_data["treatment"],
                slots=data["slots"],
                idempotency_key=data["key"],
                answers=form.answers(),
                answers_version=data["questions_version"],
                consent=ConsentText.current(),
                consent_method=data["consent_method"],
                booked_by=request.user,
                allow_short_notice=data["allow_short_notice"],
                allow_outside_window=data["allow_outside_window"],
                override_reason=data["override_reason"],
                clinical_reason=data["clinical_reason"],
            )
        except services.BookingError as refused:
            if refused.rule == rulebook.ANSWERS:  # the questions changed: ask the new ones
                posted = request.POST.copy()
                for question in form.questions:
                    posted.pop(f"q{question.pk}", None)
                posted["questions_version"] = choice.cleaned_data["treatment"].questions_version
                form = self._form(posted, choice)
                form.is_valid()
            return self._plan_page(
                request,
                patient,
                choice,
                form,
                error=refused.message,
                alternatives=refused.alternatives,
            )
        messages.success(request, gettext("Booked: %(course)s.") % {"course": course})
        return redirect("admin:booking_course_change", course.pk)

    def _plan_page(
        self, request, patient, choice, form, *, slots=None, notes=None, error="", alternatives=()
    ):
        """Step 3's page; `slots` for a fresh plan, else those the (bound) form holds."""
        treatment, zone = choice.cleaned_data["treatment"], selectors.clinic_zone()
        sessions = choice.cleaned_data["sessions"]
        if slots is None:
            slots = [form.session_slots.get(n) for n in range(1, sessions + 1)]
        rows = plan_rows(slots, treatment, notes or {})
        suggested = suggestions(slots, treatment=treatment, patient=patient)
        for row in rows[1:]:
            row["fields"] = form.session_fields(row["number"])
            row["suggestion"] = suggested.get(row["number"])
        rules, first = BookingRules.current(), slots[0]
        first_day = first.start.astimezone(zone).date() if first else None
        context = {
            "patient": patient,
            "treatment": treatment,
            "sessions": sessions,
            # What the course costs now, to tell the patient (the service sells it so).
            "price": treatment_course_price(treatment, sessions),
            "choice_fields": self._carried(choice),
            "change_first_url": self._day_url(choice, patient, first_day) if first else None,
            "form": form,
            "rows": rows,
            "suggested": [row for row in rows[1:] if row["suggestion"]],
            "short_notice": bool(first and first.start < timezone.now() + rules.min_notice),
            "min_notice_hours": rules.min_notice_hours,
            "consent_text": ConsentText.current(),
            "error": error,
            "alternatives": alternatives_shown(list(alternatives), slots),
        }
        status = 400 if error or form.errors else 200
        return self._render(
            request, "plan", gettext("Book by phone: check and book"), context, status
        )


def phone_urls(model_admin) -> list:
    """Phone booking's pages, for CourseAdmin.get_urls (before its own '<id>/' patterns)."""
    views, wrap = PhoneBooking(model_admin), model_admin.admin_site.admin_view
    return [
        path("phone/", wrap(require_GET(views.find)), name="booking_course_phone"),
        path(
            "phone/patient/",
            wrap(require_POST(views.patient_new)),
            name="booking_course_phone_patient",
        ),
        path(
            "phone/<int:patient_id>/",
            wrap(require_GET(views.course)),
            name="booking_course_phone_course",
        ),
        path(
            "phone/<int:patient_id>/plan/",
            wrap(require_http_methods(["GET", "POST"])(views.plan)),
            name="booking_course_phone_plan",
        ),
    ]
