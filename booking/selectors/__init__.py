"""Reads: what the pages, the services and the pure availability and planning
functions need from the database.

One module per concern: free_times (the one availability read and the slot
finder on it), plans (course proposals and changes to a planned session),
course_rules (the booking rules across a patient's courses), people (the
signed-in user's patient record), staff_schedule (what the staff schedule
shows), appointments (what My appointments lists). Callers use this package's
names: `from booking import selectors`.
"""

from .appointments import (
    courses_by_next_session,
    courses_with_money,
    rebook_refusal,
    session_to_book_again,
    waitlist_of,
)
from .course_rules import (
    CourseBreaches,
    courses_breaking_rules,
    new_course_breaches,
    next_course_start,
    previous_active,
    treatment_history,
)
from .free_times import (
    AvailabilityInputs,
    availability_inputs,
    bookable_bounds,
    clinic_zone,
    free_slots,
    practitioners_for,
    slot_finder,
    slot_is_free,
    slot_picker,
)
from .people import patient_of
from .plans import (
    MovePreview,
    course_proposal,
    later_sessions_replan,
    move_preview,
    plan_session_change,
    plan_session_choices,
)
from .staff_schedule import free_starts, schedule_data

__all__ = [
    "AvailabilityInputs",
    "CourseBreaches",
    "MovePreview",
    "availability_inputs",
    "bookable_bounds",
    "clinic_zone",
    "course_proposal",
    "courses_by_next_session",
    "courses_breaking_rules",
    "courses_with_money",
    "free_slots",
    "free_starts",
    "later_sessions_replan",
    "move_preview",
    "new_course_breaches",
    "next_course_start",
    "patient_of",
    "plan_session_change",
    "plan_session_choices",
    "practitioners_for",
    "previous_active",
    "rebook_refusal",
    "schedule_data",
    "session_to_book_again",
    "slot_finder",
    "slot_is_free",
    "slot_picker",
    "treatment_history",
    "waitlist_of",
]
