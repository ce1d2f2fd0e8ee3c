"""The course timeline (education/diagrams.py): right for any treatment's numbers.

A pure function: these tests need no database.
"""

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from education.diagrams import (
    MOST_INTERVALS,
    course_timeline,
    course_timelines,
    gap_range_words,
    gap_words,
)


def treatment(usual=3, low=28, preferred=28, high=42, fewest=1, most=6):
    return SimpleNamespace(
        sessions_usual=usual,
        sessions_min=fewest,
        sessions_max=most,
        spacing_min_days=low,
        spacing_preferred_days=preferred,
        spacing_max_days=high,
    )


def test_microneedling_s_usual_course_in_weeks():
    timeline = course_timeline(treatment())
    assert timeline.sessions == 3
    assert [r.day for r in timeline.rows] == [0, 28, 56]
    assert [r.x for r in timeline.rows] == [0, 40, 80]  # the axis runs to week 10
    assert [t.label for t in timeline.ticks] == ["0", "2", "4", "6", "8", "10"]
    assert timeline.axis_title == "Weeks after your first session"
    second, third = timeline.rows[1:]
    assert (second.healing_x, second.window_x, second.window_width) == (0, 40, 20)
    assert (third.healing_x, third.window_x, third.window_width) == (40, 80, 20)
    assert [r.sentence for r in timeline.rows] == [
        "Session 1: your first visit (week 0).",
        "Session 2: 4 to 6 weeks after session 1. Best at 4 weeks (week 4).",
        "Session 3: 4 to 6 weeks after session 2. Best at 4 weeks (week 8).",
    ]
    assert timeline.title == "A course of 3 sessions over time"
    assert "4 to 6 weeks later" in timeline.description
    assert "best time, 4 weeks later" in timeline.description
    assert timeline.band_words == "When it can be: 4 to 6 weeks after the session before"


def test_one_session_has_nothing_to_draw():
    consultation = treatment(usual=1, low=0, preferred=0, high=0, most=1)
    assert course_timeline(consultation) is None
    assert course_timelines(consultation) == []
    assert course_timeline(treatment(), sessions=1) is None


def test_a_usual_course_of_one_still_shows_two_when_more_may_be_booked():
    assert course_timeline(treatment(usual=1)).sessions == 2


def test_a_fixed_gap_has_no_band_and_says_so():
    timeline = course_timeline(treatment(usual=2, low=7, preferred=7, high=7, most=2))
    assert not timeline.rows[1].has_band
    assert timeline.axis_title == "Days after your first session"  # under two weeks in all
    assert timeline.band_words == ""
    assert "Each dot comes 1 week after the one before." in timeline.description
    assert timeline.rows[1].sentence == "Session 2: 1 week after session 1 (day 7)."


def test_long_gaps_in_days_count_weeks_on_a_short_axis():
    timeline = course_timeline(treatment(usual=12, low=90, preferred=90, high=90, most=12))
    assert [t.label for t in timeline.ticks][:3] == ["0", "26", "52"]
    assert len(timeline.ticks) <= MOST_INTERVALS + 1
    assert timeline.rows[-1].sentence == "Session 12: 90 days after session 11 (about week 141)."


def test_gaps_that_are_not_whole_weeks_are_said_in_days():
    timeline = course_timeline(treatment(usual=3, low=10, preferred=14, high=21))
    assert timeline.rows[1].sentence == (
        "Session 2: 10 to 21 days after session 1. Best at 2 weeks (week 2)."
    )


def test_the_booking_step_gets_one_timeline_per_length_that_has_one():
    assert [t.sessions for t in course_timelines(treatment(fewest=1, most=6))] == [2, 3, 4, 5, 6]
    assert [t.sessions for t in course_timelines(treatment(fewest=3, most=4))] == [3, 4]
    ids = {t.id for t in course_timelines(treatment(most=12))}
    assert len(ids) == 11  # each figure's ids differ on one page


@pytest.mark.parametrize(
    ("days", "words"), [(1, "1 day"), (10, "10 days"), (7, "1 week"), (28, "4 weeks")]
)
def test_gap_words(days, words):
    assert gap_words(days) == words


def test_gap_range_words():
    assert gap_range_words(28, 42) == "4 to 6 weeks"
    assert gap_range_words(28, 45) == "28 to 45 days"
    assert gap_range_words(14, 14) == "2 weeks"


@settings(max_examples=200, deadline=None)
@given(
    sessions=st.integers(2, 12),
    low=st.integers(1, 120),
    extra_preferred=st.integers(0, 60),
    extra_high=st.integers(0, 60),
)
def test_every_timeline_fits_its_drawing_and_says_every_session(
    sessions, low, extra_preferred, extra_high
):
    preferred = low + extra_preferred
    high = preferred + extra_high
    timeline = course_timeline(
        treatment(low=low, preferred=preferred, high=high, most=12), sessions
    )
    assert [r.number for r in timeline.rows] == list(range(1, sessions + 1))
    assert [r.sentence.split(":")[0] for r in timeline.rows] == [
        f"Session {n}" for n in range(1, sessions + 1)
    ]
    ys = [r.y for r in timeline.rows]
    assert ys == sorted(set(ys)) and ys[-1] < timeline.axis_y < timeline.height
    for before, row in zip(timeline.rows, timeline.rows[1:], strict=False):
        assert row.healing_x == before.x  # healing starts at the session before
        assert row.window_x <= row.x <= row.window_x + row.window_width + 1e-6
        assert row.window_x >= 0 and row.window_x + row.window_width <= 100 + 1e-6
    labels = [int(t.label) for t in timeline.ticks]
    assert timeline.ticks[0].x == 0 and timeline.ticks[-1].x == 100
    assert labels == sorted(labels) and len(labels) <= MOST_INTERVALS + 1
