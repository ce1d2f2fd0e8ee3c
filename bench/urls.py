"""The app's URLs plus the benchmark's own endpoints (bench.settings only).

Nothing here is reachable under any other settings module: the product's
URLconf is clinic/urls.py. These endpoints exist so `make bench` can measure
the real code under load:

- /bench/minimal/: the smallest Django view, through the same middleware; every
  throughput is given as a ratio to it.
- /bench/cold/treatments/<slug>/: the real treatment page with nothing kept,
  as after an editor's save (the content version moves on).
- /bench/patients/ and /bench/courses/: a new patient, and a 3-session course
  booked for them with the real planner and booking service (JSON).
"""

import random
import uuid
from datetime import timedelta

from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from booking import selectors, services
from booking.models import BookingRules, Patient
from education.models import Treatment
from education.views import treatment_detail

from clinic import caching
from clinic.models import User


def minimal(request):
    return HttpResponse("ok", content_type="text/plain")


def treatment_cold(request, slug):
    caching.bump(caching.CONTENT)  # as an editor's save: every kept page and row misses
    return treatment_detail(request, slug)


@csrf_exempt
@require_POST
def patient_new(request):
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    user = User.objects.create_user(email, None, full_name="Bench Patient")
    patient = services.patient_create(user=user, full_name="Bench Patient", phone="07700 900000")
    return JsonResponse({"patient": patient.pk}, status=201)


@csrf_exempt
@require_POST
def course_new(request):
    """Book a course for a patient: a random free first slot in a random week, then its plan.

    Answers 201 booked, 409 taken (another patient got a time first: a
    legitimate answer, not an error), 200 with "full" when nothing fits.
    """
    patient = Patient.objects.get(pk=request.POST["patient"])
    treatment = Treatment.objects.published().get(
        slug=request.POST.get("treatment", "microneedling")
    )
    sessions = int(request.POST.get("sessions", 3))
    now = timezone.now()
    rules = BookingRules.current()
    weeks = int(request.POST.get("weeks", rules.horizon_weeks))  # where first sessions may go
    zone = selectors.clinic_zone()
    first_day = (now + rules.min_notice).astimezone(zone).date()
    week_from = first_day + timedelta(weeks=random.randrange(weeks))  # noqa: S311
    free = selectors.free_slots(
        treatment=treatment,
        day_from=week_from,
        day_to=week_from + timedelta(days=6),
        now=now,
        patient=patient,
        rules=rules,
    )
    if not free:
        return JsonResponse({"result": "full"})
    first = random.choice(free)  # noqa: S311
    planned = selectors.course_proposal(
        first=first,
        treatment=treatment,
        sessions=sessions,
        now=now,
        patient=patient,
        rules=rules,
    )
    slots = [p.slot for p in planned if p.slot]
    if len(slots) < sessions:
        return JsonResponse({"result": "full"})
    try:
        course = services.course_book(
            patient=patient,
            treatment=treatment,
            slots=slots,
            now=now,
            idempotency_key=None,
            **services.online_agreement(treatment),
        )
    except services.SlotTaken:
        return JsonResponse({"result": "taken"}, status=409)
    except services.BookingError as error:
        return JsonResponse({"result": "refused", "message": error.message}, status=422)
    return JsonResponse({"result": "booked", "course": course.pk}, status=201)


urlpatterns = [
    path("bench/minimal/", minimal),
    path("bench/cold/treatments/<slug:slug>/", treatment_cold),
    path("bench/patients/", patient_new),
    path("bench/courses/", course_new),
    path("", include("clinic.urls")),
]
