"""Prices in the words patients read, where a page cannot use templates/includes/price.html:
the labels of the journey's choices, and a course's price as it was sold.

The figures come from clinic/money.py (a treatment's price now) or from the course
itself (`Course.price`, kept as sold); these only write them out.
"""

from django.db.models import Q, Sum
from django.utils.translation import gettext, ngettext

from clinic.money import ZERO, CoursePrice, money, treatment_course_price

from .ledger.models import LedgerEntry
from .ledger.selectors import course_account


def treatment_price_words(treatment) -> str:
    """What a treatment costs now: "£100.00 a session, or £270.00 for a course of 3 sessions
    (you save £30.00)", "£100.00 a session", or "free" (as the treatment page says it)."""
    price = treatment_course_price(treatment)
    if price.free:
        return gettext("free")
    words = gettext("%(each)s a session") % {"each": money(price.session_price, price.currency)}
    if price.package:
        words += ", " + ngettext(
            "or %(total)s for a course of %(count)d session (you save %(saving)s)",
            "or %(total)s for a course of %(count)d sessions (you save %(saving)s)",
            price.sessions,
        ) % {
            "total": money(price.total, price.currency),
            "count": price.sessions,
            "saving": money(price.saving, price.currency),
        }
    return words


def length_price_words(price: CoursePrice) -> str:
    """One course length's price, beside its number of sessions: "£270.00 (you save £30.00)"."""
    if price.free:
        return gettext("free")
    total = money(price.total, price.currency)
    if price.package:
        return gettext("%(total)s (you save %(saving)s)") % {
            "total": total,
            "saving": money(price.saving, price.currency),
        }
    return total


def sold_price_words(course) -> str:
    """What `course` was sold for (its own price, not the treatment's now): "£270.00 for a
    course of 3 sessions", "£100.00", "Free"; "" for a course booked before prices were kept.

    For the moment of booking (the page after it, the confirmation): a course extended
    later has more sessions than it was sold with, and My appointments reads its ledger."""
    if course.price is None:
        return ""
    if not course.price:
        return gettext("Free")
    total = money(course.price, course.currency)
    if course.sessions_planned == 1:
        return total
    return ngettext(
        "%(total)s for %(count)d session",
        "%(total)s for a course of %(count)d sessions",
        course.sessions_planned,
    ) % {"total": total, "count": course.sessions_planned}


def paid_online(course):
    """What was paid online (a deposit, booking/deposits/) for `course`, less what was
    refunded online: one query."""
    online = LedgerEntry.objects.filter(course=course, method=LedgerEntry.Method.ONLINE)
    sums = online.aggregate(
        paid=Sum("amount", filter=Q(kind=LedgerEntry.Kind.PAYMENT)),
        refunded=Sum("amount", filter=Q(kind=LedgerEntry.Kind.REFUND)),
    )
    return (sums["paid"] or ZERO) - (sums["refunded"] or ZERO)


def paid_words(course) -> str:
    """How a course is paid, beside its price as sold (the page after booking, the
    confirmation email): "You pay at the clinic. Nothing has been taken.", or with a
    deposit paid online "Deposit of £50.00 paid online. The rest, £430.00, is paid at the
    clinic."; "" for a free course or one booked before prices were kept."""
    if not course.price:
        return ""
    online = paid_online(course)
    if online <= 0:
        return gettext("You pay at the clinic. Nothing has been taken.")
    account = course_account(course)
    rest = account.due if account is not None else ZERO
    paid = money(online, course.currency)
    if rest <= 0:
        return gettext("You have paid %(paid)s online. There is nothing more to pay.") % {
            "paid": paid
        }
    return gettext(
        "Deposit of %(paid)s paid online. The rest, %(rest)s, is paid at the clinic."
    ) % {"paid": paid, "rest": money(rest, course.currency)}


def entry_words(entry) -> str:
    """A ledger entry as My appointments lists it, in the patient's terms: "Fee of £30.00",
    "You paid £100.00 by card". Its reason (and date) are shown beside it."""
    K = LedgerEntry.Kind
    amount = money(entry.amount, entry.currency)
    if entry.kind == K.PAYMENT:
        how = {
            LedgerEntry.Method.CARD: gettext("You paid %(amount)s by card"),
            LedgerEntry.Method.CASH: gettext("You paid %(amount)s in cash"),
            LedgerEntry.Method.VOUCHER: gettext("You paid %(amount)s with a voucher"),
            LedgerEntry.Method.ONLINE: gettext("You paid %(amount)s online"),
        }
        return how.get(entry.method, gettext("You paid %(amount)s")) % {"amount": amount}
    words = {
        K.ADDED: gettext("%(amount)s added to the price"),
        K.RELEASED: gettext("%(amount)s taken off the price"),
        K.FEE: gettext("Fee of %(amount)s"),
        K.KEPT: gettext("Deposit of %(amount)s kept"),
        K.USED: gettext("Session counted as used (%(amount)s)"),
        K.WAIVED: gettext("Policy not applied: nothing to pay"),
        K.WAIVER: gettext("%(amount)s waived"),
        K.REFUND: gettext("We refunded %(amount)s"),
        K.PAYMENT_REVERSED: gettext("A payment of %(amount)s corrected"),
        K.REFUND_REVERSED: gettext("A refund of %(amount)s corrected"),
    }.get(entry.kind, entry.get_kind_display())
    return words % {"amount": amount}
