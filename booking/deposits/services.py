"""Online deposits: hold the times, send the patient to Stripe, book on the signed webhook.

The steps, each its own short transaction (no lock is held while Stripe is called,
except by the refund, which must not give money twice):

1. `checkout_start` (the confirm step): every rule of a new course is checked under the
   booking locks (services.course_checks), the times are held (held rows of the
   sessions table, so the no-overlap constraints and the one availability read cover
   them) until `expires_at`, 30 minutes ahead (Stripe's shortest) and never past the
   minimum notice before the first session. Then Stripe is asked for a Checkout; if it
   does not answer or refuses, the hold is released and nothing is left behind.
2. `event_handle` (the webhook, signature verified): each Stripe event once, by id, in
   any order. `checkout.session.completed` books the course (course_book, every rule
   again) and records the payment; if the hold has gone, or the course can no longer be
   booked, the payment is refunded and the patient told the nearest free times.
   `checkout.session.expired` releases the hold. Refund events record the refund (once,
   by Stripe's id, whoever reports it first).
3. `deposits_sweep` (beat, every minute): releases holds whose Checkout expired without
   its webhook, and refunds what is owed back online (late payments, cancellations).

Lock order everywhere: practitioners, patient (services.checks.lock), then the checkout.
"""

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from clinic.money import ZERO, deposit_amount, from_minor_units, minor_units
from education.models import Treatment

from ..availability import Slot
from ..ledger import services as ledger
from ..ledger.models import LedgerEntry
from ..ledger.selectors import course_account
from ..models import BookingRules, ConsentText, Course, Patient, Session
from ..services import BookingError, course_book, nearest_alternatives
from ..services.book import course_checks
from ..services.checks import course_taken, lock, slot_for
from ..waitlist import hooks as waitlist_hooks
from ..waitlist.models import FreedTime
from . import enabled, stripe_api
from .models import DepositCheckout, PaymentEvent

logger = logging.getLogger(__name__)
S = DepositCheckout.Status
K = LedgerEntry.Kind

# Stripe Checkout's shortest life is 30 minutes from when Stripe receives the call; a minute
# more allows for the call itself and clocks that differ. The times are held this long.
HOLD = timedelta(minutes=31)
# The sweep releases a hold this long after its Checkout expired, leaving Stripe's own
# `checkout.session.expired` webhook the first go.
SWEEP_GRACE = timedelta(minutes=1)
SWEEP_BATCH = 100


class PaymentUnavailable(BookingError):
    """Stripe did not answer or refused: the times are released, nothing was taken."""


@dataclass(frozen=True)
class DepositTerms:
    """The deposit a course of `sessions` of a treatment asks online (booking journey)."""

    amount: Decimal
    currency: str
    required: bool  # required to book online (else offered beside paying at the clinic)


def deposit_terms(treatment: Treatment, price, rules: BookingRules | None = None):
    """The deposit for a course at `price` (clinic.money.CoursePrice), or None: deposits off
    (no Stripe keys), the treatment asks none, or the course is free."""
    if not enabled() or treatment.deposit == Treatment.Deposit.NONE:
        return None
    amount = deposit_amount(
        kind=treatment.deposit,
        value=treatment.deposit_value,
        total=price.total,
        code=price.currency,
    )
    if amount <= ZERO:
        return None
    rules = rules or BookingRules.current()
    return DepositTerms(amount, price.currency, rules.deposit_required)


def _too_soon(first_start: datetime, now: datetime, rules: BookingRules) -> bool:
    """The hold may not run past the minimum notice before the first session."""
    return now + HOLD > first_start - rules.min_notice


def _release(checkout: DepositCheckout, *, status: str, reason: str, now: datetime) -> None:
    """End a checkout's hold (the caller holds its row lock): the held times are cancelled
    and handed to the waitlist as freed time."""
    holds = list(held_times(checkout).filter(status=Session.Status.HELD))
    Session.with_holds.filter(pk__in=[h.pk for h in holds]).update(
        status=Session.Status.CANCELLED, cancelled_at=now, updated_at=now
    )
    if status == S.RELEASED:
        for hold in holds:
            waitlist_hooks.time_freed(
                practitioner_id=hold.practitioner_id,
                start=hold.start,
                end=hold.end,
                cause=FreedTime.Cause.DEPOSIT,
                now=now,
            )
    checkout.status, checkout.ended_reason = status, reason[:200]
    checkout.save(update_fields=["status", "ended_reason", "updated_at"])
    logger.info("deposit hold ended", extra={"checkout_id": checkout.pk, "status": status})


def held_times(checkout: DepositCheckout):
    """The checkout's held rows (released ones too): Session.objects leaves holds out, and so
    would `checkout.holds`, which uses it."""
    return Session.with_holds.filter(
        pk__in=DepositCheckout.holds.through.objects.filter(depositcheckout=checkout).values(
            "session_id"
        )
    )


def _locked(pk: int) -> DepositCheckout:
    return DepositCheckout.objects.select_for_update(of=("self",)).get(pk=pk)


# -- 1. the confirm step -----------------------------------------------------------------


@transaction.atomic
def _hold(
    *,
    patient: Patient,
    treatment: Treatment,
    slots: list[Slot],
    key: str,
    answers: dict,
    answers_for: Treatment | None,
    answers_version: int | None,
    consent: ConsentText | None,
    now: datetime,
) -> tuple[DepositCheckout, bool]:
    """The course's rules checked and its times held, under the booking locks: (the
    checkout, True); or (the checkout a click just before made with this key, False)."""
    rules = BookingRules.current()
    if not slots:
        raise BookingError(gettext("Choose a time for the first session."))
    slots = [slot_for(s.start, treatment, s.practitioner_id) for s in slots]
    lock([s.practitioner_id for s in slots], patient)
    earlier = DepositCheckout.objects.filter(key=key).first()
    if earlier is not None:
        return earlier, False  # a second click, just behind the first: its times are held
    checked = course_checks(
        patient=patient,
        treatment=treatment,
        slots=slots,
        now=now,
        rules=rules,
        answers=answers,
        answers_for=answers_for or treatment,
        answers_version=answers_version,
        consent=consent,
        consent_method=Course.ConsentMethod.ONLINE,
        booked_by=patient.user,
        allow_short_notice=False,
        allow_outside_window=False,
        override_reason="",
        clinical_reason="",
    )
    terms = deposit_terms(treatment, checked.price, rules)
    if terms is None:
        raise BookingError(gettext("This course has no deposit to pay online."))
    if _too_soon(slots[0].start, now, rules):
        raise BookingError(
            gettext(
                "Your first session is too soon to pay a deposit online. Please choose a "
                "later time, or call us to book."
            )
        )
    checkout = DepositCheckout.objects.create(
        patient=patient,
        treatment=treatment,
        answers={str(k): v for k, v in answers.items()},
        answers_version=answers_version,
        answers_for=answers_for,
        consent=consent,
        key=key,
        amount=terms.amount,
        currency=terms.currency,
        expires_at=now + HOLD,
    )
    try:
        with transaction.atomic():  # a savepoint: the constraints are the last guard
            holds = Session.with_holds.bulk_create(
                [
                    Session(
                        patient=patient,
                        practitioner_id=slot.practitioner_id,
                        number=number,
                        start=slot.start,
                        end=slot.end,
                        status=Session.Status.HELD,
                        held_until=checkout.expires_at,
                    )
                    for number, slot in enumerate(slots, 1)
                ]
            )
    except IntegrityError as exc:
        raise course_taken(treatment=treatment, slots=slots, now=now, patient=patient) from exc
    DepositCheckout.holds.through.objects.bulk_create(
        [DepositCheckout.holds.through(depositcheckout=checkout, session=h) for h in holds]
    )
    return checkout, True


def checkout_start(
    *,
    patient: Patient,
    treatment: Treatment,
    slots: list[Slot],
    key: str,
    return_url: Callable[[DepositCheckout], str],
    answers: dict | None = None,
    answers_for: Treatment | None = None,
    answers_version: int | None = None,
    consent: ConsentText | None = None,
    now: datetime | None = None,
) -> DepositCheckout:
    """Hold the course's times and open a Stripe Checkout for its deposit; returns the
    checkout, whose `url` is Stripe's page. `return_url(checkout)`: where Stripe sends the
    patient back (after paying; with "?left=1" when they leave its page). Raises
    BookingError / SlotTaken as course_book would, or PaymentUnavailable when Stripe
    fails (the hold released, nothing kept)."""
    now = now or timezone.now()
    # A checkout made before with this key (a second click) is found under the locks.
    checkout, created = _hold(
        patient=patient,
        treatment=treatment,
        slots=slots,
        key=key,
        answers=answers or {},
        answers_for=answers_for,
        answers_version=answers_version,
        consent=consent,
        now=now,
    )
    if not created:
        return _again(checkout, treatment=treatment, slots=slots, now=now)
    sessions = len(slots)
    try:
        stripe_session = stripe_api.checkout_create(
            key=f"checkout/{checkout.pk}",
            reference=str(checkout.pk),
            amount=minor_units(checkout.amount, checkout.currency),
            currency=checkout.currency,
            # Not the treatment's name: what a patient is treated for stays with the clinic.
            description=gettext("Deposit for a course of %(count)d sessions") % {"count": sessions}
            if sessions != 1
            else gettext("Deposit for an appointment"),
            expires_at=checkout.expires_at,
            success_url=return_url(checkout),
            cancel_url=return_url(checkout) + "?left=1",
        )
        url = stripe_session.url or ""
        if not url.startswith(settings.STRIPE_CHECKOUT_ORIGIN.rstrip("/") + "/"):
            # Never send a patient anywhere but Stripe's page (the CSP allows only that).
            raise stripe_api.ProviderError("unexpected checkout origin")
    except stripe_api.ProviderError:
        with transaction.atomic():
            locked = _locked(checkout.pk)
            if locked.status == S.STARTING:
                _release(locked, status=S.RELEASED, reason="Stripe did not answer.", now=now)
        raise PaymentUnavailable(
            gettext(
                "We could not reach our card payment service, so nothing was taken and your "
                "times were not kept."
            )
        ) from None
    with transaction.atomic():
        checkout = _locked(checkout.pk)
        checkout.stripe_session, checkout.url = stripe_session.id, url
        if checkout.status == S.STARTING:
            checkout.status = S.OPEN
        checkout.save(update_fields=["stripe_session", "url", "status", "updated_at"])
    logger.info("deposit checkout opened", extra={"checkout_id": checkout.pk})
    return checkout


def _same_course(checkout: DepositCheckout, treatment: Treatment, slots: list[Slot]) -> bool:
    held = sorted((h.start, h.practitioner_id) for h in held_times(checkout))
    return checkout.treatment_id == treatment.pk and held == sorted(
        (s.start, s.practitioner_id) for s in slots
    )


def _again(
    checkout: DepositCheckout, *, treatment: Treatment, slots: list[Slot], now: datetime
) -> DepositCheckout:
    """The confirm step posted again with the same key: the checkout the first post made,
    once Stripe has answered it (a double click), for the caller to look at its state. If
    the patient has changed the course since (back from Stripe's page), its times are let
    go: the caller starts afresh with a new key."""
    deadline = time.monotonic() + 2 * settings.STRIPE_TIMEOUT_SECONDS + 1
    while checkout.status == S.STARTING and time.monotonic() < deadline:
        time.sleep(0.1)
        checkout.refresh_from_db()
    if checkout.status in (S.STARTING, S.OPEN) and not _same_course(checkout, treatment, slots):
        checkout_abandon(checkout=checkout, now=now)
        checkout.refresh_from_db()
    return checkout


def checkout_abandon(*, checkout: DepositCheckout, now: datetime | None = None) -> bool:
    """The patient lets the times go from the page Stripe sends them back to: the hold
    ends at once and the Checkout is closed at Stripe (if that fails, it expires by
    itself; a payment made meanwhile is refunded). False when it had ended already."""
    now = now or timezone.now()
    with transaction.atomic():
        checkout = _locked(checkout.pk)
        if checkout.status not in (S.STARTING, S.OPEN):
            return False
        _release(checkout, status=S.RELEASED, reason="Let go by the patient.", now=now)
    if checkout.stripe_session:
        _expire_at_stripe(checkout.stripe_session)
    return True


def _expire_at_stripe(session_id: str) -> None:
    # Logged by stripe_api if it fails; Stripe expires it at expires_at anyway.
    with contextlib.suppress(stripe_api.ProviderError):
        stripe_api.checkout_expire(session_id)


def checkout_replaced(*, patient: Patient, key: str, now: datetime | None = None) -> bool:
    """The patient books to pay at the clinic instead, from the same confirm step (back
    from Stripe's page): the checkout still holding the times, if any, ends inside the
    caller's transaction, which books the course (on those times, or others), and Stripe's
    page is closed once that commits. One query when there is none."""
    now = now or timezone.now()
    found = DepositCheckout.objects.holding().filter(patient=patient, key=key).first()
    if found is None:
        return False
    lock([h.practitioner_id for h in held_times(found)], patient)  # the lock order
    checkout = _locked(found.pk)
    if checkout.status not in (S.STARTING, S.OPEN):
        return False
    # Handed to the waitlist too, in case the course is now at other times (its matching
    # offers only what is really free once this commits).
    _release(checkout, status=S.RELEASED, reason="Booked to pay at the clinic instead.", now=now)
    if checkout.stripe_session:
        transaction.on_commit(lambda: _expire_at_stripe(checkout.stripe_session))
    return True


@transaction.atomic
def patient_holds_release(*, patient: Patient, reason: str, now: datetime) -> int:
    """End every hold of `patient`'s checkouts (their account is closing), inside the
    caller's transaction, in the booking lock order; each Checkout is closed at Stripe once
    that commits (no call while rows are locked; a payment made meanwhile is refunded as
    late). Returns how many holds ended."""
    sessions = []
    for checkout in DepositCheckout.objects.holding().filter(patient=patient).order_by("pk"):
        lock([h.practitioner_id for h in held_times(checkout)], patient)
        checkout = _locked(checkout.pk)
        if checkout.status in (S.STARTING, S.OPEN):
            _release(checkout, status=S.RELEASED, reason=reason, now=now)
            sessions.append(checkout.stripe_session)

    def close_at_stripe():
        for session in filter(None, sessions):
            with contextlib.suppress(stripe_api.ProviderError):
                stripe_api.checkout_expire(session)

    transaction.on_commit(close_at_stripe)
    return len(sessions)


# -- 2. the webhook ----------------------------------------------------------------------


def _checkout_of(obj) -> DepositCheckout | None:
    """The checkout a Checkout Session object is about: by its id; or, for a checkout that
    never learnt it (Stripe's answer lost), by our reference, given both ways we send it.
    The clinic's Stripe account may take other payments (a shop, say) whose sessions carry
    references of their own: those are not ours, whatever their numbers."""
    session_id = obj.get("id")
    found = (
        DepositCheckout.objects.filter(stripe_session=session_id).first() if session_id else None
    )
    if found is not None:
        return found
    reference = str(obj.get("client_reference_id") or "")
    if not reference.isdigit() or (obj.get("metadata") or {}).get("checkout") != reference:
        return None
    return DepositCheckout.objects.filter(pk=int(reference), stripe_session__isnull=True).first()


def _slots(holds) -> list[Slot]:
    return [Slot(h.start, h.end, h.practitioner_id) for h in sorted(holds, key=lambda h: h.number)]


def _paid(checkout: DepositCheckout, obj, now: datetime) -> str:
    """`checkout.session.completed`: book the course, or (the hold gone, or the course no
    longer bookable) keep the payment on the checkout for the refund."""
    holds = list(held_times(checkout))
    lock([h.practitioner_id for h in holds], checkout.patient)
    checkout = _locked(checkout.pk)
    if checkout.status in (S.BOOKED, S.LATE, S.REFUNDED):
        return "already paid"
    payment_intent = obj.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    amount = from_minor_units(obj.get("amount_total") or 0, checkout.currency)
    if not payment_intent or amount <= 0:
        return "no payment"
    checkout.payment_intent = payment_intent
    if checkout.status in (S.STARTING, S.OPEN):
        Session.with_holds.filter(pk__in=[h.pk for h in holds], status=Session.Status.HELD).update(
            status=Session.Status.CANCELLED, cancelled_at=now, updated_at=now
        )
        try:
            with transaction.atomic():
                course = course_book(
                    patient=checkout.patient,
                    treatment=checkout.treatment,
                    slots=_slots(holds),
                    now=now,
                    idempotency_key=checkout.key,
                    answers=checkout.answers,
                    answers_for=checkout.answers_for,
                    answers_version=checkout.answers_version,
                    consent=checkout.consent,
                    consent_method=Course.ConsentMethod.ONLINE,
                    booked_by=checkout.patient.user,
                )
        except BookingError as exc:
            logger.info(
                "deposit paid but course refused",
                extra={"checkout_id": checkout.pk, "rule": exc.rule},
            )
            for hold in holds:
                waitlist_hooks.time_freed(
                    practitioner_id=hold.practitioner_id,
                    start=hold.start,
                    end=hold.end,
                    cause=FreedTime.Cause.DEPOSIT,
                    now=now,
                )
            reason = exc.message
        else:
            checkout.course, checkout.status = course, S.BOOKED
            checkout.ended_reason = ""
            checkout.save(
                update_fields=["course", "status", "payment_intent", "ended_reason", "updated_at"]
            )
            ledger.online_money(
                kind=K.PAYMENT,
                amount=amount,
                ref=payment_intent,
                reason=gettext("Deposit paid online"),
                now=now,
                course=course,
            )
            logger.info("deposit paid, course booked", extra={"checkout_id": checkout.pk})
            return "booked"
    else:
        reason = checkout.ended_reason or "The times had been released."
    checkout.status = S.LATE
    checkout.ended_reason = reason[:200]
    checkout.refund_due_since = now
    checkout.save(
        update_fields=["status", "payment_intent", "ended_reason", "refund_due_since", "updated_at"]
    )
    ledger.online_money(
        kind=K.PAYMENT,
        amount=amount,
        ref=payment_intent,
        reason=gettext("Deposit paid online after the times were released"),
        now=now,
        checkout=checkout,
    )
    logger.info("deposit paid late", extra={"checkout_id": checkout.pk})
    return "late"


def _expired(checkout: DepositCheckout, now: datetime) -> str:
    checkout = _locked(checkout.pk)
    if checkout.status not in (S.STARTING, S.OPEN):
        return "ignored"
    _release(checkout, status=S.RELEASED, reason="The payment page expired.", now=now)
    return "released"


def _refund_seen(obj, now: datetime) -> str:
    """A refund Stripe reports (ours, or one made in Stripe's dashboard): recorded once."""
    if obj.get("object") == "charge":
        refunds = (obj.get("refunds") or {}).get("data") or []
        results = [_refund_seen(r, now) for r in refunds]
        return ",".join(results) or "ignored"
    payment_intent = obj.get("payment_intent")
    checkout = DepositCheckout.objects.filter(payment_intent=payment_intent).first()
    if checkout is None or not obj.get("id"):
        return "ignored"
    checkout = _locked(checkout.pk)
    entry = LedgerEntry.objects.filter(provider_ref=obj["id"]).first()
    failed = obj.get("status") in ("failed", "canceled")
    if entry is not None and not failed:
        return "already recorded"
    if entry is None:
        # Its failure may be the first word of a refund (the events come in any order):
        # recorded, then corrected, so a later refund.created finds it and adds nothing.
        entry = ledger.online_money(
            kind=K.REFUND,
            amount=from_minor_units(obj.get("amount") or 0, checkout.currency),
            ref=obj["id"],
            reason=gettext("Deposit refunded online"),
            now=now,
            course=checkout.course,
            checkout=None if checkout.course_id else checkout,
        )
        if not failed:
            return "refund recorded"
    if entry is not None and not LedgerEntry.objects.filter(refers_to=entry).exists():
        ledger.online_refund_failed(entry=entry, now=now)
        # Still owed: the sweep tries again (a new refund, under a new idempotency key).
        checkout.refund_due_since = checkout.refund_due_since or now
        checkout.save(update_fields=["refund_due_since", "updated_at"])
        return "refund failed"
    return "ignored"


HANDLED = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.expired",
    "refund.created",
    "refund.updated",
    "charge.refunded",
}


def event_handle(event, *, now: datetime | None = None) -> str:
    """One verified Stripe event, processed once by its id (a repeat changes nothing, in
    whatever order they come). Returns what it did, for the log."""
    now = now or timezone.now()
    event_id, kind = event["id"], event["type"]
    obj = event["data"]["object"]
    with transaction.atomic():
        try:
            with transaction.atomic():
                seen = PaymentEvent.objects.create(
                    event_id=event_id, type=kind[:100], received_at=now
                )
        except IntegrityError:
            return "duplicate"
        checkout = None
        if kind not in HANDLED:
            result = "ignored"
        elif kind.startswith("checkout.session."):
            checkout = _checkout_of(obj)
            if checkout is None:
                result = "unknown checkout"
            elif kind == "checkout.session.expired":
                result = _expired(checkout, now)
            elif obj.get("payment_status") == "paid":
                result = _paid(checkout, obj, now)
            else:
                result = "not paid yet"  # a delayed method: async_payment_succeeded follows
        else:
            result = _refund_seen(obj, now)
        seen.checkout, seen.result = checkout, result[:100]
        seen.save(update_fields=["checkout", "result"])
    logger.info("stripe event", extra={"event_id": event_id, "type": kind, "result": result})
    if result == "late":
        refund_owed(checkout=checkout, now=now)
    return result


# -- refunds -----------------------------------------------------------------------------


def _owed_online(checkout: DepositCheckout) -> Decimal:
    """What to give back through Stripe now: on a course, what the clinic owes the patient
    (its account), at most what was paid online and not refunded (a refund that failed
    counts as not made); a late payment, all."""
    online = Q(method=LedgerEntry.Method.ONLINE)
    entries = LedgerEntry.objects.filter(
        Q(course=checkout.course) if checkout.course_id else Q(checkout=checkout),
        (online & Q(kind__in=[K.PAYMENT, K.REFUND]))
        | Q(kind=K.REFUND_REVERSED, refers_to__method=LedgerEntry.Method.ONLINE),
    )
    paid = sum((e.amount if e.kind != K.REFUND else -e.amount for e in entries), ZERO)
    if checkout.course_id is None:
        return max(paid, ZERO)
    account = course_account(checkout.course)
    return max(min(account.refundable if account else ZERO, paid), ZERO)


def refund_owed(*, checkout: DepositCheckout, now: datetime | None = None) -> Decimal | None:
    """Refund through Stripe what is owed back online on this checkout (its course, or a
    late payment), once: the checkout's row stays locked through the call, and Stripe's
    idempotency key is the checkout's refund count, so a repeat cannot refund twice.
    Returns the amount refunded, or None when Stripe failed (the sweep tries again).
    A late payment's patient is emailed once it is refunded: by us, or already (Stripe
    reported the refund first, or staff made it in Stripe's dashboard)."""
    now = now or timezone.now()
    with transaction.atomic():
        checkout = (
            DepositCheckout.objects.select_for_update(of=("self",))
            .select_related("course")
            .get(pk=checkout.pk)
        )
        late = checkout.status == S.LATE
        owed = _owed_online(checkout) if checkout.payment_intent else ZERO
        if owed > 0:
            owed = _refund(checkout, owed, now)
        elif checkout.refund_due_since is not None or late:
            checkout.refund_due_since = None
            if late:
                checkout.status = S.REFUNDED
            checkout.save(update_fields=["refund_due_since", "status", "updated_at"])
    if owed:
        logger.info("deposit refunded", extra={"checkout_id": checkout.pk})
    if late and owed is not None:
        transaction.on_commit(lambda: _tell_late(checkout.pk, now))
    return owed


def _refund(checkout: DepositCheckout, owed: Decimal, now: datetime) -> Decimal | None:
    """Give `owed` back through Stripe and record it (the caller holds the checkout's row
    lock); None when Stripe fails (refund_due_since set: the sweep tries again)."""
    done = LedgerEntry.objects.filter(
        Q(course=checkout.course) if checkout.course_id else Q(checkout=checkout),
        kind=K.REFUND,
        method=LedgerEntry.Method.ONLINE,
    ).count()
    try:
        refund = stripe_api.refund_create(
            payment_intent=checkout.payment_intent,
            amount=minor_units(owed, checkout.currency),
            key=f"checkout/{checkout.pk}/refund/{done + 1}",
        )
    except stripe_api.ProviderError:
        if checkout.refund_due_since is None:
            checkout.refund_due_since = now
            checkout.save(update_fields=["refund_due_since", "updated_at"])
        return None
    ledger.online_money(
        kind=K.REFUND,
        amount=from_minor_units(refund.amount, checkout.currency),
        ref=refund.id,
        reason=gettext("Deposit paid after the times were released, refunded in full")
        if checkout.status == S.LATE
        else gettext("Deposit refunded online after a cancellation"),
        now=now,
        course=checkout.course,
        checkout=None if checkout.course_id else checkout,
    )
    checkout.refund_due_since = None
    if checkout.status == S.LATE:
        checkout.status = S.REFUNDED
    checkout.save(update_fields=["refund_due_since", "status", "updated_at"])
    return owed


def _tell_late(checkout_id: int, now: datetime) -> None:
    from .emails import late_payment_email

    late_payment_email(checkout_id=checkout_id, now=now)


def nearest_times(checkout: DepositCheckout, now: datetime) -> list[Slot]:
    """The free times nearest the first one the patient chose (same practitioner first)."""
    first = held_times(checkout).order_by("number").first()
    if first is None:
        return []
    return nearest_alternatives(
        treatment=checkout.treatment,
        wanted=first.start,
        now=now,
        patient=checkout.patient,
        practitioner_id=first.practitioner_id,
    )


# -- 3. the sweep ------------------------------------------------------------------------


def deposits_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Every minute: holds whose Checkout expired with no webhook are released; what is
    owed back online (late payments, cancellations) is refunded. Several workers may run it
    at once (rows are claimed with SKIP LOCKED)."""
    now = now or timezone.now()
    released = 0
    with transaction.atomic():
        for checkout in DepositCheckout.objects.select_for_update(skip_locked=True).filter(
            status__in=[S.STARTING, S.OPEN], expires_at__lte=now - SWEEP_GRACE
        )[:SWEEP_BATCH]:
            _release(checkout, status=S.RELEASED, reason="The payment page expired.", now=now)
            released += 1
    refunded = 0
    for checkout in DepositCheckout.objects.filter(
        Q(refund_due_since__isnull=False) | Q(status=S.LATE)
    ).order_by("pk")[:SWEEP_BATCH]:
        if refund_owed(checkout=checkout, now=now):
            refunded += 1
    return {"released": released, "refunded": refunded}


__all__ = [
    "HOLD",
    "DepositTerms",
    "PaymentUnavailable",
    "checkout_abandon",
    "checkout_replaced",
    "checkout_start",
    "deposit_terms",
    "deposits_sweep",
    "event_handle",
    "nearest_times",
    "patient_holds_release",
    "refund_owed",
]
