"""A case's documents under /cases/<ref>/documents/: the list and the upload form (one page that
works without JavaScript), and the download of one file.

The list shows kinds, dates and sizes to whoever may open the case; the files only to those who may
see the person (its coordinators, legal directors, admins), and each download is written to the
access log. Files are sent as attachments under a generic name, never rendered by the browser.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods

from cases.errors import CaseError, CaseNotFound
from cases.forms.documents import DocumentUploadForm
from cases.models import Case
from cases.queries import may_see_person
from cases.services.documents import (
    document_for_download,
    download_name,
    list_documents,
    stored_path,
    upload_document,
)
from fund.errors import NotAllowed
from fund.security.roles import CASE_WORKERS, STAFF, role_required

# A document is data, never a page: no sniffing, no caching, and a sandbox should it be rendered.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "sandbox",
}


@require_http_methods(["GET", "POST"])
@role_required(STAFF)
def case_documents(request: HttpRequest, ref: str) -> HttpResponse:
    """List the case's documents; a coordinator of the case uploads one here (POST)."""
    try:
        case, documents = list_documents(request.user, ref)
    except CaseNotFound:
        raise Http404("There is no such case.") from None
    form = DocumentUploadForm()
    status = 200
    if request.method == "POST":
        if not isinstance(request.user, User) or not CASE_WORKERS.allows(request.user):
            raise PermissionDenied(CASE_WORKERS.refusal)
        form = DocumentUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                upload_document(
                    actor=request.user,
                    case=case,
                    kind=form.cleaned_data["kind"],
                    uploaded=form.cleaned_data["file"],
                )
            except CaseError as refusal:
                form.add_error("file", str(refusal))
            else:
                messages.success(request, "The document was added to the case.")
                return redirect(_case_page(case))
        status = 400
    context = {
        "case": case,
        "documents": documents,
        "form": form if CASE_WORKERS.allows(request.user) else None,
        "may_download": may_see_person(request.user, case),
        "max_mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024),
    }
    return render(request, "cases/document_list.html", context, status=status)


@require_GET
def download_document(request: HttpRequest, ref: str, pk: int) -> HttpResponseBase:
    """Send one of the case's files as an attachment, and log the download."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        document = document_for_download(request.user, ref, pk)
    except CaseNotFound:
        raise Http404("There is no such document.") from None
    except NotAllowed as refusal:
        raise PermissionDenied(str(refusal)) from None
    try:
        handle = stored_path(document).open("rb")
    except FileNotFoundError:
        raise Http404("This document's file is missing.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=download_name(document),
        content_type=document.content_type,
    )
    for header, value in DOWNLOAD_HEADERS.items():
        response[header] = value
    return response


def _case_page(case: Case) -> str:
    # The case page is another view's; should it not be routed, an upload returns to the list.
    try:
        return reverse("cases_case_detail", args=[case.ref])
    except NoReverseMatch:
        return reverse("cases:case-documents", args=[case.ref])
