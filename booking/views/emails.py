"""One-click unsubscribe for the optional emails (RFC 8058).

The link names the patient and the kind of email in an opaque token
(booking/reminder_emails.py), so it works without a session or CSRF cookie;
GET asks, only POST changes anything.
"""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..models import Patient
from ..reminder_emails import unsubscribe_payload
from ..reminder_kinds import OPTIONAL

LABELS = {
    "check_in": _("check-in emails after each session"),
    "next_window": _("emails about booking a cancelled session again"),
}


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request, token):
    data = unsubscribe_payload(token)
    patient = Patient.objects.filter(pk=data.get("p")).first() if "p" in data else None
    field = OPTIONAL.get(data.get("k"))
    if patient is None or field is None:
        return render(request, "booking/email_link_invalid.html", status=404)
    label = LABELS[data["k"]]
    if request.method == "POST":
        setattr(patient, field, False)
        patient.save(update_fields=[field])
        return render(request, "booking/email_unsubscribed.html", {"label": label})
    return render(request, "booking/email_unsubscribe.html", {"label": label})
