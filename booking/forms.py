from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from clinic.money import treatment_course_price
from education.models import Treatment

from .availability import Slot
from .journey import parse_slot
from .models import Patient
from .prices import length_price_words, treatment_price_words

# No slot is offered outside these years. A posted start near year 1 or 9999 would
# overflow (a 500) when the pages take its date in clinic time or add its length.
SLOT_YEARS = range(2000, 2100)


def posted_slot(value: str, treatment: Treatment) -> Slot | None:
    """A slot as a page posts it ('<ISO start>|<practitioner id>'), or None for anything else."""
    try:
        slot = parse_slot((value or "")[:100], treatment)
    except OverflowError:  # a start in the last hour of year 9999: its end does not exist
        return None
    if slot is None or slot.start.year not in SLOT_YEARS:
        return None
    return slot


class PricedTreatmentField(forms.ModelChoiceField):
    """Each treatment named with its price now: "Microneedling: £100.00 a session, ..."."""

    def label_from_instance(self, obj):
        return _("%(treatment)s: %(price)s") % {
            "treatment": obj.name,
            "price": treatment_price_words(obj),
        }


class TreatmentChoiceForm(forms.Form):
    treatment = PricedTreatmentField(
        label=_("Which treatment would you like?"),
        queryset=Treatment.objects.published().filter(bookable_online=True),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose a treatment."),
            "invalid_choice": _("Choose one of the treatments listed."),
        },
    )


class CourseLengthForm(forms.Form):
    def __init__(self, *args, treatment: Treatment, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (
                n,
                ngettext("%(n)d session", "%(n)d sessions", n) % {"n": n}
                + (str(_(" (usual)")) if n == treatment.sessions_usual else "")
                # With its price, so the choice and what it costs are read together.
                + str(_(": %(price)s"))
                % {"price": length_price_words(treatment_course_price(treatment, n))},
            )
            for n in range(treatment.sessions_min, treatment.sessions_max + 1)
        ]
        self.fields["sessions"] = forms.TypedChoiceField(
            label=_("How many sessions would you like to book?"),
            choices=choices,
            coerce=int,
            widget=forms.RadioSelect,
            initial=treatment.sessions_usual,
            error_messages={
                "required": _("Choose how many sessions."),
                "invalid_choice": _("Choose one of the numbers listed."),
            },
        )


class PractitionerChoiceForm(forms.Form):
    def __init__(self, *args, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {str(p.pk): p for p in practitioners}
        choices = [("any", _("Anyone: show me the most free times"))] + [
            (str(p.pk), f"{p.display_name}, {p.credentials}" if p.credentials else p.display_name)
            for p in practitioners
        ]
        self.fields["practitioner"] = forms.ChoiceField(
            # Not the page's heading again ("Who would you like to see?"): the group's name.
            label=_("Practitioner"),
            choices=choices,
            widget=forms.RadioSelect,
            initial="any",
            error_messages={
                "required": _("Choose a practitioner or anyone."),
                "invalid_choice": _("Choose one of those listed."),
            },
        )

    def options(self):
        """Each radio button with its practitioner (None for "Anyone"), for the page's cards."""
        return [(option, self.people.get(option.data["value"])) for option in self["practitioner"]]


class PatientDetailsForm(forms.ModelForm):
    """Name and phone for a signed-in person who is not yet a patient."""

    class Meta:
        model = Patient
        fields = ["full_name", "phone"]
        widgets = {
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        }
        help_texts = {"phone": _("So we can call you if we need to change a session.")}
        # Each says which field and what to do: the error summary lists them together.
        error_messages = {
            "full_name": {"required": _("Enter your full name.")},
            "phone": {"required": _("Enter a phone number.")},
        }

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        # Decimal digits (any script's): "¹²³".isdigit() is true too, yet nobody can dial it.
        if sum(c.isdecimal() for c in phone) < 7:
            raise forms.ValidationError(_("Enter a phone number with at least 7 digits."))
        return phone


class PatientPasswordForm(PatientDetailsForm):
    """Name, phone and a password, for an account that has none yet (made by an email code)."""

    password = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("You will use it to sign in and see your appointments. At least 8 characters."),
        error_messages={"required": _("Choose a password.")},
    )

    class Meta(PatientDetailsForm.Meta):
        fields = ["full_name", "phone", "password"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        from django.contrib.auth.password_validation import validate_password

        password = self.cleaned_data["password"]
        validate_password(password, self.user)
        return password


class EmailForm(forms.Form):
    """The booking journey's first question to someone not signed in: their address."""

    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We will email you a 6-digit code to check it is yours."),
        error_messages={
            "required": _("Enter your email address."),
            "invalid": _("Enter an email address like name@example.com."),
        },
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class EmailCodeForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code from the email"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": _("Type the code from the email.")},
    )


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read and agree to the consent statement above."),
        error_messages={"required": _("Tick the box to agree, or call us with questions.")},
    )


class EmailPreferencesForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = ["email_check_in", "email_next_window"]
        labels = {
            "email_check_in": _("A check-in email 3 days after each session"),
            "email_next_window": _("An email when you can book a cancelled session again"),
        }
