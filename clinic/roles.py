"""Staff roles: the groups and what each may do, kept in one place.

A migration creates them and `seed_demo` re-applies them (both idempotent).
ACCESS is the one table of who may see and change what (role x model x
fields x scope): the groups' permissions come from it, and the admin classes
read their scope and hidden fields from it (booking/admin/base.py).
"""

from dataclasses import dataclass

RECEPTION, CLINICIAN, CONTENT_EDITOR = "Reception", "Clinician", "Content editor"
ALL, OWN = "all", "own"  # every row, or the rows of the user's own practitioner
CRUD = ("view", "add", "change", "delete")


@dataclass(frozen=True)
class Access:
    """What one role may do with one model's rows in the admin."""

    actions: tuple[str, ...]  # Django's model permissions: view, add, change, delete
    scope: str = ALL  # OWN: a clinician's own sessions, their courses, patients and notes
    hidden: tuple[str, ...] = ()  # fields (or admin columns) this role never sees


# Who may see and change what: role x model x fields x scope. The role groups'
# permissions are made from it (ROLES), the admin classes read the scope and the
# hidden fields from it (booking/admin/base.py), and tests/staff/test_roles.py
# checks every cell against what the admin answers. A superuser (the clinic's
# owner) has every right and sees every field.
ACCESS: dict[str, dict[str, Access]] = {
    RECEPTION: {
        "booking.patient": Access(("view", "add", "change")),
        # Reception books, moves and takes payments; the health answers are for the
        # clinicians who treat (UK GDPR: health data only to those who need it).
        # Reception still hears them when it books by phone, and records them there.
        "booking.course": Access(("view",), hidden=("answers",)),
        "booking.session": Access(("view",)),
        "booking.reminder": Access(("view", "change")),  # change: the retry action
        "booking.practitioner": Access(("view", "change")),  # not the account link: OWNER_ONLY
        "booking.workinghours": Access(CRUD),
        "booking.timeoff": Access(CRUD),
        "booking.clinicclosure": Access(CRUD),
        "booking.consenttext": Access(("view", "add")),
        # The waitlist (booking/admin/waitlist.py): reception sees who waits and each
        # offer's outcome, offers a time by hand (TASKS) and pauses the automatic offers
        # (add: the settings' first save). The health answers given on joining are the
        # clinicians', as a course's are.
        "booking.waitlistentry": Access(("view",), hidden=("answers",)),
        "booking.offer": Access(("view",)),
        "booking.waitlistsettings": Access(("view", "add", "change")),
        # The course ledger (booking/ledger/): reception takes payments, gives refunds,
        # waives the cancellation policy and corrects slips, always as new entries
        # (TASKS); nobody changes or deletes an entry.
        "booking.ledgerentry": Access(("view",)),
        "booking.receiptsent": Access(("view",)),
        # Online deposits (booking/deposits/): each checkout and the Stripe events seen,
        # read only. The health answers kept to book the course once paid are the
        # clinicians', as a course's are.
        "booking.depositcheckout": Access(("view",), hidden=("answers",)),
        "booking.paymentevent": Access(("view",)),
    },
    CLINICIAN: {
        "booking.session": Access(("view",), OWN),
        # A course is theirs when it is theirs or one of its sessions is (a shared
        # patient's other courses are not): the same scope as the sessions.
        # Not the reminder log: reminders are reception's, and it spans the whole course.
        "booking.course": Access(("view",), OWN, hidden=("reminder_log",)),
        "booking.patient": Access(("view",), OWN),
        "booking.clinicalnote": Access(("view", "add", "change"), OWN),
        # Not the waitlist: offering times is reception's. A time held for an offer shows
        # on their schedule as held, without whose it is.
    },
    CONTENT_EDITOR: {
        **{
            f"education.{model}": Access(CRUD)
            for model in (
                "treatment",
                "topic",
                "article",
                "faq",
                "contributor",
                "source",
                "suitabilityquestion",
                "newsletterissue",
            )
        },
        # Subscribers are email addresses: seen and removed, never edited.
        "education.newslettersubscriber": Access(("view", "delete")),
        "education.newsletterdelivery": Access(("view",)),
    },
}
# Permissions that are not about one model's rows (booking/models.py, Meta.permissions).
TASKS: dict[str, list[str]] = {
    RECEPTION: [
        "booking.view_schedule",
        "booking.book_by_phone",
        "booking.reschedule_session",
        "booking.mark_attendance",
        "booking.offer_by_hand",  # and withdraw a live offer
        "booking.record_payment",  # payments, refunds, corrections, receipts
        "booking.waive_policy",
    ],
    CLINICIAN: ["booking.view_schedule", "booking.mark_attendance"],
    CONTENT_EDITOR: [],
}
# Fields that widen what an account can reach: the owner's alone (a superuser),
# shown read-only to anyone else, and offering staff accounts only.
OWNER_ONLY: dict[str, tuple[str, ...]] = {
    "booking.practitioner": ("user",),
    "clinic.user": ("is_staff", "is_superuser", "groups", "user_permissions"),
}

ROLES: dict[str, list[str]] = {
    role: [
        *TASKS[role],
        *(
            f"{label.split('.')[0]}.{action}_{label.split('.')[1]}"
            for label, access in models.items()
            for action in access.actions
        ),
    ]
    for role, models in ACCESS.items()
}


def _roles_of(user) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    if not hasattr(user, "_role_names"):
        user._role_names = [n for n in user.groups.values_list("name", flat=True) if n in ACCESS]
    return user._role_names


def scope_of(user, label: str) -> str | None:
    """ALL, OWN or None (no access) for `user` and the model `label` ("booking.course")."""
    if getattr(user, "is_superuser", False):
        return ALL
    scopes = {ACCESS[role][label].scope for role in _roles_of(user) if label in ACCESS[role]}
    return ALL if ALL in scopes else OWN if scopes else None


def hidden_fields(user, label: str) -> set[str]:
    """The fields of `label` that `user` never sees: hidden by every role that sees the model."""
    if getattr(user, "is_superuser", False):
        return set()
    found = [set(ACCESS[r][label].hidden) for r in _roles_of(user) if label in ACCESS[r]]
    return set.intersection(*found) if found else set()


def owner_only_fields(user, label: str) -> set[str]:
    return set() if getattr(user, "is_superuser", False) else set(OWNER_ONLY.get(label, ()))


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
