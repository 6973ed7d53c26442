"""Documents on a case (retainers, bond receipts, G-28s, invoices): upload, find, delete.

A file is judged by its content, never by its name or declared type: a PDF that pypdf can read,
or a JPEG or PNG that Pillow can decode, which is re-encoded so no EXIF (GPS, camera, time) or
other metadata is kept. It is stored under CASE_DOCUMENT_ROOT with a random name and mode 0600;
the name it was uploaded under may name the person, so it is kept only encrypted, on the row.

The file is written before the row is committed, inside a durable (outermost) transaction: if the
transaction fails, the file is removed. A crash between the two leaves a file no row names (never
a row without its file); `orphan_files` lists such files. See docs/cases.md, "Documents".
"""

import hashlib
import io
import os
import re
import secrets
import tempfile
import unicodedata
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, ImageOps
from pypdf import PdfReader

from cases.errors import CaseError, CaseNotFound
from cases.models import Case, Document, TimelineEntry
from cases.queries import case_for_user, may_see_person
from cases.services.cases import add_timeline_entry
from fund.errors import NotAllowed
from fund.security.access import record_access
from fund.security.models import AccessLog
from fund.security.roles import CASE_WORKERS

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
ONLY_THESE = "Only PDF, JPEG or PNG files can be uploaded."
# A PDF whose first bytes also parse as HTML is a polyglot: a browser (or a mail client, or anyone
# who saves it as .html) would run its script. Browsers sniff at most the first 1,445 bytes (WHATWG
# MIME Sniffing); we look 64 KiB deep, case-insensitively, for margin.
POLYGLOT_WINDOW = 64 * 1024
HTML_MARKERS = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<iframe")
STORED_NAME = re.compile(r"[0-9a-f]{32}")
MAX_FILENAME = 255


def upload_document(
    *, actor: User, case: Case, kind: str, uploaded: UploadedFile[bytes]
) -> Document:
    """Check the file's content, store it privately under a random name, and record it on the case.

    Refuses (CaseError, a message safe to show) a file over DOCUMENT_MAX_BYTES, anything but a
    readable PDF, JPEG or PNG, an HTML polyglot, an image past Pillow's MAX_IMAGE_PIXELS. Must not
    run inside another transaction (its commit is what makes the file and the row agree).
    """
    CASE_WORKERS.check(actor)
    case = case_for_user(actor, case.pk)
    if kind not in Document.Kind.values:
        raise CaseError("Choose what kind of document this is.")
    data = _read_at_most(uploaded, settings.DOCUMENT_MAX_BYTES)
    content_type, data = checked_content(data)
    stored_name = secrets.token_hex(16)
    path = _write_private(stored_name, data)
    try:
        with transaction.atomic(durable=True):
            case = Case.objects.select_for_update().get(pk=case.pk)
            if case.purged_at is not None:
                raise CaseError(f"Case {case.ref} has been purged: it takes no documents.")
            document = Document.objects.create(
                case=case,
                kind=kind,
                filename=clean_filename(uploaded.name or ""),
                stored_name=stored_name,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_by=actor,
            )
            label = Document.Kind(kind).label
            add_timeline_entry(
                case=case, kind=TimelineEntry.Kind.DOCUMENT, text=f"{label} added.", actor=actor
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return document


def delete_case_documents(case: Case) -> int:
    """Remove the case's document files and rows, and return how many rows went. Safe to repeat.

    For retention (it checks no actor). Rows go in the transaction; the files once it commits,
    so a rollback never leaves a row whose file is gone.
    """
    with transaction.atomic():
        documents = list(Document.objects.select_for_update().filter(case=case).order_by("pk"))
        paths = [stored_path(document) for document in documents]
        Document.objects.filter(pk__in=[document.pk for document in documents]).delete()
        transaction.on_commit(lambda: _remove(paths))
    return len(documents)


def document_for_download(user: User | AnonymousUser, ref: str, pk: int) -> Document:
    """Return the case's document for download, and write the download to the access log.

    Out of the user's scope (or no such document) is CaseNotFound; a treasurer or an auditor, who
    may open the case but not see the person, is NotAllowed (as `cases.queries.person_of`).
    """
    case = case_for_user(user, ref)
    try:
        document = case.documents.get(pk=pk)
    except Document.DoesNotExist:
        raise CaseNotFound("There is no such document.") from None
    if not may_see_person(user, case):
        raise NotAllowed("Treasurers and auditors see a case's reference and money, not its files.")
    record_access(user=user, action=AccessLog.Action.DOWNLOAD, obj=document, detail="case document")
    return document


def list_documents(user: User | AnonymousUser, ref: str) -> tuple[Case, list[Document]]:
    """Return the case (if the user may open it; else CaseNotFound) and its documents, newest
    first. Kinds, dates and sizes only: the uploaded names stay encrypted."""
    case = case_for_user(user, ref)
    documents = list(case.documents.defer("filename").order_by("-uploaded_at"))
    return case, documents


def download_name(document: Document) -> str:
    """Return a safe ASCII name for the file ("C-2026-0042-retainer-3.pdf"): never the uploaded
    one, which may name the person."""
    kind = document.kind.replace("_", "-")
    extension = EXTENSIONS.get(document.content_type, "bin")
    return f"{document.case.ref}-{kind}-{document.pk}.{extension}"


def stored_path(document: Document) -> Path:
    """Return where the document's file is kept."""
    if not STORED_NAME.fullmatch(document.stored_name):
        raise ValueError(f"document #{document.pk} has a malformed stored name.")
    return Path(settings.CASE_DOCUMENT_ROOT) / document.stored_name


def orphan_files() -> list[Path]:
    """Return the files in CASE_DOCUMENT_ROOT that no document names (a crash mid-upload)."""
    root = Path(settings.CASE_DOCUMENT_ROOT)
    if not root.is_dir():
        return []
    on_disk = {p.name: p for p in root.iterdir() if STORED_NAME.fullmatch(p.name)}
    known = set(
        Document.objects.filter(stored_name__in=on_disk).values_list("stored_name", flat=True)
    )
    return sorted(path for name, path in on_disk.items() if name not in known)


def clean_filename(name: str) -> str:
    """Return the uploaded name without any folder ("../../etc/passwd" → "passwd", "C:\\x\\y.pdf"
    → "y.pdf"), control or formatting characters (a right-to-left override), at most 255 long."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf"}).strip()
    if name in {".", ".."}:
        return ""
    return name[:MAX_FILENAME]


def checked_content(data: bytes) -> tuple[str, bytes]:
    """Return the content type and the bytes to store, judged by content only; else CaseError."""
    if not data:
        raise CaseError("The file is empty.")
    if data.startswith(b"%PDF-"):
        return PDF, _checked_pdf(data)
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG, _reencoded(data, "JPEG")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG, _reencoded(data, "PNG")
    raise CaseError(ONLY_THESE)


def _read_at_most(uploaded: UploadedFile[bytes], limit: int) -> bytes:
    refusal = f"A document can be at most {limit // (1024 * 1024)} MB."
    if uploaded.size is not None and uploaded.size > limit:
        raise CaseError(refusal)
    uploaded.seek(0)
    data: bytes = uploaded.read(limit + 1)
    if len(data) > limit:
        raise CaseError(refusal)
    return data


def _checked_pdf(data: bytes) -> bytes:
    head = data[:POLYGLOT_WINDOW].lower()
    if any(marker in head for marker in HTML_MARKERS):
        raise CaseError("This PDF also contains web page code, so it cannot be uploaded.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise CaseError("A password-protected PDF cannot be uploaded.")
        if len(reader.pages) < 1:
            raise CaseError("This PDF has no pages.")
    except CaseError:
        raise
    except Exception:
        # pypdf raises many kinds of error on a damaged or fake file: any of them is a refusal.
        raise CaseError("This file is not a PDF that can be read.") from None
    return data


def _reencoded(data: bytes, fmt: str) -> bytes:
    """Decode the image fully and encode its pixels afresh: nothing of the original file (EXIF,
    XMP, comments, ICC profile, trailing bytes) is kept. The EXIF orientation is applied first, so
    a photo is not stored sideways."""
    formats = ["JPEG", "MPO"] if fmt == "JPEG" else ["PNG"]
    pixels_limit = Image.MAX_IMAGE_PIXELS
    if pixels_limit and pixels_limit >= 1_000_000:
        too_many = f"{pixels_limit // 1_000_000} million"
    else:
        too_many = f"{pixels_limit or 0:,}"
    try:
        with Image.open(io.BytesIO(data), formats=formats) as probe:
            # Checked here, not by turning Pillow's warning into an error: the warnings filter is
            # global to the process, and other threads are serving requests.
            if pixels_limit and probe.width * probe.height > pixels_limit:
                raise Image.DecompressionBombError(too_many)
            probe.verify()
        with Image.open(io.BytesIO(data), formats=formats) as image:
            image.load()
            clean = ImageOps.exif_transpose(image)
            if "transparency" in clean.info or clean.mode == "P":
                clean = clean.convert("RGBA" if "transparency" in clean.info else "RGB")
            elif fmt == "JPEG" and clean.mode not in {"L", "RGB", "CMYK"}:
                clean = clean.convert("RGB")
            clean.info = {}
            out = io.BytesIO()
            if fmt == "JPEG":
                clean.save(out, format="JPEG", quality=90, optimize=True)
            else:
                clean.save(out, format="PNG", optimize=True)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise CaseError(
            f"This image has more than {too_many} pixels: scan or save it smaller."
        ) from None
    except Exception:
        # Pillow reports a truncated or corrupt image as many kinds of error: each is a refusal.
        raise CaseError(f"This file is not a {fmt} image that can be read.") from None
    return out.getvalue()


def _write_private(stored_name: str, data: bytes) -> Path:
    root = Path(settings.CASE_DOCUMENT_ROOT)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = root / stored_name
    # mkstemp creates the file 0600; os.replace makes it appear whole or not at all.
    handle, temporary = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
