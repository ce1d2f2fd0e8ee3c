"""How the staff schedule marks who and what: each practitioner's colour and initials, and
each session status's word and symbol.

Colour is never the only mark (WCAG 1.4.1): a session also carries its practitioner's
initials (their name beside, for screen readers) and its status in words with a symbol.
The colours are class names (`who-0`...), not inline styles, which the Content Security
Policy forbids; static/css/admin-schedule.css holds the same values as PALETTE
(tests/staff/test_schedule_marks.py checks they agree and that each pair of text and
background reaches WCAG AA's 4.5:1).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .models import Session


@dataclass(frozen=True)
class Colour:
    tint: str  # a session's background, under TEXT
    strong: str  # its edge, and the background of the initials' badge under ON_STRONG


# Eight colours apart in hue; a clinic with more practitioners repeats them, which is
# why the initials and names are always there too.
PALETTE = (
    Colour("#dbeafe", "#1d4ed8"),  # blue
    Colour("#dcfce7", "#15803d"),  # green
    Colour("#fef3c7", "#b45309"),  # amber
    Colour("#ede9fe", "#6d28d9"),  # purple
    Colour("#fce7f3", "#be185d"),  # pink
    Colour("#ccfbf1", "#0f766e"),  # teal
    Colour("#ffedd5", "#c2410c"),  # orange
    Colour("#e2e8f0", "#334155"),  # slate
)
TEXT = "#1f2937"
ON_STRONG = "#ffffff"


def _luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of '#rrggbb'."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG's contrast ratio of two '#rrggbb' colours, from 1 to 21."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def colours_by_practitioner(practitioner_ids: Iterable[int]) -> dict[int, int]:
    """Each practitioner's place in PALETTE: by the order they were added (their ids),
    so a practitioner keeps their colour on every day, view and filter, and for every
    user; the first eight added never share one."""
    return {pk: n % len(PALETTE) for n, pk in enumerate(sorted(practitioner_ids))}


_TITLES = {"dr", "mr", "mrs", "ms", "mx", "miss", "prof", "nurse"}


def initials(name: str) -> str:
    """'Dr Priya Demo (demo)' -> 'PD': the first letters of the name's first and last
    words, leaving out a title and anything in brackets."""
    words = [w for w in re.sub(r"\(.*?\)", " ", name).split() if w[:1].isalpha()]
    named = [w for w in words if w.rstrip(".").lower() not in _TITLES] or words
    if not named:
        return "?"
    picked = named if len(named) == 1 else [named[0], named[-1]]
    return "".join(w[0] for w in picked).upper()


@dataclass(frozen=True)
class StatusMark:
    value: str
    label: str  # Session.Status's own label: "Booked", "No-show"...
    symbol: str  # beside the word, never instead of it


# A status's symbol. A status added to Session.Status is shown with its label and
# OTHER_SYMBOL until it has a line here.
SYMBOLS = {
    Session.Status.BOOKED: "○",
    Session.Status.ARRIVED: "➜",
    Session.Status.ATTENDED: "✓",
    Session.Status.NO_SHOW: "✗",
    Session.Status.CANCELLED: "⊘",
    Session.Status.HELD: "◔",  # a clock face part gone: kept for a while (a waitlist offer)
}
OTHER_SYMBOL = "•"


def status_mark(value: str) -> StatusMark:
    status = Session.Status(value)
    return StatusMark(status.value, str(status.label), SYMBOLS.get(status, OTHER_SYMBOL))


def status_marks() -> list[StatusMark]:
    """Every session status, in Session.Status's order (the schedule's key)."""
    return [status_mark(value) for value in Session.Status.values]
