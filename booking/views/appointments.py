"""The signed-in patient's own courses and sessions on /appointments/.

Every lookup is scoped to the patient: another patient's course or session is
a 404, for every URL and method, never a 403 that says it exists.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services
from ..calendar_files import sessions_ics
from ..courses import session_window
from ..forms import EmailPreferencesForm, posted_slot
from ..journey import parse_slot, slot_value
from ..models import BookingRules, Course, Patient, Session
from .journey import _week_start, week_of_slots


def _own_session(request, pk) -> Session:
    return get_object_or_404(
        Session.objects.select_related("course__treatment", "practitioner", "patient"),
        pk=pk,
        patient__user=request.user,
    )


def _own_course(request, pk) -> Course:
    return get_object_or_404(
        Course.objects.select_related("treatment", "patient"), pk=pk, patient__user=request.user
    )


def _can_change(session: Session, now, rules: BookingRules) -> bool:
    return session.status == Session.Status.BOOKED and session.start - now >= rules.change_notice


@never_cache
@login_required
@require_http_methods(["GET"])
def appointments(request):
    patient = Patient.objects.filter(user=request.user).first()
    now, rules = timezone.now(), BookingRules.current()
    courses = []
    if patient:
        for course in patient.courses.select_related("treatment", "practitioner").prefetch_related(
            "sessions__practitioner"
        ):
            sessions = sorted(course.sessions.all(), key=lambda s: (s.number, s.start))
            courses.append(
                {
                    "course": course,
                    "sessions": [
                        {
                            "session": s,
                            "can_change": _can_change(s, now, rules),
                            "upcoming": s.start > now and s.status == Session.Status.BOOKED,
                        }
                        for s in sessions
                    ],
                }
            )
    return render(
        request,
        "booking/appointments.html",
        {
            "patient": patient,
            "courses": courses,
            "preferences": EmailPreferencesForm(instance=patient) if patient else None,
            "rules": rules,
        },
    )


@never_cache
@login_required
@require_POST
def preferences(request):
    patient = get_object_or_404(Patient, user=request.user)
    form = EmailPreferencesForm(request.POST, instance=patient)
    if form.is_valid():
        form.save()
        messages.success(request, "Your email choices are saved.")
    return redirect("booking:appointments")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def session_move(request, pk):
    session = _own_session(request, pk)
    treatment = session.course.treatment
    now, rules = timezone.now(), BookingRules.current()
    zone = selectors.clinic_zone()
    if not _can_change(session, now, rules):
        messages.error(request, "This session cannot be changed online. Please call us.")
        return redirect("booking:appointments")
    previous = (
        session.course.sessions.active()
        .filter(number__lt=session.number)
        .order_by("-number")
        .first()
    )
    window = (
        session_window(previous.start, services.spacing_of(treatment), zone) if previous else None
    )
    if request.method == "POST":
        slot = posted_slot(request.POST.get("slot", ""), treatment)
        if slot is None:
            messages.error(request, "Please choose one of the free times shown.")
            return redirect("booking:session_move", pk=pk)
        try:
            result = services.session_move(
                session=session,
                new_start=slot.start,
                now=now,
                practitioner=session.practitioner
                if slot.practitioner_id == session.practitioner_id
                else _practitioner(slot.practitioner_id, treatment),
            )
        except services.BookingError as error:
            messages.error(request, error.message)
            return redirect("booking:session_move", pk=pk)
        messages.success(request, f"Session {session.number} is moved.")
        if result.replan:
            request.session["booking_replan"] = {
                "course": session.course_id,
                "proposals": [
                    (p.number, slot_value(p.slot) if p.slot else "", p.reason)
                    for p in result.replan
                ],
            }
            return redirect("booking:replan", pk=session.course_id)
        return redirect("booking:appointments")
    week_start = _week_start(
        request.GET.get("week"), (window.first_day if window else timezone.localdate())
    )
    earliest = now + rules.min_notice
    latest = window.ends_at(zone) if window else None
    days = week_of_slots(
        treatment=treatment,
        practitioners=selectors.practitioners_for(treatment),
        patient=session.patient,
        week=week_start,
        now=now,
        earliest=earliest,
        latest=latest,
        exclude_session_ids=[session.pk],
        rules=rules,
    )
    outside = set()
    if window:
        outside = {d for d, _s in days if not window.first_day <= d <= window.last_day}
        days = [(d, [] if d in outside else s) for d, s in days]
    first_week = (
        _week_start(None, window.first_day) if window else _week_start(None, timezone.localdate())
    )
    last_week = _week_start(None, window.last_day) if window else None
    context = {
        "session": session,
        "window": window,
        "days": days,
        "week": week_start,
        "previous_week": week_start - timedelta(days=7) if week_start > first_week else None,
        "next_week": week_start + timedelta(days=7)
        if last_week is None or week_start < last_week
        else None,
        "form_action": request.path,
        "week_url": request.path,
        "chosen": None,
        "outside": outside,
    }
    if request.htmx:
        return render(request, "booking/includes/week.html", context)
    return render(request, "booking/session_move.html", context)


def _practitioner(pk, treatment):
    return get_object_or_404(selectors.Practitioner, pk=pk, treatments=treatment, is_active=True)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def replan(request, pk):
    """After a move: later sessions outside their window, each with a proposed time."""
    course = _own_course(request, pk)
    stored = request.session.get("booking_replan") or {}
    if stored.get("course") != course.pk:
        return redirect("booking:appointments")
    sessions = {s.number: s for s in course.sessions.active()}
    proposals = [
        (sessions.get(n), parse_slot(v, course.treatment) if v else None, reason)
        for n, v, reason in stored["proposals"]
        if n in sessions
    ]
    if request.method == "POST":
        accepted = 0
        for session, slot, _reason in proposals:
            if slot is None:
                continue
            try:
                services.session_move(
                    session=session,
                    new_start=slot.start,
                    practitioner=_practitioner(slot.practitioner_id, course.treatment),
                )
                accepted += 1
            except services.BookingError as error:
                messages.error(request, f"Session {session.number}: {error.message}")
        request.session.pop("booking_replan", None)
        if accepted:
            messages.success(request, "The later sessions are moved to keep their spacing.")
        return redirect("booking:appointments")
    return render(request, "booking/replan.html", {"course": course, "proposals": proposals})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def session_cancel(request, pk):
    session = _own_session(request, pk)
    if request.method == "POST":
        try:
            services.session_cancel(session=session)
        except services.BookingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Session {session.number} is cancelled.")
        return redirect("booking:appointments")
    return render(request, "booking/session_cancel.html", {"session": session})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def course_cancel(request, pk):
    course = _own_course(request, pk)
    upcoming = list(
        course.sessions.filter(status=Session.Status.BOOKED, start__gt=timezone.now()).order_by(
            "number"
        )
    )
    if request.method == "POST":
        try:
            cancelled = services.course_cancel(course=course)
        except services.BookingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{len(cancelled)} session(s) cancelled.")
        return redirect("booking:appointments")
    return render(request, "booking/course_cancel.html", {"course": course, "upcoming": upcoming})


def _ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@login_required
@require_http_methods(["GET"])
def session_ics(request, pk):
    session = _own_session(request, pk)
    return _ics_response(
        sessions_ics([session], cancel=not session.is_active), f"session-{session.pk}.ics"
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def course_ics(request, pk):
    course = _own_course(request, pk)
    sessions = course.sessions.active().select_related("course__treatment", "practitioner")
    return _ics_response(sessions_ics(sessions), f"course-{course.pk}.ics")
