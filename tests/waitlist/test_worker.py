"""The hand-on with the real beat and worker: django-celery-beat's DatabaseScheduler runs
`booking.waitlist_run` on a Celery worker on Redis and PostgreSQL, as in production, with the
hold set in seconds. The clocks are the machine's: an offer's email goes once, its hold lapses
after those seconds, and the next patient's offer goes, once.
"""

import time
import uuid
from datetime import time as wall_time
from datetime import timedelta
from email import message_from_string

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from booking import selectors, services
from booking.models import Offer, ReminderSettings, WaitlistSettings
from tests.booking.factories import PatientFactory, book_course
from tests.celery_worker import start_beat, start_worker
from tests.waitlist.conftest import join

HOLD = timedelta(seconds=3)


def wait_for(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_beat_and_worker_offer_then_hand_on_a_cancelled_time_once_each(
    tmp_path, treatment, practitioner
):
    # The machine's clock may be in the clinic's quiet hours: none today.
    quiet = ReminderSettings.current()
    quiet.quiet_from = quiet.quiet_until = wall_time(8)
    quiet.save()
    config = WaitlistSettings.current()
    config.hold_for = HOLD
    config.save()
    # Only the waitlist's run, every second (its migration's row says ten).
    PeriodicTask.objects.all().delete()
    PeriodicTask.objects.create(
        name="Waitlist: lapse holds, offer freed time",
        task="booking.waitlist_run",
        interval=IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS),
    )
    now, today = timezone.now(), timezone.localdate()
    slot = selectors.free_slots(
        treatment=treatment,
        day_from=today + timedelta(days=3),
        day_to=today + timedelta(days=10),
        now=now,
        practitioners=[practitioner],
    )[0]
    (session,) = book_course(
        patient=PatientFactory(), treatment=treatment, slots=[slot]
    ).sessions.all()
    first, second = PatientFactory(), PatientFactory()
    days = (today + timedelta(days=2), today + timedelta(days=20))
    join(first, treatment, days=days)
    time.sleep(0.01)  # joined one after the other
    join(second, treatment, days=days)
    services.session_cancel(session=session, by_staff=True)

    queue = f"test-{uuid.uuid4().hex[:8]}"
    mail = {"EMAIL_URL": f"filemail://{tmp_path}"}
    worker = start_worker(queue=queue, **mail)
    beat = start_beat(queue=queue, **mail)
    offers = Offer.objects.order_by("pk")
    try:
        # The first offer, its hold lapsed after HOLD, the second offer, and its hold lapsed.
        assert wait_for(lambda: offers.filter(status=Offer.Status.LAPSED).count() == 2, 25), list(
            offers.values("patient", "status")
        )
        time.sleep(1.5)  # beat's next runs: nothing more goes out
    finally:
        for process in (beat, worker):
            process.terminate()
        output = "".join(p.communicate(timeout=30)[0] or "" for p in (beat, worker))
    assert [o.patient for o in offers] == [first, second]
    for offer in offers:
        assert offer.hold.start == slot.start
        sent = offer.hold.reminders.get().sent_at
        assert offer.hold.held_until == sent + HOLD
    assert offers[1].created_at >= offers[0].hold.held_until  # handed on once it lapsed
    emails = [message_from_string(p.read_text()) for p in sorted(tmp_path.iterdir())]
    assert sorted(e["To"] for e in emails) == sorted([first.user.email, second.user.email])
    assert len({e["Idempotency-Key"] for e in emails}) == 2
    assert "Traceback" not in output, output
