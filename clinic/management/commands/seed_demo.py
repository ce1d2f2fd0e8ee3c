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
        with transaction.atomic():  # all the demo data or none
            for seeder in SEEDERS:
                counts.update(seeder())
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({summary})."))
        if not options["quiet_logins"]:
            self.stdout.write("Demo logins (for this laptop only):")
            for login in clinic_demo.DEMO_LOGINS:
                self.stdout.write(
                    f"  {login.role:<14} {login.email:<22} password: {login.password}"
                )
