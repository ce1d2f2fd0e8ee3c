"""The diagrams made for this site, in a real browser, with the demo data.

The treatment page (how the needles work; the course over the weeks) and the
booking journey's course-length step, on a phone (390 px) and a desktop
(1366 px): nothing from another origin, no CSP error, axe (WCAG 2.2 AA) finds
nothing, and each diagram leaves a screenshot under var/test-artifacts/screens/
(diagrams-<size>-<name>.png) for whoever looks at them.
"""

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.browser.axe import axe_report, axe_violations
from tests.browser.conftest import other_origin_requests

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


def test_diagrams_on_the_treatment_page_and_the_length_step(page, live_server):
    call_command("seed_demo", "--quiet-logins")
    folder = settings.TEST_ARTIFACTS_DIR / "screens"
    folder.mkdir(parents=True, exist_ok=True)

    def shot(locator, name: str) -> None:
        # caret="initial": hiding the caret injects a style the Content Security Policy refuses.
        locator.screenshot(path=str(folder / f"diagrams-{size}-{name}.png"), caret="initial")

    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.goto("/treatments/microneedling/")
        skin = page.get_by_role("figure", name="How the needles work with your skin")
        for step in ("Step 1", "Step 2", "Step 3"):
            assert skin.get_by_role("img", name=step).is_visible()
        shot(skin, "skin")
        course = page.get_by_role("figure", name="A course of 3 sessions")
        assert course.get_by_role("img", name="A course of 3 sessions over time").is_visible()
        assert "Session 3: 4 to 6 weeks after session 2." in course.inner_text()
        shot(course, "course")
        violations = axe_violations(page)
        assert not violations, axe_report(violations, page.url)

        page.goto("/book/treatment/microneedling/")
        page.get_by_role("heading", name="How many sessions?").wait_for()
        assert page.get_by_role("img", name="A course of 3 sessions over time").is_visible()
        page.get_by_role("radio", name="1 session").check()  # the timeline follows the choice
        assert page.get_by_text("With one session, there is no gap to plan.").is_visible()
        assert page.get_by_role("img", name="A course of").count() == 0
        page.get_by_role("radio", name="5 sessions").check()
        assert page.get_by_role("img", name="A course of 5 sessions over time").is_visible()
        assert page.get_by_role("img", name="A course of 3 sessions over time").count() == 0
        page.screenshot(
            path=str(folder / f"diagrams-{size}-length-step.png"), full_page=True, caret="initial"
        )
        violations = axe_violations(page)
        assert not violations, axe_report(violations, page.url)

    assert other_origin_requests(page, live_server.url) == []
    assert page.console_errors == []
