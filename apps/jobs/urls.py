from django.urls import path

from apps.jobs import views

app_name = "jobs"

urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<str:token>/", views.job_detail, name="job_detail"),
    path("jobs/<str:token>/status/", views.job_status, name="job_status"),
    path("jobs/<str:token>/download/", views.job_download, name="job_download"),
    path("jobs/<str:token>/retry/", views.job_retry, name="job_retry"),
]
