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


def roles_apply(apps, *, strict: bool = True) -> None:
    """Create the groups and give each exactly its permissions (`apps`: a registry).

    A migration passes strict=False: a permission of a model added by a later
    migration does not exist yet there (that migration applies the roles again).
    """
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, wanted in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
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
