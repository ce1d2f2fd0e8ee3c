"""The refusals a write service raises; each `message` is for the person asking."""

from collections.abc import Sequence

from django.utils.translation import gettext_lazy as _

from ..availability import Slot
from ..courses import PlannedSession


class BookingError(Exception):
    """A request the clinic's rules refuse; `message` is for the patient, `rule` the
    rulebook's name for the rule broken, when one is."""

    def __init__(self, message: str, *, alternatives: Sequence[Slot] = (), rule: str = ""):
        message = str(message)  # a lazy translation becomes text once, where it is raised
        super().__init__(message)
        self.message = message
        self.alternatives = list(alternatives)
        self.rule = rule


class SlotTaken(BookingError):
    """The time was free a moment ago and is not now."""


TAKEN_MESSAGE = _("That time has just been booked. Here are the nearest free times.")


class NeedsReplan(BookingError):
    """The change would leave later sessions of the course outside their windows.

    `proposals` say where each of them could go (course_replan's choice, the
    same practitioner first); the caller offers them, and asks again with
    `also` holding the ones the person accepted. Declining is only possible by
    choosing another change: nothing that breaks the course is ever stored.
    """

    def __init__(self, message: str, *, proposals: Sequence[PlannedSession], waivable: bool = True):
        super().__init__(message)
        self.proposals = list(proposals)
        self.waivable = waivable  # staff may keep them, with a reason (a window, not the order)
