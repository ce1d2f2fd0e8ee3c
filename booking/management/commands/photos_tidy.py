"""Remove photo files that no practitioner names (see booking/services/practitioners.py).

Replacing, removing and deleting already remove their files; this finds the
few a rolled-back save can leave. Files written in the last hour are kept: a
save may still be on its way.
"""

from django.core.management.base import BaseCommand

from booking import photos
from booking.services.practitioners import photo_files_unused


class Command(BaseCommand):
    help = "Remove practitioners' photo files that no practitioner uses (older than an hour)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List them, remove nothing.")

    def handle(self, *args, **options):
        unused = photo_files_unused()
        for name in unused:
            self.stdout.write(name)
            if not options["dry_run"]:
                photos.storage().delete(name)
        verb = "would be removed" if options["dry_run"] else "removed"
        self.stdout.write(f"{len(unused)} unused photo file(s) {verb}.")
