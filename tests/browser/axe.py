"""axe-core (node_modules/axe-core, from package.json) run inside a Playwright page.

    violations = axe_violations(page)
    assert not violations, axe_report(violations)

The page's Content Security Policy stays on. axe is not added as a <script>
element (the CSP would block that inline code, and rightly); Playwright hands
its source to the browser through the DevTools protocol, as a console would,
and the CSP does not govern that. axe itself needs no eval, so it runs in the
page as the page is, under the same policy the patient gets.
"""

from functools import cache

from django.conf import settings

AXE_PATH = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_RUN = """async ([tags, include]) => {
  const context = include ? {include: [include]} : document;
  const results = await axe.run(context, {runOnly: {type: "tag", values: tags}});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.map(String),
      html: n.html,
      summary: n.failureSummary,
    })),
  }));
}"""


@cache
def _axe_source() -> str:
    if not AXE_PATH.exists():
        raise FileNotFoundError(f"{AXE_PATH} is missing: run `npm ci` (or `make`)")
    return AXE_PATH.read_text()


def axe_violations(page, tags: list[str] | None = None, include: str | None = None) -> list[dict]:
    """axe's violations for the page as it is now, for the WCAG 2.0-2.2 A/AA rules.

    `include`: a CSS selector, to check only that part of the page.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    return page.evaluate(_RUN, [tags or WCAG_TAGS, include])


def axe_report(violations: list[dict], url: str = "") -> str:
    """One readable block per rule: id, impact, what to fix, then each element."""
    lines = [f"{len(violations)} axe violation(s){' on ' + url if url else ''}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    at {' '.join(node['target'])}")
            lines.append(f"      {node['html'][:300]}")
            for reason in (node["summary"] or "").splitlines():
                lines.append(f"      | {reason}")
    return "\n".join(lines)
