"""Who is booking: their address (checked with an emailed code), then their details."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinic.security import rate_limit, too_many_requests

from ... import selectors, services
from ...email_check import (
    CodeRefused,
    EmailCheck,
    email_code_account,
    email_code_check,
    email_code_send,
)
from ...forms import EmailCodeForm, EmailForm, PatientDetailsForm, PatientPasswordForm
from ...journey import Journey
from .steps import guard, posted, step_page


@never_cache
@require_http_methods(["GET", "POST"])
def account(request):
    journey, treatment, early = guard(request, "account")
    if early:
        return early
    if selectors.patient_of(request.user):
        return redirect("booking:consent")
    if request.user.is_authenticated:
        return _details(request, journey, treatment)
    return _email_check(request, journey, treatment)


def _limited(request, action: str, setting: str, key: str = ""):
    """The 429 page when this POST goes over settings.<setting>, else None."""
    limit, period = getattr(settings, setting)
    wait = rate_limit(request, action=action, limit=limit, period=period, key=key)
    return too_many_requests(request, wait) if wait is not None else None


def _email_check(request, journey: Journey, treatment):
    """Not signed in: their address, then the code emailed to it (booking/email_check.py)."""
    check = EmailCheck.load(request)
    action = request.POST.get("action", "")
    email_form = code_form = None
    if request.method == "POST" and action == "change":
        EmailCheck.clear(request)
        return redirect("booking:account")
    if request.method == "POST" and action in ("send", "resend"):
        data = {"email": check.email} if action == "resend" and check else request.POST
        email_form = EmailForm(data)
        if email_form.is_valid():
            email = email_form.cleaned_data["email"]
            # The sign-up form's counter (an account, or the news that one exists), then
            # the address's own, so nobody's inbox is flooded with codes.
            refused = _limited(request, "sign-up", "SIGN_UP_RATE") or _limited(
                request, "email-code", "BOOKING_CODES_PER_ADDRESS", key=email
            )
            if refused:
                return refused
            email_code_send(email=email, now=timezone.now()).save(request)
            return redirect("booking:account")
    elif request.method == "POST" and action == "code" and check:
        if refused := _limited(request, "email-code-check", "RATE_LIMIT_EMAIL_CODE_CHECK"):
            return refused
        code_form = EmailCodeForm(request.POST)
        if code_form.is_valid():
            try:
                email_code_check(check, code=code_form.cleaned_data["code"], now=timezone.now())
            except CodeRefused as refusal:
                if refusal.start_again:
                    EmailCheck.clear(request)
                    messages.error(request, refusal.message)
                    return redirect("booking:account")
                check.save(request)  # the try counts
                code_form.add_error("code", refusal.message)
            else:
                user = email_code_account(email=check.email)
                EmailCheck.clear(request)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                journey.save(request)  # login() cycles the session: keep the journey
                return redirect("booking:account")
    form = (email_form or EmailForm()) if check is None else (code_form or EmailCodeForm())
    return step_page(
        request,
        "account",
        "booking/journey/account.html",
        {
            "journey": journey,
            "treatment": treatment,
            "form": form,
            "check": check,
            "login_url": f"{reverse('account_login')}?next={reverse('booking:account')}",
        },
    )


def _details(request, journey: Journey, treatment):
    """Signed in, not yet a patient: name and phone (and a password, for an account with none)."""
    user = request.user
    needs_password = not user.has_usable_password()
    form = (
        PatientPasswordForm(posted(request), user=user, initial={"full_name": user.full_name})
        if needs_password
        else PatientDetailsForm(posted(request), initial={"full_name": user.full_name})
    )
    if request.method == "POST" and form.is_valid():
        services.patient_register(
            user=user,
            full_name=form.cleaned_data["full_name"],
            phone=form.cleaned_data["phone"],
            password=form.cleaned_data["password"] if needs_password else None,
        )
        if needs_password:
            update_session_auth_hash(request, user)  # a new password would sign them out
        return redirect("booking:consent")
    return step_page(
        request,
        "account",
        "booking/journey/details.html",
        {"journey": journey, "treatment": treatment, "form": form},
    )
