"""Small image files made in memory for the photo tests, good and bad."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms

MB = 1024 * 1024


def image_bytes(size=(400, 300), fmt="JPEG", colour=(200, 120, 90), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt, **save)
    return out.getvalue()


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def camera_jpeg() -> bytes:
    """A phone's photo held sideways: left half red, right half blue, stored 400 x 300 with
    EXIF orientation 6 (turn 90 degrees clockwise to view), a GPS position, the camera's
    name, an ICC profile and a comment."""
    image = Image.new("RGB", (400, 300), (255, 0, 0))
    image.paste((0, 0, 255), (200, 0, 400, 300))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 12.5)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, icc_profile=srgb, comment=b"Taken at 12 Home Street")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that says it is width x height pixels, in a few bytes: its pixels are never
    there, so a check that decodes before looking at the size would fail differently."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    """A real JPEG cut off half way, as after a broken copy."""
    data = image_bytes((600, 600), quality=95)
    return data[: len(data) // 2]
