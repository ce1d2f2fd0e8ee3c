from education.markdown import plain_text, render
from education.sections import Section, place, split_sections


def test_dangerous_html_is_removed():
    html = render(
        "## Care\n\n<script>alert('x')</script>\n\n<img src=x onerror=\"alert(1)\">\n\n"
        '[click](javascript:alert(1)) <a href="#" onclick="steal()">me</a>\n\n'
        '<iframe src="https://evil.example"></iframe>\n\n<p style="color:red" onmouseover="x()">'
        "hi</p>"
    ).html
    for bad in (
        "<script",
        "alert(",
        "onerror",
        "onclick",
        "onmouseover",
        "javascript:",
        "<iframe",
        "evil.example",
        "style=",
    ):
        assert bad not in html, bad
    assert "hi" in html and ">click</a>" in html


def test_outbound_links_get_noopener_and_internal_links_do_not():
    html = render("[DermNet](https://dermnetnz.org/) and [our FAQ](/faq/)").html
    assert '<a href="https://dermnetnz.org/" rel="noopener noreferrer">DermNet</a>' in html
    assert '<a href="/faq/">our FAQ</a>' in html


def test_headings_get_anchors_and_a_table_of_contents():
    rendered = render("## How it works\n\nText.\n\n### The needles\n\nMore.\n\n## Risks\n\nOk.")
    assert '<h2 id="how-it-works">How it works</h2>' in rendered.html
    assert [e["id"] for e in rendered.toc] == ["how-it-works", "the-needles", "risks"]
    assert [e["level"] for e in rendered.toc] == [2, 3, 2]


def test_plain_text_ends_each_block_as_a_sentence():
    text = plain_text(render("- Redness\n- Swelling\n\nIt settles.").html)
    assert "Redness." in text and "Swelling." in text and "settles." in text


def test_sections_are_split_at_each_h2_and_extras_placed():
    intro, sections = split_sections('<p>Hi</p><h2 id="a">A</h2><p>1</p><h2 id="b">B</h2><p>2</p>')
    assert intro == "<p>Hi</p>"
    assert [(s.id, s.html) for s in sections] == [("a", "<p>1</p>"), ("b", "<p>2</p>")]
    extra = Section("x", "X", "")
    assert [s.id for s in place(sections, extra, after=("a",))] == ["a", "x", "b"]
    assert [s.id for s in place(sections, extra, before=("b",))] == ["a", "x", "b"]
    assert [s.id for s in place(sections, extra, after=("zzz",))] == ["a", "b", "x"]
