"""Every user-visible string is marked for translation, and the catalogue has them all.

A second language is out of scope, but the strings are marked all the same
(design brief): a template with plain text, or a string added without
``makemessages``, fails here.
"""

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.template.base import Lexer, TokenType

TEMPLATE_DIRS = [settings.BASE_DIR / "templates"] + [
    path
    for app in ("clinic", "booking", "education")
    if (path := settings.BASE_DIR / app / "templates").is_dir()
]
TEMPLATES = sorted(
    path
    for folder in TEMPLATE_DIRS
    for path in folder.rglob("*")
    if path.suffix in {".html", ".txt"}
)

# The one command that writes the catalogue (README, "Translation").
MAKEMESSAGES_OPTIONS = {
    "locale": ["en"],
    "add_location": "file",
    "ignore_patterns": [".venv", "node_modules", "var", "tests", "bench"],
}
CATALOGUE = settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"

# Text that reads the same in every language. Empty: add (file, text) pairs with a reason.
NOT_TEXT: set[tuple[str, str]] = set()

HOLE = "\x00"  # where a template tag or variable was
TAG = re.compile(r"<[A-Za-z!/" + HOLE + r"][^>]*>")
ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
ENTITY = re.compile(r"&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")
LETTER = re.compile(r"[^\W\d_]")
# A path or query written straight after a variable is part of a link: {{ site_url }}/appointments/
URL_TAIL = re.compile(HOLE + r"[/?#][^\s" + HOLE + r"]*")
# Attributes a person reads or hears, whatever the element.
VISIBLE_ATTRIBUTES = {"alt", "title", "aria-label", "aria-description", "placeholder", "label"}
SKIPPED_BLOCKS = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
}


def _skeleton(source: str) -> str:
    """The template's own text: tags and variables become HOLE; translated blocks go."""
    parts, skip_until = [], None
    for token in Lexer(source).tokenize():
        if skip_until:
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == skip_until:
                skip_until = None
                parts.append(HOLE)
            continue
        if token.token_type == TokenType.TEXT:
            parts.append(token.contents)
        elif token.token_type in (TokenType.VAR, TokenType.BLOCK):
            name = token.contents.split()[0] if token.contents.split() else ""
            skip_until = SKIPPED_BLOCKS.get(name)
            parts.append(HOLE)
    return "".join(parts)


def _has_text(value: str) -> bool:
    return bool(LETTER.search(ENTITY.sub(" ", value.replace(HOLE, " "))))


def _visible_attributes(tag: str) -> list[str]:
    """The attributes of one HTML tag that show text with letters in it."""
    element = re.match(r"<(\w+)", tag)
    element = element.group(1).lower() if element else ""
    attributes = {
        name.lower(): double if double is not None else single
        for name, double, single in ATTRIBUTE.findall(tag)
    }
    visible = set(VISIBLE_ATTRIBUTES)
    # A <button>'s value is form data; an <input type="submit">'s value is its label.
    if element == "input" and attributes.get("type") in {"submit", "button", "reset"}:
        visible.add("value")
    if element == "meta" and (
        attributes.get("name") == "description"
        or attributes.get("property") in {"og:title", "og:description"}
    ):
        visible.add("content")
    return [
        f'{name}="{value.replace(HOLE, "…")}"'
        for name, value in attributes.items()
        if name in visible and _has_text(value)
    ]


def unmarked_text(source: str) -> list[str]:
    """Text a template shows to people outside {% translate %} and {% blocktranslate %}."""
    text = _skeleton(source)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", text, flags=re.S | re.I)
    found = []

    def tag(match: re.Match) -> str:
        found.extend(_visible_attributes(match.group(0)))
        return HOLE

    text = TAG.sub(tag, text)
    text = URL_TAIL.sub(HOLE, ENTITY.sub(" ", text))
    found.extend(piece.strip() for piece in re.split(HOLE + r"|\n", text) if LETTER.search(piece))
    return found


def test_unmarked_text_finds_plain_words_and_attributes():
    source = (
        '{% load i18n %}<h1 title="{% translate "Fine" %}">{% translate "Fine" %}</h1>'
        "<p>{% blocktranslate trimmed %}Fine {{ name }}{% endblocktranslate %}</p>"
        '<img alt="A face" src="x.png"><input type="submit" value="Send">'
        '<button value="go">Go</button>'
        "<script>const fine = 1;</script><!-- fine -->{# fine #}&nbsp;{{ url }}/fine/"
    )
    assert unmarked_text(source) == ['alt="A face"', 'value="Send"', "Go"]


@pytest.mark.parametrize(
    "path", TEMPLATES, ids=lambda path: str(path.relative_to(settings.BASE_DIR))
)
def test_template_text_is_marked_for_translation(path):
    name = str(path.relative_to(settings.BASE_DIR))
    unmarked = [text for text in unmarked_text(path.read_text()) if (name, text) not in NOT_TEXT]
    shown = "; ".join(repr(text) for text in unmarked)
    assert not unmarked, f"{name} shows text not marked for translation: {shown}"


def _msgids(catalogue: Path) -> set[tuple[str, str, str]]:
    """(msgctxt, msgid, msgid_plural) of each entry in a .po file, the header left out."""
    entries = set()
    for block in catalogue.read_text().split("\n\n"):
        fields, key = {}, None
        for line in block.splitlines():
            keyword = re.match(r"(msgctxt|msgid_plural|msgid|msgstr)\S* (\".*\")$", line)
            if keyword:
                key = keyword.group(1)
                fields[key] = keyword.group(2)[1:-1]
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            context, plural = fields.get("msgctxt", ""), fields.get("msgid_plural", "")
            entries.add((context, fields["msgid"], plural))
    return entries


@pytest.mark.gettext
def test_catalogue_is_complete(tmp_path, monkeypatch):
    """The committed catalogue holds exactly the strings marked now (makemessages run on a copy)."""
    for item in settings.BASE_DIR.iterdir():
        if item.name in {".git", ".venv", "node_modules", "var", "locale"} or item.is_symlink():
            continue
        copy = shutil.copytree if item.is_dir() else shutil.copy
        copy(item, tmp_path / item.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings, "LOCALE_PATHS", [tmp_path / "locale"])
    call_command("makemessages", verbosity=0, **MAKEMESSAGES_OPTIONS)
    fresh = _msgids(tmp_path / "locale" / "en" / "LC_MESSAGES" / "django.po")
    committed = _msgids(CATALOGUE)
    missing, stale = fresh - committed, committed - fresh
    assert not missing and not stale, (
        "locale/en/LC_MESSAGES/django.po is out of date; run "
        "`python manage.py makemessages -l en --add-location=file "
        "--ignore=.venv --ignore=node_modules --ignore=var --ignore=tests --ignore=bench`. "
        f"Missing: {sorted(missing)[:10]}; no longer marked: {sorted(stale)[:10]}"
    )
