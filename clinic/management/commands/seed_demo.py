import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from booking import demo as booking_demo
from clinic import demo as clinic_demo
from education import demo as education_demo

# Each app's demo data, in dependency order.
SEEDERS = (clinic_demo.seed, education_demo.seed, booking_demo.seed)


class Command(BaseCommand):
    help = "Load the demo clinic, staff and patient (idempotent; refused in production)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--quiet-logins", action="store_true", help="Do not print the demo logins."
        )

    def handle(self, *args, **options):
        if not getattr(settings, "SEED_DEMO_ALLOWED", True):
            raise CommandError(
                "seed_demo is refused under production settings: it creates "
                "accounts with published passwords."
            )
        counts = {}
        # The services log each booking at INFO: dozens of lines nobody asked for here.
        quiet = options["verbosity"] < 2
        if quiet:
            logging.disable(logging.INFO)
        try:
            with transaction.atomic():  # all the demo data or none
                for seeder in SEEDERS:
                    counts.update(seeder())
        finally:
            if quiet:
                logging.disable(logging.NOTSET)
        # Counted once everything is in: the patients' accounts come with the bookings.
        summary = ", ".join(f"{rows.count()} {name}" for name, rows in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({summary})."))
        if not options["quiet_logins"]:
            self.stdout.write("\n".join(clinic_demo.login_lines()))
