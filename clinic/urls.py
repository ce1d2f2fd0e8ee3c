from allauth.account import views as allauth_views
from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from booking.views import account as account_views
from clinic.security import limit_posts
from education.sitemaps import ArticleSitemap, EducationPageSitemap, TreatmentSitemap

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
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("", include("education.urls")),
    path("", include("booking.urls")),
    # Before allauth's URLs, which own the rest of /accounts/.
    # allauth's sign-up, counted with the booking journey's email codes (SIGN_UP_RATE).
    path(
        "accounts/signup/",
        limit_posts("sign-up", "SIGN_UP_RATE")(allauth_views.signup),
        name="account_signup",
    ),
    path("accounts/email/", account_views.email, name="account_email"),
    path("accounts/welcome/<str:token>/", account_views.welcome, name="account_welcome"),
    path("accounts/data/", account_views.data, name="account_data"),
    path("accounts/data.json", account_views.data_json, name="account_data_json"),
    path("accounts/delete/", account_views.delete, name="account_delete"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Clinic administration"
admin.site.site_title = "Clinic admin"

handler403 = "clinic.security.access_refused"
handler429 = "clinic.security.rate_limited"  # allauth's limits (django has no 429 hook)
