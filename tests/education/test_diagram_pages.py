"""The diagrams on the treatment page and the booking journey's course-length step:
each an image with a name and a description, inside a figure with a caption, and the
same facts written out as text, in words a patient reads at grade 8 or lower."""

import re
from html.parser import HTMLParser

import pytest
import textstat
from django.urls import reverse

from education.readability import MAX_GRADE
from tests.education.factories import ConsultationFactory, TreatmentFactory

pytestmark = pytest.mark.django_db
TREATMENT = "/treatments/microneedling/"


class Figures(HTMLParser):
    """Each <figure>: its caption's text, its whole text, and its SVG images, each with
    the text its aria-labelledby points to (a <title> and a <desc>) and whether it has
    a visible box (not inside a hidden figure)."""

    def __init__(self, html: str):
        super().__init__()
        self.figures, self._open, self._by_id, self._capture = [], [], {}, []
        self.feed(html)
        for figure in self.figures:
            for image in figure["images"]:
                image["name"] = " ".join(self._by_id.get(i, "") for i in image["labelledby"])

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            figure = {"caption": "", "text": "", "images": [], "hidden": "hidden" in attrs}
            self.figures.append(figure)
            self._open.append(figure)
        elif tag == "svg" and attrs.get("role") == "img" and self._open:
            labelledby = attrs.get("aria-labelledby", "").split()
            self._open[-1]["images"].append({"labelledby": labelledby, "kinds": set()})
        if "id" in attrs and tag in ("title", "desc"):
            if self._open and self._open[-1]["images"]:
                self._open[-1]["images"][-1]["kinds"].add(tag)
            self._capture.append(attrs["id"])
            self._by_id[attrs["id"]] = ""
        if tag == "figcaption":
            self._capture.append("figcaption")

    def handle_endtag(self, tag):
        if tag == "figure" and self._open:
            self._open.pop()
        if tag in ("title", "desc", "figcaption") and self._capture:
            self._capture.pop()

    def handle_data(self, data):
        for figure in self._open:
            figure["text"] += data
        for key in self._capture:
            if key == "figcaption":
                self._open[-1]["caption"] += data
            else:
                self._by_id[key] += data


def figures_of(response) -> list[dict]:
    assert response.status_code == 200
    return Figures(response.content.decode()).figures


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def assert_described(figure: dict) -> None:
    assert figure["caption"].strip()
    for image in figure["images"]:
        assert image["kinds"] == {"title", "desc"}
        assert len(image["labelledby"]) == 2 and image["name"].strip()


def assert_plain(text: str) -> None:
    grade = textstat.flesch_kincaid_grade(words(text))
    assert grade <= MAX_GRADE, (round(grade, 1), text)


@pytest.fixture
def microneedling():
    return TreatmentFactory(diagram="skin_needling")


def test_the_treatment_page_shows_how_the_needles_work_in_how_it_works(client, microneedling):
    response = client.get(TREATMENT)
    html = response.content.decode()
    skin, course = figures_of(response)
    assert_described(skin)
    assert [words(i["name"]).split(":")[0] for i in skin["images"]] == [
        "Step 1",
        "Step 2",
        "Step 3",
    ]
    for fact in ("epidermis", "dermis", "fat", "0.5 mm", "3 mm", "collagen and elastin"):
        assert fact in words(skin["text"])  # written out, not only drawn
    how = html.index(">How it works</h2>")
    assert how < html.index("How the needles work with your skin") < html.index("</section>", how)
    assert_plain(skin["text"])
    assert_plain(" ".join(i["name"] for i in skin["images"]))


def test_the_treatment_page_draws_the_usual_course_in_its_section(client, microneedling):
    response = client.get(TREATMENT)
    html = response.content.decode()
    course = figures_of(response)[1]
    assert_described(course)
    assert words(course["images"][0]["name"]).startswith("A course of 3 sessions over time")
    assert "Session 2: 4 to 6 weeks after session 1. Best at 4 weeks (week 4)." in words(
        course["caption"]
    )
    section = html.index(">A course of sessions</h2>")
    assert section < html.index('id="course-timeline-3"') < html.index("</section>", section)
    assert_plain(course["text"] + " " + course["images"][0]["name"])


def test_a_treatment_without_a_diagram_or_a_course_shows_neither(client):
    ConsultationFactory()
    assert figures_of(client.get("/treatments/consultation/")) == []


def test_a_diagram_gets_its_own_how_it_works_section_when_the_body_has_none(client):
    TreatmentFactory(diagram="skin_needling", body="## What it is\n\nA pen.\n\n## Cost\n\nSome.")
    html = client.get(TREATMENT).content.decode()
    headings = [h for h in re.findall(r'<h2 id="([^"]+)"', html) if h != "toc-title"]
    assert headings[:2] == ["what-it-is", "how-it-works"] and "cost" in headings
    assert html.index('id="skin-step-1-title"') > html.index('id="how-it-works"')


def test_the_course_redraws_at_once_when_its_spacing_changes(client, microneedling):
    assert "Best at 4 weeks (week 4)." in client.get(TREATMENT).content.decode()  # kept now
    microneedling.spacing_preferred_days = 35
    microneedling.save()
    html = client.get(TREATMENT).content.decode()
    assert "Session 2: 4 to 6 weeks after session 1. Best at 5 weeks (week 5)." in html


def test_the_length_step_draws_every_length_and_shows_the_chosen_one(client, microneedling):
    client.get(reverse("booking:start_with", args=["microneedling"]))
    figures = figures_of(client.get(reverse("booking:length")))
    assert [f["images"][0]["name"].split(" over")[0] for f in figures] == [
        f"A course of {n} sessions" for n in range(2, 7)
    ]
    assert [f["hidden"] for f in figures] == [True, False, True, True, True]  # 3, the usual
    for figure in figures:
        assert_described(figure)
        assert "Session 2: 4 to 6 weeks after session 1." in words(figure["caption"])

    client.post(reverse("booking:length"), {"sessions": 5})
    figures = figures_of(client.get(reverse("booking:length")))
    assert [f["hidden"] for f in figures] == [True, True, True, False, True]
    assert "Session 5: 4 to 6 weeks after session 4." in words(figures[3]["caption"])
