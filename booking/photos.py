"""Practitioners' photos: checked, squared, resized and stripped of metadata, in one place.

An upload is refused before Pillow decodes it when it is too big in bytes, and
before its pixels are read when it is too big in pixels (Pillow's own
decompression-bomb warning counts as too big too). It is taken only when
Pillow finds a JPEG, PNG or WebP in it: its name and the browser's content
type are not asked. What comes out is new pixels, not the upload: turned the
way the camera's EXIF says, in sRGB, cropped to a square and saved as WebP
at each size the pages show, with no EXIF, GPS, ICC profile, XMP or comment.

Each size is stored as ``practitioners/<stem>-<size>.webp`` in the default
storage (MEDIA_ROOT), the stem a hash of the pictures themselves: a new photo
gets new names, so the photo view can let browsers keep a file for a year
(booking/views/photos.py). A practitioner row keeps the stem. Writes to the
row (and removing files no row names any more) are in
booking/services/practitioners.py.
"""

import contextlib
import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_BYTES = 8 * 1024 * 1024  # a phone's photo is 2 to 5 MB
MAX_SIDE = 6000  # pixels; 6000 x 6000 RGB is 108 MB once decoded
MIN_SIDE = 192  # the largest size made: anything smaller would be blown up
FORMATS = ("JPEG", "PNG", "WEBP")
# The pictures' sizes in pixels: 96 is what the pages show (CSS pixels), 192 the
# same for screens with two device pixels to one (phones, most laptops).
SIZES = (96, 192)
FOLDER = "practitioners"
NAME = re.compile(r"(?P<stem>[0-9a-f]{20})-(?P<size>96|192)\.webp")
QUALITY = 82  # WebP: a 192 px face in 6 to 10 kB without visible loss
# Faces sit above the middle of most portraits: crop a little higher than centre.
CENTRING = (0.5, 0.4)

TOO_BIG_BYTES = _(
    "This file is larger than 8 MB. Choose a smaller photo, or save it at a lower "
    "quality, then upload it again."
)
WRONG_TYPE = _(
    "This file is not a JPEG, PNG or WebP picture. Save the photo in one of those "
    "formats and upload it again."
)
TOO_MANY_PIXELS = _(
    "This photo is too large: it can be at most 6000 by 6000 pixels. Make it smaller "
    "in a photo editor and upload it again."
)
TOO_FEW_PIXELS = _(
    "This photo is too small: it needs to be at least 192 by 192 pixels. Choose a larger photo."
)
DAMAGED = _(
    "This photo could not be read: the file may be damaged or only partly copied. "
    "Open it on your computer, save a new copy, and upload that."
)


class PhotoRefused(ValueError):
    """An upload that is not taken, with what to do about it (for a form error)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class PhotoFiles:
    """A photo made ready to store: the WebP bytes at each of SIZES, and their stem."""

    stem: str
    files: dict[int, bytes]


def photo_names(stem: str) -> list[str]:
    """The storage names of the files of the photo `stem`, smallest first."""
    return [f"{FOLDER}/{stem}-{size}.webp" for size in SIZES]


def photo_url(stem: str, size: int) -> str:
    return reverse("booking:practitioner_photo", args=[f"{stem}-{size}.webp"])


def storage():
    return storages["default"]


def _read_bounded(upload) -> bytes:
    """The upload's bytes, refused unread past MAX_BYTES (its size is known for an upload)."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise PhotoRefused(TOO_BIG_BYTES)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise PhotoRefused(TOO_BIG_BYTES)
    return data


def _decoded(data: bytes) -> Image.Image:
    """The picture in `data`, its pixels read, or PhotoRefused saying why not."""
    with warnings.catch_warnings():
        # Past Image.MAX_IMAGE_PIXELS Pillow only warns (and past twice that, raises).
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=FORMATS)
        except UnidentifiedImageError:
            raise PhotoRefused(WRONG_TYPE) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRefused(TOO_MANY_PIXELS) from None
        except Exception:  # a header Pillow recognises but cannot parse
            raise PhotoRefused(DAMAGED) from None
        width, height = image.size
        if width > MAX_SIDE or height > MAX_SIDE:
            raise PhotoRefused(TOO_MANY_PIXELS)
        if min(width, height) < MIN_SIDE:
            raise PhotoRefused(TOO_FEW_PIXELS)
        # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale: far faster for a camera's
        # photo, and still at least twice the largest size on its short side.
        image.draft("RGB", (2 * SIZES[-1], 2 * SIZES[-1]))
        try:
            image.load()  # truncated or damaged data fails here, not at open()
        except Exception:
            raise PhotoRefused(DAMAGED) from None
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Turned as the EXIF orientation says (a phone held sideways); unchanged if unreadable."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a damaged EXIF block: the pixels are still good
        return image


def _srgb(image: Image.Image) -> Image.Image:
    """RGB in the sRGB colour space, transparent parts on white.

    The ICC profile is applied, not kept: a wide-gamut phone photo (Display P3)
    would look dull if its profile were just dropped.
    """
    profile = image.info.get("icc_profile")
    if image.mode in ("P", "PA", "LA", "RGBA", "La", "RGBa") or "transparency" in image.info:
        flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
        flat.alpha_composite(image.convert("RGBA"))
        image = flat.convert("RGB")
    if profile:
        # A broken or unusual profile: the colours as they are.
        with contextlib.suppress(Exception):
            return ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
    return image.convert("RGB")


def _webp(image: Image.Image) -> bytes:
    # A new image holds the pixels only: nothing of the upload's info (EXIF, ICC,
    # XMP, comments) can reach the file, whatever the encoder would copy.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, "WEBP", quality=QUALITY, method=6)
    return out.getvalue()


def photo_prepare(upload) -> PhotoFiles:
    """Check an uploaded photo and make its files; PhotoRefused when it cannot be used.

    `upload`: a file object (an UploadedFile in a form). Nothing is stored here.
    """
    image = _srgb(_upright(_decoded(_read_bounded(upload))))
    factor = min(image.size) // (2 * SIZES[-1])
    if factor > 1:  # a quick box reduction first (a 6000 px PNG), then the fine one
        image = image.reduce(factor)
    largest = ImageOps.fit(image, (SIZES[-1], SIZES[-1]), Image.Resampling.LANCZOS, 0, CENTRING)
    files = {
        size: _webp(
            largest if size == SIZES[-1] else largest.resize((size, size), Image.Resampling.LANCZOS)
        )
        for size in SIZES
    }
    digest = hashlib.sha256(b"".join(files[size] for size in SIZES)).hexdigest()[:20]
    return PhotoFiles(stem=digest, files=files)


def photo_store(photo: PhotoFiles) -> None:
    """Write the photo's files (a file already there has the same bytes: its name says so)."""
    files = storage()
    for name, size in zip(photo_names(photo.stem), SIZES, strict=True):
        if files.exists(name):
            continue
        saved = files.save(name, ContentFile(photo.files[size]))
        if saved != name:  # written by another request meanwhile: ours is a copy
            files.delete(saved)


def photo_delete(stem: str) -> None:
    """Remove the photo's files (missing ones are no error)."""
    files = storage()
    for name in photo_names(stem):
        files.delete(name)


def photo_open(name: str):
    """The stored file called `name` (as in a photo's URL), or None if there is none."""
    if not NAME.fullmatch(name):
        return None
    try:
        return storage().open(f"{FOLDER}/{name}", "rb")
    except FileNotFoundError:
        return None
