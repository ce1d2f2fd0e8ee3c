from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Article, Treatment


class TreatmentSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.9

    def items(self):
        return Treatment.objects.published().only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class ArticleSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.7

    def items(self):
        return Article.objects.published().only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class EducationPageSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return ["education:articles", "education:faq", "education:newsletter"]

    def location(self, item):
        return reverse(item)
