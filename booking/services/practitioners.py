"""Saving a practitioner with their photo: the files and the row agree, and no file is left over.

A new photo's files are written before the row names them (a page never links
to a file not yet there) and removed again when the row is refused. Files the
row no longer names (a photo replaced or removed, a practitioner deleted) are
removed once the transaction commits: a save that is rolled back still has
its files. A file two practitioners share (the same picture uploaded twice)
stays while either names it.

One case leaves files behind: a new photo's files written by a save whose
transaction is rolled back later, outside practitioner_save (nothing tells a
file it was rolled back). `manage.py photos_tidy` removes such files.
"""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from .. import photos
from ..models import Practitioner
from ..photos import PhotoFiles


class _Unchanged:
    def __repr__(self):
        return "UNCHANGED"


UNCHANGED = _Unchanged()  # practitioner_save(photo=...): keep the photo the row has


def photo_forget(stem: str) -> None:
    """Remove the files of the photo `stem` unless a practitioner still names it."""
    if stem and not Practitioner.objects.filter(photo=stem).exists():
        photos.photo_delete(stem)


def practitioner_save(
    *, practitioner: Practitioner, photo: PhotoFiles | None | _Unchanged = UNCHANGED
) -> Practitioner:
    """Save `practitioner` with a new photo, with none (None), or with the one it has.

    Raises ValidationError (and stores nothing) when the row is not valid, for
    example a photo without its description.
    """
    stored = Practitioner.objects.filter(pk=practitioner.pk) if practitioner.pk else None
    old = (stored.values_list("photo", flat=True).first() if stored is not None else "") or ""
    new = photo if isinstance(photo, PhotoFiles) else None
    if not isinstance(photo, _Unchanged):
        practitioner.photo = new.stem if new else ""
    if new:
        photos.photo_store(new)
    try:
        with transaction.atomic():
            practitioner.full_clean()
            practitioner.save()
    except Exception:
        if new and new.stem != old:
            photo_forget(new.stem)
        raise
    if old and old != practitioner.photo:
        transaction.on_commit(partial(photo_forget, old))
    return practitioner


def practitioner_deleted(sender, instance: Practitioner, **kwargs) -> None:
    """post_delete (booking/apps.py): the photo's files go once the deletion commits."""
    if instance.photo:
        transaction.on_commit(partial(photo_forget, instance.photo))


def photo_files_unused(*, older_than: timedelta = timedelta(hours=1)) -> list[str]:
    """Photo files no practitioner names, last written more than `older_than` ago.

    The age spares the files of a save still in progress (written, not yet committed).
    """
    files = photos.storage()
    if not files.exists(photos.FOLDER):
        return []
    used = set(Practitioner.objects.exclude(photo="").values_list("photo", flat=True))
    cutoff = timezone.now() - older_than
    unused = []
    for name in sorted(files.listdir(photos.FOLDER)[1]):
        found = photos.NAME.fullmatch(name)
        path = f"{photos.FOLDER}/{name}"
        if found and found["stem"] not in used and files.get_modified_time(path) < cutoff:
            unused.append(path)
    return unused
