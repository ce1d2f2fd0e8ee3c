"""Phone booking started from a free gap on the schedule: the time and practitioner (and
the treatment, when only one can be booked) ride through finding the patient."""

from datetime import UTC
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test.html import parse_html
from django.urls import reverse

from booking.admin.phone import phone_start_url
from booking.models import Patient
from tests.education.factories import ConsultationFactory
from tests.helpers import at
from tests.staff.test_schedule import find, text

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:booking_course_phone{name}", args=args)


def start_url(practitioner, treatment=None, start=None, short_notice=False) -> str:
    start = start or at(6, 3, 14)
    return phone_start_url(
        practitioner_id=practitioner.pk,
        start=start.astimezone(UTC),  # as the slot finder gives it
        treatment_id=treatment.pk if treatment else None,
        short_notice=short_notice,
    )


def query_of(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


@pytest.fixture
def client(client_for, reception, now):
    return client_for(reception)


def test_step_1_names_the_chosen_time_and_each_patient_goes_on_to_the_plan(
    client, patient, practitioner, treatment
):
    link = start_url(practitioner, treatment)
    response = client.get(url(""), {**query_of(link), "q": patient.full_name})
    html = response.content.decode()
    assert response.status_code == 200
    (chosen,) = find(parse_html(html), "div", "phone-booking-chosen")
    assert text(chosen) == (
        f"Time chosen on the schedule 14:00, Wednesday 3 June 2026, with "
        f"{practitioner.display_name}: Microneedling. Find the patient or add them, then book."
    )
    assert f'action="{url("_plan", patient.pk)}"' in html
    # carried by the search form, each patient's button and the new patient form
    assert html.count(f'name="first" value="{query_of(link)["first"]}"') == 3

    carried = dict(query_of(link), day="2026-06-03")
    plan = client.get(url("_plan", patient.pk), carried)
    assert plan.status_code == 200
    assert [row["slot"].start for row in plan.context["rows"]][:1] == [at(6, 3, 14)]
    assert plan.context["rows"][0]["practitioner"] == practitioner


def test_without_one_treatment_step_2_is_filled_in_and_marks_the_time(
    client, patient, practitioner, treatment
):
    practitioner.treatments.add(ConsultationFactory())
    link = start_url(practitioner, start=at(6, 1, 15), short_notice=True)
    html = client.get(url(""), {**query_of(link), "q": patient.full_name}).content.decode()
    assert f'action="{url("_course", patient.pk)}"' in html

    carried = dict(query_of(link), day="2026-06-01")
    step_2 = client.get(url("_course", patient.pk), carried)
    form = step_2.context["choice"]
    assert not form.is_bound
    assert form["practitioner"].value() == str(practitioner.pk)
    assert form["day"].value() == "2026-06-01"
    assert form["short_notice"].value() == "on"
    assert f'name="first" value="{carried["first"]}"' in step_2.content.decode()

    shown = client.get(url("_course", patient.pk), {**carried, "treatment": treatment.pk})
    marked = [item for item in shown.context["slots"] if item["chosen"]]
    assert [item["slot"].start for item in marked] == [at(6, 1, 15)]
    assert "(chosen on the schedule)" in shown.content.decode()
    assert not shown.context["chosen_missing"]

    later = client.get(
        url("_course", patient.pk), {**carried, "treatment": treatment.pk, "day": "2026-06-02"}
    )
    assert later.context["chosen_missing"]
    assert "is not free for these choices" in later.content.decode()


def test_a_patient_added_on_step_1_goes_on_with_the_chosen_time(client, practitioner, treatment):
    link = start_url(practitioner, treatment)
    data = {"full_name": "New Caller", "email": "new.caller@example.org", "phone": "07700 900777"}
    response = client.post(url("_patient"), {**data, **query_of(link)})
    patient = Patient.objects.get(full_name="New Caller")
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == url("_plan", patient.pk)
    assert query_of(response["Location"]) == {**query_of(link), "day": "2026-06-03"}


@pytest.mark.parametrize(
    "first",
    [
        "not-a-time|1",
        "2026-06-03T13:00:00|{pk}",
        "2026-06-03T13:00:00+00:00|999999",
        "9999-12-31T23:00:00+00:00|{pk}",
    ],
)
def test_a_chosen_time_that_makes_no_sense_is_left_out(client, patient, practitioner, first):
    query = {"practitioner": practitioner.pk, "first": first.format(pk=practitioner.pk)}
    response = client.get(url(""), {**query, "q": patient.full_name})
    assert response.status_code == 200
    assert response.context["chosen"] is None
    assert f'action="{url("_course", patient.pk)}"' in response.content.decode()
