from django.urls import path

from apps.agreement import views

app_name = "agreement"

urlpatterns = [
    path("agreement/", views.assignment_list, name="assignment_list"),
    path("agreement/new/", views.assignment_create, name="assignment_create"),
    path("agreement/<id:pk>/", views.assignment_detail, name="assignment_detail"),
    path("agreement/<id:pk>/done/", views.assignment_done, name="assignment_done"),
    path("agreement/<id:pk>/compare/", views.assignment_compare, name="assignment_compare"),
    path("agreement/<id:pk>/close/", views.assignment_close, name="assignment_close"),
    path("agreement/<id:pk>/accept/", views.accept_agreements, name="accept_agreements"),
    path("agreement/<id:pk>/data.csv", views.report_csv, name="report_csv"),
    path("agreement/units/<id:pk>/", views.unit_detail, name="unit_detail"),
    path("agreement/coders/<id:pk>/drop/", views.coder_drop, name="coder_drop"),
]
