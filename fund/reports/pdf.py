"""PDFs: a Django template rendered to PDF by WeasyPrint. The only module that imports weasyprint.

WeasyPrint fetches what a document links to (stylesheets, images, fonts) through a URL fetcher.
Ours refuses everything but the project's own static files, read from disk by path: no network,
no file:// URL, no data: URL, nothing outside the static folders. So nothing a document says,
whoever typed it, can make the server fetch a URL or read another file. A refused resource is left
out and the PDF still renders.
"""

import gc
import mimetypes
import multiprocessing
import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import django
import weasyprint
from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils._os import safe_join
from weasyprint.urls import URLFetcherResponse

# Documents are rendered as if served from this address (.invalid never resolves), so that
# `{% static %}` paths and relative links resolve to URLs the fetcher can recognise as ours.
BASE_URL = "https://pdf.invalid/"


class RefusedResource(ValueError):
    """A document linked to something other than one of the project's static files."""


def render_pdf(template_name: str, context: dict[str, Any] | None = None) -> bytes:
    """Render a template to PDF bytes; it may link only to the project's static files.

    Renders in the active language (wrap the call in `translation.override`). Never call it
    inside a database transaction: it takes a while.
    """
    return html_to_pdf(render_to_string(template_name, context or {}))


def html_to_pdf(html: str) -> bytes:
    """Render an HTML document to PDF bytes; it may link only to the project's static files."""
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=StaticFilesOnly())
    pdf: bytes = document.write_pdf()
    return pdf


@dataclass(frozen=True)
class Attachment:
    """A file embedded in a PDF (a PDF/A-3 report carries its CSV so)."""

    name: str
    content: bytes
    # Recorded as the file's creation and modification time: part of what makes output repeatable.
    created: datetime
    description: str = ""


def html_to_pdf_pages(
    html: str,
    *,
    identifier: bytes,
    pdf_variant: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> tuple[bytes, int]:
    """Render an HTML document to PDF bytes and its page count, repeatably.

    `identifier` becomes the PDF's file identifier, so that the same document gives the same
    bytes; the document's dates come from its `dcterms.created` and `dcterms.modified` meta tags.
    It may link only to the project's static files, like every document here.
    """
    fetcher = StaticFilesOnly()
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()
    files = [
        weasyprint.Attachment(
            string=attachment.content,
            name=attachment.name,
            description=attachment.description or None,
            created=attachment.created,
            modified=attachment.created,
            relationship="Data",
            url_fetcher=fetcher,
        )
        for attachment in attachments
    ]
    pdf: bytes = document.write_pdf(
        pdf_identifier=identifier, pdf_variant=pdf_variant, attachments=files
    )
    return pdf, len(document.pages)


def start_worker() -> None:
    """Prepare a process that lays out the report engine's chunks (it needs no database).

    Django's apps are not loaded: that would cost a worker as long again as importing WeasyPrint,
    and the engine's documents fetch nothing. Should one link a static file, the fetcher loads
    them first (`_apps_ready`), so a worker renders what this process would.
    """
    # Collect rarely, and only each chunk's own objects, as the engine does in-process.
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def lay_out(
    html: str, identifier: bytes, variant: str | None, attachments: Sequence[Attachment]
) -> bytes:
    """Lay out one of the report engine's chunks as PDF bytes, in a worker or in-process."""
    rendered, _ = html_to_pdf_pages(
        html, identifier=identifier, pdf_variant=variant, attachments=attachments
    )
    if multiprocessing.parent_process() is not None:
        # WeasyPrint's boxes form reference cycles: free one chunk's before the next.
        gc.collect()
    return rendered


class StaticFilesOnly(weasyprint.URLFetcher):  # type: ignore[misc]
    """A URL fetcher that serves the project's static files by path and refuses anything else."""

    def __init__(self) -> None:
        # Failures are not fatal: a refused image or stylesheet is left out of the document.
        super().__init__(allowed_protocols=("https",), allow_redirects=False, fail_on_errors=False)

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        _apps_ready()
        path = static_file(url)
        content_type, _ = mimetypes.guess_type(path.name)
        return URLFetcherResponse(
            url,
            path.read_bytes(),
            headers={"Content-Type": content_type or "application/octet-stream"},
        )


def _apps_ready() -> None:
    # Only a layout worker (start_worker) gets here without them: the finders need the apps.
    if not apps.ready and os.environ.get("DJANGO_SETTINGS_MODULE"):
        django.setup()


def static_file(url: str) -> Path:
    """Return the static file a document's URL names, or raise RefusedResource.

    Only `BASE_URL` + STATIC_URL + a path found by the staticfiles finders (or under STATIC_ROOT)
    is served; `..`, encoded or not, never leaves the static folders.
    """
    prefix = BASE_URL + settings.STATIC_URL.lstrip("/")
    if not url.startswith(prefix):
        raise RefusedResource("Only the project's own static files may be linked from a PDF.")
    # A query or fragment (cache busting, an SVG's #id) names no other file: ignore it.
    relative = unquote(urlsplit(url).path).removeprefix(urlsplit(prefix).path)
    if (
        not relative
        or "\\" in relative
        or "\x00" in relative
        or posixpath.normpath(relative) != relative
        or relative.startswith(("/", "."))
        or any(segment in ("", ".", "..") for segment in relative.split("/"))
    ):
        raise RefusedResource("Only the project's own static files may be linked from a PDF.")
    found = _find(relative)
    if found is None:
        raise RefusedResource("No such static file.")
    return found


def _find(relative: str) -> Path | None:
    try:
        found = finders.find(relative)
        if isinstance(found, str) and Path(found).is_file():
            return Path(found)
        if settings.STATIC_ROOT:
            collected = Path(safe_join(str(settings.STATIC_ROOT), relative))
            if collected.is_file():
                return collected
    except SuspiciousFileOperation:
        return None
    return None
