from django.contrib.auth import views as auth_views
from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.project_list, name="project_list"),
]

# Sign-in and sign-out keep Django's URL names ("login", "logout") outside the namespace, as
# LOGIN_URL and the auth machinery expect.
auth_urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
