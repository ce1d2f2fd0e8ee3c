"""Reading grade of patient-facing text (Flesch-Kincaid).

textstat is pinned to 0.7.4: later releases download a dictionary on first
use, which fails on machines without internet.
"""

import html

import textstat

from .markdown import plain_text, render

MAX_GRADE = 8.0  # the house rule for anything a patient reads


def reading_grade(markdown_text: str) -> float:
    """Flesch-Kincaid grade of Markdown text, as the patient reads it."""
    return textstat.flesch_kincaid_grade(html.unescape(plain_text(render(markdown_text).html)))
