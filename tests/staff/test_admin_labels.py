"""Every box in the admin has a name: those in table cells carry their column's words, and a
split date and time labels its two boxes (clinic/admin_labels.py; the browser test runs axe)."""

import re

from booking.models import WorkingHours
from tests.education.factories import FAQFactory, SuitabilityQuestionFactory, TreatmentFactory


def _aria_labels(html: str, name_pattern: str) -> dict[str, str | None]:
    """name -> aria-label of each visible control whose name matches `name_pattern`."""
    found = {}
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if name and re.fullmatch(name_pattern, name.group(1)) and 'type="hidden"' not in tag:
            label = re.search(r'aria-label="([^"]*)"', tag)
            found[name.group(1)] = label.group(1) if label else None
    return found


def test_the_faq_lists_order_and_published_boxes_are_named_after_their_columns(client_for, editor):
    FAQFactory()
    html = client_for(editor).get("/admin/education/faq/").text
    assert _aria_labels(html, r"form-0-(order|is_published)") == {
        "form-0-order": "Order",
        "form-0-is_published": "Published",
    }


def test_a_treatments_questions_inline_names_each_box_and_its_delete_box(client_for, editor):
    question = SuitabilityQuestionFactory(treatment=TreatmentFactory())
    html = client_for(editor).get(f"/admin/education/treatment/{question.treatment.pk}/change/")
    assert _aria_labels(html.text, r"questions-0-\w+") == {
        "questions-0-text": "Question",
        "questions-0-outcome": "If the answer is yes",
        "questions-0-explanation": "Explanation shown after a yes",
        "questions-0-order": "Order",
        "questions-0-DELETE": "Delete",
    }


def test_working_hours_are_named_and_time_off_labels_its_date_and_time_boxes(
    client_for, superuser, practitioner
):
    WorkingHours.objects.create(practitioner=practitioner, weekday=0, start="09:00", end="17:00")
    html = client_for(superuser).get(f"/admin/booking/practitioner/{practitioner.pk}/change/").text
    assert _aria_labels(html, r"working_hours-0-\w+") == {
        "working_hours-0-weekday": "Weekday",
        "working_hours-0-start": "Start",
        "working_hours-0-end": "End",
        "working_hours-0-DELETE": "Delete",
    }
    # The split date and time of time off (here its empty row): a <label> for each box.
    assert '<label for="id_time_off-__prefix__-start_0">Date:</label>' in html
    assert '<label for="id_time_off-__prefix__-start_1">Time:</label>' in html
