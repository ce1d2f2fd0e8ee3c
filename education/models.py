"""What a patient reads before booking, and what staff edit.

Markdown fields are rendered to sanitised HTML once, on save (``*_html``), with
their table of contents; pages never render Markdown per request.
"""

import secrets
from decimal import Decimal

from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.money import treatment_course_price

from .markdown import render


class PublishedQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Contributor(models.Model):
    """A named writer or clinical reviewer, shown on the pages they wrote or checked."""

    name = models.CharField(_("name"), max_length=120)
    credentials = models.CharField(
        _("credentials"), max_length=120, blank=True, help_text=_("e.g. MBBS, MRCP (Dermatology)")
    )
    role = models.CharField(_("role"), max_length=120, blank=True)
    is_clinician = models.BooleanField(
        _("clinician"), default=False, help_text=_("Only clinicians can review content.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("contributor")

    def __str__(self):
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


class Source(models.Model):
    """A checked reference an article or treatment page cites."""

    title = models.CharField(_("title"), max_length=250)
    publisher = models.CharField(_("publisher or authors"), max_length=250, blank=True)
    url = models.URLField(_("link"), blank=True, max_length=500)
    accessed_on = models.DateField(
        _("date accessed"),
        null=True,
        blank=True,
        help_text=_("When someone last checked the link."),
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("source")

    def __str__(self):
        return self.title


class Topic(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("topic")

    def __str__(self):
        return self.name


class Reviewed(models.Model):
    """Clinical review dates shared by treatment pages and articles."""

    reviewed_by = models.ForeignKey(
        Contributor,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"is_clinician": True},
    )
    last_reviewed = models.DateField(_("last reviewed"), null=True, blank=True)
    next_review_due = models.DateField(_("next review due"), null=True, blank=True)
    sources = models.ManyToManyField(
        Source, verbose_name=_("sources"), blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if (
            self.last_reviewed
            and self.next_review_due
            and self.next_review_due <= self.last_reviewed
        ):
            raise ValidationError(
                {"next_review_due": _("The next review must come after the last one.")}
            )
        if self.last_reviewed and not self.reviewed_by_id:
            raise ValidationError({"reviewed_by": _("Say which clinician reviewed it.")})

    @property
    def review_overdue(self) -> bool:
        return bool(self.next_review_due and self.next_review_due < timezone.localdate())


class Treatment(Reviewed):
    """A treatment a patient can read about and book as a course of sessions."""

    class Diagram(models.TextChoices):
        # Each is a drawing made for this site: templates/education/diagrams/<value>.html
        SKIN_NEEDLING = "skin_needling", _("Fine needles and the layers of the skin")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), unique=True)
    other_names = models.TextField(
        _("other names"),
        blank=True,
        help_text=_("One per line: every name patients search by (e.g. dermaroller)."),
    )
    summary = models.CharField(
        _("summary"),
        max_length=300,
        help_text=_("One or two plain sentences; also the page description."),
    )
    body = models.TextField(_("body (Markdown)"), blank=True)
    body_html = models.TextField(editable=False, blank=True)
    toc = models.JSONField(editable=False, default=list)
    who_it_helps = models.TextField(_("who it may help (Markdown)"), blank=True)
    who_it_helps_html = models.TextField(editable=False, blank=True)
    aftercare = models.TextField(_("aftercare (Markdown)"), blank=True)
    aftercare_html = models.TextField(editable=False, blank=True)
    # At most 10 + 2 hours: a session fits inside booking's LONGEST_SESSION (12 hours).
    treatment_minutes = models.PositiveSmallIntegerField(
        _("treatment time (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(600)]
    )
    numbing_minutes = models.PositiveSmallIntegerField(
        _("numbing time (minutes)"), default=0, validators=[MaxValueValidator(120)]
    )
    sessions_usual = models.PositiveSmallIntegerField(_("usual number of sessions"), default=1)
    sessions_min = models.PositiveSmallIntegerField(
        _("fewest sessions"), default=1, validators=[MinValueValidator(1)]
    )
    sessions_max = models.PositiveSmallIntegerField(_("most sessions"), default=1)
    spacing_min_days = models.PositiveSmallIntegerField(_("shortest gap (days)"), default=0)
    spacing_preferred_days = models.PositiveSmallIntegerField(_("preferred gap (days)"), default=0)
    spacing_max_days = models.PositiveSmallIntegerField(_("longest gap (days)"), default=0)
    risks = models.TextField(
        _("side effects and risks (Markdown)"),
        blank=True,
        help_text=_("Shown on the treatment page and, in full, on the consent step."),
    )
    risks_html = models.TextField(editable=False, blank=True)
    # Moves on whenever one of its health questions is added, changed or removed
    # (education/signals.py), as a new consent text does: each course keeps the
    # version its answers were given to, and answers to an older one are asked again.
    questions_version = models.PositiveIntegerField(
        _("health questions version"), default=1, editable=False
    )
    # Exact decimals in settings.CLINIC_CURRENCY (clinic/money.py); a course keeps
    # the prices it was sold at, so a change here applies to new courses only.
    session_price = models.DecimalField(
        _("price per session"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("0 means free (a consultation may be)."),
    )
    package_price = models.DecimalField(
        _("course package price"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_(
            "The price of a course of the usual number of sessions, booked together. Courses "
            "of that many sessions or more cost this rate per session. Leave empty for none."
        ),
    )

    # An online deposit (booking/deposits/), taken through Stripe Checkout when the clinic
    # has set its keys: none, a fixed amount, or a percentage of the course's price.
    class Deposit(models.TextChoices):
        NONE = "none", _("No deposit")
        FIXED = "fixed", _("A fixed amount")
        PERCENT = "percent", _("A percentage of the course's price")

    deposit = models.CharField(
        _("online deposit"),
        max_length=10,
        choices=Deposit.choices,
        default=Deposit.NONE,
        help_text=_(
            "Taken online when the course is booked, once the clinic's Stripe keys are set. "
            "Whether it is required or only offered is in the booking rules."
        ),
    )
    deposit_value = models.DecimalField(
        _("deposit amount or percentage"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("An amount for a fixed deposit; a percentage (1 to 100) for a percentage."),
    )
    bookable_online = models.BooleanField(_("can be booked online"), default=True)
    is_consultation = models.BooleanField(
        _("is the consultation"),
        default=False,
        help_text=_("Offered when a suitability answer needs a clinician first."),
    )
    diagram = models.CharField(
        _("diagram"),
        max_length=30,
        blank=True,
        choices=Diagram.choices,
        help_text=_("A drawing of how it works, shown in the section 'How it works'."),
    )
    is_published = models.BooleanField(_("published"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Weighted words for full-text search, refreshed on save (PostgreSQL only).
    search_vector = SearchVectorField(null=True, editable=False)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["is_consultation", "name"]
        verbose_name = _("treatment")
        constraints = [
            models.CheckConstraint(
                condition=Q(sessions_min__lte=models.F("sessions_usual"))
                & Q(sessions_usual__lte=models.F("sessions_max")),
                name="treatment_sessions_in_range",
            ),
            models.CheckConstraint(
                condition=Q(spacing_min_days__lte=models.F("spacing_preferred_days"))
                & Q(spacing_preferred_days__lte=models.F("spacing_max_days")),
                name="treatment_spacing_in_order",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        body = render(self.body)
        self.body_html, self.toc = body.html, body.toc
        self.who_it_helps_html = render(self.who_it_helps).html
        self.aftercare_html = render(self.aftercare).html
        self.risks_html = render(self.risks).html
        if not self._state.adding and kwargs.get("update_fields") is None:
            # Never write back a questions version read before a question changed
            # (education/signals.py moves it on in the database alone).
            kwargs["update_fields"] = [
                f.attname
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "questions_version"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("education:treatment", args=[self.slug])

    def clean(self):
        super().clean()
        errors = {}
        if not self.sessions_min <= self.sessions_usual <= self.sessions_max:
            errors["sessions_usual"] = _(
                "The usual number must lie between the fewest and the most."
            )
        if not self.spacing_min_days <= self.spacing_preferred_days <= self.spacing_max_days:
            errors["spacing_preferred_days"] = _(
                "The preferred gap must lie between the shortest and the longest."
            )
        if self.sessions_max > 1 and self.spacing_min_days < 1:
            errors["spacing_min_days"] = _(
                "A course of several sessions needs a gap of a day or more."
            )
        if self.package_price is not None:
            if self.sessions_usual < 2:
                errors["package_price"] = _("A package is for a course of 2 sessions or more.")
            elif (
                self.session_price is not None
                and self.package_price >= self.session_price * self.sessions_usual
            ):
                errors["package_price"] = _(
                    "A package must cost less than its sessions booked one by one."
                )
        if self.deposit == self.Deposit.NONE and self.deposit_value:
            errors["deposit_value"] = _("Choose a kind of deposit, or leave this at 0.")
        elif self.deposit != self.Deposit.NONE and not self.deposit_value:
            errors["deposit_value"] = _("Give the deposit's amount or percentage.")
        elif self.deposit == self.Deposit.PERCENT and self.deposit_value > 100:
            errors["deposit_value"] = _("A percentage is at most 100.")
        if errors:
            raise ValidationError(errors)

    @property
    def course_price(self):
        """What its usual course costs now (clinic/money.py), with any package saving."""
        return treatment_course_price(self)

    @property
    def appointment_minutes(self) -> int:
        """How long the practitioner is booked: treatment plus numbing time."""
        return self.treatment_minutes + self.numbing_minutes

    @property
    def other_names_list(self) -> list[str]:
        return [name.strip() for name in self.other_names.splitlines() if name.strip()]

    @property
    def is_course(self) -> bool:
        return self.sessions_max > 1


class SuitabilityQuestion(models.Model):
    """A yes/no question asked before booking; a "yes" has an outcome."""

    class Outcome(models.TextChoices):
        CONSULT = "consult", _("Talk to a clinician first (offer a consultation)")
        NOT_SUITABLE = "not_suitable", _("Not suitable now (no online booking)")

    treatment = models.ForeignKey(
        Treatment, on_delete=models.CASCADE, related_name="questions", verbose_name=_("treatment")
    )
    text = models.CharField(_("question"), max_length=250)
    outcome = models.CharField(_("if the answer is yes"), max_length=20, choices=Outcome.choices)
    explanation = models.TextField(_("explanation shown after a yes"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["treatment", "order", "pk"]
        verbose_name = _("suitability question")

    def __str__(self):
        return self.text


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())


class Article(Reviewed):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True, max_length=200)
    treatment = models.ForeignKey(
        Treatment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("treatment"),
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("topic"),
    )
    summary = models.CharField(
        _("summary"),
        max_length=300,
        help_text=_("One or two plain sentences; also the page description."),
    )
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(editable=False, blank=True)
    toc = models.JSONField(editable=False, default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    author = models.ForeignKey(
        Contributor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("author"),
    )
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "title"]
        verbose_name = _("article")
        indexes = [models.Index(fields=["status", "-published_at"])]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        rendered = render(self.body)
        self.body_html, self.toc = rendered.html, rendered.toc
        if self.status == self.Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("education:article", args=[self.slug])

    def clean(self):
        super().clean()
        if self.status == self.Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()


class FAQ(models.Model):
    question = models.CharField(_("question"), max_length=250)
    slug = models.SlugField(
        _("anchor"),
        unique=True,
        max_length=120,
        help_text=_("The #anchor of this question on the FAQ page."),
    )
    answer = models.TextField(_("answer (Markdown)"))
    answer_html = models.TextField(editable=False, blank=True)
    treatment = models.ForeignKey(
        Treatment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="faqs",
        verbose_name=_("treatment"),
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="faqs", verbose_name=_("topic")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_published = models.BooleanField(_("published"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["topic__order", "order", "pk"]
        verbose_name = _("FAQ")
        verbose_name_plural = _("FAQs")

    def __str__(self):
        return self.question

    def save(self, *args, **kwargs):
        self.answer_html = render(self.answer).html
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return f"{reverse('education:faq')}#{self.slug}"


def _new_token() -> str:
    return secrets.token_urlsafe(24)


class NewsletterSubscriberQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True)


class NewsletterSubscriber(models.Model):
    """Double opt-in: counts only once the emailed link is followed."""

    email = models.EmailField(_("email"), unique=True)
    token = models.CharField(max_length=64, unique=True, default=_new_token, editable=False)
    created_at = models.DateTimeField(_("signed up"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    objects = NewsletterSubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("newsletter subscriber")

    def __str__(self):
        return self.email

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class NewsletterIssue(models.Model):
    """One digest: the articles published since the one before."""

    period = models.CharField(_("period"), max_length=7, unique=True, help_text="YYYY-MM")
    covers_from = models.DateTimeField()
    covers_to = models.DateTimeField()
    articles = models.ManyToManyField(Article, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period"]
        verbose_name = _("newsletter issue")

    def __str__(self):
        return self.period


class NewsletterDelivery(models.Model):
    """One row per subscriber per issue: the guard against sending twice."""

    issue = models.ForeignKey(NewsletterIssue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(
        NewsletterSubscriber, on_delete=models.CASCADE, related_name="deliveries"
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="newsletter_delivery_once")
        ]
        verbose_name = _("newsletter delivery")

    def __str__(self):
        return f"{self.issue} to subscriber {self.subscriber_id}"
