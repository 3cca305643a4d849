from django.contrib.auth import views as auth_views
from django.urls import include, path

from apps.accounts import views

app_name = "accounts"

# Under /p/<slug>/, like every app's project pages, but kept in this namespace.
project_urlpatterns = [
    path("edit/", views.project_edit, name="project_edit"),
    path("members/", views.member_list, name="member_list"),
    path("members/add/", views.member_add, name="member_add"),
    path("members/invite/", views.member_invite, name="member_invite"),
    path("members/invitations/<id:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("members/invitations/<id:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("members/leave/", views.member_leave, name="member_leave"),
    path("members/<id:pk>/role/", views.member_role, name="member_role"),
    path("members/<id:pk>/remove/", views.member_remove, name="member_remove"),
    path("scope/", views.set_scope, name="set_scope"),
]

urlpatterns = [
    path("", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/profile/email/<str:token>/", views.email_confirm, name="email_confirm"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("p/<slug:slug>/", include(project_urlpatterns)),
]

# Sign-in, sign-out and the password pages are Django's own views under Django's URL names
# ("login", "password_reset", …) outside the namespace, as LOGIN_URL and the auth machinery
# expect; only the templates are ours. Their forms take GET and POST only (Django's form views
# would treat PUT as an empty POST); the other pages GET only.
FORM = ["get", "head", "post"]
PAGE = ["get", "head"]

auth_urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            redirect_authenticated_user=True,
            http_method_names=FORM,
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_reset/",
        views.PasswordResetView.as_view(
            template_name="accounts/password_reset_form.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
            http_method_names=FORM,
        ),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="accounts/password_reset_done.html", http_method_names=PAGE
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html", http_method_names=FORM
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html", http_method_names=PAGE
        ),
        name="password_reset_complete",
    ),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change_form.html", http_method_names=FORM
        ),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html", http_method_names=PAGE
        ),
        name="password_change_done",
    ),
]
