"""URL wiring: the one place that knows every app, by dotted string only."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from fund import views
from fund.api import api
from fund.security.inputs import checked_admin_selections

# Django admin signs in through allauth, so the second factor applies there too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Defense Fund administration"
# An admin action on a key that cannot exist is a 400, not Django's own server error.
admin.site.admin_view = checked_admin_selections(admin.site.admin_view)  # type: ignore[method-assign]

urlpatterns = [
    path("", include("fund.public.urls")),
    path("", include("donations.urls")),
    path("", include("cases.urls")),
    # set_language: the language switcher in the base layout posts here.
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/", views.dashboard, name="dashboard"),
    path("staff/ledger/", include("fund.ledger.urls")),
    path("staff/reports/", include("fund.reports.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
