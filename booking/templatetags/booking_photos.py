"""A practitioner's picture on the patient's pages: their photo, or their initials.

    {% load booking_photos %}
    {% practitioner_picture practitioner %}           96 CSS pixels (the practitioner choice)
    {% practitioner_picture practitioner size=64 %}   smaller (the confirm step)

The photo is an <img> with its width and height (no jump while it loads), both
stored sizes in srcset (the larger for sharp screens), lazy loading and the alt
text staff wrote (booking/photos.py). Without a photo: the initials on a soft
colour, hidden from screen readers since the name is always written beside them.
"""

import re
import zlib

from django import template

from .. import photos

register = template.Library()

TITLES = {"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sister", "nurse"}
COLOURS = 5  # .initials-0 to .initials-4 in static/css/site.css


def initials(name: str) -> str:
    """'Dr Priya Demo (demo)' -> 'PD': without titles and words in brackets."""
    words = [w for w in re.sub(r"\([^)]*\)", " ", name).split() if w[0].isalpha()]
    words = [w for w in words if w.lower().rstrip(".") not in TITLES] or words
    return "".join(w[0] for w in words[:1] + words[1:][-1:]).upper()


@register.inclusion_tag("booking/includes/practitioner_picture.html")
def practitioner_picture(practitioner, size: int = 96) -> dict:
    context = {"practitioner": practitioner, "size": size}
    if practitioner.photo:
        small, large = (photos.photo_url(practitioner.photo, s) for s in photos.SIZES)
        context.update(src=small, srcset=f"{small} {photos.SIZES[0]}w, {large} {photos.SIZES[1]}w")
    else:
        context.update(
            initials=initials(practitioner.display_name),
            colour=zlib.crc32(practitioner.display_name.encode()) % COLOURS,
        )
    return context
