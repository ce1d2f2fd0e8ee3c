"""WCAG 2.2 AA on every admin page each staff role uses, checked by axe-core.

Signed in as each staff login of the demo (clinic/demo.py: reception, a
clinician, a content editor, then the owner), the test opens what that login
may open, found from the admin site's registry and the login's rights, so a new
admin page is covered without a line here:

- the admin index;
- every model the index lists for them: its list, its add page where they may
  add, and its first row's change, history and delete pages where they may;
- every page of its own a model admin adds that answers a GET with a page, for
  no argument or for one of its rows: the schedule's day and week, phone
  booking, reviews overdue, a session's cancel and move, a practitioner's time off.

Each page gets axe's WCAG 2.0-2.2 A and AA rules (tests/browser/axe.py),
target size and links in text blocks included, and DARK's pages the dark theme
too; what one clicks in a list (LIST_TARGETS) is measured as well. A failure
lists every page with its violations.

For time (one browser page and one sign-in per login): a history or delete
page is checked once per login and template (they differ only in their rows);
the owner, who may open everything, gets each model's list and change page
(its add page when it has no row) and the pages no role has had checked.
"""

import inspect
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from booking.models import ClinicalNote, Session, WaitlistSettings
from clinic.demo import CLINICIAN_LOGIN, DEMO_LOGINS
from clinic.models import User
from education.models import NewsletterIssue
from tests.browser.axe import axe_report, axe_violations
from tests.browser.test_phone_booking import sign_in_as
from tests.education.factories import SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The roles first, the owner (a superuser) last: it gets what they have not covered.
LOGINS = sorted((x for x in DEMO_LOGINS if x.is_staff), key=lambda x: x.is_superuser)
# Checked in the dark theme as well, by the first login that opens each.
DARK = {
    "index",
    "booking.scheduleentry schedule_week",
    "booking.session list",
    "booking.session change",
    "education.article change",
}
USUAL_VIEWS = ("changelist", "add", "change", "history", "delete")
# What one clicks in a list, each at least 24 by 24 CSS px (static/css/admin.css). axe's
# target-size passes a smaller one with space around it; these are held to the size itself.
LIST_TARGETS = ", ".join(
    [
        "#changelist-filter a",
        ".paginator a",
        ".toplinks a",
        "#result_list input[type=checkbox]",
        "thead .sortoptions a",
        ".datetimeshortcuts a",
        ".tabular td.delete input[type=checkbox]",
    ]
)
_SMALL = """(els) => els
  .filter((el) => el.checkVisibility())
  .map((el) => [el.outerHTML.slice(0, 120), el.getBoundingClientRect()])
  .filter(([, box]) => box.width < 24 || box.height < 24)
  .map(([html, box]) => `${Math.round(box.width)}x${Math.round(box.height)} ${html}`)"""


@dataclass(frozen=True)
class Page:
    name: str  # "booking.session change"
    url: str
    template: str = ""  # history and delete pages: one per login and template


@dataclass
class Walk:
    """What was checked, and what axe found, across the logins."""

    checked: dict[str, list[str]] = field(default_factory=dict)  # login -> page names
    urls: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def seen(self, target: "Page") -> bool:
        return target.url in self.urls or any(
            target.name in names for names in self.checked.values()
        )

    def check(self, page, title: str, url: str) -> None:
        heading = f"{title}: {page.title()}"
        if violations := axe_violations(page):
            self.failures.append(f"{heading}\n{axe_report(violations, url)}")
        if small := page.locator(LIST_TARGETS).evaluate_all(_SMALL):
            self.failures.append(
                f"{heading}\nsmaller than 24x24 px on {url}:\n  " + "\n  ".join(small)
            )


# --- The pages a login may open ----------------------------------------------------


def staff_pages(user) -> tuple[list[Page], list[str]]:
    """Every admin page `user` may open, from the admin site's registry and their rights;
    and the models they may open that have no row to open."""
    request = RequestFactory().get(reverse("admin:index"))
    request.user = user
    pages, empty = [Page("index", reverse("admin:index"))], []
    for app in admin.site.get_app_list(request):
        for entry in app["models"]:
            found = _model_pages(request, entry)
            label = entry["model"]._meta.label_lower
            opened = any(isinstance(p, Page) and p.name == f"{label} change" for p in found)
            if entry.get("admin_url") and _has_change_page(entry["model"]) and not opened:
                empty.append(label)
            pages += found
    return _answering(user, pages), empty


def _model_pages(request, entry) -> list:
    model = entry["model"]
    model_admin = admin.site._registry[model]
    label, info = model._meta.label_lower, f"{model._meta.app_label}_{model._meta.model_name}"
    pages = []
    if entry.get("admin_url"):
        pages.append(Page(f"{label} list", entry["admin_url"]))
    if entry.get("add_url"):
        pages.append(Page(f"{label} add", entry["add_url"]))
    rows = _rows(model_admin, request) if entry.get("admin_url") else []
    if rows:
        row = rows[0]
        if url := _url(f"{info}_change", row.pk):
            pages.append(Page(f"{label} change", url))
        if url := _url(f"{info}_history", row.pk):
            template = model_admin.object_history_template or "admin/object_history.html"
            pages.append(Page(f"{label} history", url, template))
        if model_admin.has_delete_permission(request, row) and (
            url := _url(f"{info}_delete", row.pk)
        ):
            template = model_admin.delete_confirmation_template or "admin/delete_confirmation.html"
            pages.append(Page(f"{label} delete", url, template))
    return pages + [_Own(label, name, takes_row, rows) for name, takes_row in _own(model_admin)]


def _has_change_page(model) -> bool:
    return _url(f"{model._meta.app_label}_{model._meta.model_name}_change", 1) is not None


def _rows(model_admin, request, most: int = 8) -> list:
    """Up to `most` rows this user may open, spread evenly along the list's order, the
    first row first (a session that can still be moved is not the first one)."""
    queryset = model_admin.get_queryset(request)
    ordering = model_admin.get_ordering(request) or model_admin.model._meta.ordering or ["pk"]
    pks = list(queryset.order_by(*ordering, "pk").values_list("pk", flat=True))
    picked = list(dict.fromkeys(pks[i * len(pks) // most] for i in range(most) if pks))
    found = queryset.in_bulk(picked)
    return [found[pk] for pk in picked]


def _url(name: str, *args) -> str | None:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return None


def _own(model_admin) -> list[tuple[str, bool]]:
    """A model admin's own named pages beyond the usual five (less the usual ones under
    another address, as the schedule's day is its list), as (URL name, takes a row id)."""
    opts = model_admin.model._meta
    usual = {f"{opts.app_label}_{opts.model_name}_{view}" for view in USUAL_VIEWS}
    patterns = model_admin.get_urls()
    views = {inspect.unwrap(p.callback) for p in patterns if p.name in usual}
    found = []
    for pattern in patterns:
        regex, view = pattern.pattern.regex, inspect.unwrap(pattern.callback)
        if not pattern.name or pattern.name in usual or view in views:
            continue
        views.add(view)
        if regex.groups == 0:
            found.append((pattern.name, False))
        elif regex.groups == 1 and set(regex.groupindex) == {"object_id"}:
            found.append((pattern.name, True))
    return found


@dataclass(frozen=True)
class _Own:
    """A model admin's own page, kept if it answers a GET with a page (not a redirect,
    a refusal or a file), with no row or with the first of `rows` for which it does."""

    label: str
    name: str
    takes_row: bool
    rows: list

    def answering(self, client) -> Page | None:
        args = [[row.pk] for row in self.rows] if self.takes_row else [[]]
        for url in (reverse(f"admin:{self.name}", args=a) for a in args):
            response = client.get(url)
            if response.status_code == 200 and "text/html" in response["Content-Type"]:
                app = self.label.split(".")[0]
                return Page(f"{self.label} {self.name.removeprefix(app + '_')}", url)
        return None


def _answering(user, pages: list) -> list[Page]:
    client = Client()
    client.force_login(user)
    found = (page.answering(client) if isinstance(page, _Own) else page for page in pages)
    return [page for page in found if page is not None]


# --- Walking them ------------------------------------------------------------------


@pytest.fixture
def demo(transactional_db):
    """The demo clinic, with a row of each model a role opens that the demo has none of."""
    call_command("seed_demo", "--quiet-logins")
    clinician = User.objects.get(email=CLINICIAN_LOGIN)
    session = Session.objects.filter(practitioner__user=clinician).earliest("start")
    ClinicalNote.objects.create(session=session, device="Dermapen 4", needle_depth_mm="0.50")
    now = timezone.now()
    NewsletterIssue.objects.create(
        period=now.strftime("%Y-%m"), covers_from=now.replace(day=1), covers_to=now
    )
    SubscriberFactory(confirmed_at=now)
    WaitlistSettings.objects.get_or_create(pk=1)  # the demo's waitlist uses the defaults
    # A payment taken at the desk with its receipt (the ledger's desk pages and receipts list).
    from booking.ledger import services as ledger
    from booking.ledger.models import ReceiptSent
    from booking.ledger.selectors import courses_with_accounts
    from booking.models import Course

    owing = next(
        c for c in courses_with_accounts(Course.objects.all()) if c.account and c.account.due > 0
    )
    payment = ledger.payment_record(course=owing, amount="10", method="cash", by=None)
    ReceiptSent.objects.create(entry=payment, to=owing.patient.user.email, sent_at=now)
    # An online deposit paid after its times were released (the demo has no Stripe keys):
    # the deposits' list and page, its Stripe event, and the takings' online line.
    from booking.deposits.models import DepositCheckout, PaymentEvent
    from booking.ledger.models import LedgerEntry

    checkout = DepositCheckout.objects.create(
        patient=owing.patient,
        treatment=owing.treatment,
        key="axe-deposit",
        amount="50.00",
        currency=owing.currency,
        expires_at=now,
        status=DepositCheckout.Status.LATE,
        stripe_session="cs_test_axe",
        payment_intent="pi_test_axe",
    )
    PaymentEvent.objects.create(
        event_id="evt_test_axe",
        type="checkout.session.completed",
        checkout=checkout,
        received_at=now,
    )
    ledger.online_money(
        kind=LedgerEntry.Kind.PAYMENT,
        amount=checkout.amount,
        ref="pi_test_axe",
        reason="Deposit paid online after the times were released",
        now=now,
        checkout=checkout,
    )


def walk(page, walked: Walk, login, origin: str) -> None:
    """Open each page `login` may use and run axe on it (the owner: see the module's doc)."""
    user = User.objects.get(email=login.email)
    sign_in_as(page, login.email, origin)
    pages, empty = staff_pages(user)
    if empty and not user.is_superuser:
        walked.failures.append(
            f"[{login.role}] no row to open of {', '.join(empty)}: add one in the `demo` fixture"
        )
    done, urls, templates = walked.checked.setdefault(login.role, []), set(), set()
    for target in pages:
        if target.template:
            if target.template in templates:
                continue
            templates.add(target.template)
        if target.url in urls or (user.is_superuser and _owner_skips(target, pages, walked)):
            continue
        response = page.goto(target.url)
        assert response.status == 200, f"{login.role}: {target.name} answered {response.status}"
        landed = page.url.removeprefix(origin)
        if landed in urls:
            continue  # redirected to a page already checked ("Add course" is phone booking)
        dark = target.name in DARK and not walked.seen(target)
        urls |= {target.url, landed}
        walked.urls |= urls
        done.append(target.name)
        walked.check(page, f"[{login.role}] {target.name}", target.url)
        if dark:
            # Loaded again in the dark: switched in place, colours would be caught mid-transition.
            page.emulate_media(color_scheme="dark")
            page.reload()
            walked.check(page, f"[{login.role}] {target.name}, dark theme", target.url)
            page.emulate_media(color_scheme="light")


def _owner_skips(target: Page, pages: list[Page], walked: Walk) -> bool:
    if walked.seen(target):
        return True
    label, _, view = target.name.rpartition(" ")
    if view in ("history", "delete"):
        return True
    return view == "add" and any(p.name == f"{label} change" for p in pages)


def test_every_staff_page_passes_axe_for_every_role(page, live_server, demo):
    page.set_viewport_size({"width": 1366, "height": 900})
    walked = Walk()
    for login in LOGINS:
        walk(page, walked, login, live_server.url)
    # The walk found what the issue names (the schedule's day is its list; "Add course"
    # is phone booking's first step).
    assert all(walked.checked.values()), walked.checked
    named = {
        "index",
        "booking.scheduleentry list",
        "booking.scheduleentry schedule_week",
        "booking.course add",
        "booking.session list",
        "booking.session session_move",
        "booking.reminder list",
        "booking.reminder change",  # its history: the sends and retries, inline
        "booking.waitlistentry list",  # with the pause and the month's count
        "booking.waitlistentry change",  # its offers, inline, and the withdraw form
        "booking.waitlistentry waitlistentry_offer",  # offer a time by hand
        "booking.waitlistsettings change",
        "booking.course course_payment",  # the desk (booking/admin/desk.py)
        "booking.course course_refund",
        "booking.ledgerentry list",
        "booking.ledgerentry ledgerentry_takings",
        "booking.ledgerentry ledgerentry_outstanding",
        "booking.receiptsent list",
        "booking.depositcheckout list",  # online deposits (booking/admin/deposits.py)
        "booking.depositcheckout change",
        "booking.paymentevent list",
    }
    assert named <= set(walked.checked["reception"]), walked.checked["reception"]
    checked = sum(len(names) for names in walked.checked.values())
    assert not walked.failures, f"axe on {checked} staff pages:\n\n" + "\n\n".join(walked.failures)
