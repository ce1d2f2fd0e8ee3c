"""Prices on the booking pages and emails (booking/prices.py writes them out).

{% load booking_prices %}
{{ journey_price|total_words }}   "£270.00", or "free"
{{ course|sold_price }}           what the course was sold for, "" before prices were kept
{{ course|paid_words }}           how it is paid: at the clinic, or a deposit paid online
"""

from django import template
from django.utils.translation import gettext

from clinic.money import money

from ..prices import entry_words, paid_words, sold_price_words

register = template.Library()


@register.filter
def total_words(price) -> str:
    """A CoursePrice's total alone: "£270.00", or "free"."""
    if price is None:
        return ""
    return gettext("free") if price.free else money(price.total, price.currency)


@register.filter
def sold_price(course) -> str:
    return sold_price_words(course)


register.filter("paid_words", paid_words)


@register.filter
def ledger_words(entry) -> str:
    """A ledger entry in the patient's terms (booking/prices.py entry_words)."""
    return entry_words(entry)


@register.filter
def sentence(words: str) -> str:
    """A reason written as a note ("Session 1 cancelled") ended as a sentence."""
    words = (words or "").strip()
    return words if not words or words[-1] in ".!?" else f"{words}."
