"""Benchmark: online deposits, the confirm step and Stripe's webhook (issue 23).

Targets, on PostgreSQL, with Stripe served by the local fake the tests use
(tests/payments/fake_stripe.py: the real `stripe` library over HTTP to a server in
this process, events signed with the test secret):

1. The confirm step (the journey's last POST, through the test client, a course of
   3 sessions) with deposits on (the times held, a Checkout opened, a 303 to Stripe's
   page) against deposits off (the course booked, as before): at most QUERIES_MORE
   queries more, and at most SERVER_MS_MORE ms more server time, the call to Stripe
   left out: its time is measured inside stripe_api.checkout_create and taken off.
   The two are timed in turn, request by request, each a new patient and free time;
   the server time more is the median of the pairs' differences.
2. DELIVERIES webhook deliveries through the view, each signed as Stripe signs them:
   10% are a second delivery of an event already delivered, 10% come out of order
   (a Checkout's expiry before its payment, so the payment is late and refunded through
   Stripe inside that delivery; a refund made in Stripe's dashboard reported "updated"
   before "created"), the rest a payment or an expiry each. Then: 0 double entries (the
   ledger's entries per Stripe id, the events seen per event id, the payments per
   deposit), every deposit ended as its events say, and the median and 95th percentile
   of a delivery (target: median under WEBHOOK_MEDIAN_MS).

QUICK=1: a few confirm steps and DELIVERIES // 10 deliveries, in a few seconds.
"""

import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext, override_settings

from bench.common import QUICK, needs_postgres, scratch_database, write

CONFIRMS = 5 if QUICK else 30  # confirm steps measured each way
DELIVERIES = 100 if QUICK else 1000
PRACTITIONERS = 5
QUERIES_MORE, SERVER_MS_MORE, WEBHOOK_MEDIAN_MS = 2, 10, 20
DEPOSIT = Decimal("50.00")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * share + 0.5) - 1))]


def _patients(count: int, prefix: str) -> list:
    from django.contrib.auth.hashers import make_password

    from booking.models import Patient
    from clinic.models import User

    unusable = make_password(None)
    users = User.objects.bulk_create(
        [User(email=f"{prefix}{n}@example.org", password=unusable) for n in range(count)]
    )
    return Patient.objects.bulk_create(
        [
            Patient(user=u, full_name=f"{prefix.title()} {n}", phone="07700 900000")
            for n, u in enumerate(users)
        ]
    )


def clinic():
    """A priced treatment asking a £50 deposit (3 sessions, its health questions), the
    consent, and PRACTITIONERS practitioners working Monday to Friday."""
    from booking.models import ConsentText
    from tests.booking.factories import PractitionerFactory
    from tests.education.factories import TreatmentFactory, usual_questions

    ConsentText.objects.create(version=1, text="I agree to the treatment.")
    treatment = TreatmentFactory(
        session_price=Decimal("180.00"),
        package_price=Decimal("480.00"),
        deposit="fixed",
        deposit_value=DEPOSIT,
    )
    usual_questions(treatment)
    treatment.refresh_from_db()  # the questions' version
    practitioners = [PractitionerFactory(treatments=[treatment]) for _ in range(PRACTITIONERS)]
    return treatment, practitioners


def free_times(treatment, practitioners, now, count: int) -> list:
    """`count` free times that overlap no other (one session each), from tomorrow on."""
    from booking import selectors
    from booking.models import BookingRules

    rules = BookingRules.current()
    found = selectors.free_slots(
        treatment=treatment,
        day_from=now.date() + timedelta(days=1),
        day_to=now.date() + timedelta(weeks=rules.horizon_weeks) - timedelta(days=1),
        now=now,
        practitioners=practitioners,
        rules=rules,
    )
    free, ends = [], {}
    for slot in sorted(found, key=lambda s: (s.start, s.practitioner_id)):
        if slot.start >= ends.get(slot.practitioner_id, slot.start) and len(free) < count:
            free.append(slot)
            ends[slot.practitioner_id] = slot.end + rules.buffer
    assert len(free) == count, f"only {len(free)} free times for {count}"
    return free


def stripe_settings(fake, *, on: bool):
    return override_settings(
        STRIPE_SECRET_KEY=fake.api_key if on else "",
        STRIPE_WEBHOOK_SECRET=fake.secret if on else "",
        STRIPE_API_BASE=fake.origin,
        STRIPE_CHECKOUT_ORIGIN=fake.checkout_origin,
        STRIPE_TIMEOUT_SECONDS=5,
        RATE_LIMIT_BOOKING_CONFIRM=(10**6, 60),  # one address posts them all here
    )


# --- 1. the confirm step ----------------------------------------------------------------


class ProviderClock:
    """Time spent inside stripe_api.checkout_create (the call to Stripe), per request."""

    def __init__(self):
        from booking.deposits import stripe_api

        self.module, self.original, self.spent = stripe_api, stripe_api.checkout_create, 0.0

    def __enter__(self):
        def timed(**kwargs):
            started = time.perf_counter()
            try:
                return self.original(**kwargs)
            finally:
                self.spent += time.perf_counter() - started

        self.module.checkout_create = timed
        return self

    def __exit__(self, *exc):
        self.module.checkout_create = self.original


def confirm_once(fake, treatment, patient, now, *, on: bool, provider: ProviderClock) -> dict:
    """One confirm POST by `patient` for a new 3-session plan: queries and times in ms."""
    from django.test import Client

    from booking import selectors
    from booking.journey import SESSION_KEY, Journey, slot_value
    from booking.models import ConsentText

    first = free_times(treatment, list(treatment.practitioners.all()), now, 1)[0]
    planned = selectors.course_proposal(
        first=first, treatment=treatment, sessions=3, now=now, patient=patient, anyone=True
    )
    assert all(p.slot for p in planned), "no plan for 3 sessions"
    journey = Journey(
        treatment=treatment.slug,
        sessions=3,
        answers={str(q.pk): "no" for q in treatment.questions.all()},
        answers_version=treatment.questions_version,
        answered=True,
        practitioner_chosen=True,
        plan=[slot_value(p.slot) for p in planned],
        consent=ConsentText.current().pk,
    )
    client = Client()
    client.force_login(patient.user)
    session = client.session
    session[SESSION_KEY] = asdict(journey)
    session.save()
    data = {"key": journey.key, **({"pay": "deposit"} if on else {})}
    with stripe_settings(fake, on=on):
        provider.spent = 0.0
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.post("/book/confirm/", data)
            total = (time.perf_counter() - started) * 1000
    expected = 303 if on else 302
    assert response.status_code == expected, (on, response.status_code, response.get("Location"))
    if on:
        assert response["Location"].startswith(fake.checkout_origin)
    else:
        assert "/book/done/" in response["Location"], (
            response["Location"],
            [str(m) for m in response.wsgi_request._messages],
        )
    return {
        "queries": len(captured),
        "total_ms": total,
        "provider_ms": provider.spent * 1000,
        "server_ms": total - provider.spent * 1000,
    }


def confirm_step(fake, treatment, now) -> dict:
    patients = _patients(2 * CONFIRMS + 2, "confirm")
    runs = {"off": [], "on": []}
    with ProviderClock() as provider:
        # One of each first, not counted: templates compiled, the clinic's rows cached.
        confirm_once(fake, treatment, patients.pop(), now, on=False, provider=provider)
        confirm_once(fake, treatment, patients.pop(), now, on=True, provider=provider)
        for n in range(CONFIRMS):
            for on in (False, True) if n % 2 == 0 else (True, False):
                found = confirm_once(fake, treatment, patients.pop(), now, on=on, provider=provider)
                runs["on" if on else "off"].append(found)

    def summary(found: list[dict]) -> dict:
        return {
            key: round(statistics.median(r[key] for r in found), 2)
            for key in ("queries", "total_ms", "provider_ms", "server_ms")
        } | {"queries_max": max(r["queries"] for r in found)}

    off, on = summary(runs["off"]), summary(runs["on"])
    # Each pair was timed in turn: the median of the pairs' differences is steadier, on a
    # machine doing other work, than the difference of the two medians.
    more = [a["server_ms"] - b["server_ms"] for a, b in zip(runs["on"], runs["off"], strict=True)]
    return {
        "repeats": CONFIRMS,
        "off": off,
        "on": on,
        "queries_more": on["queries_max"] - off["queries_max"],
        "server_ms_more": round(statistics.median(more), 2),
    }


def confirm_ok(found: dict) -> bool:
    return found["queries_more"] <= QUERIES_MORE and found["server_ms_more"] <= SERVER_MS_MORE


# --- 2. the webhook ---------------------------------------------------------------------


def webhook_deliveries(fake, treatment, now, rng: random.Random) -> dict:
    """DELIVERIES signed deliveries (see the module's doc); what they did, and how fast."""
    from django.test import Client

    from booking.availability import Slot
    from booking.deposits import services as deposits
    from booking.deposits import stripe_api
    from booking.deposits.models import DepositCheckout, PaymentEvent
    from booking.ledger.models import LedgerEntry
    from tests.payments.signing import WEBHOOK_PATH, signed

    duplicates = DELIVERIES // 10
    out_of_order = DELIVERIES // 10
    late = out_of_order // 2  # expiry, then the payment (late: refunded), then its refund
    dashboard = out_of_order - late  # paid; a refund in Stripe's dashboard: updated, created
    single = DELIVERIES - duplicates - 3 * (late + dashboard)
    paid, expired = single - single // 2, single // 2
    kinds = ["paid"] * paid + ["expired"] * expired + ["late"] * late + ["dashboard"] * dashboard
    rng.shuffle(kinds)
    patients = _patients(len(kinds), "payer")
    times = free_times(treatment, list(treatment.practitioners.all()), now, len(kinds))
    agreement = {
        "answers": {str(q.pk): "no" for q in treatment.questions.all()},
        "answers_version": treatment.questions_version,
    }
    from booking.models import ConsentText

    consent = ConsentText.current()
    started = time.perf_counter()
    with stripe_settings(fake, on=True):
        checkouts = [
            deposits.checkout_start(
                patient=patient,
                treatment=treatment,
                slots=[Slot(slot.start, slot.end, slot.practitioner_id)],
                key=f"bench-{n}",
                return_url=lambda c: f"http://testserver/book/deposit/{c.pk}/",
                consent=consent,
                now=now,
                **agreement,
            )
            for n, (patient, slot) in enumerate(zip(patients, times, strict=True))
        ]
    setup_s = time.perf_counter() - started

    def refund_of(payment_intent: str) -> dict:
        return next(r for r in fake.refunds.values() if r["payment_intent"] == payment_intent)

    # Each deposit's events in the order Stripe sends them here; an event is made when its
    # turn comes (a late payment's refund exists only once the app has asked for it).
    queues = []
    for n, (kind, checkout) in enumerate(zip(kinds, checkouts, strict=True)):
        sid = checkout.stripe_session
        if kind == "paid":
            steps = [lambda sid=sid: fake.pay(sid)]
        elif kind == "expired":
            steps = [lambda sid=sid: fake.expire(sid)]
        elif kind == "late":
            event = fake.pay(sid)
            obj = {**event["data"]["object"], "status": "expired"}
            pid = obj["payment_intent"]
            steps = [
                lambda obj=obj: fake.event("checkout.session.expired", obj),
                lambda event=event: event,  # out of order: the payment after the expiry
                lambda pid=pid: fake.refund_event(refund_of(pid)["id"]),
            ]
        else:  # dashboard: paid, then refunded £20 in Stripe's dashboard, events reversed
            holder = {}

            def pay(sid=sid, holder=holder):
                event = fake.pay(sid)
                holder["pid"] = event["data"]["object"]["payment_intent"]
                return event

            def dashboard_refund(holder=holder, n=n):
                with stripe_settings(fake, on=True):
                    refund = stripe_api.refund_create(
                        payment_intent=holder["pid"], amount=2000, key=f"dashboard/{n}"
                    )
                holder["refund"] = refund.id
                return fake.refund_event(refund.id, "refund.updated")  # before "created"

            steps = [
                pay,
                dashboard_refund,
                lambda holder=holder: fake.refund_event(holder["refund"], "refund.created"),
            ]
        queues.append(steps)

    client = Client()
    delivered: list[dict] = []
    timings, results, by_result = [], Counter(), {}
    unique_left, dup_left = sum(len(q) for q in queues), duplicates
    open_queues = [q for q in queues if q]
    with stripe_settings(fake, on=True):
        while unique_left or dup_left:
            again = delivered and dup_left and rng.random() < dup_left / (dup_left + unique_left)
            if again:
                event = rng.choice(delivered)
                dup_left -= 1
            else:
                queue = rng.choice(open_queues)
                event = queue.pop(0)()
                if not queue:
                    open_queues.remove(queue)
                delivered.append(event)
                unique_left -= 1
            body, headers = signed(event, fake.secret)
            connection.queries_log.clear()  # it keeps 9,000 at most: counts would stop
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.post(
                    WEBHOOK_PATH, body, content_type="application/json", headers=headers
                )
                timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.status_code
            result = response.json()["result"]
            results[result] += 1
            by_result.setdefault(result, []).append((timings[-1], len(captured)))

    # What the deliveries left: each Stripe id's money once, each event once, and every
    # deposit where its events put it.
    by_ref = (
        LedgerEntry.objects.exclude(provider_ref="")
        .values("provider_ref")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    by_event = PaymentEvent.objects.values("event_id").annotate(n=Count("pk")).filter(n__gt=1)
    expected = {"paid": "booked", "expired": "released", "late": "refunded", "dashboard": "booked"}
    statuses = dict(DepositCheckout.objects.values_list("pk", "status"))
    wrong = sum(statuses[c.pk] != expected[k] for k, c in zip(kinds, checkouts, strict=True))
    payments = Counter(
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PAYMENT, method="online").values_list(
            "provider_ref", flat=True
        )
    )
    online = LedgerEntry.objects.filter(method="online").count()
    return {
        "deliveries": len(timings),
        "events": len(delivered),
        "duplicates": duplicates,
        "out_of_order": late + dashboard,
        "deposits": dict(Counter(kinds)),
        "setup_s": round(setup_s, 1),
        "results": dict(results),
        # What each kind of delivery costs: median ms and queries.
        "by_result": {
            result: {
                "median_ms": round(statistics.median(ms for ms, _ in found), 2),
                "queries": statistics.median(queries for _, queries in found),
            }
            for result, found in by_result.items()
        },
        "double_ledger_entries": by_ref.count() + sum(n - 1 for n in payments.values()),
        "double_events": by_event.count(),
        "events_seen": PaymentEvent.objects.count(),
        "online_entries": online,
        "online_entries_expected": paid + 2 * late + 2 * dashboard,
        "deposits_ended_wrongly": wrong,
        "held_left": sum(statuses[c.pk] in ("starting", "open") for c in checkouts),
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(_percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
    }


def webhook_ok(found: dict) -> bool:
    return (
        found["double_ledger_entries"] == 0
        and found["double_events"] == 0
        and found["events_seen"] == found["events"]
        and found["online_entries"] == found["online_entries_expected"]
        and found["results"].get("duplicate", 0) == found["duplicates"]
        and found["deposits_ended_wrongly"] == 0
        and found["median_ms"] < WEBHOOK_MEDIAN_MS
    )


def main() -> int:
    if not needs_postgres("bench/deposits"):
        return 1
    import time_machine
    from pytest_httpserver import HTTPServer

    from booking import selectors
    from tests.payments.fake_stripe import FakeStripe

    zone = selectors.clinic_zone()
    now = datetime(2026, 6, 1, 8, tzinfo=zone)  # a Monday
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    fake = FakeStripe(server)
    try:
        with scratch_database(), time_machine.travel(now, tick=False):
            treatment, _practitioners = clinic()
            confirm = confirm_step(fake, treatment, now)
            webhooks = webhook_deliveries(fake, treatment, now, random.Random(23))
    finally:
        fake.close()
        server.stop()

    off, on = confirm["off"], confirm["on"]
    print(f"Online deposits on PostgreSQL, Stripe served by the local fake{' (QUICK)' * QUICK}")
    print(f"{'confirm step (median of ' + str(CONFIRMS) + ')':<44} {'SQL':>4} {'ms':>8}")
    print(f"{'  deposits off: course booked':<44} {off['queries_max']:>4} {off['server_ms']:>8}")
    print(
        f"{'  deposits on: held, to Stripe (call left out)':<44} {on['queries_max']:>4} "
        f"{on['server_ms']:>8}  (Stripe call {on['provider_ms']} ms)"
    )
    print(
        f"  on - off: {confirm['queries_more']} queries, {confirm['server_ms_more']} ms "
        f"(median of the pairs' differences; targets <= {QUERIES_MORE}, <= {SERVER_MS_MORE} ms)"
    )
    print(
        f"webhook: {webhooks['deliveries']} deliveries ({webhooks['duplicates']} repeated, "
        f"{webhooks['out_of_order']} out of order), median {webhooks['median_ms']} ms, p95 "
        f"{webhooks['p95_ms']} ms; {webhooks['double_ledger_entries']} double entries, "
        f"{webhooks['double_events']} double events, {webhooks['deposits_ended_wrongly']} "
        f"deposits ended wrongly; results {webhooks['results']}"
    )
    for result, cost in webhooks["by_result"].items():
        print(f"  {result:<20} median {cost['median_ms']:>7} ms, {cost['queries']:g} queries")
    write(
        "deposits",
        {
            "confirm": confirm,
            "webhooks": webhooks,
            "targets": {
                "queries_more": QUERIES_MORE,
                "server_ms_more": SERVER_MS_MORE,
                "webhook_median_ms": WEBHOOK_MEDIAN_MS,
            },
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
