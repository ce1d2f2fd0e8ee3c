"""Freed time names its practitioner without a database foreign key: noting it took a share
lock on the practitioner's row after an offer's row, a deadlock with an accept."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0017_waitlist_every_ten_seconds"),
    ]

    operations = [
        migrations.AlterField(
            model_name="freedtime",
            name="practitioner",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="booking.practitioner",
            ),
        ),
    ]
