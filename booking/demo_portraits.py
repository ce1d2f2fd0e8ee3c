"""The demo practitioners' pictures: simple head-and-shoulders drawings made with Pillow.

Drawn at seed time (no image files in the repository), then stored through the
same checks and resizing as a photo staff upload (booking/photos.py). The same
drawing gives the same bytes, so seeding again stores nothing new.
"""

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

SIDE = 480  # drawn at twice this and scaled down, for smooth edges
SCALE = 2


@dataclass(frozen=True)
class Look:
    background: str
    skin: str
    hair: str
    tunic: str
    hair_style: str  # "long", "short" or "curly"
    alt: str


LOOKS = [
    Look(
        "#d8ecea", "#a86f4c", "#2b1d16", "#1f3b5a", "long",
        "Demo drawing in place of a photo: Priya, with long dark hair and a navy tunic.",
    ),
    Look(
        "#e6e0f3", "#e7b99a", "#a0652e", "#0b5d5b", "short",
        "Demo drawing in place of a photo: Jamie, with short brown hair and a teal tunic.",
    ),
    Look(
        "#f6e3d6", "#c68a63", "#3a3a3a", "#5b2a4a", "curly",
        "Demo drawing in place of a photo: Alex, with short curly hair and a plum tunic.",
    ),
]  # fmt: skip


def portrait(look: Look) -> bytes:
    """A PNG of a head and shoulders in `look`'s colours."""
    size = SIDE * SCALE
    image = Image.new("RGB", (size, size), look.background)
    draw = ImageDraw.Draw(image)

    def box(x0, y0, x1, y1):  # fractions of the side, as pixels
        return [round(v * size) for v in (x0, y0, x1, y1)]

    if look.hair_style == "long":  # hair falling behind the shoulders
        draw.rounded_rectangle(
            box(0.32, 0.24, 0.68, 0.76), radius=round(0.15 * size), fill=look.hair
        )
    draw.ellipse(box(0.12, 0.70, 0.88, 1.42), fill=look.tunic)  # shoulders
    draw.rounded_rectangle(box(0.44, 0.50, 0.56, 0.76), radius=round(0.04 * size), fill=look.skin)
    v_neck = [(0.41, 0.72), (0.59, 0.72), (0.50, 0.83)]
    draw.polygon([(x * size, y * size) for x, y in v_neck], fill=look.skin)
    if look.hair_style == "curly":
        curls = [(0.36, 0.33), (0.39, 0.25), (0.46, 0.205), (0.54, 0.205), (0.61, 0.25),
                 (0.64, 0.33), (0.50, 0.24)]  # fmt: skip
        draw.ellipse(box(0.33, 0.19, 0.67, 0.47), fill=look.hair)
        for x, y in curls:
            draw.ellipse(box(x - 0.07, y - 0.065, x + 0.07, y + 0.065), fill=look.hair)
    else:  # the top of the head; the face drawn over it leaves a curved hairline
        draw.ellipse(box(0.345, 0.21, 0.655, 0.52), fill=look.hair)
    draw.ellipse(box(0.37, 0.29, 0.63, 0.61), fill=look.skin)  # face
    out = io.BytesIO()
    # Closer in: the head and shoulders fill the circle the pages show it in.
    closer = image.crop(box(0.11, 0.12, 0.89, 0.90))
    closer.resize((SIDE, SIDE), Image.Resampling.LANCZOS).save(out, "PNG")
    return out.getvalue()
