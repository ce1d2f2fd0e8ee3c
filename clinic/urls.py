from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from education.sitemaps import ArticleSitemap, EducationPageSitemap, TreatmentSitemap
from education.views import home

from . import views
from .sitemaps import PageSitemap

sitemaps = {
    "pages": PageSitemap,
    "education": EducationPageSitemap,
    "treatments": TreatmentSitemap,
    "articles": ArticleSitemap,
}

# The admin's login is the site's sign-in (axes, rate limits and two-factor
# there), so /admin/login/ cannot be used to get round them.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("", include("education.urls")),
    path("", include("booking.urls")),
    path("accounts/", include("booking.account_urls")),  # before allauth's, which own the rest
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = _("Clinic administration")
admin.site.site_title = _("Clinic admin")

handler403 = "clinic.security.access_refused"
handler429 = "clinic.security.rate_limited"  # allauth's limits (django has no 429 hook)
