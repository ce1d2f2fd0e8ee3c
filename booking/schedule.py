"""The staff schedule: each practitioner's day as blocks of time, and the grid that shows it.

A pure layout (`day_plan`, `day_grid`, `export_rows`) fed by booking/selectors/
`schedule_data`, which reads through the one availability read. Everything is
worked out on UTC instants; wall-clock times are only labels. So the day the
clocks change has a 23- or 25-hour grid, as the clock on the wall does, and
nothing is placed by adding hours to a local midnight.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .availability import Shift
from .courses import end_of_day
from .export import PHONE_COLUMN, SESSION_COLUMNS
from .models import Session
from .schedule_marks import StatusMark, initials, status_mark

# What a stretch of a practitioner's day is, lowest priority first: where two
# overlap the later one shows, so a session booked before the time off was
# entered is still on the screen.
OUT, BREAK, FREE, OFF = "out", "break", "free", "off"
CLOSED, OTHER, SESSION = "closed", "other", "session"
LABELS = {
    OUT: _("Not working"),
    BREAK: _("Break"),
    FREE: _("Free"),
    OFF: _("Time off"),
    CLOSED: _("Clinic closed"),
    OTHER: _("Busy: another treatment"),
    SESSION: _("Session"),
}
GRID_STEP_MINUTES = 5  # a grid row's height is a whole number of these (the stylesheet's .span-N)


@dataclass(frozen=True)
class Entry:
    """A session as the schedule shows it."""

    pk: int
    practitioner_id: int
    practitioner: str
    start: datetime
    end: datetime
    times: str  # wall time, "10:00–11:15"
    status: str
    number: int
    sessions_planned: int
    patient: str
    phone: str
    treatment_id: int
    treatment: str
    consent_to_sign: bool = False  # the course's paper consent form is still to be signed
    # A hold: until when, in wall time ("12:00", with its day when that is not the hold's
    # own), and what for: the waitlist entry it is offered to (booking/waitlist/), or the
    # online deposit its patient is paying (booking/deposits/).
    held_until: str = ""
    waitlist_entry_id: int | None = None
    checkout_id: int | None = None
    colour: int = 0  # the practitioner's place in schedule_marks.PALETTE

    @property
    def is_hold(self) -> bool:
        """A time held (for a waitlist offer, or while a deposit is paid): nobody's
        appointment yet, and no course."""
        return self.status == Session.Status.HELD

    @property
    def held_for(self) -> str:
        """What a hold is for: "deposit" (an online deposit being paid) or "waitlist"."""
        return "deposit" if self.checkout_id is not None else "waitlist"

    @property
    def number_of(self) -> str:
        if self.is_hold:
            return ""
        return gettext("%(number)d of %(planned)d") % {
            "number": self.number,
            "planned": self.sessions_planned,
        }

    @property
    def hold_label(self) -> str:
        if self.held_for == "deposit":
            return gettext("Held while the patient pays a deposit, until %(time)s") % {
                "time": self.held_until
            }
        return gettext("Held for a waitlist offer until %(time)s") % {"time": self.held_until}

    @property
    def status_label(self) -> str:
        return self.hold_label if self.is_hold else Session.Status(self.status).label

    @property
    def status_mark(self) -> StatusMark:
        mark = status_mark(self.status)
        return replace(mark, label=self.hold_label) if self.is_hold else mark

    @property
    def initials(self) -> str:
        return initials(self.practitioner)

    @property
    def cancelled(self) -> bool:
        return self.status == Session.Status.CANCELLED


@dataclass(frozen=True)
class Away:
    start: datetime
    end: datetime
    reason: str = ""


@dataclass(frozen=True)
class Roster:
    """One practitioner's weekly hours and their time off around the dates shown."""

    practitioner_id: int
    name: str
    shifts: tuple[Shift, ...] = ()
    time_off: tuple[Away, ...] = ()
    colour: int = 0


@dataclass(frozen=True)
class Opening:
    """A time in a free gap that a phone booking can start at (the day view's links)."""

    start: datetime
    time: str  # wall time, "14:00"
    practitioner: str
    url: str


@dataclass(frozen=True)
class Block:
    kind: str
    start: datetime
    end: datetime
    times: str
    entries: tuple[Entry, ...] = ()
    note: str = ""  # the time off's reason, the closure's name
    openings: tuple[Opening, ...] = ()  # FREE only: where a booking may start

    @property
    def label(self) -> str:
        return str(LABELS[self.kind])

    @property
    def minutes(self) -> int:
        return round((self.end.timestamp() - self.start.timestamp()) / 60)


@dataclass(frozen=True)
class Column:
    practitioner_id: int
    name: str
    hours: str  # the day's working hours, "09:00–13:00, 14:00–17:00"
    blocks: tuple[Block, ...]
    colour: int = 0

    @property
    def initials(self) -> str:
        return initials(self.name)

    @property
    def free(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == FREE]

    @property
    def shown(self) -> list[Block]:
        """Everything but the hours outside work (the week's compact list)."""
        return [b for b in self.blocks if b.kind != OUT]


@dataclass(frozen=True)
class Day:
    day: date
    start: datetime  # the grid's first and last hour marks
    end: datetime
    closure: str | None
    columns: tuple[Column, ...]
    entries: tuple[Entry, ...]  # the day list: sessions shown, by start


@dataclass(frozen=True)
class Cell:
    block: Block
    rows: int


@dataclass(frozen=True)
class Row:
    label: str
    on_hour: bool
    size: int  # height in GRID_STEP_MINUTES
    cells: tuple[Cell | None, ...]  # None where a block from a row above carries on


class _Layer(NamedTuple):
    kind: str
    start: datetime
    end: datetime
    entries: tuple[Entry, ...] = ()
    note: str = ""


def wall(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    return f"{wall(start, zone)}–{wall(end, zone)}"


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, as UTC instants (23, 24 or 25 hours)."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    return start, end_of_day(day, zone).astimezone(UTC)


def hour_marks(day: date, zone: ZoneInfo) -> list[datetime]:
    """Each hour the wall clock shows that day, from local midnight: 23 or 25 on a change."""
    start, end = day_bounds(day, zone)
    return [start + timedelta(hours=h) for h in range(int((end - start).total_seconds()) // 3600)]


def _hours_on(
    day: date, zone: ZoneInfo, shifts: Sequence[Shift]
) -> list[tuple[datetime, datetime]]:
    def at(wall_time: time) -> datetime:
        return datetime.combine(day, wall_time, tzinfo=zone).astimezone(UTC)

    return sorted((at(s.start), at(s.end)) for s in shifts if s.weekday == day.weekday())


def _window(day: date, zone: ZoneInfo, spans: list[tuple[datetime, datetime]]):
    """From the hour mark before the first thing on the day to the one after the last."""
    marks = hour_marks(day, zone)
    _, day_end = day_bounds(day, zone)
    if not spans:
        spans = _hours_on(day, zone, [Shift(day.weekday(), time(9), time(17))])
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    start = max((m for m in marks if m <= first), default=marks[0])
    end = min((m for m in marks if m >= last), default=day_end)
    return start, end


def _clusters(entries: Sequence[Entry]) -> list[list[Entry]]:
    """Overlapping sessions together (a cancelled one and the one booked in its place)."""
    clusters: list[list[Entry]] = []
    for entry in sorted(entries, key=lambda e: (e.start, e.pk)):
        if clusters and entry.start < max(e.end for e in clusters[-1]):
            clusters[-1].append(entry)
        else:
            clusters.append([entry])
    return clusters


def _paint(layers: list[_Layer], start: datetime, end: datetime, zone: ZoneInfo):
    """Cut [start, end) wherever a layer starts or ends; each piece shows the top layer on it."""
    cuts = sorted(
        {start, end, *(t for la in layers for t in (la.start, la.end) if start < t < end)}
    )
    blocks: list[Block] = []
    current, since = None, start
    for a, b in zip(cuts, cuts[1:], strict=False):
        top = max(i for i, la in enumerate(layers) if la.start <= a and la.end >= b)
        if top != current:
            if current is not None:
                blocks.append(_block(layers[current], since, a, zone))
            current, since = top, a
    blocks.append(_block(layers[current], since, end, zone))
    return tuple(blocks)


def _block(layer: _Layer, start: datetime, end: datetime, zone: ZoneInfo) -> Block:
    return Block(layer.kind, start, end, span(start, end, zone), layer.entries, layer.note)


def day_plan(
    *,
    day: date,
    zone: ZoneInfo,
    rosters: Sequence[Roster],
    entries: Sequence[Entry],
    closures: Mapping[date, str],
    treatment_id: int | None = None,
) -> Day:
    """One column per roster, cut into blocks; sessions of another treatment than
    `treatment_id` show only as busy time, so the free gaps stay true."""
    day_start, day_end = day_bounds(day, zone)
    ids = {r.practitioner_id for r in rosters}
    todays = [
        e for e in entries if e.practitioner_id in ids and e.start < day_end and e.end > day_start
    ]
    shown = [e for e in todays if treatment_id in (None, e.treatment_id)]
    shown_pks = {e.pk for e in shown}
    held = [e for e in todays if e.pk in shown_pks or not e.cancelled]
    hours = {r.practitioner_id: _hours_on(day, zone, r.shifts) for r in rosters}
    window = _window(
        day, zone, [h for hs in hours.values() for h in hs] + [(e.start, e.end) for e in held]
    )
    by_practitioner = defaultdict(list)
    for entry in held:
        by_practitioner[entry.practitioner_id].append(entry)
    closure = closures.get(day)
    columns = []
    for roster in rosters:
        shifts = hours[roster.practitioner_id]
        layers = [_Layer(OUT, *window)]
        layers += [
            _Layer(BREAK, e1, s2)
            for (_, e1), (s2, _) in zip(shifts, shifts[1:], strict=False)
            if s2 > e1
        ]
        layers += [_Layer(FREE, s, e) for s, e in shifts]
        layers += [_Layer(OFF, a.start, a.end, note=a.reason) for a in roster.time_off]
        if closure is not None:
            layers.append(_Layer(CLOSED, *window, note=closure))
        for cluster in _clusters(by_practitioner[roster.practitioner_id]):
            mine = tuple(e for e in cluster if e.pk in shown_pks)
            first, last = min(e.start for e in cluster), max(e.end for e in cluster)
            layers.append(_Layer(SESSION if mine else OTHER, first, last, mine))
        columns.append(
            Column(
                roster.practitioner_id,
                roster.name,
                ", ".join(span(s, e, zone) for s, e in shifts),
                _paint(layers, *window, zone),
                roster.colour,
            )
        )
    ordered = tuple(sorted(shown, key=lambda e: (e.start, e.practitioner, e.pk)))
    return Day(day, *window, closure, tuple(columns), ordered)


def day_grid(plan: Day, zone: ZoneInfo) -> list[Row]:
    """Table rows cut at every hour mark and every block's edge; each block is a cell
    spanning its rows (rowspan: no inline style, which the Content Security Policy forbids)."""
    marks = {m for m in hour_marks(plan.day, zone) if plan.start <= m < plan.end}
    edges = {t for c in plan.columns for b in c.blocks for t in (b.start, b.end)}
    cuts = sorted(marks | edges | {plan.start, plan.end})
    index = {t: i for i, t in enumerate(cuts)}
    cells = {
        (index[b.start], n): Cell(b, index[b.end] - index[b.start])
        for n, column in enumerate(plan.columns)
        for b in column.blocks
    }
    rows = []
    for i, (a, b) in enumerate(zip(cuts, cuts[1:], strict=False)):
        size = round((b - a).total_seconds() / 60 / GRID_STEP_MINUTES)
        rows.append(
            Row(
                wall(a, zone),
                a in marks,
                min(max(size, 1), 60 // GRID_STEP_MINUTES),
                tuple(cells.get((i, n)) for n in range(len(plan.columns))),
            )
        )
    return rows


def with_openings(
    plan: Day,
    starts: Mapping[int, Sequence[datetime]],
    zone: ZoneInfo,
    link: Callable[[int, datetime], str],
) -> Day:
    """`plan` with each free gap offering the times a booking may start in it.

    `starts`: each practitioner's free start times (from the slot finder, so the
    booking rules are its); `link(practitioner_id, start)` the page that books one.
    A gap offers its first start and then each later one on the hour: a way in at
    every hour of the gap without a link every quarter of an hour.
    """
    columns = []
    for column in plan.columns:
        free = sorted(starts.get(column.practitioner_id, ()))
        blocks = []
        for block in column.blocks:
            inside = [t for t in free if block.start <= t < block.end]
            if block.kind == FREE and inside:
                shown = [inside[0], *(t for t in inside[1:] if t.astimezone(zone).minute == 0)]
                openings = tuple(
                    Opening(t, wall(t, zone), column.name, link(column.practitioner_id, t))
                    for t in shown
                )
                block = replace(block, openings=openings)
            blocks.append(block)
        columns.append(replace(column, blocks=tuple(blocks)))
    return replace(plan, columns=tuple(columns))


def export_rows(plan: Day, zone: ZoneInfo, *, contact: bool = True) -> list[list]:
    """The day list as CSV rows (booking/export.py makes each cell sheet-safe); without
    the phone column for staff who may not see patients' contact details."""

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    keep = [n for n in range(len(SESSION_COLUMNS)) if contact or n != PHONE_COLUMN]
    rows = [[SESSION_COLUMNS[n] for n in keep]]
    for e in plan.entries:
        row = [local(e.start), local(e.end), e.practitioner, e.patient, e.phone, e.treatment]
        row += [e.number_of, e.status_label]
        rows.append([row[n] for n in keep])
    return rows


@dataclass(frozen=True)
class ScheduleData:
    """What the schedule of some dates shows (booking/selectors/ schedule_data)."""

    rosters: list[Roster]
    entries: list[Entry]
    closures: dict[date, str]
    treatments: list[tuple[int, str]]
