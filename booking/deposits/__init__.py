"""Online deposits through Stripe Checkout (on when STRIPE_SECRET_KEY and
STRIPE_WEBHOOK_SECRET are set; without them patients pay at the clinic).

The confirm step holds the course's times (held rows of the sessions table, as a
waitlist offer's, inside the same no-overlap constraints) and sends the patient
to Stripe Checkout. Only Stripe's signed `checkout.session.completed` webhook
books the course (booking/services course_book, every rule checked again) and
records the payment in the ledger. An expired or abandoned Checkout releases the
times; a payment that comes after they were released is refunded.

- models: the checkout (what is held and why) and the webhook events seen;
- stripe_api: the only module that talks to Stripe (the official library);
- services: start, pay, expire, abandon, refund, and the sweep;
- hooks: what the booking services tell this package (a cancellation to refund).

No card data ever reaches the app: Stripe's page takes it. Events are logged
by id only.
"""

from django.conf import settings


def enabled() -> bool:
    """Deposits are on when the clinic has set both Stripe keys."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)
