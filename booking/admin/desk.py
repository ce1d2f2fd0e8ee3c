"""The desk on a course's admin page (for CourseAdmin): the course's account and whole ledger,
and reception's actions: record a payment, give a refund, waive a policy outcome, correct a
payment or refund, email a receipt again.

Each action is a form page reached from the course page, a POST with its CSRF token, and one
call to booking/ledger/services.py (a refusal, BookingError, shows beside the field). The
permission comes first (403 whatever the id), then the course in the user's scope (a
missing one answers as the admin does for a row that does not exist), then an entry named
in the URL must be one of this course's (else 404).
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.money import money

from ..ledger import receipts
from ..ledger import services as ledger
from ..ledger.models import DESK_METHODS, EFFECT, LedgerEntry
from ..ledger.selectors import course_account
from ..models import Course
from ..services import BookingError
from .waitlist_actions import local_time

RECORD_PAYMENT = "booking.record_payment"
WAIVE_POLICY = "booking.waive_policy"
VIEW_LEDGER = "booking.view_ledgerentry"
K = LedgerEntry.Kind
WAIVABLE = (K.FEE, K.KEPT, K.USED)  # with an event: a policy outcome
CORRECTABLE = (K.PAYMENT, K.REFUND)
ACTIONS = {  # name: (permission, title)
    "payment": (RECORD_PAYMENT, _("Record a payment")),
    "refund": (RECORD_PAYMENT, _("Give a refund")),
    "waive": (WAIVE_POLICY, _("Waive a policy outcome")),
    "correct": (RECORD_PAYMENT, _("Correct a payment or refund")),
}


def _amount_field():
    return forms.CharField(
        label=_("Amount"),
        max_length=20,
        error_messages={"required": _("Enter the amount, like 45.00.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def _method_field(label):
    return forms.ChoiceField(
        label=label,
        choices=[c for c in LedgerEntry.Method.choices if c[0] in DESK_METHODS],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the money moved.")},
    )


def _receipt_field():
    return forms.BooleanField(
        label=_("Email a receipt"),
        required=False,
        initial=True,
        help_text=_("To the patient's email address, with the course's balance."),
    )


def _reason_field(label, required_message, help_text=""):
    return forms.CharField(
        label=label,
        max_length=250,
        help_text=help_text,
        error_messages={"required": required_message},
    )


class PaymentForm(forms.Form):
    amount = _amount_field()
    method = _method_field(_("Paid by"))
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=200,
        help_text=_("For example the voucher's number. Kept with the payment."),
    )
    receipt = _receipt_field()


class RefundForm(forms.Form):
    amount = _amount_field()
    method = _method_field(_("Given back by"))
    reason = _reason_field(_("Why the money is given back"), _("Say why the money is given back."))
    receipt = _receipt_field()


class EntryChoiceForm(forms.Form):
    """One of the course's entries (`choices`), and the reason."""

    entry = forms.TypedChoiceField(label="", coerce=int, widget=forms.RadioSelect)
    reason = forms.CharField(max_length=250)

    def __init__(self, *args, entries, entry_label, reason_label, reason_required, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["entry"]
        field.label = entry_label
        field.choices = [(e.pk, entry_in_words(e)) for e in entries]
        field.error_messages = {
            "required": gettext("Choose one."),
            "invalid_choice": gettext("Choose one of those shown."),
        }
        reason = self.fields["reason"]
        reason.label = reason_label
        reason.error_messages = {"required": reason_required}


def entry_in_words(entry: LedgerEntry) -> str:
    """'Policy fee £30.00, session 2, Wed 3 Jun 10:00: Cancelled 5 hours before the session…'"""
    parts = [f"{entry.get_kind_display()} {money(entry.amount, entry.currency)}"]
    if entry.session_id:
        parts.append(gettext("session %(number)d") % {"number": entry.session.number})
    if entry.method:
        parts.append(entry.get_method_display().lower())
    parts.append(local_time(entry.at))
    return ", ".join(parts) + f": {entry.reason}"


def _entries(course: Course) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(course=course)
        .select_related("session", "refers_to")
        .prefetch_related("receipts")
        .order_by("at", "pk")
    )


def waivable(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Policy outcomes (a fee, or a session counted as used) not waived yet."""
    done = {e.refers_to_id for e in entries if e.refers_to_id}
    return [e for e in entries if e.event and e.kind in WAIVABLE and e.pk not in done]


def correctable(entries: list[LedgerEntry]) -> list[LedgerEntry]:
    """Payments and refunds recorded at the desk, not corrected yet. Money online (Stripe)
    is recorded from Stripe's own messages, never typed, so there is no slip to correct:
    a refund of it goes through Stripe (booking/deposits/)."""
    done = {e.refers_to_id for e in entries if e.refers_to_id}
    return [
        e
        for e in entries
        if e.kind in CORRECTABLE and e.method in DESK_METHODS and e.pk not in done
    ]


def ledger_rows(entries: list[LedgerEntry]) -> list[dict]:
    """Each entry with what the patient still owed after it (the running balance)."""
    rows, due = [], 0
    for entry in entries:
        due += entry.amount * EFFECT[entry.kind]
        rows.append({"entry": entry, "due_after": due})
    return rows


class CourseDeskMixin:
    """For CourseAdmin: the ledger on the course's page and the desk's action pages."""

    def desk_urls(self):
        def view(function, route, name):
            return path(route, self.admin_site.admin_view(function), name=f"booking_course_{name}")

        return [
            view(self.payment_view, "<path:object_id>/payment/", "payment"),
            view(self.refund_view, "<path:object_id>/refund/", "refund"),
            view(self.waive_view, "<path:object_id>/waive/", "waive"),
            view(self.correct_view, "<path:object_id>/correct/", "correct"),
            view(self.receipt_view, "<path:object_id>/receipt/", "receipt"),
        ]

    # --- the course's page ---------------------------------------------------

    def desk_context(self, request, object_id) -> dict:
        """The account, the ledger and the actions this user may take, for the course page."""
        if not request.user.has_perm(VIEW_LEDGER):
            return {}
        course = self.get_object(request, unquote(object_id))
        if course is None or course.price is None:
            return {}
        entries = _entries(course)
        user = request.user
        actions = {}
        if user.has_perm(RECORD_PAYMENT):
            actions["payment"] = reverse("admin:booking_course_payment", args=[course.pk])
            actions["refund"] = reverse("admin:booking_course_refund", args=[course.pk])
            if correctable(entries):
                actions["correct"] = reverse("admin:booking_course_correct", args=[course.pk])
        if user.has_perm(WAIVE_POLICY) and waivable(entries):
            actions["waive"] = reverse("admin:booking_course_waive", args=[course.pk])
        return {
            "ledger": {
                "account": course_account(course),
                "currency": course.currency,
                "rows": ledger_rows(entries),
                "actions": actions,
                "waivable": {e.pk for e in waivable(entries)} if "waive" in actions else set(),
                "correctable": {e.pk for e in correctable(entries)}
                if user.has_perm(RECORD_PAYMENT)
                else set(),
                "receipt_url": reverse("admin:booking_course_receipt", args=[course.pk])
                if user.has_perm(RECORD_PAYMENT)
                else "",
            }
        }

    # --- shared steps ----------------------------------------------------------

    def _desk_course(self, request, object_id, permission):
        """(course, None) or (None, the answer): permission first, then the scoped row."""
        if not request.user.has_perm(permission):
            raise PermissionDenied
        course = self.get_object(request, unquote(object_id))
        if course is None:
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if course.price is None:
            self.message_user(
                request,
                gettext("This course was booked before prices were kept: it has no ledger."),
                messages.ERROR,
            )
            return None, HttpResponseRedirect(self._course_url(course))
        return course, None

    def _course_url(self, course) -> str:
        return reverse("admin:booking_course_change", args=[course.pk]) + "#ledger"

    def _desk_page(self, request, course, name, form, **extra):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": ACTIONS[name][1],
            "course": course,
            "course_url": self._course_url(course),
            "account": course_account(course),
            "currency": course.currency,
            "form": form,
            "action": name,
            **extra,
        }
        return TemplateResponse(request, "admin/booking/course/desk_action.html", context)

    def _account_now(self, course) -> str:
        account = course_account(course)
        if account.due > 0:
            return gettext("Still to pay: %(due)s.") % {"due": money(account.due, course.currency)}
        if account.due < 0:
            return gettext("The clinic owes the patient %(owed)s.") % {
                "owed": money(account.owed_to_patient, course.currency)
            }
        return gettext("Nothing is owed either way.")

    def _receipt(self, request, entry) -> None:
        """Email the receipt now (the entry is committed), saying how it went."""
        try:
            receipts.receipt_send(entry=entry, by=request.user)
        except receipts.ReceiptNotSent:
            self.message_user(
                request,
                gettext(
                    "The receipt could not be sent; try again with the button "
                    "“Email the receipt again” beside the entry below."
                ),
                messages.ERROR,
            )
        except BookingError as error:
            self.message_user(request, error.message, messages.WARNING)
        else:
            self.message_user(request, gettext("The receipt is emailed to the patient."))

    def _entry_asked(self, request, course) -> LedgerEntry | None:
        """The entry named by `entry` (GET or POST), which must be one of this course's."""
        raw = (request.POST if request.method == "POST" else request.GET).get("entry", "")
        if not raw:
            return None
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            raise Http404
        return get_object_or_404(LedgerEntry, pk=int(raw), course=course)

    # --- payment and refund ----------------------------------------------------

    def payment_view(self, request, object_id):
        return self._money_in_or_out(
            request,
            object_id,
            name="payment",
            form_class=PaymentForm,
            record=ledger.payment_record,
            fields=("amount", "method", "note"),
            done=gettext("Payment of %(amount)s by %(method)s recorded. %(account)s"),
        )

    def refund_view(self, request, object_id):
        return self._money_in_or_out(
            request,
            object_id,
            name="refund",
            form_class=RefundForm,
            record=ledger.refund_record,
            fields=("amount", "method", "reason"),
            done=gettext("Refund of %(amount)s by %(method)s recorded. %(account)s"),
        )

    def _money_in_or_out(self, request, object_id, *, name, form_class, record, fields, done):
        """A payment or a refund: the form, the ledger service, the message, the receipt."""
        course, answer = self._desk_course(request, object_id, RECORD_PAYMENT)
        if answer:
            return answer
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                entry = record(
                    course=course, by=request.user, **{field: data[field] for field in fields}
                )
            except BookingError as error:
                form.add_error("amount", error.message)
            else:
                self.message_user(
                    request,
                    done
                    % {
                        "amount": money(entry.amount, entry.currency),
                        "method": entry.get_method_display().lower(),
                        "account": self._account_now(course),
                    },
                    messages.SUCCESS,
                )
                if data["receipt"]:
                    self._receipt(request, entry)
                return HttpResponseRedirect(self._course_url(course))
        return self._desk_page(request, course, name, form)

    # --- waivers and corrections ---------------------------------------------------

    def waive_view(self, request, object_id):
        return self._about_entry(
            request,
            object_id,
            name="waive",
            permission=WAIVE_POLICY,
            choose=waivable,
            entry_label=_("The policy outcome to waive"),
            reason_label=_("Why it is waived"),
            reason_required=_("Say why the policy is waived."),
            service=ledger.outcome_waive,
            done=_("Waived: %(entry)s. %(account)s"),
            none=_("This course has no policy outcome to waive."),
        )

    def correct_view(self, request, object_id):
        return self._about_entry(
            request,
            object_id,
            name="correct",
            permission=RECORD_PAYMENT,
            choose=correctable,
            entry_label=_("The payment or refund recorded by mistake"),
            reason_label=_("What was wrong"),
            reason_required=_("Say what was wrong."),
            service=ledger.entry_correct,
            done=_("Corrected: %(entry)s. %(account)s"),
            none=_("This course has no payment or refund to correct."),
        )

    def _about_entry(
        self, request, object_id, *, name, permission, choose, service, done, none, **labels
    ):
        course, answer = self._desk_course(request, object_id, permission)
        if answer:
            return answer
        asked = self._entry_asked(request, course)
        entries = _entries(course)
        candidates = choose(entries)
        initial = {"entry": asked.pk} if asked is not None and asked in candidates else {}
        form = EntryChoiceForm(request.POST or None, initial=initial, entries=candidates, **labels)
        if request.method == "POST" and form.is_valid():
            entry = next(e for e in candidates if e.pk == form.cleaned_data["entry"])
            try:
                service(entry=entry, by=request.user, reason=form.cleaned_data["reason"])
            except BookingError as error:
                form.add_error("entry", error.message)
            else:
                self.message_user(
                    request,
                    done % {"entry": entry_in_words(entry), "account": self._account_now(course)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._course_url(course))
        elif request.method == "POST" and asked is not None and asked not in candidates:
            form.errors.pop("entry", None)
            form.add_error(
                None,
                gettext("That entry cannot be waived.")
                if name == "waive"
                else gettext("That entry cannot be corrected."),
            )
        return self._desk_page(request, course, name, form, nothing=none if not candidates else "")

    # --- the receipt, again ------------------------------------------------------

    def receipt_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        course, answer = self._desk_course(request, object_id, RECORD_PAYMENT)
        if answer:
            return answer
        entry = self._entry_asked(request, course)
        if entry is None:
            raise Http404
        self._receipt(request, entry)
        return HttpResponseRedirect(self._course_url(course))


# --- the cancellation policy on staff's cancel and move pages ---------------------------


def policy_preview(session, event: str, now) -> str:
    """What the policy will do if `session` is cancelled or moved (`event`) now, in a
    sentence ("Cancelling now: £30.00 fee, per the clinic's policy."); "" when nothing."""
    from .. import rulebook

    if session.course.price is None:
        return ""
    outcome = ledger.policy_for(session, event, now=now)
    if outcome is None:
        return ""
    currency = session.course.currency
    if outcome.outcome == rulebook.FEE:
        what = gettext("%(fee)s fee") % {"fee": money(outcome.fee, currency)}
    elif outcome.outcome == rulebook.DEPOSIT:
        what = gettext("the deposit of %(fee)s is kept") % {"fee": money(outcome.fee, currency)}
    else:
        what = gettext("the session counts as used (%(price)s)") % {
            "price": money(session.price or 0, currency)
        }
    sentence = (
        gettext("Moving now: %(what)s, per the clinic's policy.")
        if event == rulebook.LATE_MOVE
        else gettext("Cancelling now: %(what)s, per the clinic's policy.")
    )
    return sentence % {"what": what}


def may_waive(request) -> bool:
    return request.user.has_perm(WAIVE_POLICY)


WAIVE_LABEL = _("Waive the policy: reason")
WAIVE_HELP = _(
    "Only if the clinic lets this one go. Kept in the ledger with your name; nothing is charged."
)
