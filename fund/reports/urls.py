"""The reports screen under /staff/reports/."""

from django.urls import path

from fund.reports import views

urlpatterns = [
    path("", views.reports_home, name="reports_home"),
    path("<int:pk>/", views.reports_run, name="reports_run"),
    path("<int:pk>/status/", views.reports_status, name="reports_status"),
    path("<int:pk>/download/", views.reports_download, name="reports_download"),
]
