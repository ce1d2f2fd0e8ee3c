from django.urls import path

from .views import appointments, emails, journey

app_name = "booking"

urlpatterns = [
    path("book/", journey.start, name="start"),
    path("book/treatment/<slug:slug>/", journey.start_with, name="start_with"),
    path("book/course/", journey.length, name="length"),
    path("book/questions/", journey.questions, name="questions"),
    path("book/consultation/", journey.consultation_instead, name="consultation_instead"),
    path("book/practitioner/", journey.practitioner, name="practitioner"),
    path("book/time/", journey.time, name="time"),
    path("book/plan/", journey.plan, name="plan"),
    path("book/plan/<int:number>/", journey.plan_session, name="plan_session"),
    path("book/details/", journey.account, name="account"),
    path("book/consent/", journey.consent, name="consent"),
    path("book/confirm/", journey.confirm, name="confirm"),
    path("book/done/<int:pk>/", journey.done, name="done"),
    path("appointments/", appointments.appointments, name="appointments"),
    path("appointments/preferences/", appointments.preferences, name="preferences"),
    path("emails/stop/<str:token>/", emails.email_unsubscribe, name="email_unsubscribe"),
    path("appointments/sessions/<int:pk>/move/", appointments.session_move, name="session_move"),
    path(
        "appointments/sessions/<int:pk>/cancel/", appointments.session_cancel, name="session_cancel"
    ),
    path(
        "appointments/sessions/<int:pk>/calendar.ics", appointments.session_ics, name="session_ics"
    ),
    path("appointments/courses/<int:pk>/cancel/", appointments.course_cancel, name="course_cancel"),
    path("appointments/courses/<int:pk>/replan/", appointments.replan, name="replan"),
    path("appointments/courses/<int:pk>/add/", appointments.course_extend, name="course_extend"),
    path("appointments/courses/<int:pk>/calendar.ics", appointments.course_ics, name="course_ics"),
]
