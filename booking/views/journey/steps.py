"""What every step of the journey shares: the guard and the steps bar."""

from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from clinic.money import treatment_course_price
from education import selectors as education_selectors
from education.models import Treatment

from ... import deposits, selectors
from ...deposits.services import deposit_terms
from ...journey import STEPS, Journey

STEP_TITLES = {
    "treatment": _("Treatment"),
    "length": _("Course"),
    "questions": _("Health questions"),
    "practitioner": _("Practitioner"),
    "time": _("First session"),
    "plan": _("Your course"),
    "account": _("Your details"),
    "consent": _("Consent"),
    "confirm": _("Confirm"),
}


def treatment_of(journey: Journey) -> Treatment | None:
    if not journey.treatment:
        return None
    return education_selectors.treatment_published(journey.treatment)


def posted(request):
    """The posted data for a bound form, or None on GET."""
    return request.POST if request.method == "POST" else None


def step_page(request, step: str, template: str, context: dict):
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
    journey = context.get("journey")
    # Once the course's length is known, every step says what it costs (base.html).
    price = (
        treatment_course_price(treatment, journey.sessions)
        if treatment and journey and journey.sessions
        else None
    )
    # With online deposits on, the steps say so instead of "paid at the clinic": the
    # course's deposit, or before its length is chosen, the usual course's.
    deposit = context.get("deposit")  # the confirm step has worked it out already
    if "deposit" not in context and treatment and deposits.enabled():
        deposit = deposit_terms(treatment, price or treatment_course_price(treatment))
    return render(
        request,
        template,
        {
            "steps": steps,
            "step": step,
            "journey_price": price,
            "journey_deposit": deposit,
            **context,
        },
        status=status,
    )


def guard(request, step: str):
    """(journey, treatment, None) or (.., .., a redirect to the first missing step)."""
    journey = Journey.load(request)
    treatment = treatment_of(journey)
    missing = journey.first_missing(
        treatment, is_patient=lambda: selectors.patient_of(request.user) is not None
    )
    if STEPS.index(missing) < STEPS.index(step):
        return (
            journey,
            treatment,
            redirect("booking:start" if missing == "treatment" else f"booking:{missing}"),
        )
    return journey, treatment, None
