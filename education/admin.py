import csv
from datetime import timedelta

from django.contrib import admin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from clinic.admin_labels import EditableListAdmin, TabularInline

from .models import (
    FAQ,
    Article,
    Contributor,
    NewsletterIssue,
    NewsletterSubscriber,
    Source,
    SuitabilityQuestion,
    Topic,
    Treatment,
)
from .readability import MAX_GRADE, reading_grade


class ReviewDueFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("soon", _("Due in 30 days")),
            ("none", _("No review date")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(next_review_due__lt=today)
        if self.value() == "soon":
            return queryset.filter(
                next_review_due__gte=today, next_review_due__lte=today + timedelta(days=30)
            )
        if self.value() == "none":
            return queryset.filter(next_review_due__isnull=True)
        return queryset


class ContentAdmin(admin.ModelAdmin):
    """Shared by treatments and articles: rendered preview, reading grade, review state."""

    preview_fields: tuple[tuple[str, str], ...] = ()  # (markdown field, html field)
    review_fieldsets = [
        (
            _("Review"),
            {
                "fields": [
                    "reviewed_by",
                    "last_reviewed",
                    "next_review_due",
                    "sources",
                    "source_check",
                ]
            },
        ),
        (_("Preview"), {"fields": ["reading_grades", "preview"]}),
    ]

    @admin.display(description=_("preview (as saved)"))
    def preview(self, obj):
        if not obj.pk:
            return _("Save to see the preview.")
        parts = [
            format_html("<div class='content-preview'>{}</div>", mark_safe(getattr(obj, h)))  # noqa: S308 - sanitised on save
            for _m, h in self.preview_fields
            if getattr(obj, h)
        ]
        return mark_safe("".join(parts))  # noqa: S308

    @admin.display(description=_("reading grade"))
    def reading_grades(self, obj):
        if not obj.pk:
            return "-"
        lines = []
        for markdown_field, _h in self.preview_fields:
            text = getattr(obj, markdown_field)
            if not text:
                continue
            grade = reading_grade(text)
            verdict = _("fine") if grade <= MAX_GRADE else _("too hard: aim for 8 or lower")
            lines.append(
                format_html(
                    "{}: grade {} ({})", markdown_field.replace("_", " "), f"{grade:.1f}", verdict
                )
            )
        return format_html("<br>".join(["{}"] * len(lines)), *lines) if lines else "-"

    @admin.display(description=_("sources"))
    def source_check(self, obj):
        if obj.pk and obj.sources.exists():
            return _("%(n)d checked source(s).") % {"n": obj.sources.count()}
        return _(
            "No checked source: the page shows none. Add one from the checked list "
            "before publishing; never invent a citation."
        )

    @admin.display(description=_("next review"), ordering="next_review_due")
    def review_state(self, obj):
        if not obj.next_review_due:
            return _("not set")
        label = obj.next_review_due.strftime("%d %b %Y")
        return (
            format_html("<strong>{} ({})</strong>", label, _("overdue"))
            if obj.review_overdue
            else label
        )


class SuitabilityQuestionInline(TabularInline):
    model = SuitabilityQuestion
    extra = 0


@admin.register(Treatment)
class TreatmentAdmin(ContentAdmin):
    preview_fields = (
        ("body", "body_html"),
        ("who_it_helps", "who_it_helps_html"),
        ("risks", "risks_html"),
        ("aftercare", "aftercare_html"),
    )
    list_display = ["name", "bookable_online", "is_published", "sessions_usual", "review_state"]
    list_filter = ["is_published", "bookable_online", ReviewDueFilter]
    search_fields = ["name", "other_names", "summary"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["sources"]
    inlines = [SuitabilityQuestionInline]
    readonly_fields = ["preview", "reading_grades", "source_check", "questions_version"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "other_names",
                    "summary",
                    "is_published",
                    "bookable_online",
                    "is_consultation",
                    ("session_price", "package_price"),
                    ("deposit", "deposit_value"),
                ]
            },
        ),
        (_("Page"), {"fields": ["body", "diagram", "who_it_helps", "risks", "aftercare"]}),
        (
            _("Appointment and course"),
            {
                "fields": [
                    ("treatment_minutes", "numbing_minutes"),
                    ("sessions_min", "sessions_usual", "sessions_max"),
                    ("spacing_min_days", "spacing_preferred_days", "spacing_max_days"),
                ]
            },
        ),
        (
            _("Health questions"),
            {
                "fields": ["questions_version"],
                "description": _(
                    "The questions are below. Changing, adding or removing one starts a new "
                    "version: patients who answered an older version answer again before booking."
                ),
            },
        ),
        *ContentAdmin.review_fieldsets,
    ]


@admin.register(Article)
class ArticleAdmin(ContentAdmin):
    preview_fields = (("body", "body_html"),)
    list_display = ["title", "status", "published_at", "topic", "review_state"]
    list_filter = ["status", ReviewDueFilter, "topic", "treatment"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["sources"]
    date_hierarchy = "published_at"
    readonly_fields = ["preview", "reading_grades", "source_check"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "status",
                    "published_at",
                    "treatment",
                    "topic",
                    "author",
                    "summary",
                    "body",
                ]
            },
        ),
        *ContentAdmin.review_fieldsets,
    ]

    def get_urls(self):
        return [
            path(
                "reviews-overdue/",
                self.admin_site.admin_view(self.reviews_overdue),
                name="education_reviews_overdue",
            ),
            *super().get_urls(),
        ]

    def reviews_overdue(self, request):
        """Every page whose clinical review date has passed, oldest first."""
        today = timezone.localdate()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reviews overdue"),
            "today": today,
            "treatments": Treatment.objects.filter(next_review_due__lt=today)
            .select_related("reviewed_by")
            .order_by("next_review_due"),
            "articles": Article.objects.filter(next_review_due__lt=today)
            .select_related("reviewed_by")
            .order_by("next_review_due"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/education/reviews_overdue.html", context)


@admin.register(FAQ)
class FAQAdmin(EditableListAdmin):
    list_display = ["question", "topic", "treatment", "order", "is_published"]
    list_editable = ["order", "is_published"]
    list_filter = ["is_published", "topic", "treatment"]
    search_fields = ["question", "answer"]
    prepopulated_fields = {"slug": ["question"]}
    readonly_fields = ["preview"]

    @admin.display(description=_("preview (as saved)"))
    def preview(self, obj):
        return mark_safe(obj.answer_html) if obj.pk else "-"  # noqa: S308 - sanitised on save


@admin.register(Contributor)
class ContributorAdmin(admin.ModelAdmin):
    list_display = ["name", "credentials", "role", "is_clinician"]
    list_filter = ["is_clinician"]
    search_fields = ["name"]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["title", "publisher", "url", "accessed_on"]
    search_fields = ["title", "publisher"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "order"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(NewsletterSubscriber)
class NewsletterSubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = [
        ("confirmed_at", admin.EmptyFieldListFilter),
        ("unsubscribed_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["email"]
    readonly_fields = ["created_at", "confirmed_at", "unsubscribed_at"]
    actions = ["export_confirmed_csv"]

    @admin.action(description=_("Export the confirmed ones among the selected as CSV"))
    def export_confirmed_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(["email", "confirmed_at"])
        for email, confirmed_at in queryset.confirmed().values_list("email", "confirmed_at"):
            # A leading = + - @ would be read as a formula by spreadsheets.
            safe_email = "'" + email if email[:1] in "=+-@" else email
            writer.writerow([safe_email, confirmed_at.isoformat()])
        return response


@admin.register(NewsletterIssue)
class NewsletterIssueAdmin(admin.ModelAdmin):
    list_display = ["period", "covers_from", "covers_to", "created_at"]
    readonly_fields = ["period", "covers_from", "covers_to", "articles", "created_at"]

    def has_add_permission(self, request):
        return False
