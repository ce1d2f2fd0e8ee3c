"""Each role sees and can change exactly what clinic/roles.py lists, enforced in the querysets.

A record outside a role's scope answers exactly as a record that does not
exist would: the admin's "doesn't exist" redirect, not a 403 that confirms it.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from booking.models import ClinicalNote, Course, Patient, Practitioner, Reminder, Session
from clinic.roles import CLINICIAN, CONTENT_EDITOR, RECEPTION, ROLES
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.education.factories import ArticleFactory, FAQFactory, SubscriberFactory
from tests.helpers import at, book
from tests.staff.conftest import staff_user

ALL, OWN, NONE = "all", "own", "none"
# What each role may open, model by model (the list).
SCOPE = {
    RECEPTION: {
        "patient": ALL,
        "course": ALL,
        "session": ALL,
        "reminder": ALL,
        "practitioner": ALL,
        "clinicalnote": NONE,
        "article": NONE,
        "faq": NONE,
        "newslettersubscriber": NONE,
    },
    CLINICIAN: {
        "patient": OWN,
        "course": OWN,
        "session": OWN,
        "reminder": NONE,
        "practitioner": NONE,
        "clinicalnote": OWN,
        "article": NONE,
        "faq": NONE,
        "newslettersubscriber": NONE,
    },
    CONTENT_EDITOR: {
        "patient": NONE,
        "course": NONE,
        "session": NONE,
        "reminder": NONE,
        "practitioner": NONE,
        "clinicalnote": NONE,
        "article": ALL,
        "faq": ALL,
        "newslettersubscriber": ALL,
    },
}
APP = {"article": "education", "faq": "education", "newslettersubscriber": "education"}


@pytest.fixture
def records(now, treatment, clinician):
    """One course with the clinician's own practitioner and one with another, each noted."""
    own = Practitioner.objects.get(user=clinician)
    other = PractitionerFactory(treatments=[treatment], display_name="Dr Other")
    found = {}
    for name, practitioner, day in (("own", own, 3), ("other", other, 4)):
        patient = PatientFactory(full_name=f"Patient {name}")
        course = book(patient, treatment, practitioner, [at(6, day, 10)], now=now)
        session = course.sessions.get()
        found[name] = {
            "patient": course.patient,
            "course": course,
            "session": session,
            "reminder": Reminder.objects.filter(session=session).first(),
            "practitioner": practitioner,
            "clinicalnote": ClinicalNote.objects.create(session=session, device="Pen A"),
        }
    article, faq, subscriber = ArticleFactory(), FAQFactory(), SubscriberFactory()
    for name in ("own", "other"):
        found[name].update(article=article, faq=faq, newslettersubscriber=subscriber)
    return found


def _user_for(role, reception, clinician, editor):
    return {RECEPTION: reception, CLINICIAN: clinician, CONTENT_EDITOR: editor}[role]


def _missing_answer(client, model):
    """What the admin answers for an id no row has (the yardstick for out of scope)."""
    url = reverse(f"admin:{APP.get(model, 'booking')}_{model}_change", args=[987654])
    return client.get(url)


CASES = [(role, model) for role, models in SCOPE.items() for model in models]


@pytest.mark.parametrize(("role", "model"), CASES, ids=[f"{r}-{m}" for r, m in CASES])
def test_each_role_opens_exactly_its_records(
    role, model, records, reception, clinician, editor, client_for
):
    client = client_for(_user_for(role, reception, clinician, editor))
    app = APP.get(model, "booking")
    scope = SCOPE[role][model]
    listing = client.get(reverse(f"admin:{app}_{model}_changelist"))
    assert listing.status_code == (403 if scope == NONE else 200)
    missing = _missing_answer(client, model)
    for which in ("own", "other"):
        obj = records[which][model]
        page = client.get(reverse(f"admin:{app}_{model}_change", args=[obj.pk]))
        visible = scope == ALL or (scope == OWN and which == "own")
        if scope == NONE:
            assert page.status_code == 403
        elif visible:
            assert page.status_code == 200
        else:  # outside the scope: the same answer as a row that does not exist
            assert (page.status_code, page.get("Location")) == (
                missing.status_code,
                missing.get("Location"),
            )
            assert page.status_code == 302


def test_a_clinicians_lists_hold_only_their_own_patients_sessions_and_notes(
    records, clinician, client_for
):
    client = client_for(clinician)
    for model in ("session", "course", "patient", "clinicalnote"):
        page = client.get(reverse(f"admin:booking_{model}_changelist")).content.decode()
        assert "Patient own" in page, model
        assert "Patient other" not in page, model


def test_search_does_not_reach_past_the_scope(records, clinician, client_for):
    client = client_for(clinician)
    page = client.get(reverse("admin:booking_patient_changelist"), {"q": "Patient other"})
    assert page.context["cl"].result_count == 0  # the patient exists, but not for them
    assert Patient.objects.filter(full_name="Patient other").exists()


def test_reception_never_sees_clinical_notes_even_on_the_session_page(
    records, reception, client_for
):
    client = client_for(reception)
    page = client.get(reverse("admin:booking_session_change", args=[records["own"]["session"].pk]))
    assert page.status_code == 200
    assert "clinical note" not in page.content.decode().lower()


def test_a_clinician_opens_the_note_from_their_own_session(records, clinician, client_for):
    client = client_for(clinician)
    session = records["own"]["session"]
    page = client.get(reverse("admin:booking_session_change", args=[session.pk])).content.decode()
    note = records["own"]["clinicalnote"]
    assert reverse("admin:booking_clinicalnote_change", args=[note.pk]) in page


def test_a_clinician_cannot_write_a_note_on_another_practitioners_session(
    records, clinician, client_for
):
    client = client_for(clinician)
    other = records["other"]["session"]
    ClinicalNote.objects.filter(session=other).delete()
    response = client.post(
        reverse("admin:booking_clinicalnote_add"),
        {"session": other.pk, "device": "Pen B", "skin_reaction": "", "notes": ""},
    )
    assert response.status_code == 200  # the form again, with the error
    assert not ClinicalNote.objects.filter(session=other).exists()


def test_clinical_notes_keep_every_version_with_who_wrote_it(records, clinician, client_for):
    client = client_for(clinician)
    note = records["own"]["clinicalnote"]
    url = reverse("admin:booking_clinicalnote_change", args=[note.pk])
    response = client.post(
        url, {"skin_reaction": "Mild redness", "device": "Pen A", "needle_depth_mm": "0.5"}
    )
    assert response.status_code == 302
    latest = note.history.first()
    assert latest.skin_reaction == "Mild redness" and latest.history_user == clinician
    assert note.history.count() == 2
    history = client.get(reverse("admin:booking_clinicalnote_history", args=[note.pk]))
    assert history.status_code == 200


def test_the_history_page_of_another_practitioners_session_is_not_there(
    records, clinician, client_for
):
    client = client_for(clinician)
    own, other = records["own"]["session"], records["other"]["session"]
    assert client.get(reverse("admin:booking_session_history", args=[own.pk])).status_code == 200
    answer = client.get(reverse("admin:booking_session_history", args=[other.pk]))
    missing = client.get(reverse("admin:booking_session_history", args=[987654]))
    assert (answer.status_code, answer.get("Location")) == (
        missing.status_code,
        missing.get("Location"),
    )
    version = other.history.first().history_id
    one_version = reverse("admin:booking_session_simple_history", args=[other.pk, version])
    assert client.get(one_version).status_code == 404


def test_every_booking_change_is_in_the_audit_history(records):
    session = records["own"]["session"]
    assert session.history.count() == 1 and session.history.first().history_type == "+"
    course = records["own"]["course"]
    assert course.history.count() == 1


def test_the_groups_hold_exactly_the_listed_permissions(db):
    for name, wanted in ROLES.items():
        group = Group.objects.get(name=name)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert held == set(wanted), name


def test_content_editors_hold_no_patient_permission(db):
    held = Group.objects.get(name=CONTENT_EDITOR).permissions.values_list(
        "content_type__app_label", flat=True
    )
    assert set(held) == {"education"}


def test_consent_versions_are_added_not_edited_and_courses_keep_theirs(
    records, reception, client_for
):
    from booking.models import ConsentText

    client = client_for(reception)
    version = ConsentText.current().version + 1  # the records were booked with the current one
    response = client.post(
        reverse("admin:booking_consenttext_add"), {"version": version, "text": "First wording."}
    )
    assert response.status_code == 302
    first = ConsentText.objects.get(version=version)
    course = records["own"]["course"]
    Course.objects.filter(pk=course.pk).update(consent=first)
    client.post(reverse("admin:booking_consenttext_add"), {"version": version + 1, "text": "2nd"})
    assert ConsentText.current().version == version + 1
    page = client.get(reverse("admin:booking_consenttext_change", args=[first.pk]))
    assert b'name="text"' not in page.content  # read-only once saved
    course.refresh_from_db()
    assert course.consent == first
    assert Session.objects.filter(course=course).exists()


def test_the_admin_index_offers_each_role_its_own_shortcuts(
    reception, clinician, editor, client_for
):
    def shortcuts(user):
        page = client_for(user).get(reverse("admin:index")).content.decode()
        return {
            name
            for name in ("Today's schedule", "Book a course by phone", "Content reviews overdue")
            if name.replace("'", "&#x27;") in page or name in page
        }

    assert shortcuts(reception) == {"Today's schedule", "Book a course by phone"}
    assert shortcuts(clinician) == {"Today's schedule"}
    assert shortcuts(editor) == {"Content reviews overdue"}


@pytest.mark.django_db(transaction=True)
def test_the_role_groups_come_back_after_a_flush_but_a_changed_group_is_kept():
    from django.core.management import call_command

    Group.objects.get(name=CLINICIAN).permissions.clear()  # the clinic narrowed it
    Group.objects.filter(name=RECEPTION).delete()
    call_command("migrate", verbosity=0)  # post_migrate, as after every deploy
    assert Group.objects.get(name=RECEPTION).permissions.count() == len(ROLES[RECEPTION])
    assert Group.objects.get(name=CLINICIAN).permissions.count() == 0
    call_command("flush", interactive=False, verbosity=0)
    assert set(Group.objects.values_list("name", flat=True)) == set(ROLES)


# --- The one table (clinic/roles.py ACCESS), checked against what the admin answers --------


def _registered():
    from django.contrib import admin

    return sorted(
        (model._meta.label_lower, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ("booking", "clinic", "education")
    )


def _opens(role: str, label: str) -> bool:
    from clinic.roles import ACCESS, TASKS

    if label == "booking.scheduleentry":  # the schedule: a permission of its own
        return "booking.view_schedule" in TASKS[role]
    access = ACCESS[role].get(label)
    return access is not None and bool({"view", "change"} & set(access.actions))


@pytest.mark.parametrize("role", [RECEPTION, CLINICIAN, CONTENT_EDITOR])
def test_every_admin_list_opens_for_exactly_the_roles_the_table_names(
    role, reception, clinician, editor, client_for
):
    client = client_for(_user_for(role, reception, clinician, editor))
    wrong = {}
    for label, model_admin in _registered():
        url = reverse(
            f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist"
        )
        status = client.get(url).status_code
        if status != (200 if _opens(role, label) else 403):
            wrong[label] = status
    assert wrong == {}


def test_reception_does_not_see_health_answers_and_a_clinician_does(
    records, reception, clinician, client_for
):
    course = records["own"]["course"]
    Course.objects.filter(pk=course.pk).update(
        suitability_answers={
            "questions": [{"question": "Do you form keloid scars?", "answer": "no"}]
        }
    )
    url = reverse("admin:booking_course_change", args=[course.pk])
    seen_by_reception = client_for(reception).get(url).content.decode()
    assert "keloid" not in seen_by_reception and "Reminders" in seen_by_reception
    seen_by_clinician = client_for(clinician).get(url).content.decode()
    assert "Do you form keloid scars?" in seen_by_clinician
    assert "Reminders" not in seen_by_clinician  # the reminder log is reception's


def test_only_the_owner_links_a_practitioner_to_an_account_and_only_to_a_staff_one(
    records, reception, clinician, superuser, client_for
):
    practitioner = records["other"]["practitioner"]
    url = reverse("admin:booking_practitioner_change", args=[practitioner.pk])
    page = client_for(reception).get(url)
    assert page.status_code == 200
    assert 'name="user"' not in page.content.decode()  # shown, not offered
    owner_page = client_for(superuser).get(url).content.decode()
    options = re.findall(
        r'<option value="(\d+)"', owner_page.split('name="user"')[1].split("</select>")[0]
    )
    User = get_user_model()
    assert options and all(User.objects.get(pk=pk).is_staff for pk in options)
    patient_user = records["own"]["patient"].user
    assert str(patient_user.pk) not in options


def test_staff_status_and_groups_are_the_owners_alone(records, reception, client_for):
    from django.contrib.auth.models import Permission

    helper = staff_user(None, "helper@clinic.example")
    helper.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    client = client_for(helper)
    url = reverse("admin:clinic_user_change", args=[reception.pk])
    page = client.get(url).content.decode()
    for name in ("is_staff", "is_superuser", "groups", "user_permissions"):
        assert f'name="{name}"' not in page, name
    client.post(url, {"email": reception.email, "full_name": "Rita", "is_superuser": "on"})
    reception.refresh_from_db()
    assert not reception.is_superuser


def _ids_in_changelist(client, model_admin) -> set[int]:
    url = reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist")
    response = client.get(url, {"all": ""})
    if response.status_code != 200:
        return set()
    return {obj.pk for obj in response.context["cl"].queryset}


@pytest.mark.parametrize("role", [RECEPTION, CLINICIAN, CONTENT_EDITOR])
def test_every_autocomplete_answers_only_inside_the_scope(
    role, records, reception, clinician, editor, client_for
):
    """Django's admin autocomplete answers for any foreign key whose admin has a search."""
    from django.contrib import admin

    client = client_for(_user_for(role, reception, clinician, editor))
    tried = 0
    for model, _model_admin in list(admin.site._registry.items()):
        for field in model._meta.get_fields():
            remote = getattr(field, "related_model", None)
            if not (field.is_relation and field.many_to_one and remote in admin.site._registry):
                continue
            query = {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": field.name,
                "term": "",
            }
            response = client.get(reverse("admin:autocomplete"), query)
            tried += 1
            if response.status_code != 200:
                assert response.status_code in (403, 404), (model, field.name)
                continue
            found = {int(row["id"]) for row in response.json()["results"]}
            reachable = _ids_in_changelist(client, admin.site.get_model_admin(remote))
            assert found <= reachable, (model._meta.label, field.name)
    assert tried > 5


def test_the_exports_hold_only_the_rows_in_scope(records, reception, clinician, editor, client_for):
    sessions = reverse("admin:booking_session_export")
    day = records["own"]["session"].start.date().isoformat()
    own, other = records["own"]["patient"].full_name, records["other"]["patient"].full_name
    for user, sees_other in ((reception, True), (clinician, False)):
        client = client_for(user)
        for url in (sessions, reverse("admin:booking_schedule_csv") + f"?date={day}"):
            text = client.get(url).content.decode()
            assert own in text or url != sessions
            assert (other in text) == (sees_other and url == sessions), (user.email, url)
    assert client_for(editor).get(sessions).status_code == 403
