import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

# The escapes Django's json_script uses, so "</script>" in content cannot end the tag.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def json_ld(context, data: dict):
    """<script type="application/ld+json">, without a nonce.

    A data block is never run, so the Content Security Policy does not apply
    to it (HTML: "prepare the script element" stops at a data block before
    any CSP check). Without a nonce the page is the same for every visitor,
    and page_cache.py can keep it whole.
    """
    payload = json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)
    payload = mark_safe(payload)  # noqa: S308 - <, > and & are escaped above
    return format_html('<script type="application/ld+json">{}</script>', payload)


@register.simple_tag(takes_context=True)
def faq_json_ld(context, faqs):
    """FAQPage JSON-LD for these questions."""
    from education.structured_data import faq_page

    return json_ld(context, faq_page(faqs))


@register.filter
def spacing_weeks(days: int) -> str:
    """28 -> "4 weeks", 10 -> "10 days": how the clinic speaks of gaps."""
    if days and days % 7 == 0:
        weeks = days // 7
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}"
