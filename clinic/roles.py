"""Staff roles: the groups and what each may do, kept in one place.

A migration creates them and `seed_demo` re-applies them (both idempotent).
Permissions say which admin pages a role may open; the admin querysets add
the object-level limits (a clinician sees their own sessions and patients),
see booking/admin/base.py.
"""

RECEPTION, CLINICIAN, CONTENT_EDITOR = "Reception", "Clinician", "Content editor"


def _crud(app: str, *models: str, actions=("view", "add", "change", "delete")) -> list[str]:
    return [f"{app}.{action}_{model}" for model in models for action in actions]


ROLES: dict[str, list[str]] = {
    RECEPTION: [
        "booking.view_schedule",
        "booking.book_by_phone",
        "booking.reschedule_session",
        "booking.mark_attendance",
        "booking.view_session",
        *_crud("booking", "patient", actions=("view", "add", "change")),
        *_crud("booking", "course", actions=("view",)),
        *_crud("booking", "reminder", actions=("view", "change")),  # change: the retry action
        *_crud("booking", "practitioner", actions=("view", "change")),
        *_crud("booking", "workinghours", "timeoff", "clinicclosure"),
        *_crud("booking", "consenttext", actions=("view", "add")),
    ],
    CLINICIAN: [
        "booking.view_schedule",
        "booking.mark_attendance",
        "booking.view_session",
        "booking.view_course",
        "booking.view_patient",
        *_crud("booking", "clinicalnote", actions=("view", "add", "change")),
    ],
    CONTENT_EDITOR: [
        *_crud(
            "education",
            "treatment",
            "topic",
            "article",
            "faq",
            "contributor",
            "source",
            "suitabilityquestion",
            "newsletterissue",
        ),
        # Subscribers are email addresses: seen and removed, never edited.
        *_crud("education", "newslettersubscriber", actions=("view", "delete")),
        *_crud("education", "newsletterdelivery", actions=("view",)),
    ],
}


def roles_apply(apps, *, strict: bool = True, only_missing: bool = False) -> None:
    """Create the groups and give each exactly its permissions (`apps`: a registry).

    A migration passes strict=False: a permission of a model added by a later
    migration does not exist yet there (that migration applies the roles again).
    only_missing=True creates a missing group and leaves existing ones as the
    clinic may have changed them (after every migrate, and after a flush).
    """
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, wanted in ROLES.items():
        group, created = group_model.objects.get_or_create(name=name)
        if only_missing and not created:
            continue
        found = []
        for label in wanted:
            app_label, codename = label.split(".")
            permission = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None:
                if not strict:
                    continue
                raise LookupError(f"role {name!r}: no permission {label!r}")
            found.append(permission)
        group.permissions.set(found)


def roles_restore(sender, **kwargs) -> None:
    """post_migrate: bring back a role group that is gone (a flush empties the tables,
    and tests that use transactions flush after each test).

    Django sends post_migrate once per app; only at the last one do all the
    apps' permissions exist.
    """
    from django.apps import apps as installed

    if sender is list(installed.get_app_configs())[-1]:
        roles_apply(installed, strict=False, only_missing=True)
