"""What a set of "yes" answers means for booking (a pure function).

The booking journey asks the same questions and reaches the same outcome.
"""

from enum import StrEnum

from .models import SuitabilityQuestion


class Suitability(StrEnum):
    BOOK = "book"  # no "yes": book online
    CONSULT = "consult"  # talk to a clinician first: offer a consultation
    NOT_SUITABLE = "not_suitable"  # not now: explain, no online booking


def suitability_outcome(answered_yes: list[SuitabilityQuestion]) -> Suitability:
    outcomes = {question.outcome for question in answered_yes}
    if SuitabilityQuestion.Outcome.NOT_SUITABLE in outcomes:
        return Suitability.NOT_SUITABLE
    if SuitabilityQuestion.Outcome.CONSULT in outcomes:
        return Suitability.CONSULT
    return Suitability.BOOK
