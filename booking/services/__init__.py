"""Writes: the only way a course or session is created, moved or cancelled.

Each service runs in one transaction, locks the practitioner rows (then the
patient's, always in that order), re-checks the times against fresh data and
only then writes. PostgreSQL's exclusion constraints are the last guard: a
conflict that slips past the re-check comes back as SlotTaken with the nearest
free alternatives, never as an IntegrityError.

One module per concern: accounts (the patient and their account), book (a new
course), moves, cancels, extend (sessions added to a course, or booked again),
practitioners (a practitioner with their photo's files);
checks holds what they share (locks, the re-check, refusals and overrides),
errors the refusals.
Callers use this package's names: `from booking import services`.
"""

from .accounts import account_create, patient_create, patient_register
from .book import course_book, online_agreement
from .cancels import course_cancel, course_status_after_cancel, session_cancel
from .checks import is_clinician, nearest_alternatives, staff_rules
from .errors import TAKEN_MESSAGE, BookingError, NeedsReplan, SlotTaken
from .extend import course_extend, extension_proposals, session_rebook
from .moves import MoveResult, session_move
from .practitioners import UNCHANGED, photo_forget, practitioner_save

__all__ = [
    "TAKEN_MESSAGE",
    "UNCHANGED",
    "BookingError",
    "MoveResult",
    "NeedsReplan",
    "SlotTaken",
    "account_create",
    "course_book",
    "course_cancel",
    "course_extend",
    "course_status_after_cancel",
    "extension_proposals",
    "is_clinician",
    "nearest_alternatives",
    "online_agreement",
    "patient_create",
    "patient_register",
    "photo_forget",
    "practitioner_save",
    "session_cancel",
    "session_move",
    "session_rebook",
    "staff_rules",
]
