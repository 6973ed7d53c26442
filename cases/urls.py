"""URLs of the cases app (mounted at the site's root by fund/urls.py)."""

from django.urls import include, path, re_path

from cases.views import (
    board,
    bond_void,
    calendar,
    case,
    consent,
    documents,
    extras,
    facility,
    money,
    person,
)

# The hearing feed and the documents are named in the "cases" namespace (cases:hearing-feed); the
# screens below carry flat names like the rest of the site's (cases_case_detail).
namespaced = [
    # The token is secrets.token_urlsafe(32): 43 characters of the URL-safe alphabet.
    re_path(
        r"^cases/calendar/(?P<token>[A-Za-z0-9_-]{43})\.ics$",
        calendar.hearing_feed,
        name="hearing-feed",
    ),
    # A case's documents: the list and upload form, and one file's download (by number only:
    # the uploaded name, which may name the person, is never in a URL).
    path("cases/<str:ref>/documents/", documents.case_documents, name="case-documents"),
    path(
        "cases/<str:ref>/documents/<int:pk>/",
        documents.download_document,
        name="case-document",
    ),
]

urlpatterns = [
    path("cases/", board.board, name="cases_board"),
    path("cases/new/", board.case_new, name="cases_case_new"),
    path("cases/approvals/", money.approvals, name="cases_approvals"),
    path(
        "cases/approvals/<int:pk>/approve/",
        money.disbursement_approve,
        name="cases_disbursement_approve",
    ),
    path(
        "cases/approvals/<int:pk>/reject/",
        money.disbursement_reject,
        name="cases_disbursement_reject",
    ),
    path("cases/approvals/<int:pk>/pay/", money.disbursement_pay, name="cases_disbursement_pay"),
    path("cases/approvals/<int:pk>/void/", money.disbursement_void, name="cases_disbursement_void"),
    path("cases/bonds/", money.bonds, name="cases_bonds"),
    path("cases/bonds/<int:pk>/void/", bond_void.bond_void, name="cases_bond_void"),
    path("cases/bonds/<int:pk>/<slug:step>/", money.bond_step, name="cases_bond_step"),
    path("cases/payees/new/", money.payee_new, name="cases_payee_new"),
    path("cases/payees/", extras.payees, name="cases_payees"),
    path("cases/payees/<int:pk>/w9/", extras.payee_w9, name="cases_payee_w9"),
    path("cases/calendar/", extras.calendar_feeds, name="cases_calendar"),
    path(
        "cases/calendar/<int:pk>/revoke/",
        extras.calendar_feed_revoke,
        name="cases_calendar_revoke",
    ),
    path("", include((namespaced, "cases"))),
    # A case by its reference: after the fixed addresses above, which it would otherwise match.
    path("cases/<str:ref>/", case.case_detail, name="cases_case_detail"),
    path("cases/<str:ref>/status/", case.case_status, name="cases_case_status"),
    path("cases/<str:ref>/notes/", case.case_note, name="cases_case_note"),
    path("cases/<str:ref>/hearings/", case.case_hearing, name="cases_case_hearing"),
    path("cases/<str:ref>/assign/", case.case_assign, name="cases_case_assign"),
    path("cases/<str:ref>/consent/", consent.case_consent, name="cases_case_consent"),
    path("cases/<str:ref>/facility/", facility.case_facility, name="cases_case_facility"),
    path("cases/<str:ref>/person/", person.case_person, name="cases_case_person"),
    path("cases/<str:ref>/disbursements/", money.case_request, name="cases_case_request"),
    path("cases/<str:ref>/bonds/", money.case_bond, name="cases_case_bond"),
    # The screens of cases/views/extras.py (after the fixed addresses, like the ones above).
    path("cases/<str:ref>/notes/<int:pk>/edit/", extras.note_edit, name="cases_note_edit"),
    path("cases/<str:ref>/hearings/<int:pk>/", extras.hearing_detail, name="cases_hearing_detail"),
    path(
        "cases/<str:ref>/hearings/<int:pk>/outcome/",
        extras.hearing_outcome,
        name="cases_hearing_outcome",
    ),
    path(
        "cases/<str:ref>/hearings/<int:pk>/reschedule/",
        extras.hearing_reschedule,
        name="cases_hearing_reschedule",
    ),
    path("cases/<str:ref>/unassign/", extras.case_unassign, name="cases_case_unassign"),
    path("cases/<str:ref>/legal-hold/", extras.case_legal_hold, name="cases_case_legal_hold"),
]
