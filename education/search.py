"""Search over treatments, articles and FAQs.

On PostgreSQL: full-text search with weights (title and other names over
summary over body) plus trigram word similarity, so synonyms stored as a
treatment's other names and typos ("microneedlign") still find it. On SQLite a
case-insensitive match is enough. Each hit gets a short highlighted excerpt.
"""

import html
import re
from dataclasses import dataclass

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils.safestring import SafeString, mark_safe

from .markdown import plain_text
from .models import FAQ, Article, Treatment

MAX_QUERY_LENGTH = 200
MIN_SIMILARITY = 0.45  # trigram word similarity; "microneedlign" vs "microneedling" is ~0.6
EXCERPT_CHARS = 220


@dataclass(frozen=True)
class SearchResult:
    kind: str  # "Treatment", "Article", "FAQ"
    title: SafeString
    url: str
    excerpt: SafeString
    score: float


# model -> (title field, [(field, weight)], html field for the excerpt, published filter)
SEARCHABLE = {
    Treatment: (
        "name",
        [
            ("name", "A"),
            ("other_names", "A"),
            ("summary", "B"),
            ("body", "C"),
            ("who_it_helps", "C"),
            ("aftercare", "D"),
        ],
        "body_html",
    ),
    Article: ("title", [("title", "A"), ("summary", "B"), ("body", "C")], "body_html"),
    FAQ: ("question", [("question", "A"), ("answer", "B")], "answer_html"),
}


def clean_query(raw: str | None) -> str:
    text = re.sub(r"\s+", " ", (raw or "").replace("\x00", "")).strip()
    return text[:MAX_QUERY_LENGTH]


def _words(query: str) -> list[str]:
    return [w for w in re.findall(r"\w+", query.lower()) if len(w) > 1]


def _stems(query: str) -> list[str]:
    """Query words, plural "s" dropped ("scars" finds "scar"), longest first."""
    stems = {w[:-1] if len(w) > 4 and w.endswith("s") else w for w in _words(query)}
    return sorted(stems, key=len, reverse=True)


def highlight(text: str, query: str) -> SafeString:
    """Escape `text` and wrap each query word in <mark>."""
    escaped = html.escape(text)
    if stems := _stems(query):
        pattern = re.compile("|".join(re.escape(html.escape(s)) for s in stems), re.IGNORECASE)
        escaped = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped)
    return mark_safe(escaped)  # noqa: S308 - escaped above; <mark> is ours


def excerpt(html_text: str, query: str) -> SafeString:
    """About EXCERPT_CHARS of plain text around the first query word, words marked."""
    text = html.unescape(plain_text(html_text)).replace("\n", " ")
    stems = _stems(query)
    start = 0
    if stems and (found := re.search("|".join(map(re.escape, stems)), text, re.IGNORECASE)):
        start = max(0, found.start() - EXCERPT_CHARS // 3)
        start = text.rfind(" ", 0, start) + 1 if start else 0
    piece = text[start : start + EXCERPT_CHARS]
    if start + EXCERPT_CHARS < len(text):
        piece = piece[: piece.rfind(" ")] + " …"
    return highlight(("… " if start else "") + piece, query)


def _summary(model) -> list[str]:
    return ["summary"] if model is not FAQ else []


def _published(model):
    return model.objects.published()


def _vector(model) -> SearchVector:
    fields = SEARCHABLE[model][1]
    vector = SearchVector(fields[0][0], weight=fields[0][1], config="english")
    for field, weight in fields[1:]:
        vector += SearchVector(field, weight=weight, config="english")
    return vector


def refresh_search_vectors(model, pks=None) -> None:
    """Store the weighted words of these rows (all when `pks` is None); PostgreSQL only."""
    if connection.vendor != "postgresql":
        return
    rows = model.objects.all() if pks is None else model.objects.filter(pk__in=pks)
    rows.update(search_vector=_vector(model))


def _postgres_hits(model, query: str, limit: int):
    title, _fields, html_field = SEARCHABLE[model]
    ts_query = SearchQuery(query, search_type="websearch", config="english")
    similarity = TrigramWordSimilarity(query, title)
    if model is Treatment:  # "dermaroller", "skin needling": its other names count as titles
        similarity = Greatest(similarity, TrigramWordSimilarity(query, "other_names"))
    return (
        _published(model)
        .annotate(similarity=similarity)
        # The stored vector (GIN-indexed) answers @@; ts_rank is not 0 for a non-match.
        .filter(Q(search_vector=ts_query) | Q(similarity__gte=MIN_SIMILARITY))
        .annotate(rank=SearchRank(F("search_vector"), ts_query))
        .annotate(score=F("rank") + F("similarity") * 1.5)
        .order_by("-score")
        .only(title, html_field, "slug", *_summary(model))[:limit]
    )


def _sqlite_hits(model, query: str, limit: int):
    title, fields, html_field = SEARCHABLE[model]
    condition = Q()
    # Words of 3+ letters: "or" would match inside "for" and "more".
    for word in [w for w in _words(query) if len(w) >= 3] or [query.lower()]:
        word_condition = Q()
        for field, _weight in fields:
            word_condition |= Q(**{f"{field}__icontains": word})
        condition &= word_condition
    hits = list(
        _published(model)
        .filter(condition)
        .only(title, html_field, "slug", *_summary(model))[:limit]
    )
    for hit in hits:
        hit.score = 2.0 if query.lower() in getattr(hit, title).lower() else 1.0
    return hits


def _lead(hit) -> str:
    """The summary before the body, so an excerpt can come from either."""
    summary = getattr(hit, "summary", "")
    return f"<p>{html.escape(summary)}</p>" if summary else ""


def search(raw_query: str | None, *, limit: int = 30) -> list[SearchResult]:
    query = clean_query(raw_query)
    if not _words(query):
        return []
    finder = _postgres_hits if connection.vendor == "postgresql" else _sqlite_hits
    scored = []
    for model in SEARCHABLE:
        for hit in finder(model, query, limit):
            scored.append((float(hit.score) + (0.3 if model is Treatment else 0.0), model, hit))
    scored.sort(key=lambda found: found[0], reverse=True)
    results = []
    for score, model, hit in scored[:limit]:  # excerpts (the costly part) for the shown hits only
        title, _fields, html_field = SEARCHABLE[model]
        results.append(
            SearchResult(
                kind=model._meta.verbose_name.capitalize() if model is not FAQ else "FAQ",
                title=highlight(getattr(hit, title), query),
                url=hit.get_absolute_url(),
                excerpt=excerpt(_lead(hit) + getattr(hit, html_field), query),
                score=score,
            )
        )
    return results
