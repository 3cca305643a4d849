from django.urls import path

from apps.review import views

app_name = "review"

urlpatterns = [
    path("review/", views.queue, name="queue"),
    path("review/approve/", views.approve_shown, name="approve_shown"),
    path("review/withdrawn/", views.withdrawn, name="withdrawn"),
]
