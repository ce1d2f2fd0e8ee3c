"""Demo data for `seed_demo`: practitioners, hours, closures and booked courses.

Runs after the education demo (it needs the treatments). Courses are booked
through the booking service with fixed idempotency keys, so running it again
books nothing new.
"""

import contextlib
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from clinic.demo import CLINICIAN_LOGIN
from clinic.models import User
from education.models import Treatment

from . import selectors, services
from .models import (
    BookingRules,
    ClinicClosure,
    ConsentText,
    Patient,
    Practitioner,
    TimeOff,
    WorkingHours,
)

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
            "Ravi", "Nia", "Tom", "Zoe", "Ben", "Ana", "Eli",
        ],
        start=1,
    )
]  # fmt: skip
# A busy week for the schedule view: (practitioner index, days ahead, hour) of each
# course's first session, spread over the coming days.
BUSY_WEEK = [
    (who, days, hour)
    for days in range(1, 7)
    for who, hour in ((0, 9), (0, 13), (1, 10), (1, 15), (2, 11), (2, 15))
]


def _patient(email, name, phone) -> Patient:
    user = User.objects.filter(email=email).first() or User.objects.create_user(email, None)
    patient = Patient.objects.filter(user=user).first()
    return patient or services.patient_create(user=user, full_name=name, phone=phone)


def _book_demo_course(
    key: str, patient, treatment, practitioner, first_day: date, hour: int, sessions: int, now
) -> None:
    if services.Course.objects.filter(idempotency_key=key).exists():
        return  # booked by an earlier run
    zone = selectors.clinic_zone()
    free = selectors.free_slots(
        treatment=treatment,
        day_from=first_day,
        day_to=first_day + timedelta(days=6),
        now=now,
        practitioners=[practitioner],
        patient=patient,
    )
    wanted = datetime.combine(first_day, time(hour), tzinfo=zone)
    first = min(free, key=lambda s: abs(s.start - wanted), default=None)
    if first is None:
        return
    plan = selectors.course_proposal(
        first=first, treatment=treatment, sessions=sessions, now=now, patient=patient
    )
    slots = [p.slot for p in plan if p.slot]
    # A full week just means the demo has enough bookings already.
    with contextlib.suppress(services.BookingError):
        services.course_book(
            patient=patient,
            treatment=treatment,
            slots=slots,
            now=now,
            idempotency_key=key,
            **services.online_agreement(treatment),
        )


@transaction.atomic
def seed() -> dict[str, int]:
    BookingRules.current().save()
    if not ConsentText.objects.exists():
        ConsentText.objects.create(version=1, text=CONSENT_V1)
    for day, name in BANK_HOLIDAYS.items():
        ClinicClosure.objects.update_or_create(date=day, defaults={"name": name})
    offered = list(Treatment.objects.filter(slug__in=["microneedling", "consultation"]))
    practitioners = []
    for name, credentials, bio, shifts in PRACTITIONERS:
        practitioner, _created = Practitioner.objects.update_or_create(
            display_name=name, defaults={"credentials": credentials, "bio": bio}
        )
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
        now = timezone.now()
        demo_patient = Patient.objects.filter(user__email="patient@example.com").first()
        if demo_patient is None and (
            user := User.objects.filter(email="patient@example.com").first()
        ):
            demo_patient = services.patient_create(
                user=user, full_name="Alex Patient", phone="07700 900100"
            )
        patients = [_patient(*row) for row in DEMO_PATIENTS]
        bookings = [
            (demo_patient, 0, 3, 10),
            (patients[0], 0, 4, 11),
            (patients[1], 1, 5, 9),
            (patients[2], 2, 8, 14),
            (patients[0], 1, 10, 16),
        ]
        bookings += [
            (patients[n % len(patients)], who, days, hour)
            for n, (who, days, hour) in enumerate(BUSY_WEEK)
        ]
        for n, (patient, who, days_ahead, hour) in enumerate(bookings):
            if patient is not None:
                _book_demo_course(
                    f"demo-course-{n}",
                    patient,
                    microneedling,
                    practitioners[who],
                    today + timedelta(days=days_ahead),
                    hour,
                    3,
                    now,
                )
    return {
        "practitioners": Practitioner.objects.count(),
        "booked courses": services.Course.objects.count(),
    }
