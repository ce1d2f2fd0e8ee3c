"""When: the first session's free times (the picker, booking/picker.py), then the course plan
and its changes."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from education.models import Treatment

from ... import rulebook, selectors
from ...forms import posted_slot
from ...journey import Journey, parse_slot, slot_value
from ...models import BookingRules, Practitioner
from ...picker import by_day, pick
from ..picker import asked_day, picker_context
from .steps import guard, step_page


def _practitioners(journey: Journey, treatment: Treatment) -> list[Practitioner]:
    everyone = selectors.practitioners_for(treatment)
    if journey.practitioner is None:
        return everyone
    return [p for p in everyone if p.pk == journey.practitioner]


@never_cache
@require_http_methods(["GET", "POST"])
def time(request):
    """A week of free times for the first session; choosing one plans the course."""
    journey, treatment, early = guard(request, "time")
    if early:
        return early
    now = timezone.now()
    rules = BookingRules.current()
    zone = selectors.clinic_zone()
    patient = selectors.patient_of(request.user)
    if request.method == "POST":
        slot = posted_slot(request.POST.get("slot", ""), treatment)
        if slot is None or not selectors.slot_is_free(
            slot,
            treatment=treatment,
            practitioners=_practitioners(journey, treatment),
            patient=patient,
            now=now,
        ):
            messages.error(
                request, gettext("That time is not free. Please choose one of the times shown.")
            )
            return redirect("booking:time")
        planned = selectors.course_proposal(
            first=slot,
            treatment=treatment,
            sessions=journey.sessions,
            now=now,
            patient=patient,
            anyone=journey.practitioner is None,
        )
        journey.plan = [slot_value(p.slot) if p.slot else "" for p in planned]
        journey.save(request)
        return redirect("booking:plan")
    chosen = journey.slots(treatment)[0] if journey.plan else None
    first_day = (now + rules.min_notice).astimezone(zone).date()
    last_day = (now + rules.horizon).astimezone(zone).date()
    day, start = asked_day(request, "day"), asked_day(request, "from")
    if chosen and not (day or start):  # back to change it: the day it is on
        day = chosen.start.astimezone(zone).date()
    picker = selectors.slot_picker(
        treatment=treatment,
        practitioners=_practitioners(journey, treatment),
        patient=patient,
        now=now,
        first_day=first_day,
        last_day=last_day,
        day=day,
        start=start,
        rules=rules,
        keep=[chosen.start] if chosen else (),
    )
    context = {
        "journey": journey,
        "treatment": treatment,
        "chosen_start": chosen.start if chosen else None,
        "alternatives": [
            slot
            for value in request.session.pop("booking_alternatives", [])
            if (slot := parse_slot(value, treatment))
        ],
        "form_action": reverse("booking:time"),
        **picker_context(request, picker, first_day=first_day, last_day=last_day),
    }
    if request.htmx:
        return render(request, "booking/includes/picker.html", context)
    return step_page(request, "time", "booking/journey/time.html", context)


@never_cache
@require_http_methods(["GET"])
def plan(request):
    journey, treatment, early = guard(request, "plan")
    if early:
        return early
    practitioners = {p.pk: p for p in selectors.practitioners_for(treatment)}
    slots = journey.slots(treatment)
    windows = journey.windows(treatment, selectors.clinic_zone())
    first_with = slots[0].practitioner_id if slots and slots[0] else None
    rows = [
        {
            "number": number,
            "slot": slot,
            "window": window,
            "practitioner": practitioners.get(slot.practitioner_id) if slot else None,
            # Never silent: a session with someone else says so (its own choice, the patient's).
            "someone_else": bool(slot and slot.practitioner_id != first_with),
        }
        for number, (slot, window) in enumerate(zip(slots, windows, strict=True), start=1)
    ]
    return step_page(
        request,
        "plan",
        "booking/journey/plan.html",
        {
            "journey": journey,
            "treatment": treatment,
            "rows": rows,
            "complete": all(slots),
            "spacing": rulebook.spacing_sentence(treatment) if len(rows) > 1 else "",
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def plan_session(request, number: int):
    """Change one later session of the plan to another free time inside its window."""
    journey, treatment, early = guard(request, "plan")
    if early:
        return early
    slots = journey.slots(treatment)
    if not 2 <= number <= len(slots) or slots[number - 2] is None:
        raise Http404("No such session in this plan")
    zone = selectors.clinic_zone()
    window = journey.windows(treatment, zone)[number - 1]
    now = timezone.now()
    patient = selectors.patient_of(request.user)
    found = selectors.plan_session_choices(
        treatment=treatment, slots=slots, number=number, window=window, now=now, patient=patient
    )
    if request.method == "POST":
        slot = posted_slot(request.POST.get("slot", ""), treatment)
        if slot is None or slot not in set(found):
            messages.error(
                request,
                gettext(
                    "That time is not free inside this session's window. "
                    "Please choose one of the times shown."
                ),
            )
            return redirect("booking:plan_session", number=number)
        slots, moved = selectors.plan_session_change(
            treatment=treatment, slots=slots, number=number, slot=slot, now=now, patient=patient
        )
        for n in moved:
            messages.info(
                request,
                gettext("Session %(number)d moved to keep the gap between sessions.")
                % {"number": n},
            )
        journey.plan = [slot_value(s) if s else "" for s in slots]
        journey.save(request)
        return redirect("booking:plan")
    current = slots[number - 1]
    first_day = max(
        window.first_day, (now + BookingRules.current().min_notice).astimezone(zone).date()
    )
    found_by_day = by_day(found, zone, one_per_time=True)
    picker = pick(
        lambda _first, _last: found_by_day,  # the window's free times, found above
        first_day=first_day,
        last_day=window.last_day,
        zone=zone,
        day=asked_day(request, "day")
        or (current.start.astimezone(zone).date() if current else None),
        start=asked_day(request, "from"),
        keep=[current.start] if current else (),
        names={p.pk: p.display_name for p in selectors.practitioners_for(treatment)},
    )
    context = {
        "journey": journey,
        "treatment": treatment,
        "number": number,
        "window": window,
        "current_plan": current,
        "chosen_start": current.start if current else None,
        "form_action": request.path,
        **picker_context(request, picker, first_day=first_day, last_day=window.last_day),
    }
    if request.htmx:
        return render(request, "booking/includes/picker.html", context)
    return step_page(
        request,
        "plan",
        "booking/journey/plan_session.html",
        context,
    )
