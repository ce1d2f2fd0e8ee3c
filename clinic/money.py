"""Money: exact decimals in the clinic's currency, and what a course of sessions costs.

Amounts are `Decimal`s rounded to the currency's smallest unit (pennies for
GBP) with ROUND_HALF_UP, never floats. The currency is a setting
(`CLINIC_CURRENCY`, an ISO 4217 code, default GBP); every course keeps the
currency and prices it was sold at, so changing either applies to new
courses only. Written out by Babel, the way the page's locale writes money
("£450.00", "€1,450.50").

Pure functions: the treatment page, every booking step, the emails and the
ledger (booking/ledger/) all price a course here.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision
from django.conf import settings
from django.utils import translation

ZERO = Decimal("0")


def currency() -> str:
    return settings.CLINIC_CURRENCY


def exact(amount, code: str | None = None) -> Decimal:
    """`amount` rounded half up to the currency's smallest unit (2 places for GBP, 0 for JPY)."""
    places = get_currency_precision(code or currency())
    return Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(amount, code: str | None = None) -> str:
    """`amount` written with its currency for the active language, e.g. "£1,450.00"."""
    locale = translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE)
    return format_currency(exact(amount, code), code or currency(), locale=locale)


def shares(total: Decimal, count: int, code: str | None = None) -> list[Decimal]:
    """`total` split into `count` shares that add up to it exactly: the rounded share each,
    the pennies left over going to the first sessions (£500 over 3: 166.67, 166.67, 166.66)."""
    if count < 1:
        return []
    unit = Decimal(1).scaleb(-get_currency_precision(code or currency()))
    each = (exact(total, code) / count).quantize(unit, rounding="ROUND_DOWN")
    left = int((exact(total, code) - each * count) / unit)
    return [each + unit if i < left else each for i in range(count)]


@dataclass(frozen=True)
class CoursePrice:
    """What a course of `sessions` costs, and how it was worked out."""

    sessions: int
    session_price: Decimal  # the treatment's price for one session
    total: Decimal
    package: bool  # charged at the package's rate
    saving: Decimal  # against paying for each session on its own
    currency: str

    @property
    def free(self) -> bool:
        return self.total == ZERO

    @property
    def each(self) -> list[Decimal]:
        """What each session of the course is worth: the total, shared out to the penny."""
        return shares(self.total, self.sessions, self.currency)


def course_price(
    *,
    sessions: int,
    session_price: Decimal,
    package_price: Decimal | None,
    package_sessions: int,
    code: str | None = None,
) -> CoursePrice:
    """The price of a course of `sessions`.

    A package (`package_price` for a course of `package_sessions`, the treatment's
    usual number) sets a rate per session for courses of that many sessions or
    more: 4 sessions of a £480 package of 3 cost £640. Fewer sessions, or no
    package, cost `session_price` each. Never more than paying session by session.
    """
    code = code or currency()
    single = exact(session_price * sessions, code)
    if package_price is not None and package_sessions >= 1 and sessions >= package_sessions:
        total = min(exact(package_price * sessions / package_sessions, code), single)
        return CoursePrice(
            sessions, exact(session_price, code), total, total < single, single - total, code
        )
    return CoursePrice(sessions, exact(session_price, code), single, False, ZERO, code)


def deposit_amount(
    *, kind: str, value: Decimal, total: Decimal, code: str | None = None
) -> Decimal:
    """The online deposit on a course costing `total`: none ("none" or a free course), a
    fixed amount ("fixed"), or a percentage of the price ("percent"), rounded half up.
    Never more than the course costs."""
    if kind == "fixed":
        amount = exact(value, code)
    elif kind == "percent":
        amount = exact(total * value / 100, code)
    else:
        return ZERO
    return max(min(amount, exact(total, code)), ZERO)


def minor_units(amount: Decimal, code: str | None = None) -> int:
    """`amount` in the currency's smallest unit, as payment providers take it (£12.50: 1250)."""
    return int(exact(amount, code).scaleb(get_currency_precision(code or currency())))


def from_minor_units(units: int, code: str | None = None) -> Decimal:
    return exact(Decimal(units).scaleb(-get_currency_precision(code or currency())), code)


def treatment_course_price(treatment, sessions: int | None = None) -> CoursePrice:
    """A treatment's price for a course of `sessions` (its usual number when None)."""
    return course_price(
        sessions=sessions or treatment.sessions_usual,
        session_price=treatment.session_price,
        package_price=treatment.package_price,
        package_sessions=treatment.sessions_usual,
    )
