"""Practitioners' photos: what an upload becomes, where it is kept, when it goes, how it
is served, and how the patient's pages show it."""

import io
import os
import re
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from PIL import Image

from booking import photos, services
from booking.models import ConsentText
from booking.photos import PhotoRefused, photo_prepare
from tests.booking.factories import PractitionerFactory
from tests.booking.images import (
    MB,
    camera_jpeg,
    image_bytes,
    png_header_only,
    truncated_jpeg,
    upload,
)


@pytest.fixture
def media(settings, tmp_path):
    """MEDIA_ROOT in a folder of this test's own; `media()` lists the files in it."""
    settings.MEDIA_ROOT = tmp_path / "media"

    def files() -> list[str]:
        root = settings.MEDIA_ROOT
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    return files


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- What an upload becomes ------------------------------------------------------------


def test_a_photo_becomes_squares_at_each_size_the_pages_use_with_no_metadata():
    photo = photo_prepare(upload(camera_jpeg()))
    assert sorted(photo.files) == [96, 192]
    for size, data in photo.files.items():
        image = opened(data)
        assert (image.format, image.size, image.mode) == ("WEBP", (size, size), "RGB")
        # No EXIF (so no GPS position or camera), no ICC profile, XMP or comment.
        assert not image.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
        for chunk in (b"EXIF", b"ICCP", b"XMP ", b"Exif", b"PhoneCam", b"Home Street"):
            assert chunk not in data
        # Turned as the EXIF said: the stored left half (red) is now the top.
        red, green, blue = image.getpixel((size // 2, size // 10))
        assert red > 200 and blue < 60
        red, green, blue = image.getpixel((size // 2, size - size // 10))
        assert blue > 200 and red < 60


def test_the_same_picture_gets_the_same_name_and_another_picture_another():
    first, again = photo_prepare(upload(camera_jpeg())), photo_prepare(upload(camera_jpeg()))
    other = photo_prepare(upload(image_bytes(colour=(10, 10, 10))))
    assert first.stem == again.stem != other.stem
    assert [f"practitioners/{first.stem}-96.webp", f"practitioners/{first.stem}-192.webp"] == (
        photos.photo_names(first.stem)
    )


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_taken_and_transparency_is_white(fmt):
    out = io.BytesIO()
    Image.new("RGBA", (300, 300), (0, 0, 0, 0)).save(out, fmt)
    image = opened(photo_prepare(upload(out.getvalue(), name="x.bin")).files[96])
    assert image.getpixel((48, 48)) == (255, 255, 255)


@pytest.mark.parametrize(
    "data, name, message",
    [
        (image_bytes(fmt="GIF"), "photo.gif", photos.WRONG_TYPE),
        (b"Not a picture at all, just words.\n" * 20, "notes.jpg", photos.WRONG_TYPE),
        (image_bytes(fmt="BMP"), "photo.jpg", photos.WRONG_TYPE),
        (image_bytes()[:200] + b"\0" * (8 * MB), "huge.jpg", photos.TOO_BIG_BYTES),
        (png_header_only(20000, 20000), "huge.png", photos.TOO_MANY_PIXELS),
        (png_header_only(6001, 400), "wide.png", photos.TOO_MANY_PIXELS),
        (image_bytes((191, 400)), "small.jpg", photos.TOO_FEW_PIXELS),
        (truncated_jpeg(), "cut.jpg", photos.DAMAGED),
        (image_bytes(fmt="PNG")[:60] + b"garbage" * 20, "broken.png", photos.DAMAGED),
    ],
    ids=["gif", "text-named-jpg", "bmp", "over-8-MB", "20000x20000", "6001-wide", "too-small",
         "truncated-jpeg", "broken-png"],
)  # fmt: skip
def test_a_file_that_cannot_be_used_is_refused_with_what_to_do(data, name, message):
    with pytest.raises(PhotoRefused) as refused:
        photo_prepare(upload(data, name=name))
    assert refused.value.message == message
    # Each says what is wrong and what to do next, in plain words.
    assert any(verb in str(message) for verb in ("upload", "Choose", "save"))


def test_over_8_mb_is_refused_before_reading_it():
    class Huge:
        size = 8 * MB + 1

        def read(self, *args):
            raise AssertionError("read")

    with pytest.raises(PhotoRefused, match="larger than 8 MB"):
        photo_prepare(Huge())


# --- Kept, replaced and removed -------------------------------------------------------------


def saved_with_photo(colour=(200, 120, 90), **extra):
    practitioner = PractitionerFactory(photo_alt="Smiling, in a navy tunic", **extra)
    photo = photo_prepare(upload(image_bytes(colour=colour)))
    services.practitioner_save(practitioner=practitioner, photo=photo)
    return practitioner, photo


def test_a_saved_photo_stores_its_two_files(db, media):
    practitioner, photo = saved_with_photo()
    practitioner.refresh_from_db()
    assert practitioner.photo == photo.stem
    assert media() == sorted(photos.photo_names(photo.stem))


def test_replacing_a_photo_removes_the_old_files_once_saved(
    db, media, django_capture_on_commit_callbacks
):
    practitioner, old = saved_with_photo()
    new = photo_prepare(upload(image_bytes(colour=(20, 90, 200))))
    with django_capture_on_commit_callbacks(execute=True):
        services.practitioner_save(practitioner=practitioner, photo=new)
    assert media() == sorted(photos.photo_names(new.stem))


def test_removing_a_photo_removes_its_files(db, media, django_capture_on_commit_callbacks):
    practitioner, _photo = saved_with_photo()
    with django_capture_on_commit_callbacks(execute=True):
        services.practitioner_save(practitioner=practitioner, photo=None)
    practitioner.refresh_from_db()
    assert practitioner.photo == "" and media() == []


def test_deleting_a_practitioner_removes_their_photo_files(
    db, media, django_capture_on_commit_callbacks
):
    practitioner, _photo = saved_with_photo()
    with django_capture_on_commit_callbacks(execute=True):
        practitioner.delete()
    assert media() == []


def test_saving_other_details_keeps_the_photo(db, media, django_capture_on_commit_callbacks):
    practitioner, photo = saved_with_photo()
    practitioner.bio = "Ten years of skin care."
    with django_capture_on_commit_callbacks(execute=True):
        services.practitioner_save(practitioner=practitioner)
    practitioner.refresh_from_db()
    assert practitioner.photo == photo.stem and media() == sorted(photos.photo_names(photo.stem))


def test_a_save_rolled_back_keeps_the_old_files(db, media, django_capture_on_commit_callbacks):
    practitioner, old = saved_with_photo()
    new = photo_prepare(upload(image_bytes(colour=(20, 90, 200))))
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.practitioner_save(practitioner=practitioner, photo=new)
        raise RuntimeError("something after it failed")
    practitioner.refresh_from_db()
    assert practitioner.photo == old.stem
    assert set(photos.photo_names(old.stem)) <= set(media())


def test_files_two_practitioners_share_stay_while_either_has_them(
    db, media, django_capture_on_commit_callbacks
):
    first, photo = saved_with_photo()
    second, same = saved_with_photo()
    assert same.stem == photo.stem
    with django_capture_on_commit_callbacks(execute=True):
        services.practitioner_save(practitioner=first, photo=None)
    assert media() == sorted(photos.photo_names(photo.stem))


def test_a_photo_without_its_description_is_refused_and_stores_nothing(db, media):
    practitioner = PractitionerFactory(photo_alt="")
    photo = photo_prepare(upload(image_bytes()))
    with pytest.raises(ValidationError, match="Describe the photo"):
        services.practitioner_save(practitioner=practitioner, photo=photo)
    practitioner.refresh_from_db()
    assert practitioner.photo == "" and media() == []


# --- Served by the app ----------------------------------------------------------------------


def test_a_photo_is_served_with_long_cache_headers_even_to_someone_signed_in(
    db, media, client, patient
):
    _practitioner, photo = saved_with_photo()
    client.force_login(patient.user)
    for size in photos.SIZES:
        response = client.get(photos.photo_url(photo.stem, size))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == photo.files[size]
        assert response["Content-Type"] == "image/webp"
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response["X-Content-Type-Options"] == "nosniff"
        # Public files read no session: no cookie set, no "Vary: Cookie" for caches.
        assert "Cookie" not in response.get("Vary", "") and not response.cookies


@pytest.mark.parametrize(
    "name",
    [
        "0123456789abcdef0123-96.webp",  # the right shape, no such file
        "..%2F..%2Fclinic.sqlite3",
        "..%2Fsettings.py",
        "%2Fetc%2Fpasswd",
        "STEM-96.webp",
        "{stem}-96.jpg",
        "{stem}-48.webp",
        "{stem}-96.webp.",
        "{stem}-96.webp%00",
    ],
)
def test_anything_but_a_stored_photos_name_is_not_found(db, media, client, name):
    _practitioner, photo = saved_with_photo()
    path = reverse("booking:practitioner_photo", args=["x"]).removesuffix("x")
    assert client.get(path + name.format(stem=photo.stem)).status_code == 404


def test_a_traversal_outside_the_folder_is_not_found(db, media, client):
    for path in ("/media/practitioners/../../manage.py", "/media/practitioners/", "/media/x"):
        assert client.get(path).status_code == 404


# --- On the patient's pages -----------------------------------------------------------------


def label_text(html: str, value: str) -> str:
    """The text of the label of the radio button with `value`, its tags taken out."""
    radio_id = re.search(rf'<input type="radio"[^>]*value="{value}" id="([^"]+)"', html).group(1)
    label = re.search(rf'<label[^>]*for="{radio_id}"[^>]*>(.*?)</label>', html, re.S).group(1)
    return re.sub(r"<[^>]+>", "", label)


def test_the_choice_and_confirm_steps_show_the_photo_or_the_initials(
    client, now, patient, treatment, media
):
    ConsentText.objects.create(version=1, text="I agree to the treatment.")
    pictured, photo = saved_with_photo(
        display_name="Dr Sam Example", credentials="RN", bio="Ten years of skin care.",
        treatments=[treatment],
    )  # fmt: skip
    plain = PractitionerFactory(display_name="Kit Fisher", credentials="", treatments=[treatment])
    client.force_login(patient.user)
    client.get(reverse("booking:start_with", args=[treatment.slug]))
    client.post(reverse("booking:length"), {"sessions": 1})
    page = client.get(reverse("booking:practitioner")).content.decode()

    small, large = (photos.photo_url(photo.stem, size) for size in photos.SIZES)
    img = (
        f'<img class="practitioner-picture picture-96" src="{small}" '
        f'srcset="{small} 96w, {large} 192w" sizes="96px" width="96" height="96" '
        f'alt="Smiling, in a navy tunic" loading="lazy" decoding="async">'
    )
    assert img in page
    assert re.search(
        r'<span class="[^"]*practitioner-initials[^"]*" aria-hidden="true">KF</span>', page
    )
    # Each radio is still named by the name and credentials alone; the bio describes it.
    assert label_text(page, pictured.pk) == "Dr Sam Example, RN"
    assert label_text(page, plain.pk) == "Kit Fisher"
    assert label_text(page, "any") == "Anyone: show me the most free times"
    assert 'aria-describedby="id_practitioner_1_bio"' in page and "Ten years of skin care." in page

    client.post(reverse("booking:practitioner"), {"practitioner": pictured.pk})
    slot = re.search(
        r'name="slot" value="([^"]+)"',
        client.get(reverse("booking:time") + "?day=2026-06-08").content.decode(),
    ).group(1)
    client.post(reverse("booking:time"), {"slot": slot})
    client.post(reverse("booking:consent"), {"agree": "on"})
    confirm = client.get(reverse("booking:confirm")).content.decode()
    assert "Who you will see" in confirm
    assert f'src="{small}" srcset="{small} 96w, {large} 192w" sizes="64px" width="64"' in confirm
    assert 'alt="Smiling, in a navy tunic"' in confirm and "Kit Fisher" not in confirm


def test_photos_tidy_removes_only_old_files_no_practitioner_names(db, media, settings):
    _practitioner, used = saved_with_photo()
    left_over = photo_prepare(upload(image_bytes(colour=(1, 2, 3))))
    in_progress = photo_prepare(upload(image_bytes(colour=(4, 5, 6))))
    photos.photo_store(left_over)
    photos.photo_store(in_progress)
    two_hours_ago = time.time() - 2 * 60 * 60
    for name in photos.photo_names(left_over.stem) + photos.photo_names(used.stem):
        os.utime(settings.MEDIA_ROOT / name, (two_hours_ago, two_hours_ago))
    out = io.StringIO()
    call_command("photos_tidy", "--dry-run", stdout=out)
    assert "2 unused photo file(s) would be removed" in out.getvalue() and len(media()) == 6
    call_command("photos_tidy", stdout=io.StringIO())
    assert media() == sorted(photos.photo_names(used.stem) + photos.photo_names(in_progress.stem))
