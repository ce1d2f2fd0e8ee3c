"""The signed-in person's own data on /accounts/: a copy to download, and deleting the account.

Thin views over booking/privacy.py. Both pages are never cached: they show
personal and health data.
"""

import json

from allauth.account import views as allauth_views
from allauth.account.models import EmailAddress
from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from clinic.account_forms import SetPasswordForm

from .. import privacy
from ..welcome import welcome_password_set, welcome_user


class AccountDeleteForm(forms.Form):
    """The current password, or for an account with none (booked by phone) its email address."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.has_usable_password():
            self.fields["password"] = forms.CharField(
                label=gettext("Your password"),
                strip=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                error_messages={"required": gettext("Enter your password to delete your account.")},
            )
        else:
            self.fields["email"] = forms.EmailField(
                label=gettext("Your email address"),
                help_text=gettext("Type it to show it is really you."),
                widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                error_messages={
                    "required": gettext("Type your email address to delete your account.")
                },
            )

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                gettext("That password is not right. Nothing has been changed.")
            )
        return password

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if email.lower() != self.user.email.lower():
            raise forms.ValidationError(
                gettext("That is not the email address of this account. Nothing has been changed.")
            )
        return email


@login_required
def email(request):
    """allauth's email page, where an address becomes the account's own only once verified.

    allauth lets an unverified address become primary when the account has no
    verified one; here it never does: until its owner opens the link, an
    address typed in does not receive the bookings nor match any record.
    """
    if request.method == "POST" and "action_primary" in request.POST:
        address = EmailAddress.objects.filter(
            user=request.user, email__iexact=request.POST.get("email", "")[:254]
        ).first()
        if address is not None and not address.verified:
            messages.error(
                request, gettext("Confirm that address first: open the link we emailed to it.")
            )
            return redirect("account_email")
    return allauth_views.email(request)


@never_cache
@login_required
@require_safe
def data(request):
    return render(request, "account/data.html")


@never_cache
@login_required
@require_safe
def data_json(request):
    body = json.dumps(privacy.patient_data(user=request.user), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-clinic-data.json"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delete(request):
    if request.user.is_staff:  # staff accounts are closed by the clinic, not from here
        return render(request, "account/delete.html", {"staff": True})
    form = AccountDeleteForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        privacy.account_delete(user=request.user, now=timezone.now())
        logout(request)
        return render(request, "account/deleted.html")
    return render(
        request, "account/delete.html", {"form": form}, status=400 if form.errors else 200
    )


@never_cache
@require_http_methods(["GET", "POST"])
def welcome(request, token):
    """A phone-booked patient chooses their first password from the confirmation email's link."""
    user = welcome_user(token)
    if user is None:
        return render(request, "account/welcome_invalid.html", status=404)
    form = SetPasswordForm(user=user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        welcome_password_set(user=user, password=form.cleaned_data["password1"])
        if request.user.is_authenticated and request.user.pk != user.pk:
            logout(request)
        if request.user.is_authenticated:
            update_session_auth_hash(request, user)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, gettext("Your password is saved. You are signed in."))
        return redirect("booking:appointments")
    return render(
        request,
        "account/welcome.html",
        {"form": form, "action": request.path},
        status=400 if form.errors else 200,
    )
