"""The signed-in person's own data on /accounts/: a copy to download, and deleting the account.

Thin views over booking/privacy.py. Both pages are never cached: they show
personal and health data.
"""

import json

from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from .. import privacy


class AccountDeleteForm(forms.Form):
    """The current password, or for an account with none (booked by phone) its email address."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.has_usable_password():
            self.fields["password"] = forms.CharField(
                label="Your password",
                strip=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                error_messages={"required": "Enter your password to delete your account."},
            )
        else:
            self.fields["email"] = forms.EmailField(
                label="Your email address",
                help_text="Type it to show it is really you.",
                widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                error_messages={"required": "Type your email address to delete your account."},
            )

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not right. Nothing has been changed.")
        return password

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if email.lower() != self.user.email.lower():
            raise forms.ValidationError(
                "That is not the email address of this account. Nothing has been changed."
            )
        return email


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
