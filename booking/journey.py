"""The booking journey's state, kept in the patient's session between steps.

Nothing of it goes in a URL (suitability answers and treatments are health
data). Every step reads it, checks the steps before are done, and sends the
patient to the first missing one otherwise, so a reload or the back button
always lands somewhere sensible.
"""

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from education.models import Treatment

from .availability import Slot
from .courses import Window, session_window
from .rulebook import spacing_of

SESSION_KEY = "booking_journey"

# The steps in order. A step's page is shown only when every step before it is done.
STEPS = [
    "treatment",
    "length",
    "questions",
    "practitioner",
    "time",
    "plan",
    "account",
    "consent",
    "confirm",
]


def slot_value(slot: Slot) -> str:
    """How a slot travels in a form: '<ISO start>|<practitioner id>'."""
    return f"{slot.start.isoformat()}|{slot.practitioner_id}"


def parse_slot(value: str, treatment: Treatment) -> Slot | None:
    try:
        start_text, practitioner_text = (value or "").split("|")
        start = datetime.fromisoformat(start_text)
        practitioner_id = int(practitioner_text)
    except (ValueError, TypeError):
        return None
    if start.tzinfo is None:
        return None
    return Slot(start, start + timedelta(minutes=treatment.appointment_minutes), practitioner_id)


@dataclass
class Journey:
    key: str = field(default_factory=lambda: uuid.uuid4().hex)  # the booking's idempotency key
    treatment: str | None = None  # slug
    sessions: int | None = None
    answers: dict[str, str] = field(default_factory=dict)  # question id -> "yes" / "no"
    answers_version: int | None = None  # the questions version they answer
    answers_carried: bool = False  # from "Is it right for me?" (education/health_check.py)
    answered: bool = False  # the patient answered, or reviewed the carried answers
    practitioner: int | None = None  # None: anyone
    practitioner_chosen: bool = False
    plan: list[str] = field(default_factory=list)  # slot values, session 1 first
    consent: int | None = None  # ConsentText id agreed to
    consultation_for: str | None = None  # the treatment whose answers led here

    @classmethod
    def load(cls, request) -> "Journey":
        data = request.session.get(SESSION_KEY)
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(**data)
        except TypeError:  # an older shape: start again
            return cls()

    def save(self, request) -> None:
        request.session[SESSION_KEY] = asdict(self)

    @staticmethod
    def clear(request) -> None:
        request.session.pop(SESSION_KEY, None)

    def slots(self, treatment: Treatment) -> list[Slot | None]:
        return [parse_slot(value, treatment) if value else None for value in self.plan]

    def first_missing(self, treatment: Treatment | None, *, is_patient: Callable[[], bool]) -> str:
        """The first step not yet done: where a patient who skips ahead is sent.
        `is_patient` is asked only when the steps before "account" are done."""
        if treatment is None:
            return "treatment"
        if self.sessions is None:
            return "length"
        answers_due = not self.answered or self.answers_version != treatment.questions_version
        if answers_due and not self.consultation_for and treatment.questions.exists():
            return "questions"
        if not self.practitioner_chosen:
            return "practitioner"
        if not self.plan:
            return "time"
        if any(not value for value in self.plan):
            return "plan"
        if not is_patient():
            return "account"
        if self.consent is None:
            return "consent"
        return "confirm"

    def windows(self, treatment: Treatment, zone) -> list[Window | None]:
        """Each planned session's window after the one before it (None for the first)."""
        slots = self.slots(treatment)
        spacing = spacing_of(treatment)
        return [
            session_window(slots[i - 1].start, spacing, zone) if i and slots[i - 1] else None
            for i in range(len(slots))
        ]
