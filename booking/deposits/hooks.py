"""What the booking services tell the deposits, inside their own transaction (rows only).

A cancellation (or a missed session released) may leave the clinic owing back part
of a deposit paid online: the checkout is marked, and the deposit sweep
(booking/tasks.py, every minute) refunds it through Stripe, once.
"""

from datetime import datetime

from django.db.models.functions import Coalesce

from .models import DepositCheckout


def refund_check(*, course, now: datetime) -> None:
    """Mark `course`'s online deposit, if it has one, for the refund sweep to look at.
    One UPDATE; none at all for a course with no price (booked before prices were kept)."""
    if course.price is None:
        return
    DepositCheckout.objects.filter(course=course, status=DepositCheckout.Status.BOOKED).update(
        refund_due_since=Coalesce("refund_due_since", now)
    )
