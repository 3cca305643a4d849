from django.contrib.auth import views as auth_views
from django.urls import include, path

from apps.accounts import views

app_name = "accounts"

# Under /p/<slug>/, like every app's project pages, but kept in this namespace.
project_urlpatterns = [
    path("edit/", views.project_edit, name="project_edit"),
    path("members/", views.member_list, name="member_list"),
    path("members/add/", views.member_add, name="member_add"),
    path("members/leave/", views.member_leave, name="member_leave"),
    path("members/<id:pk>/role/", views.member_role, name="member_role"),
    path("members/<id:pk>/remove/", views.member_remove, name="member_remove"),
    path("scope/", views.set_scope, name="set_scope"),
]

urlpatterns = [
    path("", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path("p/<slug:slug>/", include(project_urlpatterns)),
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
