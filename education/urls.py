from django.urls import path

from . import views

app_name = "education"

urlpatterns = [
    path("treatments/<slug:slug>/", views.treatment_detail, name="treatment"),
    path("treatments/<slug:slug>/suitability/", views.suitability, name="suitability"),
    path("articles/", views.article_list, name="articles"),
    path("articles/<slug:slug>/", views.article_detail, name="article"),
    path("faq/", views.faq, name="faq"),
    path("search/", views.search_page, name="search"),
    path("newsletter/", views.newsletter, name="newsletter"),
    path(
        "newsletter/check-your-email/", views.newsletter_check_email, name="newsletter_check_email"
    ),
    path("newsletter/confirm/<str:signed>/", views.newsletter_confirm, name="newsletter_confirm"),
    path(
        "newsletter/unsubscribe/<str:token>/",
        views.newsletter_unsubscribe,
        name="newsletter_unsubscribe",
    ),
]
