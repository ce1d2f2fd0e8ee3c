"""What My appointments shows: the patient's courses in the order that matters to them."""

from datetime import datetime

from ..models import Course, Patient, Session


def courses_by_next_session(*, patient: Patient, now: datetime) -> list[Course]:
    """The patient's courses, each with its sessions (and their practitioners) read.

    Courses with a booked session still to come come first, the soonest next
    session first: that is what the patient needs next, whenever the course
    began. Then the courses with nothing to come, the one whose last session
    (cancelled ones too) was most recent first. Ties: the course booked first.
    """
    courses = list(
        patient.courses.select_related("treatment", "practitioner").prefetch_related(
            "sessions__practitioner"
        )
    )

    def order(course: Course) -> tuple:
        sessions = course.sessions.all()
        to_come = [s.start for s in sessions if s.status == Session.Status.BOOKED and s.start > now]
        if to_come:
            return (0, min(to_come).timestamp(), course.created_at)
        last = max((s.start for s in sessions), default=course.created_at)
        return (1, -last.timestamp(), course.created_at)

    return sorted(courses, key=order)
