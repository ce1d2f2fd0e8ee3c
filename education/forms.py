from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SuitabilityQuestion

YES_NO = [("no", _("No")), ("yes", _("Yes"))]


class SuitabilityForm(forms.Form):
    """One required yes/no radio group per question; nothing is stored."""

    def __init__(self, *args, questions: list[SuitabilityQuestion], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.pk}"] = forms.ChoiceField(
                label=question.text,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": _("Choose yes or no for this question.")},
            )

    def answered_yes(self) -> list[SuitabilityQuestion]:
        return [q for q in self.questions if self.cleaned_data.get(f"q{q.pk}") == "yes"]


class NewsletterSignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Enter your email address."),
            "invalid": _("Enter an email address like name@example.com."),
        },
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
