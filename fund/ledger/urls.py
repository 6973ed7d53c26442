"""The treasurer screens under /staff/ledger/."""

from django.urls import path

from fund.ledger import views

urlpatterns = [
    path("", views.ledger_home, name="ledger_home"),
    path("<slug:slug>/", views.ledger_accounts, name="ledger_accounts"),
    path("<slug:slug>/accounts/<str:code>/", views.ledger_account, name="ledger_account"),
    path("<slug:slug>/transactions/", views.ledger_transactions, name="ledger_transactions"),
    path(
        "<slug:slug>/transactions/<str:reference>/",
        views.ledger_transaction,
        name="ledger_transaction",
    ),
    path(
        "<slug:slug>/transactions/<str:reference>/reverse/",
        views.ledger_reverse,
        name="ledger_reverse",
    ),
    path("<slug:slug>/trial-balance/", views.ledger_trial_balance, name="ledger_trial_balance"),
    path("<slug:slug>/books/", views.ledger_books, name="ledger_books"),
    path("<slug:slug>/books/close/", views.ledger_books_close, name="ledger_books_close"),
    path("<slug:slug>/books/reopen/", views.ledger_books_reopen, name="ledger_books_reopen"),
    path("<slug:slug>/books/seal/", views.ledger_books_seal, name="ledger_books_seal"),
    path(
        "<slug:slug>/books/seals/<int:pk>.json",
        views.ledger_seal_download,
        name="ledger_seal_download",
    ),
    path("<slug:slug>/journal/", views.ledger_journal, name="ledger_journal"),
]
