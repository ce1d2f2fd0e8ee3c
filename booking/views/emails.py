"""One-click unsubscribe for the optional emails (RFC 8058).

The link names the patient and the kind of email in a signed token, so it
works without a session or CSRF cookie; GET asks, only POST changes anything.
"""

from django.core import signing
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..models import Patient
from ..reminder_emails import UNSUBSCRIBE_SALT
from ..reminders import OPTIONAL

LABELS = {
    "check_in": "check-in emails after each session",
    "next_window": "emails about booking a cancelled session again",
}


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request, token):
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        patient = Patient.objects.get(pk=data["p"])
        field = OPTIONAL[data["k"]]
    except (signing.BadSignature, KeyError, TypeError, Patient.DoesNotExist) as exc:
        raise Http404("This link does not work.") from exc
    label = LABELS[data["k"]]
    if request.method == "POST":
        setattr(patient, field, False)
        patient.save(update_fields=[field])
        return render(request, "booking/email_unsubscribed.html", {"label": label})
    return render(request, "booking/email_unsubscribe.html", {"label": label})
