"""The course timeline: a pure function from a treatment's numbers to a drawing and its words.

One row per session (so no two markers can overlap, however close the gaps):
session 1 at the start; each later session drawn at the preferred gap after
the one before, inside a shaded band from the shortest to the longest gap
(its window), with a dotted line for the healing time before the band opens.
Under the rows, an axis in weeks (in days for a course shorter than two weeks).

Positions across are percentages of the drawing's width, and heights are CSS
pixels: the SVG has no viewBox, so its text stays at the page's own size on a
390 px phone and on a desktop, and only the spaces between things stretch.

The gaps are the treatment's own fields, read the way booking's rules read
them (booking/courses.py session_window: the next session lies between the
shortest and the longest gap after the one before; the plan puts it at the
preferred gap). Education never imports booking, so this takes the fields
as they are, and states no rule of its own.

The same numbers give the words: a title, a description of the picture and
one sentence per session, for people who cannot see it.
"""

import math
from dataclasses import dataclass

from django.utils.translation import gettext, ngettext

TOP = 8  # px above the first row
ROW = 34  # px per session row
DOT = 13  # the session marker's radius, px
BAND = 22  # the window band's height, px
AXIS_GAP = 6  # px between the last row and the axis line
TICK_LABEL = 20  # px from the axis line down to its numbers' baseline
AXIS_TITLE = 42  # px from the axis line down to the axis title's baseline
BOTTOM = 8  # px under the axis title
MOST_INTERVALS = 6  # axis labels: at most this many steps, so numbers never crowd a phone
WEEK_STEPS = (1, 2, 4, 8, 13, 26, 52, 104)
DAY_STEPS = (1, 2, 3, 7)


@dataclass(frozen=True)
class Row:
    """One session: its marker at the preferred gap, and (after the first) its window."""

    number: int
    day: int  # days after the first session, each gap at the preferred length
    x: float  # the marker, % of the width
    y: int  # the row's centre, px
    sentence: str
    healing_x: float | None = None  # the session before: the dotted line starts here
    window_x: float | None = None  # the band's left edge: the shortest gap
    window_width: float | None = None  # to the longest gap

    @property
    def band_top(self) -> int:
        return self.y - BAND // 2

    @property
    def has_band(self) -> bool:
        return bool(self.window_width)


@dataclass(frozen=True)
class Tick:
    x: float  # % of the width
    label: str


@dataclass(frozen=True)
class Timeline:
    sessions: int
    rows: tuple[Row, ...]
    ticks: tuple[Tick, ...]
    axis_y: int
    height: int
    title: str
    description: str
    axis_title: str
    band_words: str  # the key's words for a band: "When it can be: 4 to 6 weeks after ..."

    @property
    def id(self) -> str:
        """The figure's id, and its title's and description's stem: one per length a page shows."""
        return f"course-timeline-{self.sessions}"

    @property
    def top(self) -> int:
        return TOP

    @property
    def dot_radius(self) -> int:
        return DOT

    @property
    def band_height(self) -> int:
        return BAND

    @property
    def tick_label_y(self) -> int:
        return self.axis_y + TICK_LABEL

    @property
    def axis_title_y(self) -> int:
        return self.axis_y + AXIS_TITLE


def gap_words(days: int) -> str:
    """7 -> "1 week", 28 -> "4 weeks", 10 -> "10 days"."""
    if days % 7 == 0 and days:
        weeks = days // 7
        return ngettext("%(n)d week", "%(n)d weeks", weeks) % {"n": weeks}
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def gap_range_words(low: int, high: int) -> str:
    """28, 42 -> "4 to 6 weeks"; 10, 14 -> "10 to 14 days"; 28, 28 -> "4 weeks"."""
    if low == high:
        return gap_words(low)
    if low % 7 == 0 and high % 7 == 0 and low:
        return gettext("%(low)d to %(high)d weeks") % {"low": low // 7, "high": high // 7}
    return gettext("%(low)d to %(high)d days") % {"low": low, "high": high}


def _axis(last_day: int) -> tuple[bool, int, int]:
    """(in weeks?, step between labels, the axis's end) in the axis's unit."""
    in_weeks = last_day >= 14
    span = math.ceil(last_day / 7) if in_weeks else max(last_day, 1)
    steps = WEEK_STEPS if in_weeks else DAY_STEPS
    step = next((s for s in steps if math.ceil(span / s) <= MOST_INTERVALS), steps[-1])
    return in_weeks, step, math.ceil(span / step) * step


def _session_sentence(number: int, low: int, preferred: int, high: int, at: str) -> str:
    if low == high:
        return gettext("Session %(number)d: %(gap)s after session %(before)d (%(at)s).") % {
            "number": number,
            "gap": gap_words(preferred),
            "before": number - 1,
            "at": at,
        }
    return gettext(
        "Session %(number)d: %(gaps)s after session %(before)d. Best at %(best)s (%(at)s)."
    ) % {
        "number": number,
        "gaps": gap_range_words(low, high),
        "before": number - 1,
        "best": gap_words(preferred),
        "at": at,
    }


def _when(day: int, in_weeks: bool) -> str:
    """Where a session falls on the axis, in its unit: "week 4", "about week 13", "day 3"."""
    if not in_weeks:
        return gettext("day %(day)d") % {"day": day}
    if day % 7:
        return gettext("about week %(week)d") % {"week": round(day / 7)}
    return gettext("week %(week)d") % {"week": day // 7}


def course_timeline(treatment, sessions: int | None = None) -> Timeline | None:
    """The course of `sessions` sessions as a timeline; None when there is nothing to draw
    (one session, or a treatment with no gap).

    By default the usual course; when that is one session but more may be booked,
    two, so the page still shows how far apart they would be.
    """
    count = sessions
    if count is None:
        count = max(treatment.sessions_usual, min(2, treatment.sessions_max))
    low = treatment.spacing_min_days
    preferred = treatment.spacing_preferred_days
    high = treatment.spacing_max_days
    if count < 2 or high < 1:
        return None
    days = [(n - 1) * preferred for n in range(1, count + 1)]
    last_day = days[-2] + high  # the end of the last session's window
    in_weeks, step, end = _axis(last_day)
    end_days = end * 7 if in_weeks else end

    def x(day: int) -> float:
        return round(day / end_days * 100, 3)

    rows = [
        Row(
            1,
            0,
            0.0,
            TOP + ROW // 2,
            gettext("Session 1: your first visit (%(at)s).") % {"at": _when(0, in_weeks)},
        )
    ]
    for number in range(2, count + 1):
        before = days[number - 2]
        rows.append(
            Row(
                number,
                days[number - 1],
                x(days[number - 1]),
                TOP + ROW // 2 + (number - 1) * ROW,
                _session_sentence(number, low, preferred, high, _when(days[number - 1], in_weeks)),
                healing_x=x(before),
                window_x=x(before + low),
                window_width=round(x(before + high) - x(before + low), 3),
            )
        )
    ticks = tuple(
        Tick(round(value / end * 100, 3), str(value)) for value in range(0, end + 1, step)
    )
    axis_y = TOP + count * ROW + AXIS_GAP
    unit_title = (
        gettext("Weeks after your first session")
        if in_weeks
        else gettext("Days after your first session")
    )
    return Timeline(
        sessions=count,
        rows=tuple(rows),
        ticks=ticks,
        axis_y=axis_y,
        height=axis_y + AXIS_TITLE + BOTTOM,
        title=ngettext(
            "A course of %(count)d session over time",
            "A course of %(count)d sessions over time",
            count,
        )
        % {"count": count},
        description=_description(low, preferred, high, in_weeks),
        axis_title=unit_title,
        band_words=_band_words(low, high),
    )


def _band_words(low: int, high: int) -> str:
    """The key's words for a window band (none when every gap is the same length)."""
    if low == high:
        return ""
    return gettext("When it can be: %(gaps)s after the session before") % {
        "gaps": gap_range_words(low, high)
    }


def _description(low: int, preferred: int, high: int, in_weeks: bool) -> str:
    unit = gettext("weeks") if in_weeks else gettext("days")
    opening = gettext(
        "A timeline in %(unit)s. Each session is a numbered dot, on a row of its own. "
        "A dotted line shows your skin healing after the session before."
    ) % {"unit": unit}
    if low == high:
        then = gettext("Each dot comes %(gap)s after the one before.") % {
            "gap": gap_words(preferred)
        }
    else:
        then = gettext(
            "Then a shaded band shows when the session can be: %(gaps)s later. "
            "The dot marks the best time, %(best)s later."
        ) % {"gaps": gap_range_words(low, high), "best": gap_words(preferred)}
    return f"{opening} {then}"


def course_timelines(treatment) -> list[Timeline]:
    """A timeline for each length of course a patient may book that has one to draw."""
    lengths = range(max(treatment.sessions_min, 2), treatment.sessions_max + 1)
    return [t for n in lengths if (t := course_timeline(treatment, n)) is not None]
