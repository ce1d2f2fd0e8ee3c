"""The booking journey on /book/: thin views over the journey state and services.

Every step works without JavaScript; htmx only swaps the week of free times.
All state lives in the session (booking/journey.py), never in a URL.
"""

from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.security import limit_posts, rate_limit, too_many_requests
from education import selectors as education_selectors
from education.models import Treatment
from education.suitability import Suitability, suitability_outcome

from .. import rulebook, selectors, services
from ..availability import Slot
from ..courses import course_replan, session_window
from ..email_check import (
    CodeRefused,
    EmailCheck,
    email_code_account,
    email_code_check,
    email_code_send,
)
from ..forms import (
    ConsentForm,
    CourseLengthForm,
    EmailCodeForm,
    EmailForm,
    PatientDetailsForm,
    PatientPasswordForm,
    PractitionerChoiceForm,
    TreatmentChoiceForm,
    posted_slot,
)
from ..journey import Journey, parse_slot, slot_value
from ..models import BookingRules, ConsentText, Course, Patient, Practitioner
from .week import week_start

STEPS = [
    "treatment",
    "length",
    "questions",
    "practitioner",
    "time",
    "plan",
    "account",
    "consent",
    "confirm",
]
STEP_TITLES = {
    "treatment": "Treatment",
    "length": "Course",
    "questions": "Health questions",
    "practitioner": "Practitioner",
    "time": "First session",
    "plan": "Your course",
    "account": "Your details",
    "consent": "Consent",
    "confirm": "Confirm",
}


def _treatment(journey: Journey) -> Treatment | None:
    if not journey.treatment:
        return None
    return education_selectors.treatment_published(journey.treatment)


def _patient(request) -> Patient | None:
    if not request.user.is_authenticated:
        return None
    return Patient.objects.filter(user=request.user).first()


def _first_missing(journey: Journey, treatment: Treatment | None, request) -> str:
    if treatment is None:
        return "treatment"
    if journey.sessions is None:
        return "length"
    if not journey.answered and treatment.questions.exists():
        return "questions"
    if not journey.practitioner_chosen:
        return "practitioner"
    if not journey.plan:
        return "time"
    if any(not value for value in journey.plan):
        return "plan"
    if _patient(request) is None:
        return "account"
    if journey.consent is None:
        return "consent"
    return "confirm"


def _posted(request):
    """The posted data for a bound form, or None on GET."""
    return request.POST if request.method == "POST" else None


def _step_page(request, step: str, template: str, context: dict):
    """A step's page with the steps bar; 400 when its form came back with errors."""
    done = STEPS.index(step)
    treatment = context.get("treatment")
    steps = [
        (STEP_TITLES[s], i < done, i == done)
        for i, s in enumerate(STEPS)
        if not (s == "length" and treatment and treatment.sessions_max == 1)
    ]
    form = context.get("form")
    status = 400 if form is not None and form.errors else 200
    return render(request, template, {"steps": steps, "step": step, **context}, status=status)


def _guard(request, step: str):
    """(journey, treatment, None) or (.., .., a redirect to the first missing step)."""
    journey = Journey.load(request)
    treatment = _treatment(journey)
    missing = _first_missing(journey, treatment, request)
    if STEPS.index(missing) < STEPS.index(step):
        return (
            journey,
            treatment,
            redirect("booking:start" if missing == "treatment" else f"booking:{missing}"),
        )
    return journey, treatment, None


@never_cache
@require_http_methods(["GET", "POST"])
def start(request):
    """Choose a treatment (or continue a journey already under way)."""
    journey = Journey.load(request)
    form = TreatmentChoiceForm(
        _posted(request),
        initial={"treatment": _treatment(journey)},
    )
    if request.method == "POST" and form.is_valid():
        journey = Journey(treatment=form.cleaned_data["treatment"].slug)
        journey.save(request)
        return redirect("booking:length")
    in_progress = _treatment(journey) is not None and bool(journey.plan or journey.sessions)
    return _step_page(
        request,
        "treatment",
        "booking/journey/treatment.html",
        {"form": form, "journey": journey, "in_progress": in_progress},
    )


@never_cache
@require_http_methods(["GET"])
def start_with(request, slug):
    """From a treatment page: a new journey with that treatment chosen."""
    treatment = get_object_or_404(
        Treatment.objects.published().filter(bookable_online=True), slug=slug
    )
    journey = Journey(treatment=treatment.slug)
    if treatment.sessions_min == treatment.sessions_max:
        journey.sessions = treatment.sessions_min
    journey.save(request)
    return redirect("booking:length" if journey.sessions is None else "booking:questions")


@never_cache
@require_http_methods(["GET", "POST"])
def length(request):
    journey, treatment, early = _guard(request, "length")
    if early:
        return early
    if treatment.sessions_min == treatment.sessions_max:  # nothing to choose (a consultation)
        journey.sessions = treatment.sessions_min
        journey.save(request)
        return redirect("booking:questions")
    form = CourseLengthForm(
        _posted(request),
        treatment=treatment,
        initial={"sessions": journey.sessions or treatment.sessions_usual},
    )
    if request.method == "POST" and form.is_valid():
        if journey.sessions != form.cleaned_data["sessions"]:
            journey.sessions = form.cleaned_data["sessions"]
            journey.plan = []
        journey.save(request)
        return redirect("booking:questions")
    return _step_page(
        request,
        "length",
        "booking/journey/length.html",
        {
            "form": form,
            "journey": journey,
            "treatment": treatment,
            "spacing": rulebook.spacing_sentence(treatment),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def questions(request):
    from education.forms import SuitabilityForm

    journey, treatment, early = _guard(request, "questions")
    if early:
        return early
    items = list(treatment.questions.all())
    if not items:
        journey.answered = True
        journey.save(request)
        return redirect("booking:practitioner")
    data = _posted(request)
    initial = {f"q{q}": a for q, a in journey.answers.items()}
    form = SuitabilityForm(data, questions=items, initial=initial)
    outcome = yes = None
    if request.method == "POST" and form.is_valid():
        journey.answers = {str(q.pk): form.cleaned_data[f"q{q.pk}"] for q in items}
        yes = form.answered_yes()
        outcome = suitability_outcome(yes)
        if outcome == Suitability.BOOK:
            journey.answered = True
            journey.save(request)
            return redirect("booking:practitioner")
        journey.answered = False
        journey.save(request)
    return _step_page(
        request,
        "questions",
        "booking/journey/questions.html",
        {
            "form": form,
            "journey": journey,
            "treatment": treatment,
            "outcome": outcome,
            "answered_yes": yes,
            "consultation": Treatment.objects.published()
            .filter(is_consultation=True, bookable_online=True)
            .first(),
        },
    )


@never_cache
@require_http_methods(["POST"])
def consultation_instead(request):
    """After a 'talk to a clinician first' answer: book a consultation, answers kept."""
    journey = Journey.load(request)
    treatment = _treatment(journey)
    consultation = (
        Treatment.objects.published().filter(is_consultation=True, bookable_online=True).first()
    )
    if treatment is None or consultation is None or not journey.answers:
        return redirect("booking:start")
    answers = journey.answers
    outcome = suitability_outcome(
        [q for q in treatment.questions.all() if answers.get(str(q.pk)) == "yes"]
    )
    if outcome != Suitability.CONSULT:
        return redirect("booking:questions")
    new = Journey(
        treatment=consultation.slug,
        sessions=1,
        answered=True,
        answers=answers,
        consultation_for=treatment.slug,
    )
    new.save(request)
    return redirect("booking:practitioner")


@never_cache
@require_http_methods(["GET", "POST"])
def practitioner(request):
    journey, treatment, early = _guard(request, "practitioner")
    if early:
        return early
    people = selectors.practitioners_for(treatment)
    initial = str(journey.practitioner) if journey.practitioner else "any"
    form = PractitionerChoiceForm(
        _posted(request),
        practitioners=people,
        initial={"practitioner": initial},
    )
    if request.method == "POST" and form.is_valid():
        choice = form.cleaned_data["practitioner"]
        chosen = None if choice == "any" else int(choice)
        if chosen != journey.practitioner or not journey.practitioner_chosen:
            journey.plan = []
        journey.practitioner, journey.practitioner_chosen = chosen, True
        journey.save(request)
        return redirect("booking:time")
    return _step_page(
        request,
        "practitioner",
        "booking/journey/practitioner.html",
        {"form": form, "journey": journey, "treatment": treatment, "practitioners": people},
    )


def _practitioners(journey: Journey, treatment: Treatment) -> list[Practitioner]:
    everyone = selectors.practitioners_for(treatment)
    if journey.practitioner is None:
        return everyone
    return [p for p in everyone if p.pk == journey.practitioner]


@never_cache
@require_http_methods(["GET", "POST"])
def time(request):
    """A week of free times for the first session; choosing one plans the course."""
    journey, treatment, early = _guard(request, "time")
    if early:
        return early
    now = timezone.now()
    rules = BookingRules.current()
    zone = selectors.clinic_zone()
    patient = _patient(request)
    if request.method == "POST":
        slot = posted_slot(request.POST.get("slot", ""), treatment)
        offered = slot is not None and slot in set(
            selectors.free_slots(
                treatment=treatment,
                day_from=slot.start.astimezone(zone).date(),
                day_to=slot.start.astimezone(zone).date(),
                now=now,
                practitioners=_practitioners(journey, treatment),
                patient=patient,
            )
        )
        if not offered:
            messages.error(request, "That time is not free. Please choose one of the times shown.")
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
    today = timezone.localdate()
    first_week = week_start(None, (now + rules.min_notice).astimezone(zone).date())
    last_week = week_start(None, (now + rules.horizon).astimezone(zone).date())
    week = min(max(week_start(request.GET.get("week"), today), first_week), last_week)
    days = selectors.week_of_slots(
        treatment=treatment,
        practitioners=_practitioners(journey, treatment),
        patient=patient,
        week=week,
        now=now,
        rules=rules,
    )
    chosen = journey.slots(treatment)[0] if journey.plan else None
    context = {
        "journey": journey,
        "treatment": treatment,
        "days": days,
        "week": week,
        "previous_week": week - timedelta(days=7) if week > first_week else None,
        "next_week": week + timedelta(days=7) if week < last_week else None,
        "chosen": chosen,
        "alternatives": [
            slot
            for value in request.session.pop("booking_alternatives", [])
            if (slot := parse_slot(value, treatment))
        ],
        "form_action": reverse("booking:time"),
        "week_url": reverse("booking:time"),
    }
    if request.htmx:
        return render(request, "booking/includes/week.html", context)
    return _step_page(request, "time", "booking/journey/time.html", context)


def _plan_rows(journey: Journey, treatment: Treatment):
    zone = selectors.clinic_zone()
    slots = journey.slots(treatment)
    spacing = services.spacing_of(treatment)
    rows = []
    for index, slot in enumerate(slots):
        window = (
            session_window(slots[index - 1].start, spacing, zone)
            if index and slots[index - 1]
            else None
        )
        rows.append({"number": index + 1, "slot": slot, "window": window})
    return rows


@never_cache
@require_http_methods(["GET"])
def plan(request):
    journey, treatment, early = _guard(request, "plan")
    if early:
        return early
    practitioners = {p.pk: p for p in selectors.practitioners_for(treatment)}
    rows = _plan_rows(journey, treatment)
    first_with = rows[0]["slot"].practitioner_id if rows and rows[0]["slot"] else None
    for row in rows:
        row["practitioner"] = (
            practitioners.get(row["slot"].practitioner_id) if row["slot"] else None
        )
        # Never silent: a session with someone else says so (its own choice, the patient's).
        row["someone_else"] = bool(row["slot"] and row["slot"].practitioner_id != first_with)
    return _step_page(
        request,
        "plan",
        "booking/journey/plan.html",
        {
            "journey": journey,
            "treatment": treatment,
            "rows": rows,
            "complete": all(row["slot"] for row in rows),
            "spacing": rulebook.spacing_sentence(treatment) if len(rows) > 1 else "",
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def plan_session(request, number: int):
    """Change one later session of the plan to another free time inside its window."""
    journey, treatment, early = _guard(request, "plan")
    if early:
        return early
    slots = journey.slots(treatment)
    if not 2 <= number <= len(slots) or slots[number - 2] is None:
        raise Http404("No such session in this plan")
    zone = selectors.clinic_zone()
    spacing = services.spacing_of(treatment)
    window = session_window(slots[number - 2].start, spacing, zone)
    now = timezone.now()
    patient = _patient(request)
    others = [s for i, s in enumerate(slots) if s and i != number - 1]
    found = [
        s
        for s in selectors.free_slots(
            treatment=treatment,
            day_from=window.first_day,
            day_to=window.last_day,
            now=now,
            practitioners=selectors.practitioners_for(treatment),
            patient=patient,
            latest=window.ends_at(zone),
        )
        if not any(s.start < o.end and o.start < s.end for o in others)
    ]
    if request.method == "POST":
        slot = posted_slot(request.POST.get("slot", ""), treatment)
        if slot is None or slot not in set(found):
            messages.error(
                request,
                "That time is not free inside this session's window. "
                "Please choose one of the times shown.",
            )
            return redirect("booking:plan_session", number=number)
        slots[number - 1] = slot
        starts = [s.start if s else None for s in slots]
        if all(starts):
            practitioner = Practitioner(pk=slots[0].practitioner_id)
            proposals = course_replan(
                starts=starts,
                changed=number,
                spacing=spacing,
                zone=zone,
                practitioner_id=practitioner.pk,
                find_slots=selectors.slot_finder(
                    treatment=treatment, practitioner=practitioner, now=now, patient=patient
                ),
            )
            for proposal in proposals:
                slots[proposal.number - 1] = proposal.slot
                messages.info(
                    request, f"Session {proposal.number} moved to keep the gap between sessions."
                )
        journey.plan = [slot_value(s) if s else "" for s in slots]
        journey.save(request)
        return redirect("booking:plan")
    days: dict[date, list[Slot]] = {}
    seen = set()
    for slot in found:
        if slot.start not in seen:
            seen.add(slot.start)
            days.setdefault(slot.start.astimezone(zone).date(), []).append(slot)
    return _step_page(
        request,
        "plan",
        "booking/journey/plan_session.html",
        {
            "journey": journey,
            "treatment": treatment,
            "number": number,
            "window": window,
            "days": sorted(days.items()),
            "current": slots[number - 1],
        },
    )


def _limited(request, action: str, setting: str, key: str = ""):
    """The 429 page when this POST goes over settings.<setting>, else None."""
    limit, period = getattr(settings, setting)
    wait = rate_limit(request, action=action, limit=limit, period=period, key=key)
    return too_many_requests(request, wait) if wait is not None else None


def _email_check(request, journey: Journey, treatment):
    """Not signed in: their address, then the code emailed to it (booking/email_check.py)."""
    check = EmailCheck.load(request)
    action = request.POST.get("action", "")
    email_form = code_form = None
    if request.method == "POST" and action == "change":
        EmailCheck.clear(request)
        return redirect("booking:account")
    if request.method == "POST" and action in ("send", "resend"):
        data = {"email": check.email} if action == "resend" and check else request.POST
        email_form = EmailForm(data)
        if email_form.is_valid():
            email = email_form.cleaned_data["email"]
            # The sign-up form's counter (an account, or the news that one exists), then
            # the address's own, so nobody's inbox is flooded with codes.
            refused = _limited(request, "sign-up", "SIGN_UP_RATE") or _limited(
                request, "email-code", "BOOKING_CODES_PER_ADDRESS", key=email
            )
            if refused:
                return refused
            email_code_send(email=email, now=timezone.now()).save(request)
            return redirect("booking:account")
    elif request.method == "POST" and action == "code" and check:
        if refused := _limited(request, "email-code-check", "RATE_LIMIT_EMAIL_CODE_CHECK"):
            return refused
        code_form = EmailCodeForm(request.POST)
        if code_form.is_valid():
            try:
                email_code_check(check, code=code_form.cleaned_data["code"], now=timezone.now())
            except CodeRefused as refusal:
                if refusal.start_again:
                    EmailCheck.clear(request)
                    messages.error(request, refusal.message)
                    return redirect("booking:account")
                check.save(request)  # the try counts
                code_form.add_error("code", refusal.message)
            else:
                user = email_code_account(email=check.email)
                EmailCheck.clear(request)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                journey.save(request)  # login() cycles the session: keep the journey
                return redirect("booking:account")
    form = (email_form or EmailForm()) if check is None else (code_form or EmailCodeForm())
    return _step_page(
        request,
        "account",
        "booking/journey/account.html",
        {
            "journey": journey,
            "treatment": treatment,
            "form": form,
            "check": check,
            "login_url": f"{reverse('account_login')}?next={reverse('booking:account')}",
        },
    )


def _details(request, journey: Journey, treatment):
    """Signed in, not yet a patient: name and phone (and a password, for an account with none)."""
    user = request.user
    needs_password = not user.has_usable_password()
    form = (
        PatientPasswordForm(_posted(request), user=user, initial={"full_name": user.full_name})
        if needs_password
        else PatientDetailsForm(_posted(request), initial={"full_name": user.full_name})
    )
    if request.method == "POST" and form.is_valid():
        services.patient_register(
            user=user,
            full_name=form.cleaned_data["full_name"],
            phone=form.cleaned_data["phone"],
            password=form.cleaned_data["password"] if needs_password else None,
        )
        if needs_password:
            update_session_auth_hash(request, user)  # a new password would sign them out
        return redirect("booking:consent")
    return _step_page(
        request,
        "account",
        "booking/journey/details.html",
        {"journey": journey, "treatment": treatment, "form": form},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def account(request):
    journey, treatment, early = _guard(request, "account")
    if early:
        return early
    if _patient(request):
        return redirect("booking:consent")
    if request.user.is_authenticated:
        return _details(request, journey, treatment)
    return _email_check(request, journey, treatment)


@never_cache
@require_http_methods(["GET", "POST"])
def consent(request):
    journey, treatment, early = _guard(request, "consent")
    if early:
        return early
    text = ConsentText.current()
    form = ConsentForm(_posted(request))
    if request.method == "POST" and form.is_valid() and text is not None:
        journey.consent = text.pk
        journey.save(request)
        return redirect("booking:confirm")
    return _step_page(
        request,
        "consent",
        "booking/journey/consent.html",
        {
            "journey": journey,
            "treatment": treatment,
            "form": form,
            "consent_text": text,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@limit_posts("booking-confirm", "RATE_LIMIT_BOOKING_CONFIRM")
def confirm(request):
    if request.method == "POST":
        # A second click after the first one booked: the journey is gone, the course is not.
        key = request.POST.get("key", "")
        done = (
            Course.objects.filter(idempotency_key=key, patient__user=request.user).first()
            if key and request.user.is_authenticated
            else None
        )
        if done:
            return redirect("booking:done", pk=done.pk)
    journey, treatment, early = _guard(request, "confirm")
    if early:
        return early
    patient = _patient(request)
    slots = journey.slots(treatment)
    if request.method == "POST":
        if request.POST.get("key") != journey.key:
            messages.error(
                request, "This page was out of date. Please check the details and confirm again."
            )
            return redirect("booking:confirm")
        try:
            course = services.course_book(
                patient=patient,
                treatment=treatment,
                slots=slots,
                idempotency_key=journey.key,
                answers=journey.answers,
                answers_for=education_selectors.treatment_published(journey.consultation_for)
                if journey.consultation_for
                else None,
                consent=ConsentText.objects.filter(pk=journey.consent).first(),
                consent_method=Course.ConsentMethod.ONLINE,
                booked_by=request.user,
            )
        except services.SlotTaken as taken:
            journey.plan = []
            journey.save(request)
            request.session["booking_alternatives"] = [slot_value(s) for s in taken.alternatives]
            messages.error(request, taken.message)
            return redirect("booking:time")
        except services.BookingError as error:
            messages.error(request, error.message)
            return redirect("booking:plan")
        Journey.clear(request)
        return redirect("booking:done", pk=course.pk)
    practitioners = {
        p.pk: p for p in Practitioner.objects.filter(pk__in={s.practitioner_id for s in slots})
    }
    return _step_page(
        request,
        "confirm",
        "booking/journey/confirm.html",
        {
            "journey": journey,
            "treatment": treatment,
            "patient": patient,
            "rows": [
                (n, s, practitioners.get(s.practitioner_id)) for n, s in enumerate(slots, start=1)
            ],
        },
    )


@never_cache
@require_http_methods(["GET"])
def done(request, pk: int):
    if not request.user.is_authenticated:
        raise Http404
    course = get_object_or_404(
        Course.objects.select_related("treatment", "practitioner"),
        pk=pk,
        patient__user=request.user,
    )
    return render(
        request,
        "booking/journey/done.html",
        {
            "course": course,
            "sessions": course.sessions.active().select_related("practitioner").order_by("number"),
        },
    )
