"""The CSV files staff download (a day's schedule, a session list), safe in a spreadsheet."""

import csv
from collections.abc import Iterable

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

# Lazy: each download writes them in the language active then (sheet_safe makes them text).
SESSION_COLUMNS = [
    _("Start"),
    _("End"),
    _("Practitioner"),
    _("Patient"),
    _("Phone"),
    _("Treatment"),
    _("Session"),
    _("Status"),
]
PHONE_COLUMN = 4  # left out for staff who may not see patients' contact details
_PHONE_CHARACTERS = set("+0123456789 ()-")


def sheet_safe(value) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula: a patient's name
    typed as one must stay text (OWASP "CSV injection"). Phone numbers may start with +."""
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not set(text) <= _PHONE_CHARACTERS
    ):
        return "'" + text
    return text


def csv_response(filename: str, rows: Iterable[Iterable]) -> HttpResponse:
    """An attachment with every cell made sheet-safe (the first row is the header)."""
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    csv.writer(response).writerows([sheet_safe(cell) for cell in row] for row in rows)
    return response
