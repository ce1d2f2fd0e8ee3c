"""The treatment page's sections in the order a patient reads them.

The body (Markdown) holds the clinic's own sections; the page adds the ones
built from fields (who it may help, the course, aftercare) at their place.
A pure function over HTML strings.
"""

import re
from dataclasses import dataclass, replace

from django.utils.translation import gettext

_H2 = re.compile(r'<h2 id="([^"]+)">(.*?)</h2>', re.DOTALL)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    html: str
    template: str = ""  # a template that renders this section instead of html
    figure: str = ""  # a diagram's template, drawn after the section's text


def split_sections(body_html: str) -> tuple[str, list[Section]]:
    """(text before the first h2, [sections at each h2])."""
    matches = list(_H2.finditer(body_html))
    if not matches:
        return body_html, []
    intro = body_html[: matches[0].start()]
    sections = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body_html)
        sections.append(
            Section(
                match.group(1),
                re.sub(r"<[^>]+>", "", match.group(2)),
                body_html[match.end() : end].strip(),
            )
        )
    return intro, sections


def place(
    sections: list[Section],
    extra: Section,
    *,
    after: tuple[str, ...] = (),
    before: tuple[str, ...] = (),
) -> list[Section]:
    """Insert `extra` after the first of `after` found, else before one of `before`, else last."""
    ids = [s.id for s in sections]
    for anchor in after:
        if anchor in ids:
            i = ids.index(anchor) + 1
            return [*sections[:i], extra, *sections[i:]]
    for anchor in before:
        if anchor in ids:
            i = ids.index(anchor)
            return [*sections[:i], extra, *sections[i:]]
    return [*sections, extra]


def with_figure(
    sections: list[Section], figure: str, *, section_id: str, title: str, after: tuple[str, ...]
) -> list[Section]:
    """`figure` drawn at the end of the section `section_id`; when the body has no such
    section, in one of its own with `title`, after the first of `after` found."""
    for i, section in enumerate(sections):
        if section.id == section_id:
            return [*sections[:i], replace(section, figure=figure), *sections[i + 1 :]]
    first = tuple(s.id for s in sections[:1])  # else first: it explains what comes after
    return place(sections, Section(section_id, title, "", figure=figure), after=after, before=first)


def treatment_sections(treatment) -> tuple[str, list[Section]]:
    intro, sections = split_sections(treatment.body_html)
    if treatment.diagram:
        sections = with_figure(
            sections,
            f"education/diagrams/{treatment.diagram}.html",
            section_id="how-it-works",
            title=gettext("How it works"),
            after=("what-it-is",),
        )
    if treatment.who_it_helps_html:
        sections = place(
            sections,
            Section("who-it-may-help", gettext("Who it may help"), treatment.who_it_helps_html),
            after=("how-it-works", "what-it-is"),
        )
    if treatment.is_course:
        sections = place(
            sections,
            Section(
                "the-course",
                gettext("A course of sessions"),
                "",
                "education/includes/course_section.html",
            ),
            after=("the-appointment", "who-it-may-help"),
        )
    if treatment.risks_html:
        sections = place(
            sections,
            Section(
                "side-effects-and-risks", gettext("Side effects and risks"), treatment.risks_html
            ),
            before=("who-should-wait-or-ask-first", "after-your-session"),
        )
    if treatment.aftercare_html:
        sections = place(
            sections,
            Section(
                "aftercare",
                "Aftercare",
                treatment.aftercare_html,
                "education/includes/aftercare_section.html",
            ),
            before=("when-to-contact-us",),
        )
    return intro, sections
