"""Practitioners' photos, served by the app itself in every environment (no DEBUG-only route).

A file's name is a hash of its content (booking/photos.py), so a browser or a
proxy may keep it for a year without asking again: a new photo has a new name.
Only names of that exact shape are looked up, so no other file, and no path
outside the photos' folder, can be asked for.
"""

from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from .. import photos

A_YEAR = 365 * 24 * 60 * 60


@require_safe
def practitioner_photo(request, name: str):
    opened = photos.photo_open(name)
    if opened is None:
        raise Http404
    response = FileResponse(opened, content_type="image/webp")
    response["Cache-Control"] = f"public, max-age={A_YEAR}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
