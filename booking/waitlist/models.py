"""The waitlist's rows: its settings, entries, offers and the freed time to match.

Imported by booking/models.py, so they belong to the booking app (and its migrations).
"""

from datetime import time, timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.models import SingletonModel
from education.models import Treatment

from ..models import Patient, Practitioner, Session

# Parts of the day a patient can choose, by start time in clinic time: (bit, name, from, until).
MORNING, AFTERNOON, EVENING = 1, 2, 4
PARTS_OF_DAY = [
    (MORNING, _("Morning (before 12:00)"), time(0), time(12)),
    (AFTERNOON, _("Afternoon (12:00 to 17:00)"), time(12), time(17)),
    (EVENING, _("Evening (from 17:00)"), time(17), time.max),
]
EVERY_DAY, ALL_DAY = 0b1111111, MORNING | AFTERNOON | EVENING


# A first-session entry whose health answers are to an older version of its treatment's
# questions: course_book would refuse them (booking/rulebook.py suitability_breach).
STALE_ANSWERS = Q(session__isnull=True, answers_version__isnull=False) & ~Q(
    answers_version=F("treatment__questions_version")
)


def part_of_day(wall: time) -> int:
    """The bit of the part of the day a local start time falls in."""
    return next(bit for bit, _name, start, until in PARTS_OF_DAY if start <= wall < until)


class WaitlistSettings(SingletonModel):
    """How the clinic's waitlist offers freed time (one row, edited in the admin)."""

    hold_for = models.DurationField(
        _("how long an offer holds the time"),
        default=timedelta(hours=2),
        help_text=_(
            "Hours, minutes and seconds, for example 2:00:00. A hold never runs past the "
            "minimum notice before the session, and starts when the offer email is sent."
        ),
    )
    offers_per_day = models.PositiveSmallIntegerField(
        _("offers a day to one patient, at most"), default=3, validators=[MinValueValidator(1)]
    )
    prefer_mid_course = models.BooleanField(
        _("mid-course patients first"),
        default=False,
        help_text=_(
            "Off (the default): first joined, first offered. On: patients waiting for an "
            "earlier time for a session of a course they have started come first, the one "
            "whose session's window closes soonest first; then first joined."
        ),
    )
    paused = models.BooleanField(
        _("automatic offers paused"),
        default=False,
        help_text=_(
            "While paused, freed time is not offered by itself; staff can still offer a "
            "time by hand. Freed time noted meanwhile is offered when this is turned off."
        ),
    )

    class Meta:
        verbose_name = _("waitlist settings")
        verbose_name_plural = _("waitlist settings")

    def __str__(self):
        return str(_("Waitlist settings"))

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.hold_for is not None and not (
            timedelta(seconds=1) <= self.hold_for <= timedelta(days=2)
        ):
            raise ValidationError({"hold_for": _("Choose a hold between one second and two days.")})


class WaitlistEntry(models.Model):
    """A patient waiting for a time: a first session of a course, or an earlier time for a
    session they have booked (`session`)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        BOOKED = "booked", _("Booked from an offer")
        LEFT = "left", _("Left by the patient")
        ENDED = "ended", _("Ended")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("practitioner (empty: anyone)"),
    )
    session = models.ForeignKey(
        Session,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waitlist_entries",
        verbose_name=_("for an earlier time of this session"),
    )
    # A first session's course: how many sessions, and the health answers given in the
    # journey with their questions version (as course_book takes them).
    sessions_wanted = models.PositiveSmallIntegerField(_("sessions"), null=True, blank=True)
    answers = models.JSONField(_("health answers"), default=dict, blank=True, editable=False)
    answers_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("until"))
    weekdays = models.PositiveSmallIntegerField(
        _("days of the week"), default=EVERY_DAY, help_text=_("Monday is 1, Sunday is 64.")
    )
    parts_of_day = models.PositiveSmallIntegerField(_("parts of the day"), default=ALL_DAY)
    # For "mid-course first": the last day the session may fall on (its window's end).
    window_closes = models.DateField(_("window closes"), null=True, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    ended_reason = models.CharField(_("why it ended"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist")
        permissions = [("offer_by_hand", _("Can offer a waitlist patient a time"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__gte=F("date_from")), name="waitlist_dates_in_order"
            ),
            models.CheckConstraint(
                condition=Q(weekdays__gte=1, weekdays__lte=EVERY_DAY),
                name="waitlist_some_weekday",
            ),
            models.CheckConstraint(
                condition=Q(parts_of_day__gte=1, parts_of_day__lte=ALL_DAY),
                name="waitlist_some_part_of_day",
            ),
            # One waiting entry per booked session, and per treatment for a first session.
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(status="waiting", session__isnull=False),
                name="waitlist_once_per_session",
            ),
            models.UniqueConstraint(
                fields=["patient", "treatment"],
                condition=Q(status="waiting", session__isnull=True),
                name="waitlist_once_per_treatment",
            ),
        ]
        indexes = [models.Index(fields=["status", "treatment", "date_to"])]

    def __str__(self):
        return gettext("%(patient)s waiting for %(treatment)s") % {
            "patient": self.patient,
            "treatment": self.treatment,
        }

    @property
    def is_waiting(self) -> bool:
        return self.status == self.Status.WAITING


class OfferQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status=Offer.Status.HELD)


class Offer(models.Model):
    """A freed time held for one entry's patient until they accept, decline, or it lapses.

    The time itself is `hold`, a row of the sessions table; its offer email is a
    Reminder of kind "offer" on that row (claimed and sent once, like every reminder).
    """

    class Status(models.TextChoices):
        HELD = "held", _("Held, waiting for the patient")
        ACCEPTED = "accepted", _("Accepted and booked")
        DECLINED = "declined", _("Declined")
        LAPSED = "lapsed", _("Lapsed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="offers")
    hold = models.OneToOneField(Session, on_delete=models.PROTECT, related_name="offer")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.HELD
    )
    cause = models.CharField(_("freed by"), max_length=100, blank=True)
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("offered by hand by"),
    )
    # The session booked or moved when accepted.
    booked = models.ForeignKey(
        Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("why it ended"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("offered"), auto_now_add=True)
    decided_at = models.DateTimeField(_("ended"), null=True, blank=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("waitlist offer")
        constraints = [
            # At most one live offer per patient, whoever makes it.
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status="held"), name="offer_one_live_per_patient"
            )
        ]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self):
        return gettext("Offer to %(patient)s") % {"patient": self.patient}

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.HELD


class FreedTime(models.Model):
    """Time that came free, noted in the transaction that freed it; matched after commit.

    `practitioner` None: every practitioner (a clinic closure removed).
    """

    class Cause(models.TextChoices):
        CANCELLED = "cancelled", _("A session was cancelled")
        MOVED = "moved", _("A session was moved")
        TIME_OFF = "time_off", _("Time off was removed or shortened")
        HOURS = "hours", _("Working hours were changed")
        CLOSURE = "closure", _("A clinic closure was removed")
        DECLINED = "declined", _("An offer was declined")
        LAPSED = "lapsed", _("An offer lapsed")
        WITHDRAWN = "withdrawn", _("An offer was withdrawn")
        DEPOSIT = "deposit", _("A deposit was not paid")

    # No foreign key in the database (Django still deletes these with the practitioner):
    # noting freed time would take a share lock on the practitioner's row, which every
    # booking locks first. Ending an offer (a lapse, a decline) takes the offer's row and
    # then notes its time free: with a key, it waited for an accept that held the
    # practitioner and waited for the offer, a deadlock.
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    cause = models.CharField(max_length=10, choices=Cause.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("freed time")
        verbose_name_plural = _("freed time")
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(matched_at__isnull=True), name="freed_to_match"
            )
        ]

    def __str__(self):
        return f"{self.get_cause_display()} ({self.start:%Y-%m-%d %H:%M})"
