"""List every course that breaks a booking rule, so the clinic can mend it.

Databases that predate a rule keep working (migrations never refuse old rows);
this says which courses to look at and what each breaks. Exit status 1 when
any does, so a deploy script can warn. The admin shows the same list
(Courses, "Breaks a booking rule" filter).
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from booking.selectors import clinic_zone, courses_breaking_rules


class Command(BaseCommand):
    help = "List the courses that break a booking rule (booking/rulebook.py)."

    def handle(self, *args, **options):
        found = courses_breaking_rules(now=timezone.now())
        zone = clinic_zone()
        for entry in found:
            course = entry.course
            first = min((s.start for s in course.sessions.all()), default=None)
            when = f"{first.astimezone(zone):%d %b %Y}" if first else "no sessions"
            self.stdout.write(f"Course {course.pk} ({course.treatment}, from {when}):")
            for breach in entry.breaches:
                self.stdout.write(f"  - {breach.rule}: {breach.message}")
        self.stdout.write(f"{len(found)} course(s) break a booking rule.")
        if found:
            raise SystemExit(1)
