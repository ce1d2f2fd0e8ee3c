"""The forms of phone booking: find or add a patient, choose the course, check its plan.

They only validate what staff typed; the booking rules themselves are the
services' (booking/services/), which give the final answer on "Book".
"""

from datetime import date, datetime, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from education.models import Treatment

from ..availability import Slot, local_datetime
from ..forms import SLOT_YEARS, PatientDetailsForm, posted_slot
from ..models import Practitioner
from ..selectors import clinic_zone

# Dates further off than this are typing mistakes; it also keeps window arithmetic
# well clear of year 9999.
DAYS_AHEAD = 730
DATE_INPUT = {"type": "date"}
DATE_FORMAT = "%Y-%m-%d"


def _date_widget():
    return forms.DateInput(attrs=DATE_INPUT, format=DATE_FORMAT)


def _within_reach(day: date | None, field: str, form: forms.Form) -> None:
    today = timezone.localdate()
    if day is not None and not today <= day <= today + timedelta(days=DAYS_AHEAD):
        form.add_error(field, gettext("Choose a date from today to two years ahead."))


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, email or phone"),
        min_length=2,
        max_length=100,
        error_messages={"min_length": _("Type at least 2 characters.")},
    )


class PhonePatientForm(PatientDetailsForm):
    """A new patient, from what they tell reception; their account gets no password."""

    email = forms.EmailField(label=_("Email address"), max_length=254)

    class Meta(PatientDetailsForm.Meta):
        fields = ["full_name", "email", "phone", "date_of_birth"]
        widgets = {**PatientDetailsForm.Meta.widgets, "date_of_birth": _date_widget()}
        help_texts = {"date_of_birth": _("Optional.")}

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_date_of_birth(self):
        born = self.cleaned_data.get("date_of_birth")
        if born and not date(1900, 1, 1) <= born <= timezone.localdate():
            raise forms.ValidationError(gettext("Enter a date of birth in the past."))
        return born

    def existing_user(self):
        """The account already holding this email, if any."""
        email = self.cleaned_data.get("email")
        if not email:
            return None
        return get_user_model().objects.filter(email__iexact=email).first()


class CourseChoiceForm(forms.Form):
    """What to book and the day to look at; travels in the query string (a read)."""

    treatment = forms.ModelChoiceField(
        label=_("Treatment"),
        queryset=Treatment.objects.published()
        .filter(practitioners__is_active=True)
        .distinct()
        .order_by("name"),
        empty_label=_("Choose a treatment"),
        error_messages={
            "required": _("Choose a treatment."),
            "invalid_choice": _("Choose one of the treatments listed."),
        },
    )
    sessions = forms.IntegerField(
        label=_("Number of sessions"),
        min_value=1,
        max_value=99,
        required=False,
        help_text=_("Leave empty for the treatment's usual number."),
    )
    practitioner = forms.ModelChoiceField(
        label=_("Practitioner"),
        queryset=Practitioner.objects.filter(is_active=True),
        required=False,
        empty_label=_("Anyone"),
        error_messages={"invalid_choice": _("Choose one of the practitioners listed.")},
    )
    day = forms.DateField(
        label=_("Day of the first session"), required=False, widget=_date_widget()
    )
    short_notice = forms.BooleanField(
        label=_("Include times inside the minimum notice (booking one needs a reason)"),
        required=False,
    )

    def clean(self):
        data = super().clean()
        treatment = data.get("treatment")
        if treatment is None:
            return data
        sessions = data.get("sessions")
        if sessions is None and "sessions" not in self.errors:
            data["sessions"] = sessions = treatment.sessions_usual
        if sessions is not None and not (
            treatment.sessions_min <= sessions <= treatment.sessions_max
        ):
            self.add_error(
                "sessions",
                gettext("A course of %(treatment)s has %(min)d to %(max)d sessions.")
                % {
                    "treatment": treatment.name,
                    "min": treatment.sessions_min,
                    "max": treatment.sessions_max,
                },
            )
        practitioner = data.get("practitioner")
        if practitioner and not practitioner.treatments.filter(pk=treatment.pk).exists():
            self.add_error(
                "practitioner",
                gettext("%(practitioner)s does not offer %(treatment)s.")
                % {"practitioner": practitioner, "treatment": treatment.name},
            )
        _within_reach(data.get("day"), "day", self)
        return data


class ChosenStartForm(forms.Form):
    """A first session's time and practitioner chosen before the patient: a free gap
    clicked on the schedule. Step 1 carries it (in the query string) to step 2, or to
    step 3 when it names the treatment; those steps check it is free as they always do.
    """

    first = forms.CharField(max_length=100)  # '<ISO start>|<practitioner id>', as step 2 posts
    practitioner = forms.ModelChoiceField(queryset=Practitioner.objects.filter(is_active=True))
    treatment = forms.ModelChoiceField(
        queryset=CourseChoiceForm.base_fields["treatment"].queryset, required=False
    )
    short_notice = forms.BooleanField(required=False)

    CARRIED = ("practitioner", "treatment", "short_notice", "first")

    def clean(self):
        data = super().clean()
        start_text, _, practitioner_text = data.get("first", "").partition("|")
        try:
            start = datetime.fromisoformat(start_text)
        except ValueError:
            start = None
        practitioner = data.get("practitioner")
        if (
            start is None
            or start.tzinfo is None
            or start.year not in SLOT_YEARS
            or practitioner is None
            or practitioner_text != str(practitioner.pk)
        ):
            raise forms.ValidationError(gettext("That time was not understood."))
        data["start"] = start.astimezone(clinic_zone())
        return data

    def carried(self) -> list[tuple[str, str]]:
        """The choice as it travels on: step 2's fields, its day, and the time."""
        pairs = [(n, self.data[n]) for n in self.CARRIED if self.data.get(n)]
        return [*pairs, ("day", self.cleaned_data["start"].date().isoformat())]


class PlanForm(forms.Form):
    """The planned course as staff may change it, the overrides, and consent.

    One date, time and practitioner per later session; the first session is
    the slot chosen at the step before.
    """

    first = forms.CharField(widget=forms.HiddenInput, max_length=100)
    key = forms.RegexField(
        widget=forms.HiddenInput, regex=r"^phone-[0-9a-f]{32}$", max_length=64, required=False
    )
    allow_short_notice = forms.BooleanField(
        label=_("Book inside the minimum notice"), required=False
    )
    allow_outside_window = forms.BooleanField(
        label=_("Allow sessions outside their spacing window"), required=False
    )
    override_reason = forms.CharField(
        label=_("Reason for overriding the booking rules"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when either box above is ticked; kept with the course."),
    )

    def __init__(self, *args, treatment: Treatment, sessions: int, consent_text=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.treatment, self.sessions = treatment, sessions
        self.session_slots: dict[int, Slot] = {}  # by session number, those understood
        offering = Practitioner.objects.filter(is_active=True, treatments=treatment)
        for number in range(2, sessions + 1):
            self.fields[f"s{number}_date"] = forms.DateField(
                label=gettext("Session %(number)d: date") % {"number": number},
                widget=_date_widget(),
                error_messages={"required": gettext("Enter a date.")},
            )
            self.fields[f"s{number}_time"] = forms.TimeField(
                label=gettext("Session %(number)d: time") % {"number": number},
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                error_messages={"required": gettext("Enter a time.")},
            )
            self.fields[f"s{number}_practitioner"] = forms.ModelChoiceField(
                label=gettext("Session %(number)d: practitioner") % {"number": number},
                queryset=offering,
                empty_label=None,
                error_messages={
                    "invalid_choice": gettext("Choose one of the practitioners listed.")
                },
            )
        # The same health questions as online (education's SuitabilityQuestion), read out,
        # with the version they were read out at (a changed set is asked again).
        self.questions = list(treatment.questions.all())
        self.fields["questions_version"] = forms.IntegerField(
            widget=forms.HiddenInput,
            initial=treatment.questions_version,
            min_value=1,
            required=False,  # as the page sends it; a post without it is for the current set
        )
        for question in self.questions:
            self.fields[f"q{question.pk}"] = forms.ChoiceField(
                label=question.text,
                choices=[("no", gettext("No")), ("yes", gettext("Yes"))],
                widget=forms.RadioSelect,
                error_messages={"required": gettext("Ask this question and record the answer.")},
            )
        read_out = (
            gettext(
                "I read the consent statement (version %(version)d) to the patient; they agreed"
            )
            % {"version": consent_text.version}
            if consent_text
            else gettext("I read the consent statement to the patient; they agreed")
        )
        self.fields["consent_method"] = forms.ChoiceField(
            label=gettext("Consent"),
            choices=[
                ("phone", read_out),
                ("paper", gettext("They will read and sign the consent form at their first visit")),
            ],
            widget=forms.RadioSelect,
            error_messages={"required": gettext("Record how the patient gives their consent.")},
        )
        self.fields["clinical_reason"] = forms.CharField(
            label=gettext("Clinical reason to go ahead after a health answer (clinicians only)"),
            required=False,
            max_length=1000,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=gettext(
                "Only when an answer calls for a clinician first. Kept on the course."
            ),
        )

    def answers(self) -> dict[int, str]:
        return {q.pk: self.cleaned_data.get(f"q{q.pk}") for q in self.questions}

    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"q{q.pk}"] for q in self.questions]

    def session_fields(self, number: int) -> list[forms.BoundField]:
        return [self[f"s{number}_{part}"] for part in ("date", "time", "practitioner")]

    def clean_first(self):
        slot = posted_slot(self.cleaned_data["first"], self.treatment)
        if slot is None:
            raise forms.ValidationError(gettext("The first session's time was not understood."))
        return slot

    def clean(self):
        data = super().clean()
        zone, minutes = clinic_zone(), timedelta(minutes=self.treatment.appointment_minutes)
        if data.get("first"):
            self.session_slots[1] = data["first"]
        for number in range(2, self.sessions + 1):
            day, wall = data.get(f"s{number}_date"), data.get(f"s{number}_time")
            practitioner = data.get(f"s{number}_practitioner")
            _within_reach(day, f"s{number}_date", self)
            if f"s{number}_date" in self.errors or None in (day, wall, practitioner):
                continue
            start = local_datetime(day, wall.replace(second=0, microsecond=0), zone)
            if start is None:
                self.add_error(
                    f"s{number}_time",
                    gettext("That time does not exist on this day: the clocks change."),
                )
                continue
            self.session_slots[number] = Slot(start, start + minutes, practitioner.pk)
        data["slots"] = [self.session_slots.get(n) for n in range(1, self.sessions + 1)]
        return data
