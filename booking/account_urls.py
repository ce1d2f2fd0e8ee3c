"""The account pages under /accounts/ that are ours (allauth owns the rest).

Included by clinic/urls.py before allauth's URLs, without a namespace: allauth
and its templates reverse these names ("account_signup", "account_email").
"""

from allauth.account import views as allauth_views
from django.urls import path

from clinic.security import limit_posts

from .views import account

urlpatterns = [
    # allauth's sign-up, counted with the booking journey's email codes (SIGN_UP_RATE).
    path(
        "signup/",
        limit_posts("sign-up", "SIGN_UP_RATE")(allauth_views.signup),
        name="account_signup",
    ),
    path("email/", account.email, name="account_email"),
    path("welcome/<str:token>/", account.welcome, name="account_welcome"),
    path("data/", account.data, name="account_data"),
    path("data.json", account.data_json, name="account_data_json"),
    path("delete/", account.delete, name="account_delete"),
]
