"""What My appointments shows: the patient's courses in the order that matters to them,
each with its money, the cancelled session each course offers to book again, and what
they wait for."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.db.models import Prefetch

from .. import rulebook
from ..ledger.models import LedgerEntry
from ..ledger.selectors import courses_with_accounts
from ..models import TO_HAPPEN, Course, Offer, Patient, Session, WaitlistEntry


def courses_by_next_session(*, patient: Patient, now: datetime) -> list[Course]:
    """The patient's courses, each with its sessions (and their practitioners) read.

    Courses with a booked session still to come come first, the soonest next
    session first: that is what the patient needs next, whenever the course
    began. Then the courses with nothing to come, the one whose last session
    (cancelled ones too) was most recent first. Ties: the course booked first.
    """
    courses = list(
        patient.courses.select_related("treatment", "practitioner").prefetch_related(
            "sessions__practitioner"
        )
    )

    def order(course: Course) -> tuple:
        sessions = course.sessions.all()
        to_come = [s.start for s in sessions if s.status in TO_HAPPEN and s.start > now]
        if to_come:
            return (0, min(to_come).timestamp(), course.created_at)
        last = max((s.start for s in sessions), default=course.created_at)
        return (1, -last.timestamp(), course.created_at)

    return sorted(courses, key=order)


def courses_with_money(courses: Sequence[Course]) -> list[Course]:
    """`courses`, each with its `account` (booking/ledger/selectors.py; None for a course
    booked before prices were kept) and `money_entries`: what changed its money, oldest
    first. Every ledger entry but the price it was sold at and the plain record of a
    session attended. Three queries, however many courses."""
    courses = courses_with_accounts(courses)
    priced = [c.pk for c in courses if c.account is not None]
    found = defaultdict(list)
    if priced:
        entries = (
            LedgerEntry.objects.filter(course__in=priced)
            .exclude(kind=LedgerEntry.Kind.SOLD)
            .exclude(kind=LedgerEntry.Kind.USED, event="")
            .order_by("at", "pk")
        )
        for entry in entries:
            found[entry.course_id].append(entry)
    for course in courses:
        course.money_entries = found.get(course.pk, [])
    return courses


def rebook_refusal(session: Session, sessions: Sequence[Session] | None = None):
    """Why `session` cannot be booked again (booking/rulebook.py rebook_breach), or None.

    `sessions`: its course's sessions, cancelled ones too, when already read.
    """
    course = session.course
    return _rebook_breach(course, session, course.sessions.all() if sessions is None else sessions)


def session_to_book_again(course: Course, sessions: Sequence[Session]) -> Session | None:
    """The cancelled session My appointments offers to book again, if any: of the rows the
    rule allows (one number; it may have been cancelled more than once), the latest."""
    allowed = [
        s
        for s in sessions
        if s.status == Session.Status.CANCELLED and _rebook_breach(course, s, sessions) is None
    ]
    return max(allowed, key=lambda s: s.pk, default=None)


def _rebook_breach(course: Course, session: Session, sessions: Sequence[Session]):
    return rulebook.rebook_breach(
        session.number,
        session.status,
        [(s.number, s.status) for s in sessions],
        course.treatment.sessions_max,
        course.treatment.name,
    )


def waitlist_of(*, patient: Patient) -> list[WaitlistEntry]:
    """The patient's waiting entries, first joined first, in two queries however many:
    each with its session (if it is for an earlier time of one) and `live_offers`, the
    offer holding a time for it now (a list of at most one)."""
    return list(
        patient.waitlist_entries.filter(status=WaitlistEntry.Status.WAITING)
        .select_related("treatment", "practitioner", "session__practitioner")
        .prefetch_related(
            Prefetch(
                "offers",
                queryset=Offer.objects.live().select_related("hold__practitioner"),
                to_attr="live_offers",
            )
        )
        .order_by("created_at", "pk")
    )
