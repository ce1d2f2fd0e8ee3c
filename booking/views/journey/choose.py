"""What to book: the treatment, the course's length, the health questions, whom to see."""

from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.money import money
from education import health_check
from education import selectors as education_selectors
from education.diagrams import course_timelines
from education.forms import SuitabilityForm
from education.models import Treatment
from education.suitability import Suitability, suitability_outcome

from ... import rulebook, selectors
from ...forms import CourseLengthForm, PractitionerChoiceForm, TreatmentChoiceForm
from ...journey import Journey
from .steps import guard, posted, step_page, treatment_of


@never_cache
@require_http_methods(["GET", "POST"])
def start(request):
    """Choose a treatment (or continue a journey already under way)."""
    journey = Journey.load(request)
    form = TreatmentChoiceForm(
        posted(request),
        initial={"treatment": treatment_of(journey)},
    )
    if request.method == "POST" and form.is_valid():
        journey = _new_journey(request, form.cleaned_data["treatment"])
        return redirect("booking:length")
    in_progress = treatment_of(journey) is not None and bool(journey.plan or journey.sessions)
    return step_page(
        request,
        "treatment",
        "booking/journey/treatment.html",
        {"form": form, "journey": journey, "in_progress": in_progress},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def start_with(request, slug):
    """From a treatment page (GET), or from "Is it right for me?" with the answers just
    given (POST): a new journey with that treatment chosen."""
    treatment = get_object_or_404(
        Treatment.objects.published().filter(bookable_online=True), slug=slug
    )
    if request.method == "POST":
        health_check.keep_posted(request)
    journey = _new_journey(request, treatment)
    if journey.consultation_for:
        return redirect("booking:practitioner")
    return redirect("booking:length" if journey.sessions is None else "booking:questions")


def _new_journey(request, treatment: Treatment) -> Journey:
    """A journey for `treatment` carrying the health answers the patient already gave
    (education/health_check.py): its own to review, or, for the consultation, those whose
    answers called for one."""
    journey = Journey(treatment=treatment.slug)
    if treatment.sessions_min == treatment.sessions_max:
        journey.sessions = treatment.sessions_min
    kept = health_check.recall(request, treatment)
    if kept is not None:
        journey.answers, journey.answers_version = kept.given, kept.version
        journey.answers_carried = True
    elif treatment.is_consultation and not treatment.questions.exists():
        journey = _consultation_journey(request, treatment) or journey
    journey.save(request)
    return journey


def _consultation_journey(request, consultation: Treatment) -> Journey | None:
    """The consultation booked for the treatment whose kept answers call for one."""
    first = education_selectors.treatment_published(health_check.recall_any(request) or "")
    kept = health_check.recall(request, first) if first else None
    if kept is None or kept.outcome(list(first.questions.all())) != Suitability.CONSULT:
        return None
    return Journey(
        treatment=consultation.slug,
        sessions=1,
        answered=True,
        answers=kept.given,
        answers_version=kept.version,
        consultation_for=first.slug,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def length(request):
    journey, treatment, early = guard(request, "length")
    if early:
        return early
    if treatment.sessions_min == treatment.sessions_max:  # nothing to choose (a consultation)
        journey.sessions = treatment.sessions_min
        journey.save(request)
        return redirect("booking:questions")
    form = CourseLengthForm(
        posted(request),
        treatment=treatment,
        initial={"sessions": journey.sessions or treatment.sessions_usual},
    )
    if request.method == "POST" and form.is_valid():
        if journey.sessions != form.cleaned_data["sessions"]:
            journey.sessions = form.cleaned_data["sessions"]
            journey.plan = []
        journey.save(request)
        return redirect("booking:questions")
    return step_page(
        request,
        "length",
        "booking/journey/length.html",
        {
            "form": form,
            "journey": journey,
            "treatment": treatment,
            "spacing": rulebook.spacing_sentence(treatment),
            "timelines": course_timelines(treatment),
            "chosen": journey.sessions or treatment.sessions_usual,
            "usual_price": (usual := treatment.course_price),
            "package_rate": money(usual.total / usual.sessions, usual.currency),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def questions(request):
    """The health questions, asked once: answers already given (here or on "Is it right
    for me?") are shown for review, and changed with ?change=1."""
    journey, treatment, early = guard(request, "questions")
    if early:
        return early
    items = list(treatment.questions.all())
    if not items:
        journey.answered = True
        journey.save(request)
        return redirect("booking:practitioner")
    version = treatment.questions_version
    have = journey.answers_version == version and health_check.complete(journey.answers, items)
    changed = bool(journey.answers) and not have  # answers to questions since changed
    form = None
    if request.method == "POST" and not ("keep" in request.POST and have):
        form = SuitabilityForm(request.POST, questions=items)
        if form.is_valid():
            journey.answers = {str(q.pk): form.cleaned_data[f"q{q.pk}"] for q in items}
            journey.answers_version, journey.answers_carried = version, False
            health_check.remember(request, treatment, journey.answers, version)
            have, form = True, None
    elif request.method == "GET" and (not have or "change" in request.GET):
        initial = {f"q{q}": a for q, a in journey.answers.items()} if have else {}
        form = SuitabilityForm(None, questions=items, initial=initial)
    outcome = yes = None
    if form is None:  # answers to show: just given, kept, or confirmed with "keep"
        yes = [q for q in items if journey.answers.get(str(q.pk)) == "yes"]
        outcome = suitability_outcome(yes)
        if request.method == "POST":
            journey.answered = outcome == Suitability.BOOK
            journey.save(request)
            if journey.answered:
                return redirect("booking:practitioner")
    return step_page(
        request,
        "questions",
        "booking/journey/questions.html",
        {
            "form": form,
            "journey": journey,
            "treatment": treatment,
            "review": [(q, journey.answers.get(str(q.pk))) for q in items] if form is None else [],
            "changed": changed,
            "outcome": outcome,
            "answered_yes": yes,
            "consultation": education_selectors.consultation_bookable(),
        },
    )


@never_cache
@require_http_methods(["POST"])
def consultation_instead(request):
    """After a 'talk to a clinician first' answer: book a consultation, answers kept."""
    journey = Journey.load(request)
    treatment = treatment_of(journey)
    consultation = education_selectors.consultation_bookable()
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
        answers_version=journey.answers_version,
        consultation_for=treatment.slug,
    )
    new.save(request)
    return redirect("booking:practitioner")


@never_cache
@require_http_methods(["GET", "POST"])
def practitioner(request):
    journey, treatment, early = guard(request, "practitioner")
    if early:
        return early
    people = selectors.practitioners_for(treatment)
    initial = str(journey.practitioner) if journey.practitioner else "any"
    form = PractitionerChoiceForm(
        posted(request),
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
    return step_page(
        request,
        "practitioner",
        "booking/journey/practitioner.html",
        {"form": form, "journey": journey, "treatment": treatment, "practitioners": people},
    )
