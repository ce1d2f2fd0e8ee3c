"""django-allauth's forms with the site's wording: sentence-case labels, plain words.

Only labels and help texts change; validation is allauth's own. Named in
ACCOUNT_FORMS and MFA_FORMS (settings).
https://docs.allauth.org/en/latest/account/forms.html
"""

from allauth.account import forms as account
from allauth.mfa.base import forms as mfa_base
from allauth.mfa.totp import forms as mfa_totp
from django.utils.translation import gettext_lazy as _

LABELS = {
    "login": _("Email address"),
    "email": _("Email address"),
    "password": _("Password"),
    "remember": _("Keep me signed in on this device"),
    "oldpassword": _("Current password"),
    "password1": _("New password"),
    "password2": _("New password again"),
    "code": _("Code"),
}


def _relabel(form, **more) -> None:
    for name, field in form.fields.items():
        label = more.get(name, LABELS.get(name))
        if label:
            field.label = label
            field.widget.attrs.pop("placeholder", None)  # a visible label says it already


def _worded(form_class, *, quiet=(), **labels):
    """`form_class` with the site's labels (`labels` over LABELS) and no help on `quiet`."""

    class Worded(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            _relabel(self, **labels)
            for name in quiet:  # allauth's "Forgot your password?" help: the page links it
                self.fields[name].help_text = ""

    Worded.__name__ = Worded.__qualname__ = form_class.__name__
    return Worded


NEW_PASSWORD = {"password1": _("Choose a password"), "password2": _("Type the password again")}
LoginForm = _worded(account.LoginForm, quiet=["password"])
SignupForm = _worded(account.SignupForm, **NEW_PASSWORD)
ChangeEmailForm = _worded(account.AddEmailForm, email=_("New email address"))
ChangePasswordForm = _worded(account.ChangePasswordForm, quiet=["oldpassword"])
SetPasswordForm = _worded(account.SetPasswordForm, **NEW_PASSWORD)
ResetPasswordForm = _worded(account.ResetPasswordForm)
ResetPasswordKeyForm = _worded(account.ResetPasswordKeyForm)
ReauthenticateForm = _worded(account.ReauthenticateForm, quiet=["password"])
AuthenticateForm = _worded(
    mfa_base.AuthenticateForm, code=_("Code from your authenticator app (or a recovery code)")
)
MfaReauthenticateForm = _worded(
    mfa_base.ReauthenticateForm, code=_("Code from your authenticator app")
)
ActivateTOTPForm = _worded(mfa_totp.ActivateTOTPForm, code=_("The 6-digit code your app shows"))
