"""The health questions' answers, kept in the patient's own session so they are asked once.

"Is it right for me?" and the booking journey ask the same questions
(education.SuitabilityQuestion). "Is it right for me?" stores nothing: a
visitor who only checks leaves no session behind. Its result's "Book" button
posts the answers back (`carried`), and booking keeps them (`keep_posted`) in
the server-side session (never in a URL or a cookie's value: they are health
data) for that treatment and its questions version, as the journey's own
questions step does. A new journey reads them back (`recall`) for the patient
to review instead of asking again. Answers to an older version of the
questions are not carried: the questions changed, so they are asked again.
Signing out ends the session and the answers.
"""

from dataclasses import dataclass

from . import selectors
from .models import SuitabilityQuestion, Treatment
from .suitability import Suitability, suitability_outcome

SESSION_KEY = "health_check"
ANSWERS = ("yes", "no")


@dataclass(frozen=True)
class Answers:
    treatment: Treatment
    version: int
    given: dict[str, str]  # question id -> "yes" / "no"

    def answered_yes(self, questions: list[SuitabilityQuestion]) -> list[SuitabilityQuestion]:
        return [q for q in questions if self.given.get(str(q.pk)) == "yes"]

    def outcome(self, questions: list[SuitabilityQuestion]) -> Suitability:
        return suitability_outcome(self.answered_yes(questions))


def complete(given: dict, questions: list[SuitabilityQuestion]) -> bool:
    """An answer, yes or no, to every one of `questions`."""
    return all(given.get(str(q.pk)) in ANSWERS for q in questions)


def remember(request, treatment: Treatment, given: dict, version: int) -> None:
    """Keep the answers given to `treatment`'s questions at `version`."""
    kept = {str(q): a for q, a in given.items() if a in ANSWERS}
    request.session[SESSION_KEY] = {
        "treatment": treatment.slug,
        "version": version,
        "answers": kept,
    }


def recall(request, treatment: Treatment) -> Answers | None:
    """The answers kept for `treatment`, if they answer all of its current questions."""
    kept = request.session.get(SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("treatment") != treatment.slug:
        return None
    given = kept.get("answers")
    if kept.get("version") != treatment.questions_version or not isinstance(given, dict):
        return None
    if not complete(given, list(treatment.questions.all())):
        return None
    return Answers(treatment, treatment.questions_version, dict(given))


def recall_any(request) -> str | None:
    """The slug of the treatment whose answers are kept, if any."""
    kept = request.session.get(SESSION_KEY)
    return kept.get("treatment") if isinstance(kept, dict) else None


def carried(treatment: Treatment, given: dict, version: int) -> list[tuple[str, str]]:
    """The hidden fields a results page's "Book" button posts: see `keep_posted`."""
    return [
        ("health_treatment", treatment.slug),
        ("health_version", str(version)),
        *((f"q{q}", a) for q, a in given.items() if a in ANSWERS),
    ]


def keep_posted(request) -> bool:
    """Keep the answers posted by a results page's "Book" button, when they answer every
    one of the treatment's current questions."""
    treatment = selectors.treatment_published(request.POST.get("health_treatment", ""))
    if treatment is None or request.POST.get("health_version") != str(treatment.questions_version):
        return False
    questions = list(treatment.questions.all())
    given = {str(q.pk): request.POST.get(f"q{q.pk}", "") for q in questions}
    if not complete(given, questions):
        return False
    remember(request, treatment, given, treatment.questions_version)
    return True
