from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from clinic.security import limit_posts

from . import health_check, selectors, services, structured_data
from .diagrams import course_timeline
from .forms import NewsletterSignupForm, SearchForm, SuitabilityForm
from .page_cache import PAGE_NUMBER, SLUG, cached_public_page, dont_keep
from .search import clean_query, search
from .sections import treatment_sections
from .suitability import suitability_outcome

ARTICLES_PER_PAGE = 10


@require_safe
def home(request):
    return render(
        request,
        "home.html",
        {
            "treatments": [t for t in selectors.treatments_listed() if not t.is_consultation],
            "articles": selectors.articles_published()[:3],
            "faqs": selectors.faqs_common(5),
            "newsletter_form": NewsletterSignupForm(),
        },
    )


@require_safe
@cached_public_page()
def treatment_detail(request, slug):
    treatment = selectors.treatment_for_page(slug)
    intro_html, sections = treatment_sections(treatment)
    faqs = selectors.treatment_faqs(treatment)
    toc = [{"id": s.id, "title": s.title, "level": 2} for s in sections]
    return render(
        request,
        "education/treatment_detail.html",
        {
            "treatment": treatment,
            "intro_html": intro_html,
            "sections": sections,
            "toc": toc,
            "faqs": faqs,
            "timeline": course_timeline(treatment) if treatment.is_course else None,
            "sources": treatment.sources.all(),
            "page_data": structured_data.treatment_page(treatment),
        },
    )


@require_http_methods(["GET", "POST"])
def suitability(request, slug):
    treatment = selectors.treatment_for_page(slug)
    questions = list(treatment.questions.all())
    form = SuitabilityForm(request.POST if request.method == "POST" else None, questions=questions)
    outcome = answered_yes = carry = None
    if request.method == "POST" and form.is_valid():
        answered_yes = form.answered_yes()
        outcome = suitability_outcome(answered_yes)
        given = {str(q.pk): form.cleaned_data[f"q{q.pk}"] for q in questions}
        carry = health_check.carried(treatment, given, treatment.questions_version)
    return render(
        request,
        "education/suitability.html",
        {
            "treatment": treatment,
            "form": form,
            "outcome": outcome,
            "answered_yes": answered_yes,
            "carry": carry,  # the answers, for booking to keep if the patient books
            "consultation": selectors.treatments_listed().filter(is_consultation=True).first(),
        },
        status=400 if form.errors else 200,  # as every other form here
    )


@require_safe
@cached_public_page(params={"topic": SLUG, "page": PAGE_NUMBER})
def article_list(request):
    asked = request.GET.get("page")
    page = selectors.article_list_page(request.GET.get("topic"), asked, ARTICLES_PER_PAGE)
    if page is None:
        raise Http404("No such topic")
    if asked is not None and asked != str(page.number):
        dont_keep(request)  # past the end (the last page shown): not kept under this URL
    return render(
        request,
        "education/article_list.html",
        {"page": page, "topic": page.topic, "topics": page.topics},
    )


@require_safe
@cached_public_page()
def article_detail(request, slug):
    article = selectors.article_for_page(slug)
    return render(
        request,
        "education/article_detail.html",
        {
            "article": article,
            "sources": list(article.sources.all()),
            "page_data": structured_data.article_page(article),
        },
    )


@require_safe
@cached_public_page()
def faq(request):
    groups = selectors.faqs_by_topic()
    all_faqs = [faq for _topic, faqs in groups for faq in faqs]
    return render(
        request,
        "education/faq.html",
        {
            "groups": groups,
            "faq_data": structured_data.faq_page(all_faqs) if all_faqs else None,
        },
    )


@require_safe
def search_page(request):
    form = SearchForm(request.GET)
    query = clean_query(request.GET.get("q"))
    results = search(query) if query else []
    return render(
        request,
        "education/search.html",
        {
            "form": form,
            "query": query,
            "results": results,
        },
    )


@require_http_methods(["GET", "POST"])
@limit_posts("newsletter-signup", "RATE_LIMIT_NEWSLETTER")
def newsletter(request):
    form = NewsletterSignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.newsletter_signup(email=form.cleaned_data["email"])
        except services.EmailNotSent:
            messages.error(
                request,
                gettext("We could not send the email just now. Please try again in a few minutes."),
            )
            return render(request, "education/newsletter.html", {"form": form}, status=503)
        return redirect(reverse("education:newsletter_check_email"))
    return render(
        request, "education/newsletter.html", {"form": form}, status=400 if form.errors else 200
    )


@require_safe
def newsletter_check_email(request):
    return render(request, "education/newsletter_check_email.html")


@require_http_methods(["GET", "POST"])
def newsletter_confirm(request, signed):
    subscriber = services.subscriber_from_confirmation(signed)
    if subscriber is None:
        return render(request, "education/newsletter_link_invalid.html", status=404)
    if request.method == "POST":
        services.newsletter_confirm(subscriber=subscriber)
        messages.success(request, gettext("Thank you. You are signed up to the newsletter."))
        return redirect(reverse("education:newsletter"))
    return render(request, "education/newsletter_confirm.html", {"subscriber": subscriber})


@csrf_exempt  # RFC 8058 one-click: mail clients POST without a session or CSRF cookie
@require_http_methods(["GET", "POST"])
def newsletter_unsubscribe(request, token):
    if "\x00" in token:  # no token holds one, and PostgreSQL refuses it in a query (a 500)
        raise Http404("No such subscription")
    subscriber = get_object_or_404(
        services.NewsletterSubscriber.objects.only("email", "unsubscribed_at"), token=token
    )
    if request.method == "POST":
        services.newsletter_unsubscribe(token=token)
        return render(request, "education/newsletter_unsubscribed.html")
    return render(request, "education/newsletter_unsubscribe.html", {"subscriber": subscriber})
