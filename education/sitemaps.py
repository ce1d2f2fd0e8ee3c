from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Article, Treatment


class ContentSitemap(Sitemap):
    """The published rows of `model`, dated by their last change."""

    model = None
    changefreq = "monthly"

    def items(self):
        return self.model.objects.published().only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class TreatmentSitemap(ContentSitemap):
    model = Treatment
    priority = 0.9


class ArticleSitemap(ContentSitemap):
    model = Article
    priority = 0.7


class EducationPageSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return ["education:articles", "education:faq", "education:newsletter"]

    def location(self, item):
        return reverse(item)
