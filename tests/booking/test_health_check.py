"""One health check: answers given on "Is it right for me?" carry into booking, asked once.

The answers travel with the result page's "Book" button and are kept in the
patient's own session; the journey shows them for review; a changed answer
routes to a consultation as it does when first asked; and a change to the
questions (a new version) asks them again on every path (education/health_check.py).
"""

import re

import pytest
from django.urls import reverse

from booking import rulebook, services
from booking.journey import SESSION_KEY as JOURNEY
from booking.journey import Journey
from booking.models import ConsentText, Course
from education.models import SuitabilityQuestion, Treatment
from tests.booking.conftest import first_free_slot
from tests.education.factories import SuitabilityQuestionFactory

pytestmark = pytest.mark.django_db
PREGNANT, KELOIDS = "Are you pregnant?", "Do you form keloid scars?"


def check(client, treatment, yes=()):
    """Answer "Is it right for me?"; the result page's HTML."""
    data = {f"q{q.pk}": "yes" if q.text in yes else "no" for q in treatment.questions.all()}
    response = client.post(reverse("education:suitability", args=[treatment.slug]), data)
    assert response.status_code == 200
    return response.content.decode()


def book_from_result(client, html, slug):
    """Press the result page's "Book" button for `slug`: post what its form carries."""
    action = reverse("booking:start_with", args=[slug])
    form = re.search(rf'<form method="post" action="{action}".*?</form>', html, re.S).group(0)
    fields = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    return client.post(action, fields)


def journey(client) -> Journey:
    return Journey(**client.session[JOURNEY])


def test_answers_from_the_result_page_are_shown_for_review_not_asked_again(client, clinic_ready):
    treatment = clinic_ready
    html = check(client, treatment)
    assert "sessionid" not in client.cookies  # checking alone keeps nothing
    book_from_result(client, html, treatment.slug)
    client.post(reverse("booking:length"), {"sessions": 3})
    page = client.get(reverse("booking:questions")).content.decode()
    assert "Check your health answers" in page
    assert "You gave these answers on" in page
    assert page.count("<dt>") == 2 and PREGNANT in page and KELOIDS in page
    assert 'type="radio"' not in page  # not asked again
    response = client.post(reverse("booking:questions"), {"keep": "1"})
    assert response.url == reverse("booking:practitioner")
    assert (
        journey(client).answers_version == Treatment.objects.get(pk=treatment.pk).questions_version
    )


def test_a_changed_answer_in_booking_routes_to_a_consultation(client, clinic_ready):
    treatment = clinic_ready
    book_from_result(client, check(client, treatment), treatment.slug)
    client.post(reverse("booking:length"), {"sessions": 3})
    form = client.get(reverse("booking:questions") + "?change=1").content.decode()
    assert len(re.findall(r'value="no"[^>]*checked', form)) == 2  # the carried answers
    data = {f"q{q.pk}": "yes" if q.text == KELOIDS else "no" for q in treatment.questions.all()}
    html = client.post(reverse("booking:questions"), data).content.decode()
    assert "Talk to a clinician first" in html and "Book a consultation instead" in html
    assert client.get(reverse("booking:practitioner")).url == reverse("booking:questions")
    again = client.get(reverse("booking:questions")).content.decode()
    assert "Talk to a clinician first" in again and "?change=1" in again  # a reload: the same
    client.post(reverse("booking:consultation_instead"))
    kept = journey(client)
    assert kept.consultation_for == treatment.slug and kept.answers_version is not None


def test_a_talk_first_result_books_the_consultation_with_its_answers(client, clinic_ready):
    treatment = clinic_ready
    html = check(client, treatment, yes=[KELOIDS])
    assert "Talk to a clinician first" in html
    consultation = Treatment.objects.get(is_consultation=True)
    response = book_from_result(client, html, consultation.slug)
    assert response.url == reverse("booking:practitioner")
    kept = journey(client)
    assert kept.treatment == consultation.slug and kept.consultation_for == treatment.slug
    assert sorted(kept.answers.values()) == ["no", "yes"]


def test_a_not_suitable_result_offers_no_booking_button(client, clinic_ready):
    html = check(client, clinic_ready, yes=[PREGNANT])
    assert "Not suitable for you right now" in html
    assert "booking:start_with" not in html and "/book/treatment/" not in html


@pytest.mark.parametrize(
    "tamper",
    [
        {"health_version": "0"},  # an older set of questions
        {"health_version": "x"},
        {"health_treatment": "no-such-treatment"},
        {"drop": True},  # a question left unanswered
        {"answer": "maybe"},
    ],
)
def test_carried_answers_that_do_not_fit_are_not_kept(client, clinic_ready, tamper):
    treatment = clinic_ready
    data = {"health_treatment": treatment.slug, "health_version": treatment.questions_version}
    questions = list(treatment.questions.all())
    data |= {f"q{q.pk}": tamper.get("answer", "no") for q in questions}
    if tamper.get("drop"):
        data.pop(f"q{questions[0].pk}")
    data |= {k: v for k, v in tamper.items() if k.startswith("health_")}
    client.post(reverse("booking:start_with", args=[treatment.slug]), data)
    client.post(reverse("booking:length"), {"sessions": 3})
    page = client.get(reverse("booking:questions")).content.decode()
    assert "A few health questions" in page and not re.search(r"value=\"no\"[^>]*checked", page)


def test_changing_a_question_starts_a_new_version_and_asks_again(client, clinic_ready):
    treatment = clinic_ready
    before = Treatment.objects.get(pk=treatment.pk).questions_version
    book_from_result(client, check(client, treatment), treatment.slug)
    client.post(reverse("booking:length"), {"sessions": 3})
    client.post(reverse("booking:questions"), {"keep": "1"})
    question = SuitabilityQuestion.objects.get(text=KELOIDS)
    question.text = "Do you get keloids or other raised scars?"
    question.save()
    assert Treatment.objects.get(pk=treatment.pk).questions_version == before + 1
    assert client.get(reverse("booking:practitioner")).url == reverse("booking:questions")
    page = client.get(reverse("booking:questions")).content.decode()
    assert "We have changed our health questions since you answered them" in page
    question.delete()
    SuitabilityQuestionFactory(treatment=treatment)
    assert Treatment.objects.get(pk=treatment.pk).questions_version == before + 3


def test_saving_a_treatment_read_before_a_question_changed_keeps_the_new_version(clinic_ready):
    stale = Treatment.objects.get(pk=clinic_ready.pk)
    SuitabilityQuestionFactory(treatment=clinic_ready)
    stale.name = "Microneedling (renamed)"
    stale.save()
    fresh = Treatment.objects.get(pk=clinic_ready.pk)
    assert fresh.name == "Microneedling (renamed)"
    assert fresh.questions_version == stale.questions_version + 1


def test_booking_refuses_answers_to_an_older_version_and_keeps_the_version(
    clinic_ready, patient, practitioner
):
    treatment = Treatment.objects.get(pk=clinic_ready.pk)
    agreement = {
        "answers": {q.pk: "no" for q in treatment.questions.all()},
        "consent": ConsentText.current(),
        "consent_method": Course.ConsentMethod.ONLINE,
    }
    slot = first_free_slot(treatment, practitioner)
    with pytest.raises(services.BookingError) as refused:
        services.course_book(
            patient=patient,
            treatment=treatment,
            slots=[slot],
            answers_version=treatment.questions_version - 1,
            **agreement,
        )
    assert refused.value.rule == rulebook.ANSWERS and not Course.objects.exists()
    course = services.course_book(
        patient=patient,
        treatment=treatment,
        slots=[slot],
        answers_version=treatment.questions_version,
        **agreement,
    )
    assert course.questions_version == treatment.questions_version
    assert course.suitability_answers["version"] == treatment.questions_version


def test_the_consent_step_shows_the_risks_it_asks_about(client, clinic_ready, patient):
    treatment = clinic_ready
    treatment.risks = "Most people have **redness** for a day or two."
    treatment.aftercare = "### The first day\n\nKeep the skin clean."
    treatment.save()
    client.force_login(patient.user)
    book_from_result(client, check(client, treatment), treatment.slug)
    client.post(reverse("booking:length"), {"sessions": 1})
    client.post(reverse("booking:questions"), {"keep": "1"})
    client.post(reverse("booking:practitioner"), {"practitioner": "any"})
    html = client.get(reverse("booking:time") + "?day=2026-06-08").content.decode()
    client.post(
        reverse("booking:time"), {"slot": re.search(r'name="slot" value="([^"]+)"', html)[1]}
    )
    page = client.get(reverse("booking:consent")).content.decode()
    risks = page.index("side effects and risks</h2>")
    assert risks < page.index("<strong>redness</strong>") < page.index("What you agree to")
    assert "<summary>Microneedling: aftercare</summary>" in page and "Keep the skin clean." in page
