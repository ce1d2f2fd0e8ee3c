"""Book, move and cancel at random, as patients and as staff: the schedule stays sound.

A hypothesis state machine drives the booking services (the only writers of
courses and sessions, which every page, the admin and the tasks call) for three
practitioners and four patients over a few weeks, with the clock moving on
between steps: booking as the journey does and at any times (as phone booking
may, with staff overrides, consent read aloud or to sign on paper), moving and
cancelling as patients and staff (taking the re-timing offered or not),
adding a session to a course, booking a cancelled one again, cancelling the
rest, marking attendance and no-shows (recording a paper consent form first,
or not), and time off handed over or cancelled. The waitlist too: patients
(two of them booking only from it) join for a first session or for an earlier
time of a booked session, the waitlist's run offers freed time, reception
offers a time by hand, and the patient accepts, declines, or lets the hold
lapse as the clock runs past it. The money too: the clinic's cancellation
policy is drawn for each run, the treatments are priced (one with a package),
courses are paid for (nothing, a deposit or all), staff cancel or move sessions
inside the change notice (waiving the policy with a reason, or not), the desk
takes payments and gives refunds (some too large, refused), waives fees and
sessions counted as used, and corrects payments and refunds. 50 examples of up
to 25 steps, about 45 s on 2 cores. Refusals (BookingError, SlotTaken,
OfferEnded) are legitimate answers and must leave the database, the ledger
included, as it was.
After every step the invariants are checked against the database:

- no two active sessions of one practitioner overlap, the clinic's buffer included;
- no two active sessions of one patient overlap;
- no course breaks a booking rule as the clinic's one rulebook states them
  (booking/rulebook.py, read over the database by selectors.courses_breaking_rules):
  order and windows inside each course, less what staff overrode with a reason,
  and across courses at most one open course per treatment and the minimum gap
  after the patient's last session of it. A move or cancellation that would
  break a course is refused, or offered with the later sessions' new times,
  which the machine takes or not;
- a patient's own change keeps the course's first session inside the horizon;
- a course with no active session is cancelled, and a cancelled one has none;
  its sessions are numbered 1 to its planned number (one booked again keeps
  the number of the one cancelled);
- reminders follow the sessions (the worker sends what is due as the clock moves):
  a booked session's aftercare and check-in rows are due at the times its current
  start gives, and its reminder row exactly when one was due after it was last
  placed; nothing goes out before it is due, nor about a session already cancelled;
  a cancelled session has nothing still to send but the notices about the
  cancellation and the booking itself;
- the waitlist keeps its promises: a held time overlaps no session of its
  practitioner (the buffer included) or its patient; a patient has at most one
  live offer; a live offer's time is held for a waiting entry and an ended
  one's released; every accepted offer has exactly one booking (the course it
  started, or the entry's session moved there); a waiting entry for a session
  is for one still booked;
- every course's ledger adds up (`every_course_ledger_adds_up` says how): balances
  are the entries' sum, refunds never exceed payments, payments never exceed what
  is owed, sessions used never exceed sessions sold, every policy outcome is one
  entry with its reason, and a waived one has a reason and an author and charges
  nothing.

PostgreSQL only: the no-overlap guarantee lives in its exclusion constraints.
"""

import os
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from booking import rulebook, selectors
from booking.attendance import (
    course_consent_signed,
    session_mark_arrived,
    session_mark_attended,
    session_mark_no_show,
    session_mark_not_arrived,
)
from booking.availability import Slot, local_datetime
from booking.courses import course_plan
from booking.ledger import services as ledger
from booking.ledger.models import CASH_FLOW, DESK_METHODS, EFFECT, LedgerEntry
from booking.ledger.selectors import course_account, courses_with_accounts
from booking.models import (
    TO_HAPPEN,
    BookingRules,
    ConsentText,
    Course,
    Offer,
    Reminder,
    ReminderSettings,
    Session,
    WaitlistEntry,
)
from booking.reminder_kinds import AFTER_CANCEL, AFTER_THE_SESSION, SESSION_TIMED
from booking.reminder_timing import due_times
from booking.reminders import dispatch_due, reminder_send
from booking.rulebook import spacing_of
from booking.selectors import courses_breaking_rules
from booking.services import (
    BookingError,
    NeedsReplan,
    course_cancel,
    course_extend,
    extension_proposals,
    session_cancel,
    session_move,
    session_rebook,
)
from booking.time_off import CANCEL, handover_choices, time_off_add
from booking.waitlist.models import ALL_DAY, EVERY_DAY
from booking.waitlist.services import (
    Wish,
    entry_dates,
    entry_join,
    first_course_plan,
    offer_accept,
    offer_decline,
    offer_make,
    waitlist_sweep,
)
from tests.booking.factories import (
    PatientFactory,
    PractitionerFactory,
    UserFactory,
    agreed,
    book_course,
)
from tests.education.factories import TreatmentFactory
from tests.helpers import at, book
from tests.worker import send_all_due

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 9, 7, 8, 0, tzinfo=LONDON)  # a Monday; courses run past 25 October
DAYS = 21  # first sessions fall in the next three weeks
WALL_TIMES = [time(9), time(9, 15), time(10), time(10, 30), time(13), time(15, 45), time(16)]
Kind, Status = Reminder.Kind, Reminder.Status
# A waitlist wish: often any day and time (freed time then has someone to go to), or any
# other choice of days of the week (Monday 1) and parts of the day.
WEEKDAYS = st.sampled_from([EVERY_DAY, 0b0011111]) | st.integers(1, EVERY_DAY)
PARTS_OF_DAY = st.just(ALL_DAY) | st.integers(1, ALL_DAY)
OPEN = (Status.PENDING, Status.SENDING)
POLICY_FEES = {
    "late_cancel": Decimal("30.00"),
    "late_move": Decimal("15.00"),
    "no_show": Decimal("45.00"),
}
K, EVENT = LedgerEntry.Kind, LedgerEntry.Event
WAIVE_REASONS = ["", "  ", "The practitioner ran late last time."]


@pytest.fixture
def world(db):
    """Two treatments, three practitioners (one part-time), four patients, and two more
    who book only from the waitlist."""
    # 75 minutes; 1 to 6 sessions, 28 to 42 days apart; £100 a session, £270 for three (so
    # £90 a session for three or more)
    needling = TreatmentFactory(session_price=Decimal("100.00"), package_price=Decimal("270.00"))
    peel = TreatmentFactory(
        session_price=Decimal("65.50"),
        name="Peel",
        slug="peel",
        treatment_minutes=45,
        numbing_minutes=0,
        sessions_usual=3,
        sessions_min=2,
        sessions_max=4,
        spacing_min_days=7,
        spacing_preferred_days=14,
        spacing_max_days=21,
    )
    practitioners = [
        PractitionerFactory(treatments=[needling, peel]),
        PractitionerFactory(treatments=[needling]),
        PractitionerFactory(
            treatments=[needling, peel], hours=[(1, time(10), time(14)), (5, time(9), time(13))]
        ),
    ]
    agreed(needling)  # the consent text, for an offer accepted before any booking
    return {
        "treatments": [needling, peel],
        "practitioners": practitioners,
        "patients": [PatientFactory() for _ in range(4)],
        # Two who book only from the waitlist: first-session offers go to them, not only to
        # patients whose open course rules a new one out.
        "waiting": [PatientFactory() for _ in range(2)],
        "staff": UserFactory(email="desk@clinic.example", is_staff=True),
    }


class Bookings(RuleBasedStateMachine):
    world: dict  # set by the test

    def __init__(self):
        super().__init__()
        # Each run starts from the same database: a savepoint, rolled back in teardown.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.now = START
        self.zone = selectors.clinic_zone()
        self.placed_at: dict[int, datetime] = {}  # session -> when it was booked or moved
        self.marked_on: dict[int, tuple[str, datetime]] = {}  # session -> the desk's last mark
        self.staff = self.world["staff"]
        self.refusals = 0
        # Whether anyone has joined the waitlist yet (no entry, no offer: nothing for its
        # invariant to read), and whether patients wait and an offer is live, as that
        # invariant last read them (after every step): the waitlist rules' preconditions.
        self.joined = self.waiting = self.live = False
        # The money: the cancellation policy drawn for this run, the sessions' places as
        # the ledger's invariant last read them (a change since, inside the notice, is a
        # late move), and how many late moves each session has had.
        self.rules: BookingRules | None = None
        self.seen: dict[int, tuple] = {}
        self.late_moves: Counter[int] = Counter()
        self.refusal = ""  # the last refusal's words

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        cache.clear()  # the rules row this run saved (and so kept) is rolled back

    # --- helpers ------------------------------------------------------------------

    def _state(self):
        """Everything a refused request must leave exactly as it was."""
        return (
            list(Course.objects.order_by("pk").values_list()),
            list(Session.objects.order_by("pk").values_list()),
            list(Reminder.objects.order_by("pk").values_list()),
            list(LedgerEntry.objects.order_by("pk").values_list()),
        )

    def _refused(self, call, *args, **kwargs):
        """Run a service; a refusal must change nothing. Returns the result or None."""
        before = self._state()
        self.refusal = ""
        try:
            return call(*args, **kwargs)
        except BookingError as refusal:
            assert refusal.message
            assert self._state() == before, f"{call.__name__} refused but changed rows"
            if isinstance(refusal, NeedsReplan):  # an offer: the caller decides
                raise
            self.refusals += 1
            self.refusal = refusal.message
            return None

    def _slot(self, treatment, practitioner, day: date, wall: time) -> Slot | None:
        start = local_datetime(day, wall, self.zone)
        if start is None:
            return None
        return Slot(
            start, start + timedelta(minutes=treatment.appointment_minutes), practitioner.pk
        )

    def _placed(self, sessions) -> None:
        for session in sessions:
            self.placed_at[session.pk] = self.now

    def _booked_sessions(self):
        return list(
            Session.objects.filter(status=Session.Status.BOOKED)
            .select_related("course__treatment", "patient", "practitioner")
            .order_by("pk")
        )

    def _book(self, *, patient, treatment, slots, staff=None) -> None:
        course = self._refused(
            book_course,
            patient=patient,
            treatment=treatment,
            slots=slots,
            now=self.now,
            **(staff or {}),
        )
        if course is None:
            return
        self._placed(course.sessions.all())

    def _staff(self, by_staff, short_notice, outside_window, reason) -> dict:
        if not by_staff:
            return {}
        return {
            "allow_short_notice": short_notice,
            "allow_outside_window": outside_window,
            "override_reason": reason,
            "booked_by": self.staff,  # by phone: consent to be signed on paper, or read aloud
            "consent_method": "paper" if short_notice else "phone",
        }

    # --- rules --------------------------------------------------------------------

    @initialize(
        data=st.data(),
        courses=st.lists(
            st.tuples(st.integers(0, 1), st.integers(0, 3), st.integers(0, 2), st.integers(1, 9)),
            min_size=1,
            max_size=4,
        ),
    )
    def some_courses_are_booked(self, data, courses):
        for treatment, patient, practitioner, day in courses:
            self.book_a_planned_course(data, treatment, patient, practitioner, day, 6)
        for course in Course.objects.order_by("pk"):  # paid at the desk: nothing, some, all
            paid = data.draw(st.sampled_from(["nothing", "£50.00 deposit", "all"]), label="paid")
            if paid != "nothing":
                amount = course.price if paid == "all" else Decimal(50)
                ledger.payment_record(course=course, amount=amount, method="card", by=self.staff)

    @initialize(
        waiting=st.lists(
            st.tuples(st.integers(4, 5), st.integers(0, 1), st.integers(1, 7)),
            max_size=2,
            unique_by=lambda w: w[:2],
        )
    )
    def some_patients_wait(self, waiting):
        """Patients on the waitlist from the start: any day, any time, five weeks."""
        for patient, treatment, first in waiting:
            self.join_the_waitlist_for_a_first_session(
                patient, treatment, first, 35, EVERY_DAY, ALL_DAY, None, 3
            )

    @initialize(
        late_cancel=st.sampled_from(["fee", "used", "nothing"]),
        late_move=st.sampled_from(["fee", "nothing"]),
        no_show=st.sampled_from(["used", "fee", "nothing"]),
    )
    def the_clinic_sets_its_cancellation_policy(self, late_cancel, late_move, no_show):
        """What a late cancellation, a late move and a no-show cost, as the admin saves it."""
        rules = BookingRules.current()
        for event, outcome in [
            ("late_cancel", late_cancel),
            ("late_move", late_move),
            ("no_show", no_show),
        ]:
            setattr(rules, f"{event}_outcome", outcome)
            setattr(rules, f"{event}_fee", POLICY_FEES[event] if outcome == "fee" else Decimal(0))
        rules.full_clean()
        rules.save()
        self.rules = rules

    @rule(
        data=st.data(),
        treatment=st.integers(0, 1),
        patient=st.integers(0, 3),
        practitioner=st.integers(0, 2),
        day=st.integers(1, DAYS),
        sessions=st.integers(1, 6),
    )
    def book_a_planned_course(self, data, treatment, patient, practitioner, day, sessions):
        """As the journey does: a free first slot, the rest planned by course_plan."""
        treatment = self.world["treatments"][treatment]
        patient = self.world["patients"][patient]
        practitioner = self.world["practitioners"][practitioner]
        sessions = min(max(sessions, treatment.sessions_min), treatment.sessions_max)
        day = (self.now + timedelta(days=day)).astimezone(self.zone).date()
        free = selectors.free_slots(
            treatment=treatment,
            day_from=day,
            day_to=day,
            now=self.now,
            practitioners=[practitioner],
            patient=patient,
        )
        if not free:
            return
        first = free[data.draw(st.integers(0, len(free) - 1), label="first slot")]
        plan = course_plan(
            first=first,
            sessions=sessions,
            spacing=spacing_of(treatment),
            zone=self.zone,
            find_slots=selectors.slot_finder(
                treatment=treatment, practitioner=practitioner, now=self.now, patient=patient
            ),
        )
        if all(p.slot for p in plan):
            self._book(patient=patient, treatment=treatment, slots=[p.slot for p in plan])

    @rule(
        treatment=st.integers(0, 1),
        patient=st.integers(0, 3),
        practitioners=st.lists(st.integers(0, 2), min_size=1, max_size=6),
        day=st.integers(0, DAYS),
        walls=st.lists(st.sampled_from(WALL_TIMES), min_size=1, max_size=6),
        gaps=st.lists(st.integers(0, 50), min_size=5, max_size=5),
        by_staff=st.booleans(),
        short_notice=st.booleans(),
        outside_window=st.booleans(),
        reason=st.sampled_from(["", "Asked for by phone"]),
    )
    def book_random_slots(
        self,
        treatment,
        patient,
        practitioners,
        day,
        walls,
        gaps,
        by_staff,
        short_notice,
        outside_window,
        reason,
    ):
        """Any times at all, often taken or outside the rules; staff may waive some rules."""
        treatment = self.world["treatments"][treatment]
        walls = (walls * 2)[: min(max(len(walls), treatment.sessions_min), treatment.sessions_max)]
        slots, day = [], (self.now + timedelta(days=day)).astimezone(self.zone).date()
        for number, wall in enumerate(walls):
            if number:
                day += timedelta(days=gaps[number - 1])
            who = self.world["practitioners"][practitioners[number % len(practitioners)]]
            slot = self._slot(treatment, who, day, wall)
            if slot is None:
                return
            slots.append(slot)
        self._book(
            patient=self.world["patients"][patient],
            treatment=treatment,
            slots=slots,
            staff=self._staff(by_staff, short_notice, outside_window, reason),
        )

    @precondition(lambda self: Session.objects.active().exists())
    @rule(
        data=st.data(),
        offset=st.sampled_from([-90, -80, -75, -60, -15, 0, 15, 60, 75, 89, 90, 91]),
        same_practitioner=st.booleans(),
        same_patient=st.booleans(),
        by_staff=st.booleans(),
    )
    def book_next_to_a_session(self, data, offset, same_practitioner, same_patient, by_staff):
        """One session just before, over or after another: the buffer and no-overlap.
        Staff book it inside the minimum notice too (with a reason)."""
        active = list(Session.objects.active().select_related("patient").order_by("pk"))
        other = active[data.draw(st.integers(0, len(active) - 1), label="next to")]
        treatment = self.world["treatments"][0]  # one session is a whole course of it
        practitioners = self.world["practitioners"]
        who = (
            other.practitioner
            if same_practitioner
            else practitioners[data.draw(st.integers(0, 2), label="practitioner")]
        )
        patients = self.world["patients"]
        patient = (
            other.patient if same_patient else patients[data.draw(st.integers(0, 3), label="pt")]
        )
        start = other.start + timedelta(minutes=offset)
        slots = [Slot(start, start + timedelta(minutes=treatment.appointment_minutes), who.pk)]
        self._book(
            patient=patient,
            treatment=treatment,
            slots=slots,
            staff=self._staff(by_staff, True, False, "Fitted in by phone"),
        )

    @precondition(lambda self: Session.objects.filter(status=Session.Status.BOOKED).exists())
    @rule(
        data=st.data(),
        days=st.integers(-14, 45),
        wall=st.sampled_from(WALL_TIMES),
        practitioner=st.none() | st.integers(0, 2),
        by_staff=st.booleans(),
        where=st.sampled_from(["free time", "any time", "next to another"]),
        accept_replan=st.booleans(),
        reason=st.sampled_from(["", "", "Patient asked, agreed by phone"]),
    )
    def move_a_session(
        self, data, days, wall, practitioner, by_staff, where, accept_replan, reason
    ):
        """To a free time inside its window (as the pages offer), to any time at all, or just
        before, over or after another session."""
        booked = self._booked_sessions()
        session = booked[data.draw(st.integers(0, len(booked) - 1), label="session")]
        treatment = session.course.treatment
        who = (
            session.practitioner
            if practitioner is None
            else self.world["practitioners"][practitioner]
        )
        day = session.start.astimezone(self.zone).date() + timedelta(days=days)
        start = local_datetime(day, wall, self.zone)
        if where == "next to another":
            active = list(Session.objects.active().exclude(pk=session.pk).order_by("pk"))
            if not active:
                return
            other = active[data.draw(st.integers(0, len(active) - 1), label="next to")]
            offset = data.draw(st.sampled_from([-90, -75, -30, 0, 30, 75, 89, 90]), label="by")
            start = other.start + timedelta(minutes=offset)
            who = self._practitioner(other.practitioner_id) if practitioner is None else who
        if where == "free time":
            starts = [(s.number, s.start) for s in session.course.sessions.active()]
            window = rulebook.window_after_previous(
                starts, session.number, spacing_of(treatment), self.zone
            )
            first_day = window.first_day if window else self.now.astimezone(self.zone).date()
            free = selectors.free_slots(
                treatment=treatment,
                day_from=first_day,
                day_to=first_day + timedelta(days=14),
                now=self.now,
                practitioners=[who],
                patient=session.patient,
                latest=datetime.combine(first_day + timedelta(days=15), time(0), self.zone),
                exclude_session_ids=[session.pk],
            )
            free = [s for s in free if window is None or window.holds(s.start, self.zone)]
            if free:
                start = free[data.draw(st.integers(0, len(free) - 1), label="free slot")].start
        if start is None:
            return
        change = {
            "session": session,
            "new_start": start,
            "now": self.now,
            "practitioner": who,
            "by_staff": by_staff,
        }
        if by_staff and reason:
            change["override_reason"] = reason
        result = self._changed(session_move, change, accept_replan)
        if result is None:
            return
        self._placed([result.session, *result.moved])
        first = min(s.number for s in result.session.course.sessions.active())
        if not by_staff and result.session.number == first:
            horizon = BookingRules.current().horizon
            assert result.session.start <= self.now + horizon, "a patient moved past the horizon"

    def _changed(self, call, change: dict, accept_replan: bool):
        """A move or cancellation; when it would break the course, the proposals offered
        are taken (as the patient's page and the admin's do) or the change is dropped."""
        try:
            return self._refused(call, **change)
        except NeedsReplan as needed:
            also = {p.number: p.slot for p in needed.proposals if p.slot}
            if not accept_replan or len(also) != len(needed.proposals):
                self.refusals += 1
                return None
            return self._refused(call, **change, also=also)

    def _practitioner(self, pk):
        return next(p for p in self.world["practitioners"] if p.pk == pk)

    @precondition(lambda self: Session.objects.filter(status=Session.Status.BOOKED).exists())
    @rule(
        data=st.data(),
        by_staff=st.booleans(),
        notify=st.booleans(),
        later=st.sampled_from(["keep", "replan", "cancel"]),
    )
    def cancel_a_session(self, data, by_staff, notify, later):
        booked = self._booked_sessions()
        session = booked[data.draw(st.integers(0, len(booked) - 1), label="session")]
        change = {"session": session, "now": self.now, "by_staff": by_staff, "notify": notify}
        if later == "cancel":
            change["with_later"] = True
        moved_before = {s.pk: s.start for s in session.course.sessions.active()}
        if self._changed(session_cancel, change, later == "replan") is not None:
            moved = [
                s
                for s in session.course.sessions.active()
                if s.pk in moved_before and s.start != moved_before[s.pk]
            ]
            self._placed(moved)

    @precondition(lambda self: Session.objects.filter(status=Session.Status.BOOKED).exists())
    @rule(data=st.data(), pick=st.integers(0, 5), by_staff=st.booleans())
    def add_a_session(self, data, pick, by_staff):
        """One more session after a course's last, as My appointments offers it."""
        booked = self._booked_sessions()
        course = booked[data.draw(st.integers(0, len(booked) - 1), label="course")].course
        self._add(course_extend, course, pick, by_staff, course=course)

    def _add(self, call, of, pick: int, by_staff: bool, *, otherwise=(), **target) -> None:
        """course_extend or session_rebook at one of the times My appointments offers for
        course `of` (or one of `otherwise` when it offers none)."""
        proposals = extension_proposals(course=of, now=self.now) or list(otherwise)
        if not proposals:
            return
        added = self._refused(
            call, **target, slot=proposals[pick % len(proposals)], now=self.now, by_staff=by_staff
        )
        if added is not None:
            self._placed([added])

    @precondition(lambda self: Session.objects.filter(status=Session.Status.CANCELLED).exists())
    @rule(data=st.data(), pick=st.integers(0, 5), by_staff=st.booleans(), offered=st.booleans())
    def book_a_cancelled_session_again(self, data, pick, by_staff, offered):
        """A cancelled session booked again at a free time after its course's last active
        one: one My appointments offers, or any (refused unless the rulebook lets it)."""
        cancelled = list(
            Session.objects.filter(status=Session.Status.CANCELLED)
            .select_related("course__treatment", "patient")
            .order_by("pk")
        )
        if offered:
            cancelled = [s for s in cancelled if selectors.rebook_refusal(s) is None]
            if not cancelled:
                return
        session = cancelled[data.draw(st.integers(0, len(cancelled) - 1), label="cancelled")]
        # With no time offered (no active session left, or none free), its old time.
        old_time = Slot(session.start, session.end, session.practitioner_id)
        self._add(
            session_rebook, session.course, pick, by_staff, otherwise=[old_time], session=session
        )

    @precondition(lambda self: Course.objects.filter(status=Course.Status.ACTIVE).exists())
    @rule(data=st.data(), by_staff=st.booleans())
    def cancel_a_course(self, data, by_staff):
        courses = list(Course.objects.filter(status=Course.Status.ACTIVE).order_by("pk"))
        course = courses[data.draw(st.integers(0, len(courses) - 1), label="course")]
        self._refused(course_cancel, course=course, now=self.now, by_staff=by_staff)

    def _due_today(self):
        return Session.objects.filter(
            status__in=TO_HAPPEN, start__lte=self.now + timedelta(hours=12)
        ).order_by("pk")

    def _today(self):
        day_start = datetime.combine(self.now.astimezone(self.zone).date(), time(), self.zone)
        return self._due_today().filter(start__gte=day_start)

    @precondition(lambda self: self._today().exists())
    @rule(data=st.data(), back=st.booleans())
    def patient_arrives(self, data, back):
        """In the waiting room (or taken back: the desk clicked the wrong name)."""
        today = list(self._today())
        session = today[data.draw(st.integers(0, len(today) - 1), label="session")]
        mark, service = (
            ("not_arrived", session_mark_not_arrived) if back else ("arrived", session_mark_arrived)
        )
        if self._refused(service, session=session, by=self.staff, now=self.now) is not None:
            self.marked_on[session.pk] = (mark, self.now)

    @precondition(lambda self: self._due_today().exists())
    @rule(
        data=st.data(),
        mark=st.sampled_from(["arrived", "not_arrived", "attended", "no_show"]),
        sign_first=st.booleans(),
    )
    def mark_attendance(self, data, mark, sign_first):
        """At the desk: arrived (or taken back), attended or a no-show, on or from the
        session's day (a course with consent on paper first records the signed form, or
        is refused)."""
        due = list(self._due_today().select_related("course"))
        session = due[data.draw(st.integers(0, len(due) - 1), label="session")]
        if sign_first and session.course.consent_to_sign:
            course_consent_signed(course=session.course, by=self.staff, now=self.now)
            session.course.refresh_from_db()
        service = {
            "arrived": session_mark_arrived,
            "not_arrived": session_mark_not_arrived,
            "attended": session_mark_attended,
            "no_show": session_mark_no_show,
        }[mark]
        if self._refused(service, session=session, by=self.staff, now=self.now) is not None:
            self.marked_on[session.pk] = (mark, self.now)

    @precondition(lambda self: Session.objects.filter(status=Session.Status.BOOKED).exists())
    @rule(data=st.data(), hand_over=st.booleans())
    def practitioner_takes_time_off(self, data, hand_over):
        """Staff add time off over a booked session: handed to a free colleague, or cancelled."""
        booked = self._booked_sessions()
        session = booked[data.draw(st.integers(0, len(booked) - 1), label="session")]
        choices = handover_choices(sessions=[session], now=self.now)[session.pk]
        choice = choices[0].pk if hand_over and choices else CANCEL
        saved = self._refused(
            time_off_add,
            practitioner=session.practitioner,
            start=session.start,
            end=session.end,
            reason="Off sick",
            resolutions={session.pk: choice},
            now=self.now,
            by=self.staff,
        )
        if saved is not None and choice != CANCEL:  # handed over: moved, its emails re-timed
            self._placed([session])

    # --- the money: late changes by staff, and the desk --------------------------------

    def _soon(self):
        """Booked sessions still to come whose notice the clock may run into."""
        return Session.objects.filter(
            status=Session.Status.BOOKED,
            start__gt=self.now,
            start__lt=START + timedelta(weeks=5),
        ).order_by("pk")

    @precondition(lambda self: self._soon().exists())
    @rule(
        data=st.data(),
        hours_before=st.sampled_from([1, 5, 26, 47]),
        change=st.sampled_from(["cancel", "move", "cancel the course", "move"]),
        days=st.sampled_from([1, 2, 7, -1]),
        waive_reason=st.sampled_from(WAIVE_REASONS),
        accept_replan=st.booleans(),
    )
    def staff_change_a_session_inside_the_notice(
        self, data, hours_before, change, days, waive_reason, accept_replan
    ):
        """The patient calls a few hours before: staff cancel or move the session (or cancel
        the rest of the course), under the cancellation policy or waiving it with a reason."""
        soon = list(self._soon().select_related("course"))
        session = soon[data.draw(st.integers(0, len(soon) - 1), label="session")]
        self.now = max(self.now, session.start - timedelta(hours=hours_before))
        by = {"now": self.now, "by_staff": True, "by": self.staff, "waive_reason": waive_reason}
        if change == "cancel the course":
            self._refused(course_cancel, course=session.course, **by)
            return
        if change == "cancel":
            moved_before = {s.pk: s.start for s in session.course.sessions.active()}
            if self._changed(session_cancel, {"session": session, **by}, accept_replan):
                self._placed(
                    s
                    for s in session.course.sessions.active()
                    if s.pk in moved_before and s.start != moved_before[s.pk]
                )
            return
        day = session.start.astimezone(self.zone).date() + timedelta(days=days)
        start = local_datetime(day, session.start.astimezone(self.zone).time(), self.zone)
        if start is None:
            return
        moved = self._changed(
            session_move, {"session": session, "new_start": start, **by}, accept_replan
        )
        if moved is not None:
            self._placed([moved.session, *moved.moved])

    def _course(self, data, *, owing=None):
        """Any course, or (most often) one for which `owing(account)` holds, if any does."""
        courses = courses_with_accounts(Course.objects.order_by("pk"))
        if owing is not None and data.draw(st.integers(0, 3), label="any course"):
            courses = [c for c in courses if owing(c.account)] or courses
        return courses[data.draw(st.integers(0, len(courses) - 1), label="course")]

    def _amount(self, how: str, pennies: int, most: Decimal) -> Decimal:
        """All of `most`, part of it, more than it, or any amount at all."""
        some = Decimal(pennies) / 100
        return {"all": most, "part": min(most, some), "too much": most + some, "any": some}[how]

    @precondition(lambda self: Course.objects.exists())
    @rule(
        data=st.data(),
        how=st.sampled_from(["all", "part", "too much", "any"]),
        pennies=st.integers(1, 40_000),
        method=st.sampled_from(DESK_METHODS),
    )
    def the_desk_takes_a_payment(self, data, how, pennies, method):
        """Card, cash or a voucher, for all that is owed, part of it, or too much."""
        course = self._course(data, owing=lambda account: account.due > 0)
        due = course_account(course).due
        amount = self._amount(how, pennies, due)
        paid = self._refused(
            ledger.payment_record,
            course=course,
            amount=str(amount),
            method=method,
            by=self.staff,
            now=self.now,
        )
        assert (paid is not None) == (0 < amount <= due), (amount, due, self.refusal)
        if paid is None and due > 0:
            assert self.refusal.startswith("That is more than the"), self.refusal

    @precondition(lambda self: Course.objects.exists())
    @rule(
        data=st.data(),
        how=st.sampled_from(["all", "part", "too much", "any"]),
        pennies=st.integers(1, 40_000),
        method=st.sampled_from(DESK_METHODS),
        reason=st.sampled_from(["Session cancelled", "", "Fee waived after payment"]),
    )
    def the_desk_gives_a_refund(self, data, how, pennies, method, reason):
        """Money back: all the clinic owes, part of it, too much, or any amount."""
        course = self._course(data, owing=lambda account: account.refundable > 0)
        most = course_account(course).refundable
        amount = self._amount(how, pennies, most)
        refund = self._refused(
            ledger.refund_record,
            course=course,
            amount=str(amount),
            method=method,
            by=self.staff,
            reason=reason,
            now=self.now,
        )
        assert (refund is not None) == (bool(reason) and 0 < amount <= most), (amount, most)

    @precondition(lambda self: LedgerEntry.objects.exclude(event="").exists())
    @rule(
        data=st.data(),
        reason=st.sampled_from(WAIVE_REASONS),
        other=st.integers(0, 3).map(lambda n: n == 0),
    )
    def staff_waive_a_recorded_outcome(self, data, reason, other):
        """A fee or a session counted as used, waived afterwards with a reason (or an entry
        that is not a policy outcome, refused)."""
        entries = LedgerEntry.objects.order_by("pk")
        entries = list(entries if other else entries.exclude(event=""))
        entry = entries[data.draw(st.integers(0, len(entries) - 1), label="entry")]
        waivable = (
            entry.kind in (K.FEE, K.USED)
            and entry.event
            and not LedgerEntry.objects.filter(refers_to=entry).exists()
        )
        waiver = self._refused(
            ledger.outcome_waive, entry=entry, by=self.staff, reason=reason, now=self.now
        )
        assert (waiver is not None) == bool(waivable and reason.strip()), (entry.kind, reason)

    @precondition(lambda self: LedgerEntry.objects.filter(kind__in=[K.PAYMENT, K.REFUND]).exists())
    @rule(data=st.data(), reason=st.sampled_from(["Was card, not cash", ""]))
    def the_desk_corrects_a_payment_or_refund(self, data, reason):
        """A payment or refund recorded by mistake, reversed by a new entry."""
        entries = list(LedgerEntry.objects.filter(kind__in=[K.PAYMENT, K.REFUND]).order_by("pk"))
        entry = entries[data.draw(st.integers(0, len(entries) - 1), label="entry")]
        corrected = LedgerEntry.objects.filter(refers_to=entry).exists()
        paid = course_account(entry.course).paid
        correction = self._refused(
            ledger.entry_correct, entry=entry, by=self.staff, reason=reason, now=self.now
        )
        allowed = reason and not corrected and (entry.kind == K.REFUND or paid >= entry.amount)
        assert (correction is not None) == bool(allowed), (entry.kind, corrected, paid)

    # --- the waitlist ---------------------------------------------------------------

    def _send_offers(self) -> None:
        """The offer emails due go out (their holds' clocks start), as the worker sends them."""
        for reminder_id in dispatch_due(now=self.now, kinds=[Kind.OFFER]):
            reminder_send(reminder_id=reminder_id, now=self.now)

    def _live_offers(self):
        return list(Offer.objects.live().select_related("entry", "hold").order_by("pk"))

    @rule(
        patient=st.integers(0, 5),
        treatment=st.integers(0, 1),
        first=st.integers(1, 7),
        days=st.integers(0, 35),
        weekdays=WEEKDAYS,
        parts=PARTS_OF_DAY,
        practitioner=st.none() | st.integers(0, 2),
        sessions=st.integers(1, 6),
    )
    def join_the_waitlist_for_a_first_session(
        self, patient, treatment, first, days, weekdays, parts, practitioner, sessions
    ):
        """Any dates, days and parts of the day; a practitioner who may not offer it."""
        treatment = self.world["treatments"][treatment]
        today = self.now.astimezone(self.zone).date()
        wish = Wish(
            date_from=today + timedelta(days=first),
            date_to=today + timedelta(days=first + days),
            weekdays=weekdays,
            parts_of_day=parts,
            practitioner=None
            if practitioner is None
            else self.world["practitioners"][practitioner],
        )
        self.joined = True
        self._refused(
            entry_join,
            patient=(self.world["patients"] + self.world["waiting"])[patient],
            treatment=treatment,
            wish=wish,
            sessions=min(max(sessions, treatment.sessions_min), treatment.sessions_max),
            now=self.now,
        )

    @precondition(lambda self: Session.objects.filter(status=Session.Status.BOOKED).exists())
    @rule(
        data=st.data(),
        weekdays=WEEKDAYS,
        parts=PARTS_OF_DAY,
        same_practitioner=st.booleans(),
    )
    def join_the_waitlist_for_an_earlier_time(self, data, weekdays, parts, same_practitioner):
        """For a booked session: every day it could move to, as the join page offers them."""
        booked = self._booked_sessions()
        session = booked[data.draw(st.integers(0, len(booked) - 1), label="session")]
        first, last = entry_dates(treatment=session.course.treatment, session=session, now=self.now)
        if first > last:
            return  # no earlier time could keep its course: the page offers no waiting
        self.joined = True
        self._refused(
            entry_join,
            patient=session.patient,
            session=session,
            wish=Wish(
                date_from=first,
                date_to=last,
                weekdays=weekdays,
                parts_of_day=parts,
                practitioner=session.practitioner if same_practitioner else None,
            ),
            now=self.now,
        )

    @precondition(lambda self: self.waiting or self.live)
    @rule()
    def the_waitlist_runs(self):
        """What the worker does every ten seconds (and as time passes): lapse holds, offer
        the freed time fairest first, and send the offers."""
        waitlist_sweep(now=self.now)
        self._send_offers()

    @precondition(lambda self: self.waiting)
    @rule(
        data=st.data(),
        pick=st.integers(0, 30),
        answer=st.sampled_from(["takes it", "later", "lets it go", "takes it"]),
    )
    def staff_offer_a_time_by_hand(self, data, pick, answer):
        """Reception offers a waiting patient one of the free times their entry asks for;
        the patient answers at once, or later (another rule)."""
        waiting = list(
            WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING)
            .select_related("treatment", "patient", "practitioner")
            .order_by("pk")
        )
        entry = waiting[data.draw(st.integers(0, len(waiting) - 1), label="entry")]
        free = selectors.free_slots(
            treatment=entry.treatment,
            day_from=entry.date_from,
            day_to=min(entry.date_to, entry.date_from + timedelta(days=6)),
            now=self.now,
            practitioners=[entry.practitioner] if entry.practitioner else None,
            patient=entry.patient,
            exclude_session_ids=[entry.session_id] if entry.session_id else (),
        )
        if not free:
            return
        slot = free[pick % len(free)]
        offer = self._refused(offer_make, entry=entry, slot=slot, now=self.now, by=self.staff)
        if offer is not None and answer == "takes it":
            self._accept(offer)
        elif offer is not None and answer == "lets it go":
            self._refused(offer_decline, offer=offer, now=self.now)

    @precondition(lambda self: self.live)
    @rule(data=st.data(), takes_it=st.booleans())
    def patient_answers_an_offer(self, data, takes_it):
        """From the offer page: takes the time (for a first session, the course planned
        from it, with the consent shown), or lets it go."""
        live = self._live_offers()
        offer = live[data.draw(st.integers(0, len(live) - 1), label="offer")]
        if takes_it:
            self._accept(offer)
        else:
            self._refused(offer_decline, offer=offer, now=self.now)

    def _accept(self, offer) -> None:
        later = None
        if offer.entry.session_id is None:
            later = [p.slot for p in first_course_plan(offer, self.now)[1:]]
            if not all(later):
                return  # the page offers no booking
        try:
            booked = self._refused(
                offer_accept,
                offer=offer,
                now=self.now,
                later=later,
                consent=ConsentText.current(),
            )
        except NeedsReplan:
            self.refusals += 1
            return
        if booked is not None:
            self._placed(booked.course.sessions.all() if later is not None else [booked])

    @precondition(lambda self: self.live)
    @rule()
    def a_hold_lapses(self):
        """Its email sent, nobody answers: time runs on to the first hold's end, and the
        waitlist's run lapses it and hands the time on."""
        self._send_offers()
        until = min(o.hold.held_until for o in self._live_offers())
        if until - START < timedelta(weeks=5):
            self.now = max(self.now, until)
        waitlist_sweep(now=self.now)
        self._send_offers()

    @rule()
    def reminders_go_out(self):
        """What the worker does every minute: claim what is due, re-check, send."""
        send_all_due(now=self.now)

    @precondition(
        lambda self: Session.objects.filter(
            status=Session.Status.BOOKED, start__gt=self.now + timedelta(minutes=30)
        ).exists()
    )
    @rule(minutes_before=st.sampled_from([5, 30, 120]))
    def the_next_session_is_soon(self, minutes_before):
        """Time runs on to shortly before the next booked session: the desk's day."""
        nearest = (
            Session.objects.filter(
                status=Session.Status.BOOKED, start__gt=self.now + timedelta(minutes=30)
            )
            .order_by("start")
            .first()
        )
        if nearest.start - START < timedelta(weeks=5):
            self.now = max(self.now, nearest.start - timedelta(minutes=minutes_before))

    @rule(hours=st.sampled_from([1, 6, 23, 47, 72, 24 * 7]))
    def time_passes(self, hours):
        if self.now - START < timedelta(weeks=5):
            self.now += timedelta(hours=hours)
        if self.waiting or self.live:  # the worker's waitlist run came round meanwhile
            self.the_waitlist_runs()

    # --- invariants ---------------------------------------------------------------

    @invariant()
    def every_course_ledger_adds_up(self):
        """Over every course's ledger, read whole (entries in the order they were made):

        - the balance is the sum of the entries by EFFECT, recomputed here, as the
          selectors' SQL gives it; what is paid likewise by CASH_FLOW;
        - refunds never exceed what was paid (net of corrections), at any point;
        - a payment never takes the balance below zero: the patient is in credit only
          through a session released or a waiver after a payment;
        - sessions used never exceed sessions sold;
        - every policy outcome is one entry with its reason, the fee or price the policy
          says: a session cancelled inside the notice or a no-show has exactly one while
          the policy is not "nothing" (none otherwise), a session moved inside the
          notice one per move; each session not given is released once unless the
          policy counted it as used, each attended session used once;
        - a waived outcome (WAIVED at the time, or a WAIVER after) has a reason and an
          author, and charges nothing net: a waiver gives back exactly the fee or the
          session's price, a session waived at the time is released.
        """
        rules = self.rules
        self._count_late_moves(rules)
        entries = list(LedgerEntry.objects.order_by("pk"))
        by_pk = {e.pk: e for e in entries}
        by_course, by_session = defaultdict(list), defaultdict(list)
        for entry in entries:
            by_course[entry.course_id].append(entry)
            if entry.session_id:
                by_session[entry.session_id].append(entry)
            assert entry.reason.strip(), entry
        referred = {e.refers_to_id: e for e in entries if e.refers_to_id}
        sessions = list(Session.objects.all())
        courses = courses_with_accounts(Course.objects.order_by("pk"))
        for course in courses:
            self._course_adds_up(course, by_course[course.pk])
        for session in sessions:
            self._outcomes_once(session, by_session[session.pk], rules, referred)
        for entry in entries:
            if entry.kind == K.WAIVER:
                outcome = by_pk[entry.refers_to_id]
                assert outcome.kind in (K.FEE, K.USED) and outcome.event, entry.pk
                assert entry.amount == outcome.amount and entry.session_id == outcome.session_id
                assert entry.recorded_by_id and entry.reason.removeprefix("Waived:").strip()
            elif entry.kind in (K.PAYMENT_REVERSED, K.REFUND_REVERSED):
                corrected = by_pk[entry.refers_to_id]
                assert corrected.kind == entry.kind.removesuffix("_reversed"), entry.pk
                assert entry.amount == corrected.amount, entry.pk

    def _course_adds_up(self, course, entries) -> None:
        sold = [e for e in entries if e.kind == K.SOLD]
        assert len(sold) == 1 and sold[0].amount == course.price, course.pk
        due = paid = Decimal(0)
        paid_once = credit_after_payment = False
        for entry in entries:
            if entry.kind == K.PAYMENT:
                assert entry.amount <= due, f"course {course.pk}: a payment past what was owed"
                paid_once = True
            elif entry.kind in (K.RELEASED, K.WAIVER) and paid_once:
                credit_after_payment = True
            due += EFFECT[entry.kind] * entry.amount
            paid += CASH_FLOW.get(entry.kind, 0) * entry.amount
            assert paid >= 0, f"course {course.pk}: more refunded than was paid"
        account = course.account
        assert (account.due, account.paid) == (due, paid), (course.pk, account, due, paid)
        assert due >= 0 or credit_after_payment, f"course {course.pk} in credit by a payment"
        assert 0 <= account.sessions_used <= account.sessions_sold, (course.pk, account)

    def _outcomes_once(self, session, entries, rules, referred) -> None:
        S = Session.Status
        outcomes = defaultdict(list)
        for entry in entries:
            if entry.event:
                outcomes[entry.event].append(entry)
                fee = getattr(rules, f"{entry.event}_fee")
                expected = {K.FEE: fee, K.USED: session.price, K.WAIVED: Decimal(0)}
                assert entry.amount == expected[entry.kind], (session.pk, entry)
                if entry.kind == K.WAIVED:
                    assert entry.recorded_by_id and entry.reason.split("Waived:")[1].strip()
        late_cancel = session.status == S.CANCELLED and rulebook.is_late(
            session.start, session.cancelled_at, rules
        )
        expected = {
            EVENT.LATE_CANCEL: int(late_cancel and rules.late_cancel_outcome != "nothing"),
            EVENT.NO_SHOW: int(session.status == S.NO_SHOW and rules.no_show_outcome != "nothing"),
            EVENT.LATE_MOVE: self.late_moves[session.pk],
        }
        for event, count in expected.items():
            assert len(outcomes[event]) == count, (session.pk, event, outcomes[event], count)
        counted_used = any(
            e.kind == K.USED
            for event in (EVENT.LATE_CANCEL, EVENT.NO_SHOW)
            for e in outcomes[event]
        )
        kinds = Counter(e.kind for e in entries if not e.event)
        not_given = session.status in (S.CANCELLED, S.NO_SHOW)
        assert kinds[K.RELEASED] == int(not_given and not counted_used), (session.pk, kinds)
        assert kinds[K.USED] == int(session.status == S.ATTENDED), (session.pk, kinds)
        for entry in entries:
            if entry.kind in (K.RELEASED, K.ADDED, K.USED):
                assert entry.amount == session.price, entry.pk

    def _count_late_moves(self, rules) -> None:
        """A booked session moved (or handed to another practitioner) since the last step,
        inside the notice as it stood: the policy's late move, once."""
        now = {
            pk: (start, who, status)
            for pk, start, who, status in Session.objects.values_list(
                "pk", "start", "practitioner_id", "status"
            )
        }
        for pk, (start, who, status) in self.seen.items():
            after = now.get(pk)
            if (
                after is not None
                and status == after[2] == Session.Status.BOOKED
                and (start, who) != after[:2]
                and rules.late_move_outcome != "nothing"
                and rulebook.is_late(start, self.now, rules)
            ):
                self.late_moves[pk] += 1
        self.seen = now

    @invariant()
    def no_practitioner_is_double_booked(self):
        buffer = BookingRules.current().buffer
        active = list(Session.objects.active().order_by("practitioner_id", "start"))
        for a, b in zip(active, active[1:], strict=False):
            if a.practitioner_id == b.practitioner_id:
                assert a.end + buffer <= b.start, f"{a.pk} and {b.pk} overlap or skip the buffer"

    @invariant()
    def the_waitlist_keeps_its_promises(self):
        """A held time is nobody else's: no session of its practitioner (the buffer
        included) nor of its patient overlaps it. At most one live offer per patient; a
        live offer's time is held for a waiting entry, an ended one's released; every
        accepted offer has exactly one booking (the course it started, or the entry's
        session, moved there). A waiting entry for a session is for one still booked."""
        if not self.joined:
            return
        waiting = list(
            WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING).values_list(
                "pk", "session__status"
            )
        )
        for pk, session_status in waiting:
            assert session_status in (None, Session.Status.BOOKED), pk
        offers = list(Offer.objects.select_related("hold", "entry", "booked"))
        live = [o for o in offers if o.is_live]
        self.waiting, self.live = bool(waiting), bool(live)
        assert len(live) == len({o.patient_id for o in live}), "a patient has two live offers"
        for offer in offers:
            assert offer.hold.status == (
                Session.Status.HELD if offer.is_live else Session.Status.CANCELLED
            ), offer.pk
            if offer.is_live:
                assert offer.entry.status == WaitlistEntry.Status.WAITING, offer.pk
        if live:
            buffer = BookingRules.current().buffer
            for s in Session.objects.active().filter(
                Q(practitioner__in=[o.hold.practitioner_id for o in live])
                | Q(patient__in=[o.patient_id for o in live])
            ):
                for hold in (o.hold for o in live):
                    if s.practitioner_id == hold.practitioner_id:
                        assert s.end + buffer <= hold.start or hold.end + buffer <= s.start, (
                            f"hold {hold.pk} overlaps session {s.pk} or skips the buffer"
                        )
                    if s.patient_id == hold.patient_id:
                        assert s.end <= hold.start or hold.end <= s.start, (hold.pk, s.pk)
        accepted = [o for o in offers if o.status == Offer.Status.ACCEPTED]
        started = dict(
            Course.objects.filter(
                idempotency_key__in=[f"waitlist-offer/{o.pk}" for o in accepted]
            ).values_list("idempotency_key", "pk")
        )
        for offer in accepted:
            assert offer.booked is not None and offer.booked.patient_id == offer.patient_id
            assert offer.entry.status == WaitlistEntry.Status.BOOKED, offer.pk
            if offer.entry.session_id:
                assert offer.booked_id == offer.entry.session_id, offer.pk
            else:  # one course, keyed by the offer (course_book's idempotency key)
                assert started[f"waitlist-offer/{offer.pk}"] == offer.booked.course_id

    @invariant()
    def arrivals_are_marked_on_the_day(self):
        """An arrived session was marked so on its own day, and nobody arrived is a no-show
        (the desk's order: booked -> arrived -> attended)."""
        for session in Session.objects.filter(status=Session.Status.ARRIVED):
            mark, when = self.marked_on[session.pk]
            assert mark == "arrived", session.pk
            assert when.astimezone(self.zone).date() == session.start.astimezone(self.zone).date()
        for pk, (mark, _when) in self.marked_on.items():
            status = Session.objects.get(pk=pk).status
            expected = {
                "arrived": Session.Status.ARRIVED,
                "not_arrived": Session.Status.BOOKED,
                "attended": Session.Status.ATTENDED,
                "no_show": Session.Status.NO_SHOW,
            }[mark]
            # Marked last this way; since then only a cancellation may have changed it
            # (a booked session, or one taken back to booked).
            assert status == expected or (
                status == Session.Status.CANCELLED and expected == Session.Status.BOOKED
            ), (pk, mark, status)

    @invariant()
    def no_patient_is_double_booked(self):
        active = list(Session.objects.active().order_by("patient_id", "start"))
        for a, b in zip(active, active[1:], strict=False):
            if a.patient_id == b.patient_id:
                assert a.end <= b.start, f"{a.pk} and {b.pk} overlap for one patient"

    @invariant()
    def no_course_breaks_a_booking_rule(self):
        found = courses_breaking_rules(now=self.now)
        assert found == [], [(e.course.pk, [b.message for b in e.breaches]) for e in found]

    @invariant()
    def course_status_follows_its_sessions(self):
        for course in Course.objects.all():
            has_active = course.sessions.active().exists()
            assert has_active == (course.status != Course.Status.CANCELLED), course.pk
            # A session booked again keeps its number: the numbers, not the rows, are planned.
            numbers = set(course.sessions.values_list("number", flat=True))
            assert len(numbers) == max(numbers) == course.sessions_planned, course.pk

    @invariant()
    def reminders_follow_the_sessions(self):
        config = ReminderSettings.current()
        rows: dict[int, dict[str, Reminder]] = {}
        for row in Reminder.objects.all():
            rows.setdefault(row.session_id, {})[row.kind] = row
        for session in Session.objects.all():
            mine = rows.get(session.pk, {})
            for row in mine.values():
                if row.status == Status.SENT:
                    assert row.sent_at >= row.due_at, f"{row} went out early"
                    if row.kind not in AFTER_CANCEL and session.cancelled_at:
                        assert row.sent_at <= session.cancelled_at, f"{row} went out cancelled"
            still_open = {kind for kind, row in mine.items() if row.status in OPEN}
            if session.status == Session.Status.CANCELLED:
                assert still_open <= set(AFTER_CANCEL), (
                    f"cancelled {session.pk} still has {still_open}"
                )
                continue
            expected = due_times(
                start=session.start,
                end=session.end,
                booked_at=self.placed_at[session.pk],
                zone=self.zone,
                settings=config,
            )
            for kind in SESSION_TIMED:
                row = mine.get(kind)
                if session.status == Session.Status.NO_SHOW and kind in AFTER_THE_SESSION:
                    # Stopped when the desk marked the no-show, unless it had gone already
                    # (a no-show marked days late).
                    assert row is None or row.status not in OPEN, row
                    continue
                if expected[kind] is None:
                    assert kind not in still_open, f"{row} is due, but none is for {session.pk}"
                    continue
                # Pending at the time the session's current start gives, or already settled
                # at it (sent; a reminder too late to send is skipped).
                assert row is not None and row.status in (*OPEN, Status.SENT, Status.SKIPPED)
                assert row.due_at == expected[kind], f"{row}: {row.due_at}, not {expected[kind]}"


# Past pytest-timeout's 300 s: hypothesis gives up shrinking a failure after 5 minutes and
# reports it; stopped sooner, the report is an unreadable FlakyStrategyDefinition.
@pytest.mark.timeout(660)
def test_booking_moving_and_cancelling_at_random_keeps_the_schedule_sound(world):
    Bookings.world = world
    run_state_machine_as_test(
        Bookings,
        settings=settings(
            max_examples=50,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            database=None,  # examples stored from another run's rows would not replay
            # The same 50 examples on every run, so CI answers for the code, not for the draw;
            # EXPLORE=1 draws new ones (run it with --hypothesis-seed=N for more).
            derandomize=not os.environ.get("EXPLORE"),
        ),
    )


def test_a_replan_after_an_earlier_cancellation_names_the_session_outside_its_window(world):
    """Found by the machine: the proposals counted active sessions, so with session 1
    cancelled, session 3's proposal came back as session 2's (the one just moved)."""
    treatment, practitioner = world["treatments"][0], world["practitioners"][0]
    starts = [at(9, 14, 10) + timedelta(days=28 * n) for n in range(3)]
    course = book(world["patients"][0], treatment, practitioner, starts, now=START)
    first, second, third = course.sessions.order_by("number")
    session_cancel(session=first, now=START)
    with pytest.raises(NeedsReplan) as needed:
        session_move(session=second, new_start=datetime(2026, 9, 21, 10, tzinfo=LONDON), now=START)
    (proposal,) = needed.value.proposals
    assert proposal.number == third.number
    assert proposal.window.holds(proposal.slot.start, LONDON)
