"""Documents on a case: judged by content, stored privately without metadata, downloaded by those
who may see the person only, and every download logged."""

import hashlib
import io
import re
import stat
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import checks
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from PIL import ExifTags, Image, PngImagePlugin
from pypdf import PdfWriter

from cases.checks import check_document_root
from cases.errors import CaseError, CaseNotFound
from cases.models import Case, Document, TimelineEntry
from cases.services.cases import open_case
from cases.services.documents import (
    ONLY_THESE,
    clean_filename,
    delete_case_documents,
    orphan_files,
    stored_path,
    upload_document,
)
from fund.errors import NotAllowed
from fund.security.models import AccessLog

pytestmark = pytest.mark.django_db

CANARY = "Zyxwvut Canaryname"
Kind = Document.Kind


@pytest.fixture(autouse=True)
def root(settings, tmp_path) -> Path:
    """Documents go to a fresh private folder of the test's own."""
    settings.CASE_DOCUMENT_ROOT = tmp_path / "documents"
    return settings.CASE_DOCUMENT_ROOT


@pytest.fixture
def case(coordinator) -> Case:
    return open_case(actor=coordinator, legal_name=CANARY).case


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canary Camera"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (34.0, 3.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (118.0, 14.0, 37.0)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", CANARY)
    out = io.BytesIO()
    Image.new("RGBA", (64, 48), (0, 90, 200, 128)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def upload(actor, case, data: bytes, name: str = "scan.pdf", kind: str = Kind.RETAINER, **kw):
    file = SimpleUploadedFile(name, data, content_type=kw.pop("content_type", "application/pdf"))
    return upload_document(actor=actor, case=case, kind=kind, uploaded=file)


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_pdf_is_stored_as_uploaded_under_a_random_name(coordinator, case, root):
    data = pdf_bytes()

    document = upload(coordinator, case, data, name=f"{CANARY} retainer.pdf")

    document.refresh_from_db()
    assert document.content_type == "application/pdf"
    assert document.size == len(data)
    assert re.fullmatch(r"[0-9a-f]{32}", document.stored_name)
    assert document.filename == f"{CANARY} retainer.pdf"
    assert files_in(root) == [root / document.stored_name]
    assert (root / document.stored_name).read_bytes() == data
    assert document.sha256 == hashlib.sha256(data).hexdigest()


def test_an_upload_is_on_the_timeline_by_kind_never_by_name(coordinator, case):
    upload(coordinator, case, pdf_bytes(), name=f"{CANARY}.pdf")

    entry = TimelineEntry.objects.get(case=case, kind=TimelineEntry.Kind.DOCUMENT)
    assert entry.text == "Retainer agreement added."
    assert entry.by == coordinator


def test_a_jpeg_is_re_encoded_without_its_exif_and_gps(coordinator, case, root):
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as photo:
        assert photo.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test photo does carry GPS

    document = upload(coordinator, case, original, name="photo.jpg", kind=Kind.BOND_RECEIPT)

    stored = (root / document.stored_name).read_bytes()
    assert stored != original
    assert b"Canary Camera" not in stored
    assert b"Exif" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert image.size == (64, 48)
        assert len(image.getexif()) == 0
        assert "exif" not in image.info
    assert document.content_type == "image/jpeg"
    assert document.size == len(stored)


def test_a_photo_taken_sideways_is_stored_upright(coordinator, case, root):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned: show it rotated 90° clockwise
    out = io.BytesIO()
    Image.new("RGB", (64, 48)).save(out, format="JPEG", exif=exif.tobytes())

    document = upload(coordinator, case, out.getvalue(), name="sideways.jpg")

    with Image.open(stored_path(document)) as image:
        assert image.size == (48, 64)
        assert len(image.getexif()) == 0


def test_a_png_is_re_encoded_without_its_text_chunks(coordinator, case, root):
    document = upload(coordinator, case, png_with_text(), name="receipt.png")

    stored = (root / document.stored_name).read_bytes()
    assert CANARY.encode() not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        assert image.text == {}  # type: ignore[attr-defined]
    assert document.content_type == "image/png"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("limit", [1000, 2000])  # Pillow raises past twice its limit, warns below
def test_an_image_past_pillows_pixel_limit_is_refused(coordinator, case, root, monkeypatch, limit):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)  # the image has 64 x 48 = 3,072

    with pytest.raises(
        CaseError,
        match=re.escape(f"This image has more than {limit:,} pixels: scan or save it smaller."),
    ):
        upload(coordinator, case, png_with_text(), name="big.png")
    assert not Document.objects.exists()
    assert files_in(root) == []


def test_a_file_over_the_limit_is_refused_with_the_limit(coordinator, case, root, settings):
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    data = pdf_bytes()
    too_big = data + b"\n" * (1024 * 1024 + 1 - len(data))

    with pytest.raises(CaseError, match=re.escape("A document can be at most 1 MB.")):
        upload(coordinator, case, too_big)
    assert not Document.objects.exists()
    assert files_in(root) == []

    just_fits = data + b"\n" * (1024 * 1024 - len(data))
    assert upload(coordinator, case, just_fits).size == 1024 * 1024


def test_the_default_limit_is_ten_megabytes():
    assert django_settings.DOCUMENT_MAX_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (
            b"<!doctype html><html><script>alert(1)</script></html>",
            "retainer.pdf",
            "application/pdf",
        ),
        (b"GIF89a\x01\x00\x01\x00", "photo.jpg", "image/jpeg"),
        (b"PK\x03\x04 a zip", "scan.png", "image/png"),
        (b"plain words", "notes.txt", "text/plain"),
    ],
)
def test_anything_but_pdf_jpeg_or_png_is_refused_whatever_its_name(
    coordinator, case, root, data, name, content_type
):
    with pytest.raises(CaseError, match=re.escape(ONLY_THESE)):
        upload(coordinator, case, data, name=name, content_type=content_type)
    assert not Document.objects.exists()
    assert files_in(root) == []


def test_a_pdf_html_polyglot_is_refused(coordinator, case, root):
    polyglot = b"%PDF-1.4\n%<html><body><script>alert(document.cookie)</script>\n" + pdf_bytes()[9:]

    with pytest.raises(
        CaseError,
        match=re.escape("This PDF also contains web page code, so it cannot be uploaded."),
    ):
        upload(coordinator, case, polyglot)
    assert files_in(root) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7\nnot really a pdf at all", "This file is not a PDF that can be read."),
        (b"\xff\xd8\xff\xe0 truncated", "This file is not a JPEG image that can be read."),
        (b"\x89PNG\r\n\x1a\n truncated", "This file is not a PNG image that can be read."),
        (b"", "The file is empty."),
    ],
)
def test_a_file_that_only_looks_like_one_is_refused(coordinator, case, root, data, message):
    with pytest.raises(CaseError, match=re.escape(message)):
        upload(coordinator, case, data)
    assert files_in(root) == []


def test_a_path_in_the_uploaded_name_is_dropped_and_never_used_on_disk(coordinator, case, root):
    document = upload(coordinator, case, pdf_bytes(), name="../../etc/passwd")

    document.refresh_from_db()
    assert document.filename == "passwd"
    path = stored_path(document)
    assert path.parent == root
    assert files_in(root) == [path]
    assert not (root.parent / "etc").exists()


@pytest.mark.parametrize(
    ("uploaded", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("/var/www/../secret.pdf", "secret.pdf"),
        ("re\x1btainer\x00.pdf", "retainer.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("..", ""),
        ("  spaced.pdf  ", "spaced.pdf"),
    ],
)
def test_the_uploaded_name_is_kept_without_folders_or_control_characters(uploaded, kept):
    assert clean_filename(uploaded) == kept


def test_the_stored_file_is_private_and_outside_static_and_media(coordinator, case, root):
    document = upload(coordinator, case, pdf_bytes())

    path = stored_path(document).resolve()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    served = [Path(django_settings.STATIC_ROOT), *map(Path, django_settings.STATICFILES_DIRS)]
    if django_settings.MEDIA_ROOT:
        served.append(Path(django_settings.MEDIA_ROOT))
    assert not any(path.is_relative_to(folder.resolve()) for folder in served)


def test_the_default_document_root_is_outside_static_and_media():
    from fund import settings as production

    assert production.CASE_DOCUMENT_ROOT == production.BASE_DIR / "var" / "documents"
    assert not production.CASE_DOCUMENT_ROOT.is_relative_to(production.STATIC_ROOT)
    assert not any(
        production.CASE_DOCUMENT_ROOT.is_relative_to(folder)
        for folder in production.STATICFILES_DIRS
    )
    assert not getattr(production, "MEDIA_ROOT", "")


def test_a_failed_transaction_leaves_no_file(coordinator, case, root):
    Case.objects.filter(pk=case.pk).update(purged_at=timezone.now())

    with pytest.raises(
        CaseError, match=re.escape(f"Case {case.ref} has been purged: it takes no documents.")
    ):
        upload(coordinator, case, pdf_bytes())
    assert not Document.objects.exists()
    assert files_in(root) == []


def test_an_upload_inside_another_transaction_is_refused_and_leaves_no_file(
    coordinator, case, root
):
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        upload(coordinator, case, pdf_bytes())
    assert not Document.objects.exists()
    assert files_in(root) == []


def test_only_the_cases_coordinators_upload(
    coordinator, other_coordinator, treasurer, admin_user, case, root
):
    with pytest.raises(CaseNotFound):
        upload(other_coordinator, case, pdf_bytes())
    for outsider in (treasurer, admin_user):
        with pytest.raises(
            NotAllowed, match=re.escape("Only legal coordinators can open and work cases.")
        ):
            upload(outsider, case, pdf_bytes())
    with pytest.raises(CaseError, match=re.escape("Choose what kind of document this is.")):
        upload(coordinator, case, pdf_bytes(), kind="passport")
    assert files_in(root) == []


def test_deleting_a_cases_documents_removes_rows_and_files_and_is_idempotent(
    coordinator, case, root, django_capture_on_commit_callbacks
):
    upload(coordinator, case, pdf_bytes())
    upload(coordinator, case, jpeg_with_gps(), name="a.jpg")
    other = open_case(actor=coordinator, legal_name="Someone Else").case
    kept = upload(coordinator, other, pdf_bytes())

    with django_capture_on_commit_callbacks(execute=True):
        assert delete_case_documents(case) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_case_documents(case) == 0

    assert list(Document.objects.all()) == [kept]
    assert files_in(root) == [stored_path(kept)]


@pytest.mark.django_db(transaction=True)
def test_with_real_commits_the_file_and_row_agree(coordinator, case, root):
    document = upload(coordinator, case, pdf_bytes())
    assert files_in(root) == [stored_path(document)]

    Case.objects.filter(pk=case.pk).update(purged_at=timezone.now())
    with pytest.raises(CaseError):
        upload(coordinator, case, pdf_bytes())
    assert list(Document.objects.all()) == [document]
    assert files_in(root) == [stored_path(document)]

    assert delete_case_documents(case) == 1
    assert not Document.objects.exists()
    assert files_in(root) == []


def test_a_file_no_row_names_is_listed_as_an_orphan(coordinator, case, root):
    kept = upload(coordinator, case, pdf_bytes())
    stray = root / ("ab" * 16)
    stray.write_bytes(b"left by a crash")

    assert orphan_files() == [stray]
    assert stored_path(kept).exists()


# The pages


def documents_url(case: Case) -> str:
    return reverse("cases:case-documents", args=[case.ref])


def download_url(document: Document) -> str:
    return reverse("cases:case-document", args=[document.case.ref, document.pk])


def test_the_url_names_the_case_by_reference_and_the_document_by_number(coordinator, case):
    document = upload(coordinator, case, pdf_bytes(), name=f"{CANARY}.pdf")

    assert download_url(document) == f"/cases/{case.ref}/documents/{document.pk}/"


def test_the_assigned_coordinator_downloads_it_as_an_attachment_and_it_is_logged(
    client, coordinator, case
):
    data = pdf_bytes()
    document = upload(coordinator, case, data, name=f"{CANARY}.pdf")
    client.force_login(coordinator)

    response = client.get(download_url(document))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{case.ref}-retainer-{document.pk}.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == "sandbox"
    log = AccessLog.objects.get(user=coordinator)
    assert log.action == AccessLog.Action.DOWNLOAD
    assert (log.object_type, log.object_ref) == ("cases.Document", str(document.pk))
    assert log.detail == "case document"


def test_a_legal_director_and_an_admin_download_it(
    client, coordinator, legal_director, admin_user, case
):
    document = upload(coordinator, case, jpeg_with_gps(), name="p.jpg", kind=Kind.BOND_RECEIPT)
    for user in (legal_director, admin_user):
        client.force_login(user)
        response = client.get(download_url(document))
        assert response.status_code == 200
        assert response["Content-Disposition"] == (
            f'attachment; filename="{case.ref}-bond-receipt-{document.pk}.jpg"'
        )
    assert AccessLog.objects.filter(action=AccessLog.Action.DOWNLOAD).count() == 2


def test_an_unassigned_coordinator_finds_no_such_document(
    client, coordinator, other_coordinator, case
):
    document = upload(coordinator, case, pdf_bytes())
    client.force_login(other_coordinator)

    assert client.get(download_url(document)).status_code == 404
    assert client.get(documents_url(case)).status_code == 404
    assert not AccessLog.objects.exists()


def test_a_document_of_another_case_is_not_found_under_this_one(client, coordinator, case):
    other = open_case(actor=coordinator, legal_name="Someone Else").case
    document = upload(coordinator, other, pdf_bytes())
    client.force_login(coordinator)

    response = client.get(reverse("cases:case-document", args=[case.ref, document.pk]))

    assert response.status_code == 404


def test_treasurers_and_auditors_may_not_download_it(client, coordinator, treasurer, auditor, case):
    document = upload(coordinator, case, pdf_bytes())
    for user in (treasurer, auditor):
        client.force_login(user)
        assert client.get(download_url(document)).status_code == 403
    assert not AccessLog.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(client, coordinator, case):
    document = upload(coordinator, case, pdf_bytes())

    for url in (download_url(document), documents_url(case)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_the_upload_form_stores_the_file_and_returns_to_the_case(client, coordinator, case, root):
    client.force_login(coordinator)
    file = SimpleUploadedFile("C:\\Users\\x\\retainer.pdf", pdf_bytes(), "application/pdf")

    response = client.post(documents_url(case), {"kind": Kind.RETAINER, "file": file})

    assert response.status_code == 302
    assert response["Location"] == reverse("cases_case_detail", args=[case.ref])
    document = Document.objects.get(case=case)
    assert document.filename == "retainer.pdf"
    page = client.get(documents_url(case))
    assert page.status_code == 200
    assert "The document was added to the case." in page.text


def test_the_upload_form_shows_a_refusal_and_stores_nothing(client, coordinator, case, root):
    client.force_login(coordinator)
    html = SimpleUploadedFile("retainer.pdf", b"<html><script>x</script></html>", "application/pdf")

    response = client.post(documents_url(case), {"kind": Kind.RETAINER, "file": html})

    assert response.status_code == 400
    assert ONLY_THESE in response.text
    assert not Document.objects.exists()
    assert files_in(root) == []


def test_the_upload_form_needs_a_csrf_token(coordinator, case, root):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    file = SimpleUploadedFile("r.pdf", pdf_bytes(), "application/pdf")

    response = client.post(documents_url(case), {"kind": Kind.RETAINER, "file": file})

    assert response.status_code == 403
    assert not Document.objects.exists()


def test_the_list_shows_kinds_and_sizes_never_the_uploaded_name(
    client, coordinator, treasurer, case
):
    document = upload(coordinator, case, pdf_bytes(), name=f"{CANARY}.pdf")
    client.force_login(coordinator)

    page = client.get(documents_url(case))

    assert page.status_code == 200
    assert "Retainer agreement" in page.text
    assert download_url(document) in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert CANARY not in page.text
    client.force_login(treasurer)
    page = client.get(documents_url(case))
    assert page.status_code == 200
    assert "Retainer agreement" in page.text
    assert download_url(document) not in page.text
    assert "Add a document" not in page.text
    assert client.post(documents_url(case), {"kind": Kind.OTHER}).status_code == 403


# The deploy check


def test_the_deploy_check_is_registered():
    assert check_document_root in checks.registry.registry.get_checks(
        include_deployment_checks=True
    )


def test_the_deploy_check_accepts_a_private_folder_or_one_it_can_create(root):
    assert check_document_root() == []  # not there yet, but its parent is writable
    root.mkdir(mode=0o700)
    assert check_document_root() == []


def test_the_deploy_check_warns_of_a_folder_others_can_read(root):
    root.mkdir(mode=0o700)
    root.chmod(0o755)

    [warning] = check_document_root()

    assert warning.id == "cases.W004"
    assert f"chmod 700 {root.resolve()}" in warning.msg


@pytest.mark.parametrize("setting", ["STATIC_ROOT", "MEDIA_ROOT"])
def test_the_deploy_check_warns_of_a_folder_under_static_or_media(settings, tmp_path, setting):
    setattr(settings, setting, tmp_path / "served")
    settings.CASE_DOCUMENT_ROOT = tmp_path / "served" / "documents"

    [warning] = check_document_root()

    assert warning.id == "cases.W001"
    assert setting in warning.msg


def test_the_deploy_check_warns_of_a_folder_in_the_static_dirs(settings):
    settings.CASE_DOCUMENT_ROOT = Path(settings.STATICFILES_DIRS[0]) / "documents"

    [warning] = check_document_root()

    assert warning.id == "cases.W001"
    assert "STATICFILES_DIRS" in warning.msg
