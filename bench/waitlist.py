"""Benchmark: the waitlist matching freed time, for one cancellation and for 1,000 at once.

Targets (issue 21), on PostgreSQL:
1. One cancellation with 5,000 open entries across 10 treatments: the time and
   the queries of `freed_time_match` (the sweep's matching of the freed time)
   after one `session_cancel`, repeated over many cancellations. The query
   count is flat in the number of entries (the same cancellations measured with
   500 entries and with 5,000: equal or nearly so), the median under 50 ms.
2. 1,000 cancellations in a burst, each session one that some waiting entries
   fit: every first offer sent within 60 s of the first cancellation (the
   cancellations one after another through the service in this process, as
   web requests would make them, while two worker processes, as `make run`'s
   Celery pool on these 2 cores, run the waitlist task's work: the sweep, then
   the offer emails claimed and sent by booking/reminders.py to the locmem
   backend; both claim with SKIP LOCKED, as in production), no duplicate offers
   (no entry or patient with two live offers, no email sent twice), and no
   hold overlapping a session of the same practitioner or patient (by query).

The clinic: 12 practitioners (most Monday to Friday 09:00-17:00, three from
noon to 20:00 Tuesday to Saturday, so evenings and Saturdays exist), each
offering 3 or 4 of 10 treatments of 45 to 90 minutes; their next 9 weeks
about 70% booked (one-session courses of other patients). Entries as patients
make them: a treatment, anyone or one practitioner (40%), 3 to 28 days, one to
three weekdays (some every day), one or two parts of the day (some all), and
15% for an earlier time of a session the patient has booked. Most entries do
not fit a given freed time. The clock is frozen at Monday 1 June 2026, 10:00
(outside quiet hours).

Beside each wall-clock figure: this process's own CPU time and the load average,
as other work on the machine stretches the wall clock. After the burst, the
freed times no offer went to are looked at again with no limit on the number
of candidates: how many an entry fitted that the fairest CANDIDATES did not.
"""

import os
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.test.utils import CaptureQueriesContext, override_settings

from bench.common import QUICK, needs_postgres, scratch_database, write

ENTRIES = (500, 5000)  # part 1: the two sizes compared (a bulk insert: as quick either way)
CANCELS = 6 if QUICK else 60  # part 1: cancellations measured at each size
BURST = 30 if QUICK else 1000  # part 2
BURST_ENTRIES = 200 if QUICK else 5000  # part 2: two for each session cancelled, the rest noise
WEEKS = 9
TREATMENTS = 10
PRACTITIONERS = 12
MEDIAN_MS, QUERIES_SLACK, BURST_S = 50, 2, 60


@dataclass
class Clinic:
    treatments: list
    practitioners: list
    offered: dict  # practitioner pk -> the treatments they offer
    booked: list  # the booked sessions, by start
    waiting: list  # patients with no sessions


def _patients(count: int, prefix: str) -> list:
    from django.contrib.auth.hashers import make_password

    from booking.models import Patient
    from clinic.models import User

    unusable = make_password(None)  # nobody signs in here
    users = User.objects.bulk_create(
        [User(email=f"{prefix}{n}@example.org", password=unusable) for n in range(count)]
    )
    return Patient.objects.bulk_create(
        [
            Patient(user=u, full_name=f"{prefix.title()} {n}", phone="07700 900000")
            for n, u in enumerate(users)
        ]
    )


def clinic(now: datetime, rng: random.Random, *, waiting: int) -> Clinic:
    """Treatments, practitioners, their next WEEKS weeks about 70% booked, `waiting` patients."""
    from booking.models import ConsentText, Course, Session
    from tests.booking.factories import PractitionerFactory
    from tests.education.factories import TreatmentFactory

    ConsentText.objects.create(version=1, text="I agree to the treatment.")
    treatments = [
        TreatmentFactory(
            name=f"Treatment {n}",
            slug=f"treatment-{n}",
            treatment_minutes=(30, 45, 60)[n % 3],
            numbing_minutes=(15, 30)[n % 2],
            sessions_usual=1 + n % 3,
            sessions_max=6,
        )
        for n in range(TREATMENTS)
    ]
    weekdays = [(d, clock(9), clock(17)) for d in range(5)]
    late = [(d, clock(12), clock(20)) for d in range(1, 6)]
    practitioners, offered, hours = [], {}, {}
    for n in range(PRACTITIONERS):
        mine = rng.sample(treatments, 3 + n % 2)
        shifts = late if n % 4 == 3 else weekdays
        practitioner = PractitionerFactory(treatments=mine, hours=shifts)
        practitioners.append(practitioner)
        offered[practitioner.pk], hours[practitioner.pk] = mine, shifts
    zone = now.tzinfo
    planned = []  # (start, end, practitioner, treatment)
    buffer = timedelta(minutes=15)
    for day in (now.date() + timedelta(days=d) for d in range(1, WEEKS * 7)):
        for practitioner in practitioners:
            for weekday, start, end in hours[practitioner.pk]:
                if weekday != day.weekday():
                    continue
                at = datetime.combine(day, start, tzinfo=zone)
                closes = datetime.combine(day, end, tzinfo=zone)
                while True:
                    treatment = rng.choice(offered[practitioner.pk])
                    length = timedelta(minutes=treatment.appointment_minutes)
                    if at + length > closes:
                        break
                    if rng.random() < 0.7:
                        planned.append((at, at + length, practitioner, treatment))
                    at += length + buffer
    planned.sort(key=lambda row: row[0])
    # Round robin over many patients: nobody has two sessions at once.
    owners = _patients(len(planned) // 3 + 50, "booked")
    courses = Course.objects.bulk_create(
        [
            Course(
                patient=owners[n % len(owners)],
                treatment=treatment,
                practitioner=practitioner,
                sessions_planned=1,
            )
            for n, (_s, _e, practitioner, treatment) in enumerate(planned)
        ]
    )
    booked = Session.objects.bulk_create(
        [
            Session(
                course=course,
                patient=course.patient,
                practitioner=course.practitioner,
                number=1,
                start=start,
                end=end,
            )
            for course, (start, end, _p, _t) in zip(courses, planned, strict=True)
        ]
    )
    for session, course in zip(booked, courses, strict=True):
        session.course = course  # the treatment, without a query each
    return Clinic(treatments, practitioners, offered, booked, _patients(waiting, "waiting"))


def _bits(rng: random.Random, choices: int, most: int) -> int:
    picked = rng.sample(range(choices), rng.randint(1, most))
    return sum(1 << n for n in picked)


def entry_rows(
    place: Clinic, now: datetime, rng: random.Random, count: int, *, fit: list | None = None
) -> list:
    """`count` waiting entries as patients make them (unsaved, fairest first); with `fit`,
    two of them fit each of those sessions' time (treatment, day, part of the day)."""
    from booking.models import WaitlistEntry
    from booking.waitlist.models import ALL_DAY, EVERY_DAY, part_of_day

    zone, today = now.tzinfo, now.date()
    first_day, last_day = today + timedelta(days=2), today + timedelta(weeks=12)
    later = [s for s in place.booked if s.start.date() >= today + timedelta(days=7)]
    waited_for = set(WaitlistEntry.objects.values_list("session_id", flat=True))
    taken = set(WaitlistEntry.objects.values_list("patient_id", "treatment_id"))
    rows = []

    def add(**fields):
        treatment = fields["treatment"]
        # A first session's course as the journey asks it: the treatment's usual number
        # of sessions (offering it plans them all, booking/waitlist/matching.py).
        wanted = None if fields.get("session") else treatment.sessions_usual
        rows.append(
            WaitlistEntry(
                answers_version=treatment.questions_version, sessions_wanted=wanted, **fields
            )
        )

    for session in fit or ():
        local = session.start.astimezone(zone)
        for _ in range(2):
            patient = next(
                p
                for p in iter(lambda: rng.choice(place.waiting), None)
                if (p.pk, session.course.treatment_id) not in taken
            )
            taken.add((patient.pk, session.course.treatment_id))
            add(
                patient=patient,
                treatment=session.course.treatment,
                practitioner=rng.choice([None, session.practitioner]),
                date_from=max(first_day, local.date() - timedelta(days=rng.randint(0, 7))),
                date_to=min(last_day, local.date() + timedelta(days=rng.randint(0, 7))),
                weekdays=(1 << local.weekday()) | _bits(rng, 6, 2),
                parts_of_day=part_of_day(local.time()) | _bits(rng, 3, 1),
            )
    while len(rows) < count:
        if rng.random() < 0.15:  # an earlier time for a booked session
            session = rng.choice(later)
            if session.pk in waited_for:
                continue
            waited_for.add(session.pk)
            last = session.start.astimezone(zone).date() - timedelta(days=1)
            add(
                patient=session.patient,
                treatment=session.course.treatment,
                session=session,
                practitioner=rng.choice([None, session.practitioner]),
                date_from=max(first_day, last - timedelta(days=rng.randint(3, 28))),
                date_to=last,
                weekdays=EVERY_DAY if rng.random() < 0.15 else _bits(rng, 6, 3),
                parts_of_day=ALL_DAY if rng.random() < 0.15 else _bits(rng, 3, 2),
            )
            continue
        patient, treatment = rng.choice(place.waiting), rng.choice(place.treatments)
        if (patient.pk, treatment.pk) in taken:
            continue
        taken.add((patient.pk, treatment.pk))
        who = [p for p in place.practitioners if treatment in place.offered[p.pk]]
        starts = first_day + timedelta(days=rng.randint(0, 55))
        add(
            patient=patient,
            treatment=treatment,
            practitioner=rng.choice(who) if who and rng.random() < 0.4 else None,
            date_from=starts,
            date_to=min(last_day, starts + timedelta(days=rng.randint(3, 28))),
            weekdays=EVERY_DAY if rng.random() < 0.15 else _bits(rng, 6, 3),
            parts_of_day=ALL_DAY if rng.random() < 0.15 else _bits(rng, 3, 2),
        )
    rng.shuffle(rows)  # the fitting ones among the rest in the fair order
    return rows


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def one_cancellation(now: datetime, entries: int) -> dict:
    """Part 1 at one size: CANCELS sessions cancelled one at a time, each then matched."""
    from booking import services
    from booking.models import Offer, WaitlistEntry
    from booking.waitlist import services as waitlist

    rng = random.Random(21)
    with scratch_database():
        place = clinic(now, rng, waiting=max(entries // 2, 100))
        WaitlistEntry.objects.bulk_create(entry_rows(place, now, rng, entries))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        notice = now + timedelta(days=3)
        chosen = random.Random(7).sample([s for s in place.booked if s.start > notice], CANCELS)
        waitlist.waitlist_sweep(now=now)  # warm: nothing freed yet
        timings, cpu, queries, offers = [], [], [], 0
        load = os.getloadavg()[0]
        for session in chosen:
            services.session_cancel(session=session, now=now)
            with CaptureQueriesContext(connection) as captured:
                started, began = time.perf_counter(), time.process_time()
                made = waitlist.freed_time_match(now=now)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - began) * 1000)
            queries.append(len(captured))
            offers += made
        live = Offer.objects.live().count()
    return {
        "entries": entries,
        "cancellations": CANCELS,
        "offers_made": offers,
        "live_offers": live,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "max_ms": round(max(timings), 1),
        # This process's own CPU (Python and the ORM, not PostgreSQL's): less swayed by
        # other work on the machine than the wall-clock figures.
        "cpu_median_ms": round(statistics.median(cpu), 1),
        "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
        "queries_median": statistics.median(queries),
        "queries_max": max(queries),
        "queries_min": min(queries),
    }


def problems() -> dict:
    """Duplicates and overlaps, read from the database after the burst."""
    from booking.models import Offer, Reminder, ReminderEvent, Session

    def twice(field: str) -> int:
        return Offer.objects.live().values(field).annotate(n=Count("pk")).filter(n__gt=1).count()

    active = Session.with_holds.active()
    overlapping = active.exclude(pk=OuterRef("pk")).filter(
        Q(practitioner_id=OuterRef("practitioner_id")) | Q(patient_id=OuterRef("patient_id")),
        start__lt=OuterRef("end"),
        end__gt=OuterRef("start"),
    )
    sent_twice = (
        ReminderEvent.objects.filter(event="sent", reminder__kind=Reminder.Kind.OFFER)
        .values("reminder")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "entries_with_two_live_offers": twice("entry"),
        "patients_with_two_live_offers": twice("patient"),
        "offer_emails_sent_twice": sent_twice,
        "holds_overlapping_a_session": Session.with_holds.held()
        .filter(Exists(overlapping))
        .count(),
    }


WORKERS = 2  # the waitlist task's processes: `make run`'s worker pool on these 2 cores


def _worker(now: datetime, stop) -> None:
    """One worker process doing booking.waitlist_run's work until told to stop: the sweep,
    then the offer emails claimed and sent (booking/reminders.py), as often as it can."""
    from django.db import connection as own

    from booking import reminders
    from booking.models import Reminder
    from booking.waitlist import services as waitlist

    own.close()  # never the parent's connection: a connection of its own
    while not stop.is_set():
        busy = waitlist.waitlist_sweep(now=now)["offered"]
        while ids := reminders.dispatch_due(now=now, kinds=[Reminder.Kind.OFFER]):
            busy += len(ids)
            for reminder_id in ids:
                reminders.reminder_send(reminder_id=reminder_id, now=now)
        if not busy:
            time.sleep(0.02)
    own.close()


def burst(now: datetime) -> dict:
    """Part 2: BURST sessions cancelled one after another (as the web processes would) while
    WORKERS worker processes run the waitlist task's work, as Celery's pool does: the
    time from the first cancellation until every offer made has been sent."""
    import multiprocessing
    import resource

    from booking import services
    from booking.models import FreedTime, Offer, Reminder, Session, WaitlistEntry
    from booking.waitlist import matching

    rng = random.Random(1000)
    with (
        scratch_database(),
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
    ):
        place = clinic(now, rng, waiting=max(BURST_ENTRIES * 3 // 4, 200))
        notice = now + timedelta(days=3)
        chosen = random.Random(8).sample([s for s in place.booked if s.start > notice], BURST)
        WaitlistEntry.objects.bulk_create(
            entry_rows(place, now, rng, BURST_ENTRIES, fit=chosen), batch_size=1000
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        load = os.getloadavg()[0]
        connection.close()  # forked workers must not share this process's connection
        forks = multiprocessing.get_context("fork")
        stop = forks.Event()
        workers = [forks.Process(target=_worker, args=(now, stop)) for _ in range(WORKERS)]
        for worker in workers:
            worker.start()
        offer_emails = Reminder.objects.filter(kind=Reminder.Kind.OFFER)
        try:
            started, began = time.perf_counter(), time.process_time()
            for session in chosen:
                services.session_cancel(session=session, now=now)
            cancelled_s = time.perf_counter() - started
            deadline = started + 10 * BURST_S
            while time.perf_counter() < deadline and (
                FreedTime.objects.filter(matched_at=None).exists() or offer_emails.open().exists()
            ):
                time.sleep(0.05)
            elapsed, cpu_s = time.perf_counter() - started, time.process_time() - began
        finally:
            stop.set()
            for worker in workers:
                worker.join(60)
        workers_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        found = problems()
        offers = Offer.objects.count()
        sent_ids = Counter(
            offer_emails.filter(status=Reminder.Status.SENT).values_list("message_id", flat=True)
        )
        # Freed times no offer went to although an entry fits: matching looks at the
        # CANDIDATES fairest entries the SQL lets through; would a longer look find one?
        unfilled = [
            f
            for f in FreedTime.objects.filter(cause=FreedTime.Cause.CANCELLED)
            if not Session.with_holds.held()
            .filter(practitioner_id=f.practitioner_id, start__lt=f.end, end__gt=f.start)
            .exists()
        ]
        shown = matching.CANDIDATES
        matching.CANDIDATES = 100_000
        try:
            missed = sum(
                matching.entry_match(
                    practitioner_ids=[f.practitioner_id], start=f.start, end=f.end, now=now
                )
                is not None
                for f in unfilled
            )
        finally:
            matching.CANDIDATES = shown
    return {
        "cancellations": BURST,
        "entries": BURST_ENTRIES,
        "worker_processes": WORKERS,
        "seconds": round(elapsed, 1),
        "cancelling_s": round(cancelled_s, 1),
        "after_the_last_cancellation_s": round(elapsed - cancelled_s, 1),
        "cpu_s_cancelling_process": round(cpu_s, 1),  # this process's own, as above
        "cpu_s_workers": round(workers_cpu.ru_utime + workers_cpu.ru_stime, 1),
        "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
        "offers_made": offers,
        "offer_emails_sent": sum(sent_ids.values()),
        "emails_with_the_same_message_id": sum(n - 1 for n in sent_ids.values() if n > 1),
        "freed_times_without_an_offer": len(unfilled),
        "of_which_an_entry_fits_past_the_candidates": missed,
        **found,
    }


# What must be 0 after the burst (bench/run.py's table adds them up).
DUPLICATES = (
    "entries_with_two_live_offers",
    "patients_with_two_live_offers",
    "offer_emails_sent_twice",
    "emails_with_the_same_message_id",
)


def queries_flat(sizes: list[dict]) -> bool:
    return abs(sizes[-1]["queries_median"] - sizes[0]["queries_median"]) <= QUERIES_SLACK


def one_cancellation_ok(sizes: list[dict]) -> bool:
    return queries_flat(sizes) and sizes[-1]["median_ms"] < MEDIAN_MS


def burst_ok(found: dict) -> bool:
    return (
        found["seconds"] <= BURST_S
        and found["offer_emails_sent"] == found["offers_made"]
        and not any(found[k] for k in DUPLICATES)
        and not found["holds_overlapping_a_session"]
    )


def main() -> int:
    if not needs_postgres("bench/waitlist"):
        return 1
    import time_machine

    from booking import selectors

    now = datetime(2026, 6, 1, 10, tzinfo=selectors.clinic_zone())
    with time_machine.travel(now, tick=False):
        sizes = [one_cancellation(now, n) for n in ENTRIES]
        print(
            f"Waitlist matching after one cancellation, {CANCELS} cancellations at each size "
            f"({TREATMENTS} treatments, {PRACTITIONERS} practitioners, {WEEKS} weeks ~70% booked)"
        )
        print(
            f"{'entries':>8} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'CPU ms':>7}"
            f" {'SQL median':>11} {'SQL min-max':>12} {'offers':>7}"
        )
        for row in sizes:
            print(
                f"{row['entries']:>8} {row['median_ms']:>10} {row['p95_ms']:>8} {row['max_ms']:>8}"
                f" {row['cpu_median_ms']:>7} {row['queries_median']:>11}"
                f" {row['queries_min']:>5}-{row['queries_max']:<6} {row['offers_made']:>7}"
            )
        large = sizes[-1]
        verdicts = [
            "meets" if ok else "MISSES"
            for ok in (queries_flat(sizes), large["median_ms"] < MEDIAN_MS)
        ]
        print(
            f"  queries equal or nearly so (within {QUERIES_SLACK}): {verdicts[0]};"
            f" median < {MEDIAN_MS} ms at {large['entries']:,} entries: {verdicts[1]}"
        )
        found = burst(now)
    print(f"\n{BURST:,} cancellations in a burst, {BURST_ENTRIES:,} entries")
    for name, value in found.items():
        print(f"  {name:<45} {value}")
    print(
        f"  {'meets' if burst_ok(found) else 'MISSES'} the target: every first offer sent within"
        f" {BURST_S} s, 0 duplicate offers, 0 holds overlapping a session"
    )
    write(
        "waitlist",
        {
            "one_cancellation": sizes,
            "burst": found,
            "targets": {
                "median_ms": MEDIAN_MS,
                "queries_slack": QUERIES_SLACK,
                "burst_seconds": BURST_S,
            },
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
