"""Wording faults a patient noticed, kept from coming back (issue 19).

The treatment page joins its body, "who it helps" and aftercare; the result of
"Is it right for me?" adds its own "call us" line after a question's
explanation; the practitioner step's heading asks the question its choices answer.
"""

import re

import pytest

from booking.forms import PractitionerChoiceForm
from education import demo_content


def headings(markdown: str) -> list[str]:
    return [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")]


def test_the_treatment_page_has_no_heading_twice_and_one_list_of_when_to_call():
    page = demo_content.MICRONEEDLING_BODY + demo_content.MICRONEEDLING_AFTERCARE
    found = headings(page)
    assert len(found) == len(set(found)), found
    assert "you see pus" in page and page.count("you see pus") == 1
    assert not {"When to contact us", "When to call us"} <= set(found)


def test_no_question_says_what_the_result_page_says_after_it():
    """The result page ends with "If you would like to talk it through, call us on …"."""
    for question in demo_content.QUESTIONS:
        assert "talk it through" not in question.get("explanation", ""), question["text"]


def test_the_faq_promises_only_what_the_site_does():
    """Online booking has no practitioner look at the skin before booking."""
    answers = " ".join(str(faq) for faq in demo_content.FAQS)
    assert not re.search(r"checks? your skin before you book", answers)


def test_the_practitioner_choice_is_not_named_with_the_pages_heading_again():
    form = PractitionerChoiceForm(practitioners=[])
    assert form.fields["practitioner"].label != "Who would you like to see?"


# Each item of the fact sheet's "Who should wait or ask first", and words its question uses.
CAUTIONS = {
    "infection, cold sore, acne, eczema or psoriasis flare": ["infection", "eczema"],
    "isotretinoin in the last 6 months": ["isotretinoin"],
    "keloid or raised scars": ["keloid"],
    "pregnancy or breastfeeding": ["pregnant", "breastfeeding"],
    "blood thinners or a bleeding disorder": ["thin your blood", "bleeding"],
    "radiotherapy or chemotherapy": ["radiotherapy", "chemotherapy"],
    "poorly controlled diabetes or slow healing": ["diabetes", "slows healing"],
    "sunburn, tan, peel or laser": ["sunburn", "tan", "peel", "laser"],
    "allergy to numbing cream or products": ["numbing cream", "lidocaine", "skin product"],
    "a history of cold sores where treated": ["cold sores", "lips"],
    "darkening of the skin after treatment": ["darker patches"],
}


def test_the_health_questions_ask_about_every_caution_of_the_fact_sheet():
    texts = [q["text"] for q in demo_content.QUESTIONS]
    for caution, words in CAUTIONS.items():
        asked = [t for t in texts if all(w in t for w in words)]
        assert len(asked) == 1, f"{caution}: {asked}"


# --- Every page the demo publishes: no sentence said twice, no heading twice --------------

SENTENCE = re.compile(r"[^.!?]+[.!?]")


def _main_text(html: str) -> tuple[list[str], list[str]]:
    """(sentences of six words or more, headings) in the page's <main>."""
    main = re.search(r"<main\b.*?</main>", html, re.S).group(0)
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    found = [
        re.sub(r"<[^>]+>|\s+", " ", h).strip()
        for h in re.findall(r"<h[1-4]\b.*?</h[1-4]>", main, re.S)
    ]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))
    sentences = [s.strip() for s in SENTENCE.findall(text) if len(s.split()) >= 6]
    return sentences, found


def _demo_pages():
    from django.urls import reverse

    from education.models import Article, Treatment

    yield reverse("home")
    yield reverse("education:faq")
    for treatment in Treatment.objects.published():
        yield treatment.get_absolute_url()
        yield reverse("education:suitability", args=[treatment.slug])
    for article in Article.objects.published():
        yield article.get_absolute_url()


@pytest.mark.django_db
def test_no_demo_page_says_a_sentence_or_a_heading_twice(client):
    from clinic import demo as clinic_demo
    from education import demo as education_demo

    clinic_demo.seed()
    education_demo.seed()
    faults = {}
    for url in _demo_pages():
        sentences, found = _main_text(client.get(url).content.decode())
        twice = {s for s in sentences if sentences.count(s) > 1}
        twice |= {f"heading: {h}" for h in found if found.count(h) > 1}
        if twice:
            faults[url] = sorted(twice)
    assert faults == {}
