"""The staff roles (groups) with their permissions: clinic/roles.py."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def roles_create(apps, schema_editor):
    # Permissions are normally made after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    from clinic.roles import roles_apply

    roles_apply(apps, strict=False)


def roles_remove(apps, schema_editor):
    from clinic.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("booking", "0007_staff_tools_history_notes"),
        ("education", "0003_stored_search_vectors"),
    ]

    operations = [migrations.RunPython(roles_create, roles_remove)]
