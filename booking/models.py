"""Practitioners, their hours, patients, courses and sessions.

Times are stored in UTC and planned in the clinic's wall time (settings.TIME_ZONE).
No practitioner or patient is ever double-booked: PostgreSQL exclusion
constraints over [start, end) guarantee it, and the booking service locks and
re-checks so a conflict comes back as a clear message (booking/services/).
"""

from datetime import time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.models import SingletonModel
from education.models import Treatment

from .constraints import PortableExclusionConstraint


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class BookingRules(SingletonModel):
    """The clinic's booking rules, edited in the admin (one row)."""

    min_notice_hours = models.PositiveSmallIntegerField(
        _("minimum notice (hours)"), default=24, help_text=_("How soon the first free time can be.")
    )
    horizon_weeks = models.PositiveSmallIntegerField(
        _("booking horizon (weeks)"),
        default=12,
        help_text=_("How far ahead the first session of a course can be."),
    )
    slot_step_minutes = models.PositiveSmallIntegerField(_("slot step (minutes)"), default=15)
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer after each session (minutes)"), default=15
    )
    change_notice_hours = models.PositiveSmallIntegerField(
        _("cancel or move notice (hours)"),
        default=48,
        help_text=_("Inside this, patients are asked to call the clinic."),
    )
    courses_per_treatment = models.PositiveSmallIntegerField(
        _("open courses of one treatment per patient"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_(
            "A course is open while a session of it is still booked. More than one lets a "
            "patient book a second course before the first has finished."
        ),
    )

    # The cancellation policy (booking/rulebook.py, `policy_outcome`): what a late change
    # or a no-show means, applied by the services as entries in the course ledger.
    class Outcome(models.TextChoices):
        NOTHING = "nothing", _("Nothing")
        FEE = "fee", _("A fee")
        USED = "used", _("The session counts as used")
        # The online deposit paid for the course (booking/deposits/) is not given back.
        DEPOSIT = "deposit", _("The deposit is kept")

    late_cancel_outcome = models.CharField(
        _("cancelled inside the notice"),
        max_length=10,
        choices=Outcome.choices,
        default=Outcome.NOTHING,
        help_text=_("When a session is cancelled less than the notice above before it starts."),
    )
    late_cancel_fee = models.DecimalField(
        _("fee for cancelling inside the notice"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    late_move_outcome = models.CharField(
        _("moved inside the notice"),
        max_length=10,
        choices=[c for c in Outcome.choices if c[0] not in ("used", "deposit")],
        default=Outcome.NOTHING,
        help_text=_("When a session is moved less than the notice above before it starts."),
    )
    late_move_fee = models.DecimalField(
        _("fee for moving inside the notice"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    no_show_outcome = models.CharField(
        _("no-show"),
        max_length=10,
        choices=Outcome.choices,
        default=Outcome.NOTHING,
        help_text=_("When a patient does not come and does not tell us."),
    )
    no_show_fee = models.DecimalField(
        _("no-show fee"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )

    # Online deposits (booking/deposits/), for treatments that ask one, once the clinic's
    # Stripe keys are set: required to book online, or offered beside paying at the clinic.
    deposit_required = models.BooleanField(
        _("a deposit is required to book online"),
        default=False,
        help_text=_(
            "On: patients pay the treatment's deposit to book online (or call us). Off: they "
            "choose to pay it now or to pay everything at the clinic."
        ),
    )

    class Meta:
        verbose_name = _("booking rules")
        verbose_name_plural = _("booking rules")

    def __str__(self):
        return str(_("Booking rules"))

    @property
    def min_notice(self) -> timedelta:
        return timedelta(hours=self.min_notice_hours)

    @property
    def horizon(self) -> timedelta:
        return timedelta(weeks=self.horizon_weeks)

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.slot_step_minutes)

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)

    @property
    def change_notice(self) -> timedelta:
        return timedelta(hours=self.change_notice_hours)

    def clean(self):
        super().clean()
        errors = {}
        for event in ("late_cancel", "late_move", "no_show"):
            outcome, fee = getattr(self, f"{event}_outcome"), getattr(self, f"{event}_fee")
            if outcome == self.Outcome.FEE and not fee:
                errors[f"{event}_fee"] = _("Give the fee, or choose another outcome.")
            elif outcome != self.Outcome.FEE and fee:
                errors[f"{event}_fee"] = _("A fee is charged only when the outcome is a fee.")
        if errors:
            raise ValidationError(errors)


class Practitioner(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="practitioner",
    )
    display_name = models.CharField(_("display name"), max_length=120)
    credentials = models.CharField(_("credentials"), max_length=120, blank=True)
    bio = models.TextField(_("short bio"), blank=True)
    # The stem of the photo's files (booking/photos.py: practitioners/<stem>-<size>.webp),
    # set only through services.practitioner_save, which stores and removes the files.
    photo = models.CharField(_("photo"), max_length=20, blank=True, editable=False)
    photo_alt = models.CharField(
        _("photo description"),
        max_length=200,
        blank=True,
        help_text=_(
            "What the photo shows, for people who cannot see it (read out by screen "
            "readers). Needed with a photo. For example: Priya smiling, in a navy tunic."
        ),
    )
    treatments = models.ManyToManyField(
        Treatment, related_name="practitioners", verbose_name=_("treatments offered")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("practitioner")
        constraints = [
            # Alt text is required: a photo without a description is never stored.
            models.CheckConstraint(
                condition=Q(photo="") | ~Q(photo_alt=""),
                name="practitioner_photo_has_alt",
                violation_error_message=_("Describe the photo for people who cannot see it."),
            )
        ]

    def __str__(self):
        return self.display_name


class WorkingHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    class Meta:
        ordering = ["practitioner", "weekday", "start"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="working_hours_end_after_start"
            )
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class TimeOff(models.Model):
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="time_off"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="time_off_end_after_start")
        ]
        # Overlap reads ask "end > the range's start": only time off ending after it is read.
        indexes = [models.Index(fields=["practitioner", "end"])]

    def __str__(self):
        return f"{self.practitioner}: {timezone.localtime(self.start):%d %b %Y}"


class ClinicClosure(models.Model):
    """A day the whole clinic is shut (bank holidays)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["date"]
        verbose_name = _("clinic closure")

    def __str__(self):
        return f"{self.name} ({self.date:%d %b %Y})"


class Patient(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patient"
    )
    full_name = models.CharField(_("full name"), max_length=150)
    phone = models.CharField(_("phone"), max_length=40)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    # The optional kinds of email; safety emails (confirmation, reminder,
    # aftercare, changes) always go.
    email_check_in = models.BooleanField(_("check-in emails"), default=True)
    email_next_window = models.BooleanField(_("next-session emails"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("patient")

    def __str__(self):
        return self.full_name


class ConsentText(models.Model):
    """A version of the consent patients agree to; a new one applies to new bookings."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("consent text")

    def __str__(self):
        return gettext("Consent v%(version)d") % {"version": self.version}

    @classmethod
    def current(cls) -> "ConsentText | None":
        return cls.objects.order_by("-version").first()


class Course(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class ConsentMethod(models.TextChoices):
        ONLINE = "online", _("Online, by the patient")
        PHONE = "phone", _("By phone, read aloud by staff")
        PAPER = "paper", _("On paper, signed at the first visit")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="courses")
    sessions_planned = models.PositiveSmallIntegerField(_("number of sessions"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    suitability_answers = models.JSONField(_("suitability answers"), default=dict, blank=True)
    # The treatment's questions_version the answers were given to (education.Treatment).
    questions_version = models.PositiveIntegerField(
        _("health questions version"), null=True, blank=True, editable=False
    )
    consent = models.ForeignKey(
        ConsentText,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="courses",
        verbose_name=_("consent version"),
    )
    consent_given_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    consent_method = models.CharField(
        _("how consent was given"), max_length=10, choices=ConsentMethod.choices, blank=True
    )
    # Who read the consent aloud (phone), or saw it signed (paper).
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consent recorded by"),
    )
    idempotency_key = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Staff may book past the minimum notice or outside the spacing window, but
    # only with a reason, kept here.
    override_reason = models.TextField(_("reason for overriding the booking rules"), blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("overridden by"),
    )
    # Which rules staff waived for this course (booking/rulebook.py names), comma-separated.
    overridden_rules = models.CharField(_("rules overridden"), max_length=100, blank=True)
    # The prices it was sold at (clinic/money.py), kept when the treatment's change; the
    # course ledger (booking/ledger/) records what it costs and what is paid. None for a
    # course booked before prices were kept.
    currency = models.CharField(_("currency"), max_length=3, blank=True, editable=False)
    price = models.DecimalField(
        _("price"), max_digits=10, decimal_places=2, null=True, blank=True, editable=False
    )
    session_rate = models.DecimalField(
        _("price of a session added later"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("course")

    def __str__(self):
        return ngettext(
            "%(treatment)s for %(patient)s (%(count)d session)",
            "%(treatment)s for %(patient)s (%(count)d sessions)",
            self.sessions_planned,
        ) % {"treatment": self.treatment, "patient": self.patient, "count": self.sessions_planned}

    @property
    def consent_to_sign(self) -> bool:
        """Booked with consent to be signed on paper at the first visit, not signed yet."""
        return self.consent_method == self.ConsentMethod.PAPER and self.consent_given_at is None

    @property
    def waived(self) -> set[str]:
        """The rules staff overrode for this course, with a reason (booking/rulebook.py)."""
        return {rule for rule in self.overridden_rules.split(",") if rule}


# No session is longer (a check constraint holds it; treatments stay well inside it).
# Overlap reads use it as a lower bound on "start", so the (practitioner, start) and
# (patient, start) indexes scan only the sessions near the range, not the clinic's history.
LONGEST_SESSION = timedelta(hours=12)


class SessionQuerySet(models.QuerySet):
    def active(self):
        """Sessions that take their time: everything but cancelled ones."""
        return self.exclude(status=Session.Status.CANCELLED)

    def held(self):
        """Live holds: a time kept for a waitlist offer (booking/waitlist/)."""
        return self.filter(status=Session.Status.HELD)

    def upcoming(self, now=None):
        return self.filter(start__gte=now or timezone.now())

    def overlapping(self, start, end):
        return self.filter(start__lt=end, end__gt=start, start__gt=start - LONGEST_SESSION)


ACTIVE = ~Q(status="cancelled")


class SessionManager(models.Manager.from_queryset(SessionQuerySet)):
    """Sessions of courses: what every page, email and service means by a session.

    A waitlist hold is a row of this table too (so the exclusion constraints
    below cover it, and the one availability read, which is SQL on the table,
    sees it), but it belongs to no course and is nobody's appointment: this,
    the default manager (and so every related manager, `patient.sessions`
    and `course.sessions`), leaves holds out. `Session.with_holds` reads them.
    """

    def get_queryset(self):
        return super().get_queryset().filter(course__isnull=False)


class Session(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ARRIVED = "arrived", _("Arrived")  # in the waiting room (booking/attendance.py)
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")
        # A time kept until `held_until` for a waitlist offer (booking/waitlist/) or while
        # the patient pays a deposit (booking/deposits/); a released hold is cancelled.
        HELD = "held", _("Held")

    # None only for a waitlist hold (a check constraint below holds it).
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="sessions", null=True, blank=True
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sessions")
    number = models.PositiveSmallIntegerField(_("number in course"))
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="sessions"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOOKED
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # A hold's expiry (set again when its offer is sent); None for a course's session.
    held_until = models.DateTimeField(_("held until"), null=True, blank=True, editable=False)
    # Rises on every change, so calendar apps replace their copy (iCalendar SEQUENCE).
    sequence = models.PositiveIntegerField(default=0, editable=False)
    # What this session is worth: its share of the course's price, or what it was added
    # for (the ledger's entries about it carry this amount). None for a hold.
    price = models.DecimalField(
        _("price"), max_digits=10, decimal_places=2, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SessionManager()
    with_holds = SessionQuerySet.as_manager()  # the table as it is, holds included
    history = HistoricalRecords()

    class Meta:
        ordering = ["start"]
        verbose_name = _("session")
        # Sessions change only through the booking services; these say who may ask.
        permissions = [
            ("view_schedule", _("Can see the schedule")),
            ("book_by_phone", _("Can book a course for a patient")),
            ("reschedule_session", _("Can move and cancel sessions")),
            ("mark_attendance", _("Can mark sessions attended or no-show")),
        ]
        indexes = [
            models.Index(fields=["practitioner", "start"]),
            models.Index(fields=["patient", "start"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="session_end_after_start"),
            models.CheckConstraint(
                condition=Q(end__lte=F("start") + LONGEST_SESSION), name="session_at_most_12_hours"
            ),
            # A row is a course's session, or a waitlist hold (held, or released: cancelled).
            models.CheckConstraint(
                condition=Q(course__isnull=False, held_until__isnull=True) & ~Q(status="held")
                | Q(
                    course__isnull=True, held_until__isnull=False, status__in=["held", "cancelled"]
                ),
                name="session_of_a_course_or_a_hold",
            ),
            models.UniqueConstraint(
                fields=["course", "number"], condition=ACTIVE, name="session_number_once_per_course"
            ),
            # '[)' bounds let sessions touch end-to-start. Needs btree_gist for "=".
            PortableExclusionConstraint(
                name="session_no_practitioner_overlap",
                expressions=[
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("practitioner", RangeOperators.EQUAL),
                ],
                condition=ACTIVE,
                violation_error_message=_("The practitioner already has a session then."),
            ),
            PortableExclusionConstraint(
                name="session_no_patient_overlap",
                expressions=[
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("patient", RangeOperators.EQUAL),
                ],
                condition=ACTIVE,
                violation_error_message=_("The patient already has a session then."),
            ),
        ]

    def __str__(self):
        if self.course_id is None:
            return gettext("Time held for %(patient)s") % {"patient": self.patient}
        return gettext("Session %(number)d of %(planned)d: %(patient)s") % {
            "number": self.number,
            "planned": self.course.sessions_planned,
            "patient": self.patient,
        }

    @property
    def is_active(self) -> bool:
        return self.status != self.Status.CANCELLED


# A session still to happen or happening: booked, or the patient in the waiting room.
TO_HAPPEN = (Session.Status.BOOKED, Session.Status.ARRIVED)


class ClinicalNote(models.Model):
    """What the clinician recorded at a session; clinicians only, every change kept."""

    session = models.OneToOneField(
        Session, on_delete=models.CASCADE, related_name="clinical_note", verbose_name=_("session")
    )
    skin_reaction = models.TextField(_("skin reaction"), blank=True)
    device = models.CharField(_("device used"), max_length=120, blank=True)
    needle_depth_mm = models.DecimalField(
        _("needle depth (mm)"),
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.10")), MaxValueValidator(Decimal("3.00"))],
    )
    notes = models.TextField(_("other notes"), blank=True)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("clinical note")

    def __str__(self):
        return gettext("Clinical note for %(session)s") % {"session": self.session}


class ReminderSettings(SingletonModel):
    """When reminder emails go out; the clinic edits these in the admin (one row)."""

    reminder_hours_before = models.PositiveSmallIntegerField(
        _("reminder: hours before the session"), default=48
    )
    reminder_min_hours_before = models.PositiveSmallIntegerField(
        _("reminder: never later than this many hours before"), default=2
    )
    aftercare_hours_after = models.PositiveSmallIntegerField(
        _("aftercare: hours after the session ends"), default=2
    )
    check_in_days_after = models.PositiveSmallIntegerField(
        _("check-in: days after the session"), default=3
    )
    quiet_from = models.TimeField(_("quiet hours start"), default=time(21))
    quiet_until = models.TimeField(_("quiet hours end"), default=time(8))
    max_attempts = models.PositiveSmallIntegerField(
        _("attempts before a reminder fails"),
        default=5,
        help_text=_("Only permanent errors count; a mail server that is down does not."),
    )

    class Meta:
        verbose_name = _("reminder settings")
        verbose_name_plural = _("reminder settings")

    def __str__(self):
        return str(_("Reminder settings"))


class ReminderQuerySet(models.QuerySet):
    def open(self):
        """Not yet sent nor given up: these follow the session's changes."""
        return self.filter(status__in=[Reminder.Status.PENDING, Reminder.Status.SENDING])


class Reminder(models.Model):
    """One email about one session, as a row: claimed, sent and marked exactly once.

    Rows, not broker messages (see the design): created, re-timed and
    cancelled in the same transaction as the booking change that causes them.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("Confirmation")
        REMINDER = "reminder", _("Reminder before the session")
        AFTERCARE = "aftercare", _("Aftercare")
        CHECK_IN = "check_in", _("Check-in")
        NEXT_WINDOW = "next_window", _("Next session window")
        CHANGED = "changed", _("Session changed")
        CANCELLED = "cancelled", _("Session cancelled")
        CLINIC_NOTICE = "clinic_notice", _("Clinic notice")
        OFFER = "offer", _("Waitlist offer")  # about a hold (booking/waitlist/)

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claimed_by = models.CharField(
        _("claimed by"),
        max_length=300,
        blank=True,
        help_text=_(
            "The worker holding the claim (its name and start id): the one that claimed the"
            " row, then the one sending it. Empty when claimed outside a worker."
        ),
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    deferrals = models.PositiveSmallIntegerField(
        _("deferrals"), default=0, help_text=_("Times the mail server was down (no attempt used).")
    )
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    reason = models.CharField(_("why skipped or cancelled"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    message_id = models.CharField(_("message id"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("reminder")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "kind"], name="reminder_once_per_session_and_kind"
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="reminder_due_idx")]

    def __str__(self):
        return gettext("%(kind)s for session %(session)s") % {
            "kind": self.get_kind_display(),
            "session": self.session_id,
        }

    @property
    def idempotency_key(self) -> str:
        return f"reminder/{self.pk}/v{self.version}"


class ReminderEvent(models.Model):
    """The history of a reminder row: every claim, send, deferral and change."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    event = models.CharField(_("event"), max_length=20)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("reminder event")

    def __str__(self):
        return f"{self.event} at {self.at:%Y-%m-%d %H:%M:%S}"


class ScheduleEntry(Session):
    """The schedule's place in the admin index (booking/admin/schedule.py); no table of its own."""

    class Meta:
        proxy = True
        verbose_name = _("schedule")
        verbose_name_plural = _("schedule")
        # Who may open it is `booking.view_schedule` on Session; add/change/delete
        # permissions for a read-only page would only be noise in the role editor.
        default_permissions = ()


# The rows of the online deposits (booking/deposits/models.py), the course ledger
# (booking/ledger/models.py) and the waitlist (booking/waitlist/models.py), registered here.
from .deposits.models import DepositCheckout, PaymentEvent  # noqa: E402, F401
from .ledger.models import LedgerEntry, ReceiptSent  # noqa: E402, F401
from .waitlist.models import (  # noqa: E402, F401
    FreedTime,
    Offer,
    WaitlistEntry,
    WaitlistSettings,
)
