from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.test import override_settings

from clinic.demo import DEMO_LOGINS
from clinic.models import ClinicDetails, User

pytestmark = pytest.mark.django_db


def row_counts():
    from booking.models import Course, LedgerEntry, Practitioner, Session
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
            LedgerEntry,
        )
    )


def summary(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("Demo data ready"))


def test_seed_demo_twice_gives_the_same_rows_and_says_so(capsys, caplog, settings, tmp_path):
    from booking.models import Practitioner
    from booking.photos import photo_names

    settings.MEDIA_ROOT = tmp_path

    def files():
        return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())

    caplog.set_level("INFO")
    call_command("seed_demo")
    first, pictures, said = row_counts(), files(), capsys.readouterr().out
    call_command("seed_demo")
    assert row_counts() == first
    again = capsys.readouterr().out
    assert summary(again) == summary(said)  # counted once every seeder is done
    assert f"{User.objects.count()} users" in summary(said)
    # The services' INFO lines stay out of make run (logged again afterwards).
    assert not [r for r in caplog.records if r.levelname == "INFO"]
    # Each demo practitioner has a drawn picture, stored as an upload is; no more files
    # the second time.
    assert (
        files()
        == pictures
        == sorted(name for p in Practitioner.objects.all() for name in photo_names(p.photo))
    )
    assert all(p.photo and p.photo_alt for p in Practitioner.objects.all())
    staff = [login for login in DEMO_LOGINS if login.is_staff]
    assert first[2] == 1 and User.objects.filter(is_staff=True).count() == len(staff)
    for login in DEMO_LOGINS:
        assert login.email in again and login.password in again


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


def test_the_demo_is_a_clinic_on_a_normal_day_that_keeps_every_rule_and_sends_no_email():
    from django.core import mail
    from django.utils import timezone

    from booking.models import Course, Offer, Reminder, Session, WaitlistEntry
    from booking.selectors import courses_breaking_rules
    from booking.waitlist.services import waitlist_sweep
    from tests.worker import send_all_due

    call_command("seed_demo", "--quiet-logins")
    now = timezone.now()
    broken = courses_breaking_rules(now=now)
    assert broken == [], [
        (e.course.idempotency_key, [b.message for b in e.breaches]) for e in broken
    ]
    sessions = Session.objects.select_related("course")
    today = timezone.localdate()
    assert sessions.filter(status=Session.Status.ATTENDED, start__lt=now).exists()
    assert sessions.filter(status=Session.Status.NO_SHOW).exists()
    assert sessions.filter(status=Session.Status.CANCELLED).exists()
    assert sessions.active().filter(start__date=today).exists() or today.weekday() == 6
    assert any(c.consent_to_sign for c in Course.objects.all())
    finished = [
        c
        for c in Course.objects.filter(idempotency_key="demo-finished")
        if not c.sessions.filter(status=Session.Status.BOOKED).exists()
    ]
    assert finished
    assert Reminder.objects.filter(
        status=Reminder.Status.SENT, kind__in=["aftercare", "check_in"]
    ).exists()
    # The waitlist: patients waiting, a time held for one, an offer let go.
    offers = Offer.objects.all()
    assert offers.filter(status=Offer.Status.HELD, hold__held_until__gt=now).exists()
    assert offers.filter(status=Offer.Status.DECLINED).exists()
    assert WaitlistEntry.objects.filter(
        treatment__slug="consultation", status=WaitlistEntry.Status.WAITING
    ).exists()
    # Nothing is left for the worker to send about the demo's patients, now or later.
    assert waitlist_sweep(now=now)["offered"] == 0
    assert not Reminder.objects.open().exists()
    send_all_due(now=now + timedelta(days=120))
    assert mail.outbox == []
    call_command("seed_demo", "--quiet-logins")  # a second run the same day: nothing new
    assert Session.objects.count() == sessions.count()


def test_the_demos_money_through_the_services_and_once(settings):
    """A course paid in full, one part paid by card, a late-cancellation fee, one waived with
    a reason, the no-show counted as used, a refund after a cancelled session, a voucher;
    the policy in the booking rules; microneedling's £50 deposit, online only with Stripe's
    keys; a second run adds no entry (the ledger is append-only) and keeps what staff set."""
    from decimal import Decimal

    from booking.deposits.services import deposit_terms
    from booking.ledger.models import LedgerEntry
    from booking.ledger.selectors import course_account
    from booking.models import BookingRules, Course
    from clinic.money import treatment_course_price
    from education.models import Treatment

    K = LedgerEntry.Kind
    call_command("seed_demo", "--quiet-logins")
    rules = BookingRules.current()
    assert (rules.late_cancel_outcome, rules.late_cancel_fee) == ("fee", Decimal("30.00"))
    assert (rules.late_move_outcome, rules.no_show_outcome) == ("nothing", "used")

    def account(key):
        return course_account(Course.objects.get(idempotency_key=key))

    def entries(key, **kinds):
        return LedgerEntry.objects.filter(course__idempotency_key=key, **kinds)

    assert account("demo-finished").due == 0 and account("demo-finished").paid == Decimal(480)
    assert account("demo-course-0").paid == Decimal(160) and account("demo-course-0").due > 0
    fee = entries("demo-late-fee", kind=K.FEE).get()
    assert (fee.event, fee.amount) == ("late_cancel", Decimal(30)) and "hours before" in fee.reason
    assert account("demo-late-fee").due == Decimal(30)
    waiver = entries("demo-fee-waived", kind=K.WAIVER).get()
    assert (
        waiver.refers_to.kind == K.FEE and waiver.recorded_by and "car broke down" in waiver.reason
    )
    assert account("demo-fee-waived").due == 0
    assert entries("demo-no-show", kind=K.USED, event="no_show").count() == 1
    refund = entries("demo-refunded", kind=K.REFUND).get()
    assert refund.amount == Decimal(160) and account("demo-refunded").due == 0
    assert entries("demo-busy-0", kind=K.PAYMENT, method="voucher").exists()
    # The deposit: without keys (`make run`) patients pay at the clinic; with them, £50 is
    # offered online (not required: the booking rules' default).
    microneedling = Treatment.objects.get(slug="microneedling")
    assert (microneedling.deposit, microneedling.deposit_value) == ("fixed", Decimal("50.00"))
    price = treatment_course_price(microneedling)
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    assert deposit_terms(microneedling, price) is None
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_x", "whsec_x"
    terms = deposit_terms(microneedling, price)
    assert (terms.amount, terms.required) == (Decimal("50.00"), False)
    Treatment.objects.filter(pk=microneedling.pk).update(deposit_value=Decimal("40.00"))
    before = list(LedgerEntry.objects.values_list("pk", flat=True))
    call_command("seed_demo", "--quiet-logins")
    assert list(LedgerEntry.objects.values_list("pk", flat=True)) == before
    assert Treatment.objects.get(pk=microneedling.pk).deposit_value == Decimal("40.00")
