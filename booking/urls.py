from django.urls import path

from .views import appointments, deposits, emails, photos, rebook, waitlist
from .views.journey import choose, confirm, details, times

app_name = "booking"

urlpatterns = [
    path("book/", choose.start, name="start"),
    path("book/treatment/<slug:slug>/", choose.start_with, name="start_with"),
    path("book/course/", choose.length, name="length"),
    path("book/questions/", choose.questions, name="questions"),
    path("book/consultation/", choose.consultation_instead, name="consultation_instead"),
    path("book/practitioner/", choose.practitioner, name="practitioner"),
    path("book/time/", times.time, name="time"),
    path("book/plan/", times.plan, name="plan"),
    path("book/plan/<int:number>/", times.plan_session, name="plan_session"),
    path("book/details/", details.account, name="account"),
    path("book/consent/", confirm.consent, name="consent"),
    path("book/confirm/", confirm.confirm, name="confirm"),
    path("book/done/<int:pk>/", confirm.done, name="done"),
    path("book/deposit/<int:pk>/", deposits.deposit_status, name="deposit_status"),
    path("book/deposit/<int:pk>/let-go/", deposits.deposit_abandon, name="deposit_abandon"),
    path("payments/stripe/webhook/", deposits.stripe_webhook, name="stripe_webhook"),
    path("appointments/", appointments.appointments, name="appointments"),
    path("appointments/preferences/", appointments.preferences, name="preferences"),
    path("emails/stop/<str:token>/", emails.email_unsubscribe, name="email_unsubscribe"),
    path("appointments/sessions/<int:pk>/move/", appointments.move_session, name="session_move"),
    path(
        "appointments/sessions/<int:pk>/move/confirm/",
        appointments.move_confirm,
        name="session_move_confirm",
    ),
    path(
        "appointments/sessions/<int:pk>/cancel/", appointments.cancel_session, name="session_cancel"
    ),
    path(
        "appointments/sessions/<int:pk>/calendar.ics", appointments.session_ics, name="session_ics"
    ),
    path("appointments/sessions/<int:pk>/again/", rebook.rebook_session, name="session_rebook"),
    path("appointments/courses/<int:pk>/cancel/", appointments.cancel_course, name="course_cancel"),
    path("appointments/courses/<int:pk>/replan/", appointments.replan, name="replan"),
    path("appointments/courses/<int:pk>/add/", appointments.extend_course, name="course_extend"),
    path("appointments/courses/<int:pk>/calendar.ics", appointments.course_ics, name="course_ics"),
    path("waitlist/join/", waitlist.waitlist_join, name="waitlist_join"),
    path("waitlist/<int:pk>/change/", waitlist.waitlist_change, name="waitlist_change"),
    path("waitlist/<int:pk>/leave/", waitlist.waitlist_leave, name="waitlist_leave"),
    path("waitlist/offers/<str:token>/", waitlist.offer_accept, name="offer_accept"),
    path("waitlist/offers/<str:token>/decline/", waitlist.offer_decline, name="offer_decline"),
    # Under settings.MEDIA_URL; the name's shape is checked by the view.
    path("media/practitioners/<str:name>", photos.practitioner_photo, name="practitioner_photo"),
]
