"""Reception sees the online deposits (clinic/roles.py): each checkout and the Stripe events
seen, read only.

Added to the existing group, never set: a clinic may have changed its groups since
0002, and what it added or took away stays so. The names are written out here, as
they were when this ran, not read from roles.py, which moves on.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTED = {
    "Reception": [
        ("booking", "view_depositcheckout"),
        ("booking", "view_paymentevent"),
    ]
}


def _permissions(apps, wanted):
    permission_model = apps.get_model("auth", "Permission")
    return [
        p
        for app_label, codename in wanted
        if (
            p := permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
        )
    ]


def grant(apps, schema_editor):
    # Permissions are normally made after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    for name, wanted in GRANTED.items():
        # A missing group is made whole by post_migrate (clinic/roles.py roles_restore).
        for group in group_model.objects.filter(name=name):
            group.permissions.add(*_permissions(apps, wanted))


def revoke(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for name, wanted in GRANTED.items():
        for group in group_model.objects.filter(name=name):
            group.permissions.remove(*_permissions(apps, wanted))


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0005_ledger_roles"),
        ("booking", "0020_online_deposits"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
