"""Markdown to safe HTML, once, on save.

Rendered with Python-Markdown, then sanitised with nh3 (Ammonia): no script,
no event handlers, no javascript: links, no iframes. Headings get ids and come
back as a table of contents; outbound links get rel="noopener noreferrer".
"""

import re
from dataclasses import dataclass

import markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "b", "i", "ul", "ol", "li",
    "a", "blockquote", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
    "abbr", "sup", "sub", "dl", "dt", "dd",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "th": {"scope"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_OUTBOUND = re.compile(r'<a href="(https?://[^"]*)"')
_BLOCK_END = re.compile(r"</(p|li|h2|h3|h4|td|th|dd|dt|blockquote)>")


@dataclass(frozen=True)
class Rendered:
    html: str
    toc: list[dict]  # [{"id": "how-it-works", "title": "How it works", "level": 2}, ...]


def _flatten(tokens: list[dict]) -> list[dict]:
    flat = []
    for token in tokens:
        flat.append({"id": token["id"], "title": token["name"], "level": token["level"]})
        flat.extend(_flatten(token.get("children", [])))
    return flat


def render(text: str) -> Rendered:
    md = markdown.Markdown(
        extensions=["toc", "sane_lists", "tables", "attr_list"],
        extension_configs={"toc": {"toc_depth": "2-3"}},
        output_format="html",
    )
    raw = md.convert(text or "")
    clean = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
    )
    clean = _OUTBOUND.sub(r'<a href="\1" rel="noopener noreferrer"', clean)
    return Rendered(html=clean, toc=_flatten(md.toc_tokens))


def plain_text(html: str) -> str:
    """The words a reader reads: each block ends a sentence (for readability scores)."""
    text = _BLOCK_END.sub(lambda m: f"</{m.group(1)}>.\n", html)
    text = nh3.clean(text, tags=set())
    text = re.sub(r"([.!?:;])\s*\.\n", r"\1\n", text)
    return re.sub(r"[ \t]+", " ", text).strip()
