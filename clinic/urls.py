from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from education.sitemaps import ArticleSitemap, EducationPageSitemap, TreatmentSitemap

from . import views
from .sitemaps import PageSitemap

sitemaps = {
    "pages": PageSitemap,
    "education": EducationPageSitemap,
    "treatments": TreatmentSitemap,
    "articles": ArticleSitemap,
}

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("", include("education.urls")),
    path("", include("booking.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic admin"
