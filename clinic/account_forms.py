"""django-allauth's forms with the site's wording: sentence-case labels, plain words.

Only labels and help texts change; validation is allauth's own. Named in
ACCOUNT_FORMS and MFA_FORMS (settings).
https://docs.allauth.org/en/latest/account/forms.html
"""

from allauth.account import forms as account
from allauth.mfa.base import forms as mfa_base
from allauth.mfa.totp import forms as mfa_totp

LABELS = {
    "login": "Email address",
    "email": "Email address",
    "password": "Password",
    "remember": "Keep me signed in on this device",
    "oldpassword": "Current password",
    "password1": "New password",
    "password2": "New password again",
    "code": "Code",
}


def _relabel(form, **more) -> None:
    for name, field in form.fields.items():
        label = more.get(name, LABELS.get(name))
        if label:
            field.label = label
            field.widget.attrs.pop("placeholder", None)  # a visible label says it already


class LoginForm(account.LoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self)
        self.fields["password"].help_text = ""  # the page links to the reset page itself


class SignupForm(account.SignupForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, password1="Choose a password", password2="Type the password again")


class ChangeEmailForm(account.AddEmailForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, email="New email address")


class ChangePasswordForm(account.ChangePasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self)
        self.fields["oldpassword"].help_text = ""


class SetPasswordForm(account.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, password1="Choose a password", password2="Type the password again")


class ResetPasswordForm(account.ResetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self)


class ResetPasswordKeyForm(account.ResetPasswordKeyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self)


class ReauthenticateForm(account.ReauthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self)
        self.fields["password"].help_text = ""


class AuthenticateForm(mfa_base.AuthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, code="Code from your authenticator app (or a recovery code)")


class MfaReauthenticateForm(mfa_base.ReauthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, code="Code from your authenticator app")


class ActivateTOTPForm(mfa_totp.ActivateTOTPForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _relabel(self, code="The 6-digit code your app shows")
