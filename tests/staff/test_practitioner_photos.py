"""Staff add, replace and remove a practitioner's photo in the admin; bad files are refused."""

import re

import pytest
from django.urls import reverse

from booking import photos
from tests.booking.images import MB, camera_jpeg, image_bytes, png_header_only, truncated_jpeg
from tests.booking.images import upload as uploaded

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return lambda: sorted(
        str(p.relative_to(settings.MEDIA_ROOT))
        for p in settings.MEDIA_ROOT.rglob("*")
        if p.is_file()
    )


@pytest.fixture
def desk(client_for, reception):
    """Reception: may change a practitioner's details and photo (clinic/roles.py)."""
    return client_for(reception)


def change_url(practitioner):
    return reverse("admin:booking_practitioner_change", args=[practitioner.pk])


def form_data(practitioner, treatment, **fields):
    data = {
        "display_name": practitioner.display_name,
        "credentials": practitioner.credentials,
        "bio": practitioner.bio,
        "treatments": [treatment.pk],
        "is_active": "on",
        "photo_alt": practitioner.photo_alt,
    }
    for inline in ("working_hours", "time_off"):
        data.update({f"{inline}-TOTAL_FORMS": "0", f"{inline}-INITIAL_FORMS": "0"})
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def field_errors(html: str, field: str) -> str:
    """The text of the admin's error list for `field` (in its form row)."""
    row = html.split(f"field-{field}")[1].split('<div class="form-row')[0]
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', row, re.S))


def test_staff_upload_a_photo_with_its_description_and_see_it(desk, practitioner, treatment, media):
    response = desk.post(
        change_url(practitioner),
        form_data(
            practitioner,
            treatment,
            photo_upload=uploaded(camera_jpeg()),
            photo_alt="Sam smiling, in a teal tunic",
        ),
    )
    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert practitioner.photo and practitioner.photo_alt == "Sam smiling, in a teal tunic"
    assert media() == sorted(photos.photo_names(practitioner.photo))
    page = desk.get(change_url(practitioner)).content.decode()
    preview = photos.photo_url(practitioner.photo, 96)
    assert f'<img src="{preview}"' in page and 'alt="Sam smiling, in a teal tunic"' in page
    assert 'enctype="multipart/form-data"' in page


def test_a_photo_without_a_description_is_refused_beside_the_field(
    desk, practitioner, treatment, media
):
    response = desk.post(
        change_url(practitioner),
        form_data(practitioner, treatment, photo_upload=uploaded(image_bytes()), photo_alt=" "),
    )
    assert response.status_code == 200
    assert "Describe the photo for people who cannot see it" in field_errors(
        response.content.decode(), "photo_alt"
    )
    practitioner.refresh_from_db()
    assert practitioner.photo == "" and media() == []


@pytest.mark.parametrize(
    "data, name, words",
    [
        (image_bytes(fmt="GIF"), "photo.gif", "not a JPEG, PNG or WebP picture"),
        (b"Just some words, not a picture.\n" * 10, "photo.jpg", "not a JPEG, PNG or WebP"),
        (image_bytes()[:200] + b"\0" * (8 * MB), "photo.jpg", "larger than 8 MB"),
        (png_header_only(20000, 20000), "photo.png", "at most 6000 by 6000 pixels"),
        (truncated_jpeg(), "photo.jpg", "could not be read"),
    ],
    ids=["gif", "text-named-jpg", "huge-file", "huge-dimensions", "corrupt"],
)
def test_a_bad_file_gets_a_clear_error_and_nothing_is_stored(
    desk, practitioner, treatment, media, data, name, words
):
    response = desk.post(
        change_url(practitioner),
        form_data(
            practitioner,
            treatment,
            photo_upload=uploaded(data, name=name),
            photo_alt="Sam smiling",
            bio="Changed too",
        ),
    )
    assert response.status_code == 200
    assert words in field_errors(response.content.decode(), "photo_upload")
    practitioner.refresh_from_db()
    assert practitioner.photo == "" and practitioner.bio != "Changed too"
    assert media() == []


def test_replacing_the_photo_removes_the_old_files(
    desk, practitioner, treatment, media, django_capture_on_commit_callbacks
):
    practitioner.photo_alt = "Sam"
    for colour in ((200, 120, 90), (30, 60, 200)):
        with django_capture_on_commit_callbacks(execute=True):
            response = desk.post(
                change_url(practitioner),
                form_data(
                    practitioner, treatment, photo_upload=uploaded(image_bytes(colour=colour))
                ),
            )
        assert response.status_code == 302
    practitioner.refresh_from_db()
    assert media() == sorted(photos.photo_names(practitioner.photo))


def test_removing_the_photo_removes_its_files_and_asks_for_no_description(
    desk, practitioner, treatment, media, django_capture_on_commit_callbacks
):
    practitioner.photo_alt = "Sam"
    desk.post(
        change_url(practitioner),
        form_data(practitioner, treatment, photo_upload=uploaded(image_bytes())),
    )
    practitioner.refresh_from_db()
    both = desk.post(
        change_url(practitioner),
        form_data(practitioner, treatment, photo_upload=uploaded(camera_jpeg()), photo_remove="on"),
    )
    assert "not both" in field_errors(both.content.decode(), "photo_remove")
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            change_url(practitioner),
            form_data(practitioner, treatment, photo_remove="on", photo_alt=""),
        )
    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert practitioner.photo == "" and media() == []
    assert "No photo yet." in desk.get(change_url(practitioner)).content.decode()
