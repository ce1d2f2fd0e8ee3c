"""What each kind of reminder does, written once.

The timing (reminder_timing.py), the queueing and the sender (reminders.py),
attendance (attendance.py), the emails (reminder_emails.py), the preference
links (views/emails.py) and the tests all read this table; none keeps a list
of kinds of its own.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import Reminder

Kind = Reminder.Kind


@dataclass(frozen=True)
class KindRule:
    subject: str  # %-formatted with treatment, when and first_name
    # Due at a time its session gives (reminder_timing.due_times): re-timed when it moves.
    timed_by_session: bool = False
    # Still goes out when its session is cancelled (it speaks of the booking or the cancellation).
    after_cancel: bool = False
    # Speaks of a treatment given: stopped when the desk marks a no-show, and never sent
    # before the session has ended (a row due early, through an edit or a clock, waits).
    after_the_session: bool = False
    opt_out: str = ""  # the Patient field that turns it off; "" for one always sent
    lists_sessions: bool = False  # names the whole course, not one session
    calendar: str = ""  # the .ics attached: "course", "session" or "cancel"
    to_clinic: bool = False  # goes to the clinic's inbox, not the patient


KINDS: dict[str, KindRule] = {
    Kind.CONFIRMATION: KindRule(
        _("Your %(treatment)s booking is confirmed"),
        after_cancel=True,
        lists_sessions=True,
        calendar="course",
    ),
    Kind.REMINDER: KindRule(
        _("Reminder: your %(treatment)s session on %(when)s"),
        timed_by_session=True,
        calendar="session",
    ),
    Kind.AFTERCARE: KindRule(
        _("Looking after your skin after today's %(treatment)s"),
        timed_by_session=True,
        after_the_session=True,
    ),
    Kind.CHECK_IN: KindRule(
        _("How is your skin? A check-in after your %(treatment)s"),
        timed_by_session=True,
        after_the_session=True,
        opt_out="email_check_in",
    ),
    Kind.NEXT_WINDOW: KindRule(
        _("You can book your next %(treatment)s session again"),
        after_cancel=True,
        opt_out="email_next_window",
    ),
    Kind.CHANGED: KindRule(
        _("Your %(treatment)s session has moved to %(when)s"),
        lists_sessions=True,
        calendar="session",
    ),
    Kind.CANCELLED: KindRule(
        _("Your %(treatment)s session is cancelled"),
        after_cancel=True,
        lists_sessions=True,
        calendar="cancel",
    ),
    Kind.CLINIC_NOTICE: KindRule(
        _("New booking for %(first_name)s"), after_cancel=True, lists_sessions=True, to_clinic=True
    ),
    # About a hold, not a course's session (booking/waitlist/): its own message and checks.
    Kind.OFFER: KindRule(_("A %(treatment)s time has come up: %(when)s"), calendar=""),
}


def kinds_where(**flags) -> tuple[str, ...]:
    """The kinds whose rule has every one of these values, in Kind's order."""
    return tuple(
        kind
        for kind in Kind
        if all(getattr(KINDS[kind], name) == value for name, value in flags.items())
    )


SESSION_TIMED = kinds_where(timed_by_session=True)
AFTER_CANCEL = kinds_where(after_cancel=True)
AFTER_THE_SESSION = kinds_where(after_the_session=True)
OPTIONAL = {kind: rule.opt_out for kind, rule in KINDS.items() if rule.opt_out}
