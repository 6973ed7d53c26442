"""URL wiring: the one place that knows every app, by dotted string only."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from fund import staff_views, views
from fund.api import api

# Django admin signs in through allauth, so the second factor applies there too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Defense Fund administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("f/<slug:slug>/", views.fund_page, name="fund_page"),
    path("staff/", views.dashboard, name="dashboard"),
    path("staff/ledger/", staff_views.ledger_home, name="ledger_home"),
    path("staff/ledger/<slug:slug>/", staff_views.ledger_accounts, name="ledger_accounts"),
    path(
        "staff/ledger/<slug:slug>/accounts/<str:code>/",
        staff_views.ledger_account,
        name="ledger_account",
    ),
    path(
        "staff/ledger/<slug:slug>/transactions/",
        staff_views.ledger_transactions,
        name="ledger_transactions",
    ),
    path(
        "staff/ledger/<slug:slug>/transactions/<str:reference>/",
        staff_views.ledger_transaction,
        name="ledger_transaction",
    ),
    path(
        "staff/ledger/<slug:slug>/transactions/<str:reference>/reverse/",
        staff_views.ledger_reverse,
        name="ledger_reverse",
    ),
    path(
        "staff/ledger/<slug:slug>/trial-balance/",
        staff_views.ledger_trial_balance,
        name="ledger_trial_balance",
    ),
    path("staff/ledger/<slug:slug>/periods/", staff_views.ledger_periods, name="ledger_periods"),
    path(
        "staff/ledger/<slug:slug>/periods/close/",
        staff_views.ledger_period_close,
        name="ledger_period_close",
    ),
    path(
        "staff/ledger/<slug:slug>/periods/reopen/",
        staff_views.ledger_period_reopen,
        name="ledger_period_reopen",
    ),
    path("staff/ledger/<slug:slug>/journal/", staff_views.ledger_journal, name="ledger_journal"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
