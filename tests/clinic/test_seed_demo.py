import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.test import override_settings

from clinic.demo import DEMO_LOGINS
from clinic.models import ClinicDetails, User

pytestmark = pytest.mark.django_db


def row_counts():
    from booking.models import Course, Practitioner, Session
    from education.models import FAQ, Article, Treatment

    return tuple(
        model.objects.count()
        for model in (
            User,
            EmailAddress,
            ClinicDetails,
            Treatment,
            Article,
            FAQ,
            Practitioner,
            Course,
            Session,
        )
    )


def test_seed_demo_twice_gives_the_same_rows(capsys):
    call_command("seed_demo")
    first = row_counts()
    call_command("seed_demo")
    assert row_counts() == first
    staff = [login for login in DEMO_LOGINS if login.is_staff]
    assert first[2] == 1 and User.objects.filter(is_staff=True).count() == len(staff)
    out = capsys.readouterr().out
    for login in DEMO_LOGINS:
        assert login.email in out and login.password in out


def test_demo_logins_work(client):
    call_command("seed_demo", "--quiet-logins")
    for login in DEMO_LOGINS:
        assert client.login(email=login.email, password=login.password)
        user = User.objects.get(email=login.email)
        assert user.is_staff is login.is_staff
        assert list(user.groups.values_list("name", flat=True)) == (
            [login.group] if login.group else []
        )


def test_the_demo_clinician_is_the_first_demo_practitioner():
    from booking.models import Practitioner

    call_command("seed_demo", "--quiet-logins")
    assert Practitioner.objects.get(user__email="clinician@example.com").display_name.startswith(
        "Dr Priya"
    )


@override_settings(SEED_DEMO_ALLOWED=False)
def test_seed_demo_is_refused_under_production_settings():
    with pytest.raises(CommandError, match="refused under production"):
        call_command("seed_demo")
    assert sum(row_counts()) == 0
