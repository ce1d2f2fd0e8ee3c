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
policy is drawn for each run (a late cancellation or a no-show may keep the
deposit paid online), the treatments are priced (one with a package),
courses are paid for (nothing, a deposit or all), staff cancel or move sessions
inside the change notice (waiving the policy with a reason, or not), the desk
takes payments and gives refunds (some too large, refused), waives fees, deposits
kept and sessions counted as used, and corrects payments and refunds. Online
deposits too, against the local fake Stripe (tests/payments/fake_stripe.py, the
real stripe library talking to it): each treatment's deposit is drawn for each
run (fixed, or a percentage); patients start a checkout (Stripe may fail once,
retried, or twice: nothing held), pay (the webhook at once, twice, or later, in any
order with Stripe's other events), leave it to expire (Stripe's event, or the
sweep a minute later), let the times go (before paying or after), pay as the times
lapse; Stripe's events are delivered again, refunds reported again, the sweep
refunds what is owed back online. 50 examples of up to 25 steps, about 45 s on 2
cores. Refusals (BookingError, SlotTaken, OfferEnded, PaymentUnavailable) are
legitimate answers and must leave the database, the ledger included, as it was
(Stripe failing leaves only its checkout, released).
After every step the invariants are checked against the database:

- no two active sessions of one practitioner overlap, the clinic's buffer included,
  holds (a waitlist offer's, a deposit's) counted;
- no two active sessions of one patient overlap, holds counted;
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
  nothing; a deposit kept is what was left of it then, at most once a course
  net of waivers;
- online deposits hold, book and refund once
  (`online_deposits_hold_book_and_refund_once` says how): a checkout's times are held
  exactly while it is open; a booked one's course has exactly the held times and
  one online payment of its amount; one paid late is refunded in full; online
  refunds never exceed online payments; one ledger entry per Stripe payment or
  refund, one PaymentEvent per event id.

PostgreSQL only: the no-overlap guarantee lives in its exclusion constraints.
"""

import os
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import stripe
import time_machine
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
from booking.deposits import services as deposits
from booking.deposits.models import DepositCheckout, PaymentEvent
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
from clinic.money import from_minor_units
from education.models import Treatment
from tests.booking.factories import (
    PatientFactory,
    PractitionerFactory,
    UserFactory,
    agreed,
    book_course,
)
from tests.education.factories import TreatmentFactory
from tests.helpers import at, book
from tests.payments.conftest import fake_stripe, fake_stripe_server  # noqa: F401
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
NOT_GIVEN = (EVENT.LATE_CANCEL, EVENT.NO_SHOW)  # the events a session is not given by
ONLINE = LedgerEntry.Method.ONLINE
CO = DepositCheckout.Status
# A treatment's online deposit, drawn per run: fixed (£500 is more than most courses cost:
# capped at the price, all paid online), or a percentage.
DEPOSITS = st.sampled_from(
    [("fixed", "50.00"), ("percent", "20"), ("percent", "12.5"), ("fixed", "500.00")]
)
WAIVE_REASONS = ["", "  ", "The practitioner ran late last time."]
# The deposit journey: how Stripe answers when the page is asked for, whether the patient
# clicks twice, what happens then, and (for a call to cancel) how long before the session and
# whether staff waive the policy. The first of each (the simplest example Hypothesis makes)
# and the doubled ones lead to the deposit kept, the newest path; "deposit" likewise in the
# policy drawn.
JOURNEY = st.tuples(
    st.sampled_from(["at once", "at once", "at once", "after a retry", "never"]),
    st.integers(1, 2),
    st.sampled_from(
        [
            "pays, then staff cancel the first session late",
            "pays, then comes",
            "pays, then misses the first session",
            "pays, then staff cancel the course late",
            "pays, then cancels the first session",
            "pays, then staff cancel the first session late",
            "pays, then misses the first session",
            "leaves the page open",
            "leaves the page open: Stripe's expired event comes",
            "leaves the page open: the sweep releases the times",
            "pays, the webhook later",
            "lets the times go",
            "pays as the times lapse, the webhook after the sweep",
            "pays, then lets the times go",
        ]
    ),
    st.sampled_from([1, 5, 26, 47]),
    st.sampled_from(WAIVE_REASONS),
)


@pytest.fixture
def world(db, fake_stripe, monkeypatch):  # noqa: F811
    """Two treatments, three practitioners (one part-time), four patients, and two more
    who book only from the waitlist; deposits on, against the local fake Stripe (the
    stripe library's retry after a 500 made at once, not after its half-second wait)."""
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0)
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
        # Two more who book paying a deposit online (with the four above).
        "paying": [PatientFactory() for _ in range(2)],
        "offering": [[0, 1, 2], [0, 2]],  # who gives each treatment (indexes of practitioners)
        "staff": UserFactory(email="desk@clinic.example", is_staff=True),
        "stripe": fake_stripe,
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
        self.ledger_read: tuple = ()  # what the ledger's invariant last read (it held)
        self.refusal = ""  # the last refusal's words
        # Online deposits, against the fake Stripe (one for the whole test: what it holds from
        # earlier runs is left out). Every event it makes is sent: delivered by the rule that
        # caused it, or pending (Stripe's retries come later, in any order); `delivered` for
        # replays. `sessions`: this run's Checkouts and when each expires.
        self.stripe = self.world["stripe"]
        self.sent_from = len(self.stripe.events)
        self.refunds_before = set(self.stripe.refunds)
        self.pending: list[dict] = []
        self.delivered: dict[str, dict] = {}
        self.sessions: dict[str, datetime] = {}
        self.refunds_made: list[dict] = []
        self.checkouts = 0  # started this run (the keys)
        self.booked_as_held: set[int] = set()  # booked checkouts whose course was compared

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        cache.clear()  # the rules row this run saved (and so kept) is rolled back

    # --- helpers ------------------------------------------------------------------

    def _state(self):
        """Everything a refused request must leave exactly as it was: courses, sessions,
        reminders and the ledger, then (once a deposit was started) the held times and
        the online deposits."""
        state = (
            list(Course.objects.order_by("pk").values_list()),
            list(Session.objects.order_by("pk").values_list()),
            list(Reminder.objects.order_by("pk").values_list()),
            list(LedgerEntry.objects.order_by("pk").values_list()),
        )
        if not self.checkouts:
            return state
        return (
            *state,
            list(Session.with_holds.filter(course=None).order_by("pk").values_list()),
            list(DepositCheckout.objects.order_by("pk").values_list()),
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
        late_cancel=st.sampled_from(["deposit", "fee", "used", "nothing", "deposit"]),
        late_move=st.sampled_from(["fee", "nothing"]),
        no_show=st.sampled_from(["used", "fee", "deposit", "nothing", "deposit"]),
        deposit_required=st.booleans(),
        needling=DEPOSITS,
        peel=DEPOSITS,
        courses=st.lists(
            st.tuples(
                st.integers(0, 1),
                st.integers(0, 3),
                st.integers(0, 2),
                st.integers(1, 9),
                st.sampled_from(["paying a deposit online", "by phone"]),
            ),
            min_size=1,
            max_size=4,
        ),
    )
    def the_clinic_opens(
        self, data, late_cancel, late_move, no_show, deposit_required, needling, peel, courses
    ):
        """The clinic's settings for this run (its cancellation policy, each treatment's
        online deposit), then some courses booked by phone, or online with a deposit (any
        of the journeys a_patient_books_paying_a_deposit_online draws), and paid at the
        desk: nothing, some, all (of what is still owed)."""
        self._policy_set(late_cancel, late_move, no_show, deposit_required)
        self._deposits_asked(needling, peel)
        for treatment, patient, practitioner, day, how in courses:
            if how == "by phone":
                self.book_a_planned_course(data, treatment, patient, practitioner, day, 6)
                continue
            self.a_patient_books_paying_a_deposit_online(
                data, treatment, patient, practitioner, day, 6, data.draw(JOURNEY, label="journey")
            )
        for course in Course.objects.order_by("pk"):
            paid = data.draw(st.sampled_from(["nothing", "£50.00 deposit", "all"]), label="paid")
            due = course_account(course).due
            amount = min(course.price if paid == "all" else Decimal(50), due)
            if paid != "nothing" and amount > 0:
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

    def _policy_set(self, late_cancel, late_move, no_show, deposit_required):
        """What a late cancellation, a late move and a no-show cost (keeping the deposit paid
        online, too), and whether a deposit is required to book online, as the admin saves it."""
        rules = BookingRules.current()
        rules.deposit_required = deposit_required
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

    def _deposits_asked(self, needling, peel):
        """Each treatment's online deposit for this run: the two fields written (the admin's
        save renders the pages, slow here; DEPOSITS holds only what its form accepts)."""
        treatments = self.world["treatments"]
        for treatment, (kind, value) in zip(treatments, [needling, peel], strict=True):
            treatment.deposit, treatment.deposit_value = kind, Decimal(value)
            Treatment.objects.filter(pk=treatment.pk).update(
                deposit=kind, deposit_value=treatment.deposit_value
            )

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
        slots = self._planned(data, treatment, patient, practitioner, day, sessions)
        if slots:
            self._book(patient=patient, treatment=treatment, slots=slots)

    def _planned(self, data, treatment, patient, practitioner, day, sessions) -> list | None:
        """The journey's times: a free first slot `day` days ahead, the rest planned by
        course_plan (None when there is none, or the plan has a gap)."""
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
            return None
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
        return [p.slot for p in plan] if all(p.slot for p in plan) else None

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
        self._cancel(session, by_staff=by_staff, notify=notify, later=later)

    def _cancel(self, session, *, by_staff, notify, later) -> None:
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
        self._change_late(session, hours_before, change, days, waive_reason, accept_replan)

    def _change_late(self, session, hours_before, change, days, waive_reason, accept_replan):
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
            entry.kind in (K.FEE, K.KEPT, K.USED)
            and entry.event
            and not LedgerEntry.objects.filter(refers_to=entry).exists()
        )
        waiver = self._refused(
            ledger.outcome_waive, entry=entry, by=self.staff, reason=reason, now=self.now
        )
        assert (waiver is not None) == bool(waivable and reason.strip()), (entry.kind, reason)

    def _correctable(self):
        """Payments and refunds on a course (one paid late online belongs to no course)."""
        return LedgerEntry.objects.filter(kind__in=[K.PAYMENT, K.REFUND], course__isnull=False)

    @precondition(lambda self: self._correctable().exists())
    @rule(data=st.data(), reason=st.sampled_from(["Was card, not cash", ""]))
    def the_desk_corrects_a_payment_or_refund(self, data, reason):
        """A payment or refund recorded by mistake, reversed by a new entry."""
        entries = list(self._correctable().order_by("pk"))
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
        if self.checkouts:  # and the deposit sweep
            self.the_deposit_sweep_runs()

    # --- online deposits, through the fake Stripe ---------------------------------------

    def _stripe_clock(self):
        """The app's calls to Stripe at the machine's time: the fake reads the clock (a
        Checkout's expires_at must be 30 minutes to a day ahead)."""
        return time_machine.travel(self.now, tick=False)

    def _stripe_catches_up(self) -> None:
        """What Stripe does by itself: a Checkout still open at its expires_at expires, every
        refund made is reported (refund.created), and every event it made is sent: pending
        until a rule delivers it."""
        fake = self.stripe
        for sid, expires_at in self.sessions.items():
            if fake.sessions[sid]["status"] == "open" and expires_at <= self.now:
                fake.expire(sid)
        for refund in list(fake.refunds.values()):
            if refund["id"] not in self.refunds_before:  # this run's: earlier runs' are in it
                self.refunds_before.add(refund["id"])
                self.refunds_made.append(refund)
                fake.refund_event(refund)
        self.pending += fake.events[self.sent_from :]
        self.sent_from = len(fake.events)

    def _payable(self) -> list[str]:
        """This run's Checkouts still open at Stripe (its own clock: not yet expired)."""
        return [
            sid
            for sid, expires_at in self.sessions.items()
            if self.stripe.sessions[sid]["status"] == "open" and expires_at > self.now
        ]

    def _deliver(self, event: dict) -> str:
        """The webhook, signature verified: event_handle, once per event id (a replay is
        "duplicate"); a course booked has its emails timed from now."""
        again = event["id"] in self.delivered
        obj = event["data"]["object"]
        checkout = None
        if event["type"].startswith("checkout.session."):
            checkout = DepositCheckout.objects.filter(stripe_session=obj["id"]).first()
        before = checkout.status if checkout else None
        with self._stripe_clock():
            result = deposits.event_handle(event, now=self.now)
        if event in self.pending:
            self.pending.remove(event)
        self.delivered[event["id"]] = event
        if again:
            assert result == "duplicate", (event["type"], result)
            return result
        if event["type"] == "checkout.session.completed":
            # Booked while its times are held (or refused, the course no longer bookable);
            # paid after they were released: refunded in full at once.
            expected = ("booked", "late") if before == CO.OPEN else ("late",)
            assert result in expected, (before, result)
            checkout.refresh_from_db()
            if result == "booked":
                self._placed(checkout.course.sessions.all())
            else:
                assert checkout.status == CO.REFUNDED, (checkout.pk, checkout.status)
        elif event["type"] == "checkout.session.expired":
            assert result == ("released" if before == CO.OPEN else "ignored"), (before, result)
        else:  # a refund the app made: recorded when it made it
            assert set(result.split(",")) == {"already recorded"}, result
        self._stripe_catches_up()
        return result

    def _start(self, data, treatment, patient, practitioner, day, sessions, fails, clicks):
        """The journey's confirm step with a deposit: a free first time, the rest planned,
        the times held and the patient sent to Stripe's page; the checkout, or None (no
        time, refused, or Stripe failing). Stripe may answer a 500 `fails` times: once,
        the library retries with the same key (one Checkout); twice, nothing is left held
        and nothing booked. A second click finds the same checkout."""
        offering = self.world["offering"][treatment]
        practitioner = offering[practitioner % len(offering)]
        treatment = self.world["treatments"][treatment]
        patient = (self.world["patients"] + self.world["paying"])[patient]
        slots = self._planned(data, treatment, patient, practitioner, day, sessions)
        if not slots:
            return None
        self.checkouts += 1
        key = f"journey/{self.checkouts}"
        if fails:
            self.stripe.fail_next("server_error", times=fails)
        before, made = self._state(), len(self.stripe.sessions)
        start = {
            "patient": patient,
            "treatment": treatment,
            "slots": slots,
            "key": key,
            "return_url": lambda c: f"http://testserver/book/deposit/{c.pk}/",
            "now": self.now,
            **{k: v for k, v in agreed(treatment).items() if k in ("answers", "consent")},
        }
        try:
            with self._stripe_clock():
                checkout = deposits.checkout_start(**start)
        except deposits.PaymentUnavailable:
            assert fails == 2
            checkout = DepositCheckout.objects.get(key=key)
            assert checkout.status == CO.RELEASED and not checkout.course_id
            held = deposits.held_times(checkout).filter(status=Session.Status.HELD)
            assert not held.exists(), "Stripe failed but times are still held"
            assert self._state()[:4] == before[:4], "Stripe failed but something was saved"
            assert len(self.stripe.sessions) == made
            self.refusals += 1
            return None
        except BookingError as refusal:  # the course's rules, checked before Stripe is called
            assert refusal.message and self._state() == before, "refused but changed rows"
            self.refusals += 1
            return None
        finally:
            self.stripe._failures.clear()  # a failure queued for a call never made
        assert checkout.status == CO.OPEN, (checkout.status, checkout.ended_reason)
        assert len(self.stripe.sessions) == made + 1, "one Checkout, the retry replayed by key"
        assert checkout.url == self.stripe.sessions[checkout.stripe_session]["url"]
        self.sessions[checkout.stripe_session] = checkout.expires_at
        if clicks == 2:
            with self._stripe_clock():
                again = deposits.checkout_start(**start)
            assert again.pk == checkout.pk and len(self.stripe.sessions) == made + 1
        return checkout

    @rule(
        data=st.data(),
        treatment=st.integers(0, 1),
        patient=st.integers(0, 5),
        practitioner=st.integers(0, 2),
        day=st.integers(1, DAYS),
        sessions=st.integers(1, 6),
        journey=JOURNEY,
    )
    def a_patient_books_paying_a_deposit_online(
        self, data, treatment, patient, practitioner, day, sessions, journey
    ):
        """The journey's confirm step with a deposit: a free first time, the rest planned,
        the times held and the patient sent to Stripe's page (which may fail). Then, as
        `then` says:

        - the patient pays and the webhook comes at once (maybe twice): the course is
          booked (or, no longer bookable, the deposit refunded). Then, for the first
          session, the patient comes as planned, misses it, calls a few hours (or days)
          before and staff cancel it or the rest of the course (under the policy, which
          may keep the deposit, or waiving it), or cancels it from My appointments now;
          the sweep then refunds what is owed back online;
        - the patient leaves Stripe's page open (they pay or let go later, or it
          expires: now, by Stripe's event or, that never coming, by the sweep), or pays
          and the webhook comes later, after whatever happens;
        - the patient comes back and lets the times go (Stripe's page closed, its
          expired event ignored);
        - the patient pays as the times lapse, and the webhook comes only after the
          sweep released them; or pays, then lets the times go from the app's page
          before the webhook comes: either way the payment, too late for the times, is
          refunded in full."""
        stripe_answers, clicks, then, hours_before, waive_reason = journey
        fails = {"at once": 0, "after a retry": 1, "never": 2}[stripe_answers]
        checkout = self._start(data, treatment, patient, practitioner, day, sessions, fails, clicks)
        if checkout is None:
            return
        if then == "lets the times go":
            self._let_go(checkout)
            self._deliver_expired(checkout)  # Stripe's, for the page the app closed: ignored
            return
        if then.startswith("leaves the page open"):
            if ": " in then:
                self._expire(checkout, "the sweep" if "sweep" in then else "Stripe's event")
            return
        event = self._pay(checkout.stripe_session, "later")
        if then == "pays, the webhook later":
            return
        if then == "pays, then lets the times go":
            self._let_go(checkout)
        elif then == "pays as the times lapse, the webhook after the sweep":
            until = checkout.expires_at + deposits.SWEEP_GRACE
            if until - START < timedelta(weeks=5):
                self.now = max(self.now, until)
                self.the_deposit_sweep_runs()
        self._deliver(event)
        if clicks == 2:  # Stripe's retry
            self._deliver(event)
        checkout.refresh_from_db()
        if checkout.status != CO.BOOKED or not then.startswith("pays, then "):
            return
        first = checkout.course.sessions.order_by("number").first()
        if first.start - START >= timedelta(weeks=5):
            return  # the clock stays inside the weeks the courses run over
        if then == "pays, then misses the first session":
            self.now = max(self.now, first.start + timedelta(minutes=20))
            marked = self._refused(session_mark_no_show, session=first, by=self.staff, now=self.now)
            if marked is not None:
                self.marked_on[first.pk] = ("no_show", self.now)
        elif then == "pays, then cancels the first session":
            self._cancel(first, by_staff=False, notify=True, later="replan")
        elif then != "pays, then comes":
            change = "cancel the course" if then.endswith("the course") else "cancel"
            self._change_late(first, hours_before, change, 1, waive_reason, True)
        if then != "pays, then comes":
            self.the_deposit_sweep_runs()  # the beat's, a minute later

    @precondition(lambda self: self._payable())
    @rule(data=st.data(), delivered=st.sampled_from(["at once", "at once, twice", "later"]))
    def the_patient_pays_at_stripe(self, data, delivered):
        """Stripe's page, left open, takes the card: its checkout.session.completed is
        delivered at once (and maybe again), or later, after whatever happens meanwhile."""
        payable = self._payable()
        self._pay(payable[data.draw(st.integers(0, len(payable) - 1), label="checkout")], delivered)

    def _pay(self, sid: str, delivered: str) -> dict:
        event = self.stripe.pay(sid)
        self._stripe_catches_up()
        if delivered != "later":
            self._deliver(event)
        if delivered == "at once, twice":
            self._deliver(event)
        return event

    @precondition(lambda self: self.pending or self.delivered)
    @rule(data=st.data(), replay=st.integers(0, 3).map(lambda n: n == 0))
    def stripe_delivers_an_event(self, data, replay):
        """Any event still to come, in any order, or one delivered already, again."""
        again = self.delivered and (replay or not self.pending)
        events = list(self.delivered.values()) if again else self.pending
        self._deliver(events[data.draw(st.integers(0, len(events) - 1), label="event")])

    @precondition(lambda self: self.refunds_made)
    @rule(data=st.data(), kind=st.sampled_from(["refund.updated", "charge.refunded"]))
    def stripe_reports_a_refund_again(self, data, kind):
        """A refund the app made, reported again (as refund.updated, or in the charge's
        charge.refunded): recorded once already, nothing changes."""
        made = self.refunds_made
        refund = made[data.draw(st.integers(0, len(made) - 1), label="refund")]
        before = self._state()
        if kind == "charge.refunded":
            intent = refund["payment_intent"]
            charge = {
                "id": refund["charge"],
                "object": "charge",
                "payment_intent": intent,
                "refunded": True,
                "refunds": {
                    "object": "list",
                    "data": [r for r in self.refunds_made if r["payment_intent"] == intent],
                },
            }
            event = self.stripe.event(kind, charge)
        else:
            event = self.stripe.refund_event(refund["id"], kind)
        self._stripe_catches_up()
        self._deliver(event)
        assert self._state() == before, "a refund reported again changed rows"

    def _holding(self):
        return DepositCheckout.objects.holding().order_by("pk")

    @precondition(lambda self: self.checkouts and self._holding().exists())
    @rule(data=st.data(), how=st.sampled_from(["Stripe's event", "the sweep", "Stripe's event"]))
    def a_checkout_expires(self, data, how):
        """Nobody pays: time runs to its expires_at and Stripe's checkout.session.expired
        comes (if Stripe expired it: a payment made just before has its event pending), or
        that webhook never comes and the sweep, a minute later, releases the times."""
        holding = list(self._holding())
        self._expire(holding[data.draw(st.integers(0, len(holding) - 1), label="checkout")], how)

    def _expire(self, checkout, how: str) -> None:
        until = checkout.expires_at + (deposits.SWEEP_GRACE if how == "the sweep" else timedelta())
        if until - START >= timedelta(weeks=5):
            return
        self.now = max(self.now, until)
        self._stripe_catches_up()
        if how == "the sweep":
            with self._stripe_clock():
                swept = deposits.deposits_sweep(now=self.now)
            assert swept["released"] >= 1, swept
            checkout.refresh_from_db()
            assert checkout.status == CO.RELEASED, checkout.status
            self._stripe_catches_up()
            return
        self._deliver_expired(checkout)

    def _deliver_expired(self, checkout) -> None:
        """Stripe's checkout.session.expired for `checkout`, if it has sent one."""
        expired = [
            e
            for e in self.pending
            if e["type"] == "checkout.session.expired"
            and e["data"]["object"]["id"] == checkout.stripe_session
        ]
        if expired:
            self._deliver(expired[0])

    @precondition(lambda self: self.checkouts)
    @rule(data=st.data())
    def the_patient_lets_the_times_go(self, data):
        """From the page Stripe sends them back to: the hold ends, Stripe's page is closed
        (if they paid meanwhile, it cannot be: that payment, when it comes, is refunded).
        A checkout already ended says so and changes nothing."""
        checkouts = list(DepositCheckout.objects.order_by("pk"))
        if not checkouts:
            return
        self._let_go(checkouts[data.draw(st.integers(0, len(checkouts) - 1), label="checkout")])

    def _let_go(self, checkout) -> None:
        holding = checkout.status in (CO.STARTING, CO.OPEN)
        before = self._state()
        with self._stripe_clock():
            let_go = deposits.checkout_abandon(checkout=checkout, now=self.now)
        assert let_go == holding, (checkout.status, let_go)
        if not holding:
            assert self._state() == before, "an ended checkout let go again changed rows"
        self._stripe_catches_up()

    @precondition(lambda self: self.checkouts)
    @rule()
    def the_deposit_sweep_runs(self):
        """The beat's sweep: expired holds released, and what is owed back online refunded
        through Stripe (late payments, cancellations): afterwards nothing is left owed."""
        owed = list(
            DepositCheckout.objects.filter(
                Q(refund_due_since__isnull=False) | Q(status=CO.LATE)
            ).select_related("course")
        )
        with self._stripe_clock():
            deposits.deposits_sweep(now=self.now)
        self._stripe_catches_up()
        for checkout in owed:
            checkout.refresh_from_db()
            assert checkout.refund_due_since is None and checkout.status != CO.LATE, checkout.pk
            if checkout.course_id:
                online = self._online(checkout)
                refundable = course_account(checkout.course).refundable
                assert online[K.PAYMENT] == online[K.REFUND] or refundable == 0, (
                    f"checkout {checkout.pk}: {refundable} owed back, not refunded online"
                )

    def _online(self, checkout) -> Counter:
        """A checkout's online money (its course's, once booked): payments and refunds."""
        entries = LedgerEntry.objects.filter(
            Q(checkout=checkout) | Q(course=checkout.course_id or -1), method=ONLINE
        )
        sums: Counter = Counter({K.PAYMENT: Decimal(0), K.REFUND: Decimal(0)})
        for kind, amount in entries.values_list("kind", "amount"):
            sums[kind] += amount
        return sums

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
        # Entries are only ever added: with none added and no session changed since the last
        # step, everything below reads what it read then (and held).
        unchanged = (len(entries), entries[-1].pk if entries else 0, self.seen)
        if unchanged == self.ledger_read:
            return
        self.ledger_read = unchanged
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
        unkept: dict[int, Decimal] = {}
        for course in courses:
            self._course_adds_up(course, by_course[course.pk])
            self._deposit_kept_once(course, by_course[course.pk], by_pk, unkept)
        for session in sessions:
            self._outcomes_once(session, by_session[session.pk], rules, referred, unkept)
        for entry in entries:
            if entry.kind == K.WAIVER:
                outcome = by_pk[entry.refers_to_id]
                assert outcome.kind in (K.FEE, K.KEPT, K.USED) and outcome.event, entry.pk
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

    def _deposit_kept_once(self, course, entries, by_pk, unkept) -> None:
        """A deposit kept is what was left of the online deposit then (deposit_unkept: paid
        online, less refunded online and kept before, waivers giving it back), so a course
        keeps it at most once net of waivers. Fills `unkept`: each session's figure when it
        was not given (cancelled or missed), which decides whether "deposit" had anything
        to keep."""
        left, kept = Decimal(0), 0
        for entry in entries:
            not_given = entry.kind == K.RELEASED or entry.event in NOT_GIVEN
            if not_given and entry.session_id not in unkept:
                unkept[entry.session_id] = max(left, Decimal(0))
            online = entry.method == ONLINE
            if entry.kind == K.PAYMENT and online:
                left += entry.amount
            elif entry.kind == K.REFUND and online:
                left -= entry.amount
            elif entry.kind == K.KEPT:
                assert 0 < entry.amount == max(left, 0), (course.pk, entry.pk, entry.amount, left)
                left, kept = left - entry.amount, kept + 1
            elif entry.kind == K.WAIVER and by_pk[entry.refers_to_id].kind == K.KEPT:
                left, kept = left + entry.amount, kept - 1
            assert kept <= 1, f"course {course.pk} kept its deposit twice"

    def _outcomes_once(self, session, entries, rules, referred, unkept) -> None:
        S = Session.Status
        outcomes = defaultdict(list)
        deposit = unkept.get(session.pk, Decimal(0))
        for entry in entries:
            if entry.event:
                outcomes[entry.event].append(entry)
                fee = getattr(rules, f"{entry.event}_fee")
                expected = {
                    K.FEE: fee,
                    K.USED: session.price,
                    K.WAIVED: Decimal(0),
                    K.KEPT: deposit,
                }
                assert entry.amount == expected[entry.kind], (session.pk, entry)
                if entry.kind == K.WAIVED:
                    assert entry.recorded_by_id and entry.reason.split("Waived:")[1].strip()
        late_cancel = session.status == S.CANCELLED and rulebook.is_late(
            session.start, session.cancelled_at, rules
        )

        def charged(event: str) -> bool:  # "deposit" with none left to keep charges nothing
            outcome = getattr(rules, f"{event}_outcome")
            return outcome != "nothing" and (outcome != "deposit" or deposit > 0)

        expected = {
            EVENT.LATE_CANCEL: int(late_cancel and charged("late_cancel")),
            EVENT.NO_SHOW: int(session.status == S.NO_SHOW and charged("no_show")),
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
    def online_deposits_hold_book_and_refund_once(self):
        """Every online deposit, and every Stripe event and sum of money, once:

        - a checkout's times are held (its rows live, until its expiry) exactly while it
          is open; booked, released or refunded, none is; none is left starting, or paid
          late and not refunded (the refund is made as the payment comes);
        - a booked checkout's course has exactly the times that were held, for its patient,
          and one online payment of the checkout's amount (by Stripe's payment id); one
          paid late has its payment and refunds in full on the checkout, and no course;
          an unpaid one has no money;
        - online refunds never exceed online payments, checkout by checkout;
        - one ledger entry per Stripe object (payment or refund), and every refund Stripe
          made for this run is in the ledger, at its amount; one PaymentEvent per event
          id, and one for each event delivered.
        """
        if not self.checkouts:
            return
        checkouts = list(DepositCheckout.objects.order_by("pk"))
        holds = defaultdict(list)
        for checkout_id, *hold in DepositCheckout.holds.through.objects.order_by(
            "session__number"
        ).values_list(
            "depositcheckout_id",
            "session__number",
            "session__start",
            "session__end",
            "session__practitioner_id",
            "session__patient_id",
            "session__status",
            "session__held_until",
        ):
            holds[checkout_id].append(tuple(hold))
        owner = {c.course_id: c.pk for c in checkouts if c.course_id}
        money = defaultdict(list)
        for course_id, checkout_id, kind, amount, ref in LedgerEntry.objects.filter(
            method=ONLINE
        ).values_list("course_id", "checkout_id", "kind", "amount", "provider_ref"):
            assert checkout_id or course_id in owner, f"online {kind} of no checkout"
            money[checkout_id or owner[course_id]].append((kind, amount, ref))
        refs = dict(
            LedgerEntry.objects.exclude(provider_ref="").values_list("provider_ref", "amount")
        )
        assert len(refs) == LedgerEntry.objects.exclude(provider_ref="").count()
        events = list(PaymentEvent.objects.values_list("event_id", flat=True))
        assert len(events) == len(set(events)) and set(events) == set(self.delivered)
        for refund in self.refunds_made:
            amount = from_minor_units(refund["amount"], refund["currency"].upper())
            assert refs.get(refund["id"]) == amount, refund["id"]
        for checkout in checkouts:
            mine, status = holds[checkout.pk], checkout.status
            live = [h for h in mine if h[5] == Session.Status.HELD]
            assert status not in (CO.STARTING, CO.LATE), (checkout.pk, status)
            if status == CO.OPEN:
                assert mine and len(live) == len(mine), (checkout.pk, mine)
                assert {h[4] for h in mine} == {checkout.patient_id}
                assert {h[6] for h in mine} == {checkout.expires_at}, checkout.pk
            else:
                assert not live, f"checkout {checkout.pk} is {status} but holds {live}"
            payments = [(a, ref) for kind, a, ref in money[checkout.pk] if kind == K.PAYMENT]
            refunded = sum((a for kind, a, _ in money[checkout.pk] if kind == K.REFUND), Decimal(0))
            assert refunded <= sum((a for a, _ in payments), Decimal(0)), checkout.pk
            if status in (CO.BOOKED, CO.REFUNDED):
                assert payments == [(checkout.amount, checkout.payment_intent)], checkout.pk
                assert (checkout.course_id is not None) == (status == CO.BOOKED), checkout.pk
            else:
                assert not money[checkout.pk] and checkout.payment_intent is None, checkout.pk
            if status == CO.REFUNDED:
                assert refunded == checkout.amount, f"paid late, {refunded} refunded"
            if status == CO.BOOKED and checkout.pk not in self.booked_as_held:
                self.booked_as_held.add(checkout.pk)  # compared the step it was booked
                course = Course.objects.get(pk=checkout.course_id)
                assert (course.patient_id, course.treatment_id) == (
                    checkout.patient_id,
                    checkout.treatment_id,
                )
                booked = list(
                    Session.objects.filter(course=course)
                    .order_by("number")
                    .values_list("number", "start", "end", "practitioner_id", "patient_id")
                )
                assert booked == [h[:5] for h in mine], (checkout.pk, booked, mine)

    @invariant()
    def no_practitioner_is_double_booked(self):
        """Holds included (a waitlist offer's, a deposit's): the buffer kept between all."""
        buffer = BookingRules.current().buffer
        active = list(Session.with_holds.active().order_by("practitioner_id", "start"))
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
        active = list(Session.with_holds.active().order_by("patient_id", "start"))
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
