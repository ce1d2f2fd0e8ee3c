"""The signed-in patient's own courses and sessions on /appointments/.

Every lookup is scoped to the patient: another patient's course or session is
a 404, for every URL and method, never a 403 that says it exists.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .. import rulebook, selectors, services
from ..availability import Slot
from ..calendar_files import sessions_ics
from ..forms import EmailPreferencesForm, posted_slot
from ..journey import parse_slot, slot_value
from ..models import BookingRules, Course, Patient, Practitioner, Session
from ..waitlist import services as waitlist
from ..waitlist.sending import offer_token
from .picker import asked_day, book_posted_time, picker_context, time_choices


def own_session(request, pk) -> Session:
    """The signed-in patient's session `pk`, or 404 (for another patient's too)."""
    return get_object_or_404(
        Session.objects.select_related("course__treatment", "practitioner", "patient"),
        pk=pk,
        patient__user=request.user,
    )


def own_course(request, pk) -> Course:
    """The signed-in patient's course `pk`, or 404 (for another patient's too)."""
    return get_object_or_404(
        Course.objects.select_related("treatment", "patient"), pk=pk, patient__user=request.user
    )


def _can_change(session: Session, now, rules: BookingRules) -> bool:
    return rulebook.change_breach(session.status, session.start, now, rules, by_staff=False) is None


REPLAN_KEY = "booking_replan"


def _offer_replan(request, *, session, needed) -> HttpResponse:
    """Keep the cancellation asked for, and the later sessions it would move, until the
    patient chooses (booking/replan.html): nothing is changed before that. (A move shows
    the same on its confirm page.)"""
    request.session[REPLAN_KEY] = {
        "course": session.course_id,
        "session": session.pk,
        "action": "cancel",
        "message": needed.message,
        "proposals": [
            (p.number, slot_value(p.slot) if p.slot else "", p.reason) for p in needed.proposals
        ],
    }
    return redirect("booking:replan", pk=session.course_id)


def _session_row(session: Session, *, now, rules, starts, waiting: set[int], again) -> dict:
    upcoming = session.start > now and session.status == Session.Status.BOOKED
    can_change = _can_change(session, now, rules)
    can_wait = False
    if upcoming and can_change and session.pk not in waiting:
        first, last = waitlist.entry_dates(
            treatment=session.course.treatment, session=session, now=now, starts=starts
        )
        can_wait = first <= last  # some earlier day keeps the course's gaps
    return {
        "session": session,
        "can_change": can_change,
        "upcoming": upcoming,
        "can_rebook": session == again,
        "waiting": upcoming and session.pk in waiting,
        "can_wait": can_wait,
    }


def _waitlist_rows(entries) -> list[dict]:
    """Each waiting entry, with the link to the offer holding a time for it, if any."""
    rows = []
    for entry in entries:
        offer = entry.live_offers[0] if entry.live_offers else None
        rows.append(
            {
                "entry": entry,
                "offer": offer,
                "offer_url": reverse("booking:offer_accept", args=[offer_token(offer)])
                if offer
                else "",
            }
        )
    return rows


@never_cache
@login_required
@require_http_methods(["GET"])
def appointments(request):
    patient = Patient.objects.filter(user=request.user).first()
    now, rules = timezone.now(), BookingRules.current()
    courses, entries = [], []
    if patient:
        entries = selectors.waitlist_of(patient=patient)
        waiting = {e.session_id for e in entries if e.session_id}
        # A session to come first, the soonest next; then the rest, latest last session first.
        for course in selectors.courses_with_money(
            selectors.courses_by_next_session(patient=patient, now=now)
        ):
            sessions = sorted(course.sessions.all(), key=lambda s: (s.number, s.start))
            active = [s for s in sessions if s.is_active]
            starts = {s.number: s.start for s in active}
            again = selectors.session_to_book_again(course, sessions)
            courses.append(
                {
                    "course": course,
                    "can_extend": course.treatment.sessions_max > len(active)
                    and any(s.status == Session.Status.BOOKED for s in active),
                    "sessions": [
                        _session_row(
                            s, now=now, rules=rules, starts=starts, waiting=waiting, again=again
                        )
                        for s in sessions
                    ],
                }
            )
    waitlist_rows = _waitlist_rows(entries)
    return render(
        request,
        "booking/appointments.html",
        {
            "patient": patient,
            "courses": courses,
            "waitlist": waitlist_rows,
            "offer": next((row for row in waitlist_rows if row["offer"]), None),
            "preferences": EmailPreferencesForm(instance=patient) if patient else None,
            "rules": rules,
            "most_sessions": max((c["course"].sessions_planned for c in courses), default=0),
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
        messages.success(request, gettext("Your email choices are saved."))
    return redirect("booking:appointments")


def _move_bounds(session: Session, now, rules: BookingRules):
    """The days a session may move to (its window after the one before, never inside the
    minimum notice; a course's first, never past the horizon), the window, and the window
    that keeps the sessions after it where they are."""
    zone = selectors.clinic_zone()
    starts = [(s.number, s.start) for s in session.course.sessions.active()]
    spacing = rulebook.spacing_of(session.course.treatment)
    window = rulebook.window_after_previous(starts, session.number, spacing, zone)
    keeps_others = rulebook.move_window(starts, session.number, spacing, zone)
    earliest = now + rules.min_notice
    latest = window.ends_at(zone) if window else None
    if session.number == min(n for n, _start in starts):  # a course's first: the horizon too
        latest = min(latest, now + rules.horizon) if latest else now + rules.horizon
    first_day = earliest.astimezone(zone).date()
    if window:
        first_day = max(first_day, window.first_day)
    last_day = latest.astimezone(zone).date()
    if keeps_others == window or max(starts)[0] == session.number:
        keeps_others = None  # nothing after it to move, or it all fits anyway
    return first_day, last_day, earliest, latest, window, keeps_others


def _changeable(request, pk):
    """The patient's session `pk` with the time and the rules, and, when it can no
    longer be changed online, the answer to give instead (My appointments, with why)."""
    session = own_session(request, pk)
    now, rules = timezone.now(), BookingRules.current()
    if _can_change(session, now, rules):
        return session, now, rules, None
    messages.error(request, gettext("This session cannot be changed online. Please call us."))
    return session, now, rules, redirect("booking:appointments")


@never_cache
@login_required
@require_http_methods(["GET"])
def move_session(request, pk):
    """The times a session can move to; choosing one shows what changes (move_confirm)."""
    session, now, rules, refused = _changeable(request, pk)
    if refused:
        return refused
    treatment = session.course.treatment
    first_day, last_day, earliest, latest, window, keeps_others = _move_bounds(session, now, rules)
    # The session keeps its practitioner unless the patient asks to see everyone's times;
    # each time says whom it is with.
    everyone = selectors.practitioners_for(treatment)
    anyone = request.GET.get("with") == "any"
    picker = selectors.slot_picker(
        treatment=treatment,
        practitioners=everyone
        if anyone
        else [p for p in everyone if p.pk == session.practitioner_id],
        patient=session.patient,
        now=now,
        first_day=first_day,
        last_day=last_day,
        day=asked_day(request, "day"),
        start=asked_day(request, "from"),
        earliest=earliest,
        latest=latest,
        exclude_session_ids=[session.pk],
        rules=rules,
        one_per_time=not anyone,
        current=Slot(session.start, session.end, session.practitioner_id),
    )
    context = {
        "session": session,
        "window": window,
        "keeps_others": keeps_others,
        "anyone": anyone,
        "current": session,
        "current_day": timezone.localtime(session.start).date(),
        "form_method": "get",
        "form_action": reverse("booking:session_move_confirm", args=[session.pk]),
        **picker_context(
            request,
            picker,
            first_day=first_day,
            last_day=last_day,
            picker_query="&with=any" if anyone else "",
        ),
    }
    if request.htmx:
        return render(request, "booking/includes/picker.html", context)
    return render(request, "booking/session_move.html", context)


def _posted_later(request) -> dict[int, str]:
    """The later sessions' new times the confirm page showed (later_<number> fields)."""
    return {
        int(name.removeprefix("later_")): value
        for name, value in request.POST.items()
        if name.startswith("later_") and name.removeprefix("later_").isdigit()
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def move_confirm(request, pk):
    """Old and new side by side, with what the move does to the sessions after it; the
    session moves only when the patient confirms what they were shown."""
    session, now, rules, refused = _changeable(request, pk)
    if refused:
        return refused
    treatment = session.course.treatment
    source = request.POST if request.method == "POST" else request.GET
    slot = posted_slot(source.get("slot", ""), treatment)
    if (
        slot is None
        or slot.start == session.start
        and slot.practitioner_id == session.practitioner_id
    ):
        messages.error(request, gettext("Please choose one of the free times shown."))
        return redirect("booking:session_move", pk=pk)
    practitioner = _practitioner(slot.practitioner_id, treatment)
    preview = selectors.move_preview(session=session, slot=slot, now=now)
    later = {s.number: slot_value(p) for s, p in preview.later if p}
    if request.method == "POST" and preview.complete:
        if _posted_later(request) != later:
            messages.warning(
                request,
                gettext(
                    "Free times changed while you were choosing. Please check the new "
                    "times below before you confirm."
                ),
            )
        else:
            try:
                services.session_move(
                    session=session,
                    new_start=slot.start,
                    now=now,
                    practitioner=practitioner,
                    also={s.number: p for s, p in preview.later if p},
                    by=request.user,
                )
            except services.NeedsReplan:
                messages.warning(
                    request,
                    gettext("Free times changed while you were choosing. Please check again."),
                )
            except services.BookingError as error:
                messages.error(request, error.message)
                return redirect("booking:session_move", pk=pk)
            else:
                messages.success(
                    request, gettext("Session %(number)d is moved.") % {"number": session.number}
                )
                return redirect("booking:appointments")
            preview = selectors.move_preview(session=session, slot=slot, now=now)
    _first, _last, earliest, latest, _window, _keeps = _move_bounds(session, now, rules)
    free = selectors.slot_is_free(
        slot,
        treatment=treatment,
        practitioners=[practitioner],
        patient=session.patient,
        now=now,
        earliest=earliest,
        latest=latest,
        exclude_session_ids=[session.pk],
    )
    return render(
        request,
        "booking/session_move_confirm.html",
        {
            "session": session,
            "slot": slot,
            "slot_value": slot_value(slot),
            "practitioner": practitioner,
            "preview": preview,
            "free": free,
            "later_values": [(s.number, slot_value(p)) for s, p in preview.later if p],
        },
    )


def _practitioner(pk, treatment):
    return get_object_or_404(Practitioner, pk=pk, treatments=treatment, is_active=True)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def replan(request, pk):
    """A cancellation that would leave later sessions outside their windows.

    The patient sees which sessions would have to move and to when, and
    chooses: cancel and make those moves, cancel the later sessions too, or
    keep things as they are. Nothing is stored until then.
    """
    course = own_course(request, pk)
    stored = request.session.get(REPLAN_KEY) or {}
    if stored.get("course") != course.pk or stored.get("action") != "cancel":
        return redirect("booking:appointments")  # nothing asked, or kept from an older page
    session = course.sessions.active().filter(pk=stored.get("session")).first()
    if session is None:
        request.session.pop(REPLAN_KEY, None)
        return redirect("booking:appointments")
    sessions = {s.number: s for s in course.sessions.active()}
    proposals = [
        (sessions.get(n), parse_slot(v, course.treatment) if v else None, reason)
        for n, v, reason in stored["proposals"]
        if n in sessions
    ]
    complete = all(p_slot for _s, p_slot, _r in proposals)
    names = {p.pk: p for p in selectors.practitioners_for(course.treatment)}
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        request.session.pop(REPLAN_KEY, None)
        also = {s.number: p_slot for s, p_slot, _r in proposals if p_slot}
        try:
            if choice == "together" and complete:
                services.session_cancel(session=session, also=also, by=request.user)
                messages.success(
                    request,
                    gettext("Session %(number)d is cancelled and later sessions moved.")
                    % {"number": session.number},
                )
            elif choice == "with_later":
                services.session_cancel(session=session, with_later=True, by=request.user)
                messages.success(
                    request,
                    gettext("Session %(number)d and the sessions after it are cancelled.")
                    % {"number": session.number},
                )
            else:
                messages.info(request, gettext("Nothing was changed."))
        except services.BookingError as error:
            messages.error(
                request, gettext("Nothing was changed. %(reason)s") % {"reason": error.message}
            )
        return redirect("booking:appointments")
    return render(
        request,
        "booking/replan.html",
        {
            "course": course,
            "session": session,
            "message": stored.get("message", ""),
            "proposals": [
                (later, p_slot, reason, names.get(p_slot.practitioner_id) if p_slot else None)
                for later, p_slot, reason in proposals
            ],
            "complete": complete,
            "moving": _numbers([later.number for later, *_rest in proposals if later]),
        },
    )


def _numbers(numbers: list[int]) -> str:
    """[3] -> "session 3"; [3, 4] -> "sessions 3 and 4"."""
    if len(numbers) == 1:
        return gettext("session %(number)d") % {"number": numbers[0]}
    if not numbers:
        return gettext("the later sessions")
    listed = ", ".join(str(n) for n in numbers[:-1])
    return gettext("sessions %(numbers)s and %(last)d") % {"numbers": listed, "last": numbers[-1]}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def cancel_session(request, pk):
    session = own_session(request, pk)
    if request.method == "POST":
        try:
            services.session_cancel(session=session, by=request.user)
        except services.NeedsReplan as needed:
            return _offer_replan(request, session=session, needed=needed)
        except services.BookingError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, gettext("Session %(number)d is cancelled.") % {"number": session.number}
            )
        return redirect("booking:appointments")
    return render(request, "booking/session_cancel.html", {"session": session})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def cancel_course(request, pk):
    course = own_course(request, pk)
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
            messages.success(
                request, gettext("%(count)d session(s) cancelled.") % {"count": len(cancelled)}
            )
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
    session = own_session(request, pk)
    return _ics_response(
        sessions_ics([session], cancel=not session.is_active), f"session-{session.pk}.ics"
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def course_ics(request, pk):
    course = own_course(request, pk)
    sessions = course.sessions.active().select_related("course__treatment", "practitioner")
    return _ics_response(sessions_ics(sessions), f"course-{course.pk}.ics")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def extend_course(request, pk):
    """One more session for a course, up to the treatment's maximum: instead of a new course."""
    course = own_course(request, pk)
    now = timezone.now()
    if request.method == "POST":
        return book_posted_time(
            request,
            treatment=course.treatment,
            book=lambda slot: services.course_extend(course=course, slot=slot, now=now),
            retry=reverse("booking:course_extend", args=[pk]),
            booked=lambda session: (
                gettext("Session %(number)d is booked. We have emailed you.")
                % {"number": session.number}
            ),
        )
    active = course.sessions.active().count()
    proposals = (
        services.extension_proposals(course=course, now=now)
        if active < course.treatment.sessions_max
        else []
    )
    return render(
        request,
        "booking/course_extend.html",
        {
            "course": course,
            "full": active >= course.treatment.sessions_max,
            "times": time_choices(course.treatment, proposals),
        },
    )
