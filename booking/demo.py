"""Demo data for `seed_demo`: a clinic on a normal day.

Runs after the education demo (it needs the treatments). Every course is
booked, attended, marked a no-show or cancelled through the services, so the
demo keeps every booking rule (booking/rulebook.py; a test checks the data
with selectors.courses_breaking_rules). Courses in the past are booked with
the services' `now` set to when they would have been booked. Fixed
idempotency keys make a second run book nothing new, except that each run
tops up today's sessions when there are none, so reception can mark
attendance on the first `make run` of any day.

The demo sends no email: its reminder rows that were due are shown as sent,
and those still to come are skipped ("the demo never emails"), so the worker
never writes to a demo patient even with a real EMAIL_URL.

Each practitioner gets a drawn head-and-shoulders picture as their photo
(booking/demo_portraits.py), stored as an upload would be.

It shows: a finished course, a course half way (session 1 attended), a no-show,
a cancelled session, a phone booking whose consent is to be signed at the first
visit, today's sessions (the first still to come marked arrived), a busy
week for the schedule, the waitlist (booking/waitlist/demo.py), and the money
(booking/demo_money.py: the cancellation policy, payments, a late-cancellation fee, a
waived one, a refund, a voucher).
"""

import contextlib
from datetime import date, datetime, time, timedelta
from functools import partial

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from clinic.demo import CLINICIAN_LOGIN, RECEPTION_LOGIN
from clinic.models import User
from education.models import Treatment

from . import attendance, demo_money, demo_portraits, photos, selectors, services
from .models import (
    BookingRules,
    ClinicClosure,
    ConsentText,
    Course,
    Patient,
    Practitioner,
    Reminder,
    Session,
    TimeOff,
    WaitlistEntry,
    WorkingHours,
)
from .waitlist import demo as waitlist_demo

# England and Wales bank holidays (gov.uk list), the clinic shuts.
BANK_HOLIDAYS = {
    date(2026, 12, 25): "Christmas Day", date(2026, 12, 28): "Boxing Day (substitute day)",
    date(2027, 1, 1): "New Year's Day", date(2027, 3, 26): "Good Friday",
    date(2027, 3, 29): "Easter Monday", date(2027, 5, 3): "Early May bank holiday",
    date(2027, 5, 31): "Spring bank holiday", date(2027, 8, 30): "Summer bank holiday",
    date(2027, 12, 27): "Christmas Day (substitute day)",
    date(2027, 12, 28): "Boxing Day (substitute day)",
}  # fmt: skip
# Inside the demo clinic's opening hours (Mon-Fri 9-6, Sat 9-1).
MON_FRI, TUE_FRI, SATURDAY = range(5), range(1, 5), range(5, 6)
PRACTITIONERS = [
    # name, credentials, bio, [(weekdays, start, end), ...]
    (
        "Dr Priya Demo (demo)",
        "MBBS, aesthetic doctor",
        "Has treated acne scarring with microneedling for ten years.",
        [(MON_FRI, time(9), time(17))],
    ),
    (
        "Jamie Example (demo)",
        "RN, aesthetic nurse",
        "Works a split day: mornings and late afternoons.",
        [(MON_FRI, time(9), time(12)), (MON_FRI, time(14), time(18))],
    ),
    (
        "Alex Placeholder (demo)",
        "Aesthetic practitioner, NVQ level 4",
        "Works Tuesday to Saturday.",
        [(TUE_FRI, time(10), time(18)), (SATURDAY, time(9), time(13))],
    ),
]
CONSENT_V1 = (
    "I have read about this treatment, its risks and its aftercare. I have answered the "
    "health questions truthfully. I understand that results vary, and that my practitioner "
    "may decide on the day that the treatment is not right for me."
)
DEMO_PATIENTS = [
    (f"demo.patient.{n}@example.com", f"{first} Demo-Patient", f"07700 9001{n:02d}")
    for n, first in enumerate(
        [
            "Robin", "Sam", "Kit", "Jo", "Ash", "Max", "Lee", "Ola", "Rae", "Ade", "Mia",
            "Ravi", "Nia", "Tom", "Zoe", "Ben", "Ana", "Eli", "Ivy", "Cal", "Dev", "Fay",
            "Gus", "Hal", "Ida", "Jon", "Kai", "Liv", "Mo", "Ned", "Oz", "Pia", "Quin",
            "Ria", "Sol", "Tia", "Uma", "Vic", "Wen", "Xan", "Yas", "Zak", "Abe", "Bo", "Cas",
        ],
        start=1,
    )
]  # fmt: skip
TODAY_NAMES = ["Bea", "Cy", "Dot"]
# A busy week for the schedule view: (practitioner index, days ahead, hour) of each
# course's first session, spread over the coming days.
BUSY_WEEK = [
    (who, days, hour)
    for days in range(1, 7)
    for who, hour in ((0, 9), (0, 13), (1, 10), (1, 15), (2, 11), (2, 15))
]


DEMO_KEY = "demo-"


def _picture(practitioner: Practitioner, look: demo_portraits.Look) -> None:
    """A drawing as the practitioner's photo, through an upload's checks and sizes."""
    drawing = photos.photo_prepare(ContentFile(demo_portraits.portrait(look), name="demo.png"))
    if practitioner.photo == drawing.stem and practitioner.photo_alt == look.alt:
        photos.photo_store(drawing)  # seeded before: only files since deleted are written
        return
    practitioner.photo_alt = look.alt
    services.practitioner_save(practitioner=practitioner, photo=drawing)


def _patient(email, name, phone) -> Patient:
    user = User.objects.filter(email=email).first() or User.objects.create_user(email, None)
    patient = Patient.objects.filter(user=user).first()
    return patient or services.patient_create(user=user, full_name=name, phone=phone)


def _demo_course(
    key: str,
    patient,
    treatment,
    practitioner,
    first_day: date,
    hour: int,
    sessions: int,
    *,
    booked_by=None,
    consent_method: str = "online",
):
    """Book (once) a course whose first session is near `first_day` at `hour`, as if booked
    a week before it. None when nothing fits (the demo then simply has one course fewer)."""
    existing = Course.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    zone = selectors.clinic_zone()
    booked_at = datetime.combine(first_day - timedelta(days=7), time(8), tzinfo=zone)
    free = selectors.free_slots(
        treatment=treatment,
        day_from=first_day,
        day_to=first_day + timedelta(days=4),
        now=booked_at,
        practitioners=[practitioner],
        patient=patient,
    )
    wanted = datetime.combine(first_day, time(hour), tzinfo=zone)
    first = min(free, key=lambda s: abs(s.start - wanted), default=None)
    if first is None:
        return None
    plan = selectors.course_proposal(
        first=first, treatment=treatment, sessions=sessions, now=booked_at, patient=patient
    )
    if not all(p.slot for p in plan):
        return None
    agreement = {**services.online_agreement(treatment), "consent_method": consent_method}
    try:
        return services.course_book(
            patient=patient,
            treatment=treatment,
            slots=[p.slot for p in plan],
            now=booked_at,
            idempotency_key=key,
            booked_by=booked_by,
            **agreement,
        )
    except services.BookingError:
        return None


def _mark_past(course, staff, now, *, no_show: int | None = None) -> None:
    """The course's sessions already over: attended (or session `no_show`, a no-show)."""
    if course is None:
        return
    for session in course.sessions.filter(status=Session.Status.BOOKED, end__lte=now).order_by(
        "number"
    ):
        if session.number == no_show:
            attendance.session_mark_no_show(session=session, by=staff, now=session.end)
        else:
            attendance.session_mark_attended(session=session, by=staff, now=session.start)


def _quiet(now) -> None:
    """No demo email ever leaves: rows due are shown as sent, rows to come are skipped."""
    rows = Reminder.objects.filter(session__course__idempotency_key__startswith=DEMO_KEY)
    rows.filter(status=Reminder.Status.PENDING, due_at__lte=now).update(
        status=Reminder.Status.SENT,
        sent_at=F("due_at"),
        reason="Demo data: shown as sent; no email left the app.",
    )
    rows.filter(status=Reminder.Status.PENDING, due_at__gt=now).update(
        status=Reminder.Status.SKIPPED, reason="Demo data: the demo never emails."
    )


def _courses(treatment, practitioners, staff, reception, now) -> None:
    """Every state a clinic sees, each for patients of its own (one open course each)."""
    today = timezone.localdate()
    demo_patient = Patient.objects.filter(user__email="patient@example.com").first()
    if demo_patient is None and (user := User.objects.filter(email="patient@example.com").first()):
        demo_patient = services.patient_create(
            user=user, full_name="Alex Patient", phone="07700 900100"
        )
    patients = iter(_patient(*row) for row in DEMO_PATIENTS)
    course = partial(_demo_course, treatment=treatment, sessions=3)

    finished = course("demo-finished", next(patients), practitioner=practitioners[0],
                      first_day=today - timedelta(days=84), hour=10)  # fmt: skip
    _mark_past(finished, staff, now)
    if demo_patient is not None:  # half way: session 1 attended, session 2 in a few days
        halfway = course("demo-course-0", demo_patient, practitioner=practitioners[0],
                         first_day=today - timedelta(days=25), hour=10)  # fmt: skip
        _mark_past(halfway, staff, now)
    missed = course("demo-no-show", next(patients), practitioner=practitioners[1],
                    first_day=today - timedelta(days=6), hour=10)  # fmt: skip
    _mark_past(missed, staff, now, no_show=1)
    cancelled = course("demo-cancelled", next(patients), practitioner=practitioners[2],
                       first_day=today + timedelta(days=9), hour=11)  # fmt: skip
    # Once: a second run would otherwise cancel the session before it too.
    if cancelled is not None and not cancelled.sessions.filter(status=Session.Status.CANCELLED):
        last = cancelled.sessions.filter(status=Session.Status.BOOKED).order_by("number").last()
        with contextlib.suppress(services.BookingError):
            services.session_cancel(session=last, now=now - timedelta(days=1), notify=True)
    course("demo-consent-to-sign", next(patients), practitioner=practitioners[1],
           first_day=today + timedelta(days=2), hour=15, booked_by=reception,
           consent_method="paper")  # fmt: skip
    # Today: one session per practitioner, if today has none (a new day's first run).
    if not Session.objects.active().filter(start__date=today).exists():
        for n, (who, hour) in enumerate(((0, 11), (1, 15), (2, 14))):
            key = f"demo-today-{today.isoformat()}-{n}"
            email = f"demo.today.{today:%Y%m%d}.{n}@example.com"
            patient = _patient(email, f"{TODAY_NAMES[n]} Demo-Patient", f"07700 9002{n:02d}")
            course(key, patient, practitioner=practitioners[who], first_day=today, hour=hour)
        # The first of them still to come is in the waiting room: "Arrived" on the schedule.
        waiting = (
            Session.objects.filter(
                course__idempotency_key__startswith=f"demo-today-{today.isoformat()}",
                status=Session.Status.BOOKED,
                start__date=today,
                end__gt=now,
            )
            .order_by("start")
            .first()
        )
        if waiting is not None:
            attendance.session_mark_arrived(session=waiting, by=reception or staff, now=now)
    for n, (who, days, hour) in enumerate(BUSY_WEEK):
        patient = next(patients, None)
        if patient is None:
            break
        course(f"demo-busy-{n}", patient, practitioner=practitioners[who],
               first_day=today + timedelta(days=days), hour=hour)  # fmt: skip
    demo_money.seed(
        course, patients, practitioners, today=today, staff=staff, reception=reception,
        mark_past=_mark_past,
        courses={c.idempotency_key: c for c in Course.objects.filter(
            idempotency_key__in=["demo-finished", "demo-course-0", "demo-busy-0"])},
    )  # fmt: skip


@transaction.atomic
def seed() -> dict[str, QuerySet]:
    BookingRules.current().save()
    demo_money.policy_set(BookingRules.current())
    if not ConsentText.objects.exists():
        ConsentText.objects.create(version=1, text=CONSENT_V1)
    for day, name in BANK_HOLIDAYS.items():
        ClinicClosure.objects.update_or_create(date=day, defaults={"name": name})
    offered = list(Treatment.objects.filter(slug__in=["microneedling", "consultation"]))
    practitioners = []
    for (name, credentials, bio, shifts), look in zip(
        PRACTITIONERS, demo_portraits.LOOKS, strict=True
    ):
        practitioner, _created = Practitioner.objects.update_or_create(
            display_name=name, defaults={"credentials": credentials, "bio": bio}
        )
        _picture(practitioner, look)  # the site looks finished on the first `make run`
        practitioner.treatments.set(offered)
        # The demo's hours as written here, even over an older demo's (same row count).
        practitioner.working_hours.all().delete()
        WorkingHours.objects.bulk_create(
            [
                WorkingHours(practitioner=practitioner, weekday=d, start=s, end=e)
                for days, s, e in shifts
                for d in days
            ]
        )
        practitioners.append(practitioner)
    # The demo clinician signs in as the first practitioner (their own schedule).
    clinician = User.objects.filter(email=CLINICIAN_LOGIN).first()
    if clinician and practitioners[0].user_id != clinician.pk:
        Practitioner.objects.filter(user=clinician).update(user=None)
        practitioners[0].user = clinician
        practitioners[0].save(update_fields=["user"])

    today = timezone.localdate()
    away = today + timedelta(days=21)
    if not TimeOff.objects.filter(practitioner=practitioners[2], reason="Annual leave (demo)"):
        zone = selectors.clinic_zone()
        TimeOff.objects.create(
            practitioner=practitioners[2],
            reason="Annual leave (demo)",
            start=datetime.combine(away, time(0), tzinfo=zone),
            end=datetime.combine(away + timedelta(days=7), time(0), tzinfo=zone),
        )

    microneedling = next((t for t in offered if t.slug == "microneedling"), None)
    if microneedling:
        demo_money.deposit_set(microneedling)  # online only once Stripe's keys are set
        now = timezone.now()
        staff = User.objects.filter(email=CLINICIAN_LOGIN).first()
        reception = User.objects.filter(email=RECEPTION_LOGIN).first()
        _courses(microneedling, practitioners, staff, reception, now)
        _quiet(now)
        waiting = waitlist_demo.seed(
            treatment=microneedling,
            consultation=next((t for t in offered if t.slug == "consultation"), None),
        )
    return {
        "practitioners": Practitioner.objects.all(),
        "booked courses": Course.objects.all(),
        "waitlist entries": waiting if microneedling else WaitlistEntry.objects.none(),
    }
