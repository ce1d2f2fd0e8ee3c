"""The waitlist's forms: what a patient waits for, and the consent to an offered course."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Practitioner
from .models import ALL_DAY, EVERY_DAY, PARTS_OF_DAY
from .services import Wish

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
DATE_INPUT = "%Y-%m-%d"


class WishForm(forms.Form):
    """Dates, days of the week, parts of the day and practitioner; bounded to what can be
    booked (`first` to `last`)."""

    date_from = forms.DateField(
        label=_("First day you can come"),
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_INPUT),
        error_messages={"required": _("Enter the first date you can come.")},
    )
    date_to = forms.DateField(
        label=_("Last day you can come"),
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_INPUT),
        error_messages={"required": _("Enter the last date you can come.")},
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days you can come"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one day of the week.")},
    )
    parts_of_day = forms.TypedMultipleChoiceField(
        label=_("Times of day you can come"),
        choices=[(bit, label) for bit, label, _start, _until in PARTS_OF_DAY],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one part of the day.")},
    )
    practitioner = forms.ModelChoiceField(
        label=_("Who would you like to see?"),
        queryset=Practitioner.objects.none(),
        required=False,
        empty_label=_("Anyone"),
        error_messages={"invalid_choice": _("Choose one of the practitioners listed.")},
    )

    def __init__(self, *args, treatment, first, last, **kwargs):
        super().__init__(*args, **kwargs)
        self.first, self.last = first, last
        self.fields["practitioner"].queryset = Practitioner.objects.filter(
            is_active=True, treatments=treatment
        )
        for name in ("date_from", "date_to"):
            self.fields[name].widget.attrs.update(
                {"min": first.strftime(DATE_INPUT), "max": last.strftime(DATE_INPUT)}
            )
        self.fields["date_from"].help_text = _("Any day from %(first)s to %(last)s.") % {
            "first": f"{first:%-d %B %Y}",
            "last": f"{last:%-d %B %Y}",
        }

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        for name, day in (("date_from", start), ("date_to", end)):
            if day is not None and not self.first <= day <= self.last:
                self.add_error(
                    name,
                    _("Choose a date from %(first)s to %(last)s.")
                    % {"first": f"{self.first:%-d %B %Y}", "last": f"{self.last:%-d %B %Y}"},
                )
        in_range = not (self.has_error("date_from") or self.has_error("date_to"))
        if start and end and end < start and in_range:  # one message for the dates at a time
            self.add_error("date_to", _("The last date must be on or after the first date."))
        return data

    def wish(self) -> Wish:
        data = self.cleaned_data
        return Wish(
            date_from=data["date_from"],
            date_to=data["date_to"],
            weekdays=sum(1 << day for day in set(data["weekdays"])) or EVERY_DAY,
            parts_of_day=sum(set(data["parts_of_day"])) or ALL_DAY,
            practitioner=data["practitioner"],
        )

    @staticmethod
    def initial_for(*, first, last, entry=None, practitioner=None) -> dict:
        if entry is not None:
            return {
                "date_from": entry.date_from,
                "date_to": entry.date_to,
                "weekdays": [str(d) for d, _label in WEEKDAYS if entry.weekdays & (1 << d)],
                "parts_of_day": [str(b) for b, *_rest in PARTS_OF_DAY if entry.parts_of_day & b],
                "practitioner": entry.practitioner_id,
            }
        return {
            "date_from": first,
            "date_to": last,
            "weekdays": [str(day) for day, _label in WEEKDAYS],
            "parts_of_day": [str(bit) for bit, *_rest in PARTS_OF_DAY],
            "practitioner": practitioner,
        }


class OfferConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_("I have read the consent above and I agree to it."),
        error_messages={"required": _("Tick the box to agree to the consent, or let the time go.")},
    )
