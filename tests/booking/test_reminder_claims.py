"""A claim whose worker is gone is taken again at the next dispatch, not after the lease.

The dispatcher asks about claims older than REMINDER_CLAIM_CHECK_SECONDS held by
other workers; those whose worker does not answer go back to pending, except a
row a send in progress has locked. The real worker killed mid-burst is in
tests/booking/test_reminder_crash.py.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from booking.availability import Slot
from booking.models import Reminder
from booking.reminders import claim_take_over, dispatch_due, orphaned_claims_release
from tests.booking.factories import book_course

Status = Reminder.Status
GONE, ALIVE, ME = "celery@a 0001", "celery@b 0002", "celery@c 0003"


@pytest.fixture
def due(now, patient, treatment, practitioner):
    """The booking's confirmation and clinic notice, due now."""
    start = now + timedelta(days=9, hours=2)
    course = book_course(
        patient=patient,
        treatment=treatment,
        slots=[Slot(start, start + timedelta(minutes=75), practitioner.pk)],
    )
    return Reminder.objects.filter(session__course=course, due_at__lte=now)


class Asked:
    """A stand-in for clinic.celery.workers_answering: who answers, and who was asked."""

    def __init__(self, answering=(ALIVE, ME)):
        self.answering, self.asked = answering, []

    def __call__(self, holders):
        self.asked.append(set(holders))
        return None if self.answering is None else holders & set(self.answering)


def claim(due, *, worker, at):
    ids = dispatch_due(now=at, worker=worker)
    assert set(ids) == set(due.values_list("pk", flat=True)) and ids
    return ids


@pytest.mark.django_db
class TestRelease:
    def test_a_gone_workers_claims_are_claimed_again_at_the_next_dispatch(self, now, due):
        ids = claim(due, worker=GONE, at=now)
        later = now + timedelta(seconds=31)
        assert orphaned_claims_release(now=later, worker=ME, answering=Asked()) == len(ids)
        assert set(dispatch_due(now=later, worker=ME)) == set(ids)
        row = Reminder.objects.get(pk=ids[0])
        assert (row.status, row.claimed_by) == (Status.SENDING, ME)
        assert list(row.events.values_list("event", "detail")) == [
            ("claimed", GONE),
            ("released", f"{GONE} no longer answers"),
            ("claimed", ME),
        ]

    def test_a_worker_that_answers_keeps_its_claims(self, now, due):
        claim(due, worker=ALIVE, at=now)
        asked = Asked()
        later = now + timedelta(minutes=5)
        assert orphaned_claims_release(now=later, worker=ME, answering=asked) == 0
        assert asked.asked == [{ALIVE}]
        assert dispatch_due(now=now + timedelta(minutes=5), worker=ME) == []

    def test_nobody_is_asked_about_young_claims_own_claims_or_claims_made_outside_a_worker(
        self, now, due, settings
    ):
        asked = Asked(answering=())
        claim(due, worker=GONE, at=now)
        young = now + timedelta(seconds=settings.REMINDER_CLAIM_CHECK_SECONDS - 1)
        assert orphaned_claims_release(now=young, worker=ME, answering=asked) == 0
        Reminder.objects.update(claimed_by=ME)
        assert (
            orphaned_claims_release(now=now + timedelta(minutes=5), worker=ME, answering=asked) == 0
        )
        Reminder.objects.update(claimed_by="")  # tests, shells: only the lease retakes these
        assert (
            orphaned_claims_release(now=now + timedelta(minutes=5), worker=ME, answering=asked) == 0
        )
        assert asked.asked == []
        assert not due.exclude(status=Status.SENDING).exists()

    def test_when_nobody_can_be_asked_nothing_is_released(self, now, due):
        claim(due, worker=GONE, at=now)
        later = now + timedelta(minutes=5)
        assert orphaned_claims_release(now=later, worker=ME, answering=Asked(None)) == 0
        assert not due.exclude(status=Status.SENDING).exists()

    def test_the_lease_still_retakes_a_claim_nobody_asked_about(self, now, due, settings):
        ids = claim(due, worker="", at=now)
        after_lease = now + timedelta(seconds=settings.REMINDER_LEASE_SECONDS + 1)
        assert set(dispatch_due(now=after_lease, worker=ME)) == set(ids)

    def test_the_sender_takes_over_a_claim_only_while_it_is_sending(self, now, due):
        first, second = claim(due, worker=ALIVE, at=now)
        claim_take_over(reminder_id=first, worker=ME)
        Reminder.objects.filter(pk=second).update(status=Status.SENT)
        claim_take_over(reminder_id=second, worker=ME)
        assert dict(due.values_list("pk", "claimed_by")) == {first: ME, second: ALIVE}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_send_in_progress_is_never_released(now, due):
    """The sender holds the row's lock for the whole send; a release skips locked rows."""
    sending, other = claim(due, worker=GONE, at=now)
    locked, done = threading.Event(), threading.Event()

    def sender():
        try:
            with transaction.atomic():
                Reminder.objects.select_for_update().get(pk=sending)
                locked.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=sender)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        released = orphaned_claims_release(
            now=now + timedelta(minutes=5), worker=ME, answering=Asked(answering=())
        )
    finally:
        done.set()
        thread.join(timeout=30)
    assert released == 1
    assert dict(due.values_list("pk", "status")) == {
        sending: Status.SENDING,
        other: Status.PENDING,
    }
