"""The clinic's booking rules, each written once, with the words people see.

Pure functions over plain values: they answer whether a course, a move, a
cancellation or a new course keeps the rules, and if not, which rule breaks,
for which session, and where it would have to go instead. The services
(booking/services/) ask them before every write; views, forms and admin
pages ask the same functions to explain choices. Nothing else states a rule.

The rules:
- ORDER and WINDOW (within a course): the course's active sessions keep their
  order, and each lies inside its window after the active session before it
  (`course_breaches`). A move or a cancellation is judged by the course it
  leaves behind, so both neighbours are re-checked.
- NOTICE and HORIZON: a new first session is at least the minimum notice and
  at most the horizon away (`first_session_breach`); a patient's move of a
  course's first session stays inside the horizon too.
- CHANGE (patients): only a booked session that has not started, and not
  inside the change notice, can be moved or cancelled online (`change_breach`).
- ONE_COURSE and AFTER_LAST (across courses): a patient has at most
  `courses_per_treatment` open courses of a treatment (a course is open while
  a session of it is booked and still to come), and a new course starts at least the
  treatment's minimum gap after their last attended or booked session of it
  (`new_course_breaches`).

- MOST_SESSIONS and REBOOK (adding to a course): a course keeps at most the
  treatment's most sessions (`most_sessions_breach`). A cancelled session can
  be booked again only when no active session of its course comes after it or
  has its number, the course still has an active session, and it is the
  first such one (`rebook_breach`). A session added either way goes after the
  last active one, in its window; it may not make the course one open course
  too many, nor come too close before the patient's next course of the
  treatment (`added_session_breaches`).

- ANSWERS, SUITABILITY and CONSENT (on every path): every course records the
  answers to its treatment's health questions and the consent version, with
  how it was given: online, read aloud by phone by named staff, or on paper
  at the first visit (then the first session cannot be marked attended until
  it is signed). An answer that calls for a clinician first blocks a course
  (a consultation is the way) unless a clinician overrides with a clinical
  reason (`suitability_breach`, `consent_breach`).

- POLICY (the cancellation policy): a booked session cancelled or moved inside
  the change notice, or a no-show, has the outcome the clinic set (nothing, a
  fee, or the session counts as used: `policy_outcome`). The services record
  it in the course ledger, once, with its reason; staff may waive it, with a
  reason. Patients read it with CHANGE (`change_rules`).

Staff may go past NOTICE or WINDOW, only with a reason, kept with its author on
the course (Course.override_reason, override_by, overridden_rules); only a
clinician may go past SUITABILITY, with a clinical reason.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext, ngettext

from clinic.money import money

from .courses import Spacing, Window, session_window

ORDER, WINDOW = "order", "window"
NOTICE, HORIZON, CHANGE = "notice", "horizon", "change"
ONE_COURSE, AFTER_LAST = "one_course", "after_last"
ANSWERS, SUITABILITY, CONSENT = "answers", "suitability", "consent"
MOST_SESSIONS, REBOOK = "most_sessions", "rebook"
# The cancellation policy's events (LedgerEntry.Event) and outcomes (BookingRules.Outcome).
LATE_CANCEL, LATE_MOVE, NO_SHOW = "late_cancel", "late_move", "no_show"
FEE, USED, DEPOSIT = "fee", "used", "deposit"
STAFF_MAY_WAIVE = (NOTICE, WINDOW)


@dataclass(frozen=True)
class Breach:
    """A rule broken: which, about which session, and in words for the person asking."""

    rule: str
    message: str
    number: int | None = None  # the session it is about
    window: Window | None = None  # where that session would have to be instead
    earliest: date | None = None  # for a new course: the first day it may start


def spacing_of(treatment) -> Spacing:
    return Spacing(
        treatment.spacing_min_days, treatment.spacing_preferred_days, treatment.spacing_max_days
    )


def _dates(window: Window) -> str:
    if window.first_day == window.last_day:
        return gettext("on %(date)s") % {"date": f"{window.first_day:%-d %B %Y}"}
    return gettext("between %(first)s and %(last)s") % {
        "first": f"{window.first_day:%-d %B}",
        "last": f"{window.last_day:%-d %B %Y}",
    }


def course_breaches(
    starts: Iterable[tuple[int, datetime]], spacing: Spacing, zone: ZoneInfo
) -> list[Breach]:
    """ORDER and WINDOW over a course's active sessions, given as (number, start)."""
    ordered = sorted(starts)
    found = []
    for (before, before_start), (number, start) in zip(ordered, ordered[1:], strict=False):
        window = session_window(before_start, spacing, zone)
        if start <= before_start:
            found.append(
                Breach(
                    ORDER,
                    gettext("Session %(number)d must come after session %(before)d.")
                    % {"number": number, "before": before},
                    number,
                )
            )
        elif not window.holds(start, zone):
            found.append(
                Breach(
                    WINDOW,
                    gettext(
                        "Session %(number)d must be %(dates)s: %(min)d to %(max)d days "
                        "after session %(before)d."
                    )
                    % {
                        "number": number,
                        "dates": _dates(window),
                        "min": spacing.min_days,
                        "max": spacing.max_days,
                        "before": before,
                    },
                    number,
                    window,
                )
            )
    return found


def window_after_previous(
    starts: Sequence[tuple[int, datetime]], number: int, spacing: Spacing, zone: ZoneInfo
) -> Window | None:
    """Session `number`'s own window: after the active session before it (None for the first)."""
    before = [s for n, s in sorted(starts) if n < number]
    return session_window(before[-1], spacing, zone) if before else None


def move_window(
    starts: Sequence[tuple[int, datetime]], number: int, spacing: Spacing, zone: ZoneInfo
) -> Window | None:
    """The dates session `number` may move to and keep its neighbours where they are.

    Inside its window after the active session before it, and early enough to
    leave the next one inside its own. None when it has neither neighbour.
    The window can be empty (first day after the last) when no date keeps both.
    """
    others = sorted((n, s) for n, s in starts if n != number)
    before = [s for n, s in others if n < number]
    after = [s for n, s in others if n > number]
    bounds = []
    if before:
        window = session_window(before[-1], spacing, zone)
        bounds.append((window.first_day, window.last_day))
    if after:
        day = after[0].astimezone(zone).date()
        bounds.append(
            (day - timedelta(days=spacing.max_days), day - timedelta(days=spacing.min_days))
        )
    if not bounds:
        return None
    return Window(max(b[0] for b in bounds), min(b[1] for b in bounds))


def first_session_breach(start: datetime, now: datetime, rules, *, waive_notice=False):
    """NOTICE and HORIZON for the first session of a course (or its move)."""
    if waive_notice:
        if start <= now:
            return Breach(NOTICE, gettext("The first session must be in the future."), 1)
    elif start < now + rules.min_notice:
        return Breach(
            NOTICE,
            ngettext(
                "The first session must be at least %(hours)d hour from now. "
                "Please choose a later time.",
                "The first session must be at least %(hours)d hours from now. "
                "Please choose a later time.",
                rules.min_notice_hours,
            )
            % {"hours": rules.min_notice_hours},
            1,
        )
    if start > now + rules.horizon:
        return Breach(
            HORIZON,
            ngettext(
                "The first session must be within %(weeks)d week. Please choose an earlier time.",
                "The first session must be within %(weeks)d weeks. Please choose an earlier time.",
                rules.horizon_weeks,
            )
            % {"weeks": rules.horizon_weeks},
            1,
        )
    return None


def change_breach(status: str, start: datetime, now: datetime, rules, *, by_staff: bool):
    """CHANGE: can this session be moved or cancelled now, by this person?"""
    if status != "booked":
        return Breach(CHANGE, gettext("Only a booked session can be changed."))
    if start <= now:
        return Breach(CHANGE, gettext("This session has already started."))
    if not by_staff and start - now < rules.change_notice:
        return Breach(
            CHANGE,
            ngettext(
                "This session is less than %(hours)d hour away. Please call us to change it.",
                "This session is less than %(hours)d hours away. Please call us to change it.",
                rules.change_notice_hours,
            )
            % {"hours": rules.change_notice_hours},
        )
    return None


@dataclass(frozen=True)
class PolicyOutcome:
    """What the cancellation policy makes of a late change or a no-show."""

    event: str  # LATE_CANCEL, LATE_MOVE or NO_SHOW
    outcome: str  # FEE, USED or DEPOSIT
    fee: Decimal  # the fee, or the deposit kept; 0 for USED
    reason: str  # in words, kept with the ledger entry


def is_late(start: datetime, now: datetime, rules) -> bool:
    """Inside the change notice: a change now falls under the cancellation policy."""
    return now < start and start - now < rules.change_notice


def policy_outcome(
    event: str, rules, *, start: datetime, now: datetime, deposit: Decimal = Decimal(0)
) -> PolicyOutcome | None:
    """POLICY: the outcome of `event` for a session starting at `start`, at `now`; None when
    there is none (the clinic charges nothing, or a change is not inside the notice).
    `deposit`: the online deposit paid for the course and not kept yet (DEPOSIT keeps it;
    with none, there is nothing to keep)."""
    if event != NO_SHOW and not is_late(start, now, rules):
        return None
    outcome = getattr(rules, f"{event}_outcome")
    if outcome not in (FEE, USED, DEPOSIT) or (outcome == DEPOSIT and deposit <= 0):
        return None
    fee = {FEE: getattr(rules, f"{event}_fee"), DEPOSIT: deposit}.get(outcome, Decimal(0))
    hours = max(int((start - now).total_seconds() // 3600), 0)
    what = {
        LATE_CANCEL: ngettext(
            "Cancelled %(hours)d hour before the session",
            "Cancelled %(hours)d hours before the session",
            hours,
        ),
        LATE_MOVE: ngettext(
            "Moved %(hours)d hour before the session",
            "Moved %(hours)d hours before the session",
            hours,
        ),
        NO_SHOW: gettext("Did not come to the session"),
    }[event] % {"hours": hours}
    result = {
        FEE: gettext("the policy's fee of %(fee)s"),
        DEPOSIT: gettext("the deposit of %(fee)s is kept"),
    }.get(outcome, gettext("the policy counts the session as used")) % {"fee": money(fee)}
    return PolicyOutcome(event, outcome, fee, f"{what}: {result}.")


def policy_sentences(rules) -> list[str]:
    """POLICY in the words patients read, beside CHANGE's (`change_rules`)."""
    hours = rules.change_notice_hours
    found = []
    if rules.late_cancel_outcome == FEE:
        found.append(
            ngettext(
                "Cancelling less than %(hours)d hour before a session costs %(fee)s.",
                "Cancelling less than %(hours)d hours before a session costs %(fee)s.",
                hours,
            )
            % {"hours": hours, "fee": money(rules.late_cancel_fee)}
        )
    elif rules.late_cancel_outcome == USED:
        found.append(
            ngettext(
                "A session cancelled less than %(hours)d hour before counts as used: "
                "you pay for it.",
                "A session cancelled less than %(hours)d hours before counts as used: "
                "you pay for it.",
                hours,
            )
            % {"hours": hours}
        )
    elif rules.late_cancel_outcome == DEPOSIT:
        found.append(
            ngettext(
                "If you cancel less than %(hours)d hour before a session, we keep the "
                "deposit you paid online.",
                "If you cancel less than %(hours)d hours before a session, we keep the "
                "deposit you paid online.",
                hours,
            )
            % {"hours": hours}
        )
    if rules.late_move_outcome == FEE:
        found.append(
            ngettext(
                "Moving a session less than %(hours)d hour before costs %(fee)s.",
                "Moving a session less than %(hours)d hours before costs %(fee)s.",
                hours,
            )
            % {"hours": hours, "fee": money(rules.late_move_fee)}
        )
    if rules.no_show_outcome == FEE:
        found.append(
            gettext("If you miss a session without telling us, it costs %(fee)s.")
            % {"fee": money(rules.no_show_fee)}
        )
    elif rules.no_show_outcome == USED:
        found.append(
            gettext("If you miss a session without telling us, it counts as used: you pay for it.")
        )
    elif rules.no_show_outcome == DEPOSIT:
        found.append(
            gettext(
                "If you miss a session without telling us, we keep the deposit you paid online."
            )
        )
    if not found:
        found.append(gettext("There is no charge for a late change or a missed session."))
    return found


def change_rules(rules, *, phone: str, course_of_sessions: bool = True) -> list[str]:
    """CHANGE and POLICY, in the sentences patients read before they book and whenever they
    look at their sessions (templates/booking/includes/change_rules.html, and the emails'
    text)."""
    hours = rules.change_notice_hours
    sentences = [
        ngettext(
            "You can move or cancel a session here up to %(hours)d hour before it starts.",
            "You can move or cancel a session here up to %(hours)d hours before it starts.",
            hours,
        )
        % {"hours": hours},
        ngettext(
            "Less than %(hours)d hour before, please call us on %(phone)s.",
            "Less than %(hours)d hours before, please call us on %(phone)s.",
            hours,
        )
        % {"hours": hours, "phone": phone},
    ]
    if course_of_sessions:
        sentences.append(
            gettext(
                "Your skin needs the same gap between sessions. So when one session moves "
                "or is cancelled, the sessions after it may have to move too. We always "
                "show you where before anything changes."
            )
        )
    return sentences + policy_sentences(rules)


def earliest_new_course(last_start: datetime, spacing: Spacing, zone: ZoneInfo) -> date:
    return last_start.astimezone(zone).date() + timedelta(days=spacing.min_days)


def _open_courses_breaches(
    open_courses: int, allowed: int, message: str, treatment_name: str
) -> list[Breach]:
    """ONE_COURSE: one more open course than `allowed` of a treatment (`message` names it)."""
    if open_courses < allowed:
        return []
    return [Breach(ONE_COURSE, message % {"treatment": treatment_name.lower()})]


def new_course_breaches(
    *,
    first_start: datetime,
    open_courses: int,
    allowed: int,
    last_start: datetime | None,
    spacing: Spacing,
    zone: ZoneInfo,
    treatment_name: str,
) -> list[Breach]:
    """ONE_COURSE and AFTER_LAST for a patient's new course of one treatment."""
    found = _open_courses_breaches(
        open_courses,
        allowed,
        gettext(
            "You already have a %(treatment)s course with sessions booked. You can add "
            "sessions to it on My appointments instead of booking a new course."
        ),
        treatment_name,
    )
    if last_start is not None:
        earliest = earliest_new_course(last_start, spacing, zone)
        if first_start.astimezone(zone).date() < earliest:
            found.append(
                Breach(
                    AFTER_LAST,
                    ngettext(
                        "Your skin needs at least %(days)d day after your last %(treatment)s "
                        "session. The first date that works is %(date)s.",
                        "Your skin needs at least %(days)d days after your last %(treatment)s "
                        "session. The first date that works is %(date)s.",
                        spacing.min_days,
                    )
                    % {
                        "days": spacing.min_days,
                        "treatment": treatment_name.lower(),
                        "date": f"{earliest:%A %-d %B %Y}",
                    },
                    1,
                    earliest=earliest,
                )
            )
    return found


def added_session_breaches(
    *,
    start: datetime,
    open_courses: int,
    allowed: int,
    next_course_start: datetime | None,
    spacing: Spacing,
    zone: ZoneInfo,
    treatment_name: str,
) -> list[Breach]:
    """ONE_COURSE and AFTER_LAST for a session added to a course that has one already.

    `open_courses` counts the patient's other open courses of the treatment: with a
    session to come, this course is open too. `next_course_start` is the first
    session of the patient's next course of the treatment after `start`, if any:
    it must still start the treatment's minimum gap after the new session.
    """
    found = _open_courses_breaches(
        open_courses,
        allowed,
        gettext(
            "You have another %(treatment)s course with sessions booked. "
            "Please call us to add a session to this one."
        ),
        treatment_name,
    )
    if next_course_start is not None:
        next_day = next_course_start.astimezone(zone).date()
        if next_day < earliest_new_course(start, spacing, zone):
            found.append(
                Breach(
                    AFTER_LAST,
                    ngettext(
                        "Your next %(treatment)s course starts on %(date)s. Your skin needs "
                        "%(days)d day before it, so this session must be on %(last)s or earlier.",
                        "Your next %(treatment)s course starts on %(date)s. Your skin needs "
                        "%(days)d days before it, so this session must be on %(last)s or earlier.",
                        spacing.min_days,
                    )
                    % {
                        "treatment": treatment_name.lower(),
                        "date": f"{next_day:%A %-d %B %Y}",
                        "days": spacing.min_days,
                        "last": f"{next_day - timedelta(days=spacing.min_days):%A %-d %B %Y}",
                    },
                )
            )
    return found


def most_sessions_breach(sessions: int, sessions_max: int, treatment_name: str) -> Breach | None:
    """MOST_SESSIONS: a course with `sessions` active sessions keeps the treatment's most."""
    if sessions <= sessions_max:
        return None
    return Breach(
        MOST_SESSIONS,
        ngettext(
            "A course of %(treatment)s has at most %(max)d session.",
            "A course of %(treatment)s has at most %(max)d sessions.",
            sessions_max,
        )
        % {"treatment": treatment_name, "max": sessions_max},
    )


def rebook_breach(
    number: int,
    status: str,
    sessions: Iterable[tuple[int, str]],
    sessions_max: int,
    treatment_name: str,
) -> Breach | None:
    """REBOOK: can a session (its `number` and `status`) be booked again, in a course whose
    sessions, cancelled ones too, are `sessions` ((number, status) pairs)?

    Yes for the first cancelled number after the course's last active session
    (so no active session comes after it or has its number, and a course's
    sessions are booked again in order), while the course has an active session
    and one more keeps it within the treatment's most sessions.
    """
    sessions = list(sessions)
    active = [n for n, state in sessions if state != "cancelled"]
    if status != "cancelled":
        return Breach(REBOOK, gettext("Only a cancelled session can be booked again."), number)
    if not active:
        return Breach(
            REBOOK,
            gettext("This course has no sessions left. Please book a new course instead."),
            number,
        )
    if number in active:
        return Breach(
            REBOOK, gettext("Session %(number)d is already booked.") % {"number": number}, number
        )
    if max(active) > number:
        return Breach(
            REBOOK,
            gettext(
                "Session %(number)d cannot be booked again because session %(later)d comes "
                "after it."
            )
            % {"number": number, "later": max(active)},
            number,
        )
    first = min(n for n, state in sessions if state == "cancelled" and n > max(active))
    if number != first:
        return Breach(
            REBOOK,
            gettext("Please book session %(first)d again first.") % {"first": first},
            number,
        )
    return most_sessions_breach(len(active) + 1, sessions_max, treatment_name)


def suitability_breach(
    *,
    asked: int,
    answered: int,
    outcome: str,
    consultation: bool,
    overridden: bool,
    current_questions: bool = True,
) -> Breach | None:
    """ANSWERS and SUITABILITY: `outcome` is education.suitability's for the "yes" answers;
    `current_questions` is False when they were given to an older version of the questions."""
    if not current_questions:
        return Breach(
            ANSWERS,
            gettext(
                "The health questions have changed since these answers were given. "
                "Please answer them again."
            ),
        )
    if answered < asked:
        return Breach(ANSWERS, gettext("Answer every health question before booking."))
    if outcome == "book" or consultation or overridden:
        return None
    return Breach(
        SUITABILITY,
        gettext(
            "One of the answers means a clinician should see the patient first. Book a "
            "consultation instead, or a clinician can go ahead with a clinical reason."
        ),
    )


def consent_breach(
    *, has_version: bool, method: str, given: bool, first_attended: bool
) -> Breach | None:
    """CONSENT: recorded with how it was given; on paper, signed by the first visit."""
    if not has_version or not method:
        return Breach(CONSENT, gettext("Record the patient's consent, and how they gave it."))
    if method == "paper" and not given and first_attended:
        return Breach(
            CONSENT, gettext("The first session was attended before the consent was signed.")
        )
    if method != "paper" and not given:
        return Breach(CONSENT, gettext("Record the patient's consent, and how they gave it."))
    return None


def spacing_sentence(treatment) -> str:
    """How far apart the sessions are, in plain words; nothing for one-session treatments."""
    if treatment.sessions_max <= 1:
        return ""
    from education.templatetags.education import spacing_weeks

    return gettext("The sessions are about %(gap)s apart, so your skin can heal in between.") % {
        "gap": spacing_weeks(treatment.spacing_preferred_days)
    }
