"""Booking in the admin, one module per job; importing them registers their pages.

Courses and sessions are never edited as rows here: every change goes through
booking/services/, the same rules the patient's journey uses.
"""

from . import (  # noqa: F401 - imported for their admin.register side effects
    deposits,
    ledger,
    notes,
    patients,
    practitioners,
    reminders,
    rules,
    schedule,
    sessions,
    waitlist,
)
