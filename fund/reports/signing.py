"""Signing PDF reports with pyHanko (the only module importing it), and checking signatures.

With REPORT_SIGNING_P12 (a PKCS#12 file holding the certificate and its key) and
REPORT_SIGNING_PASSWORD configured, every PDF report is signed over the whole file, so that any
later change is detectable by any PDF reader and by `manage.py verify_report`. Signing keeps
reports repeatable: the signing time is the report's generation time and the file identifier is
derived from the document, so the same report signed twice with an RSA key gives the same bytes.
"""

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

FIELD_NAME = "ReportSignature"


def is_configured() -> bool:
    """Return whether a signing certificate is configured (REPORT_SIGNING_P12)."""
    return bool(settings.REPORT_SIGNING_P12)


def sign_pdf(document: bytes, *, signed_at: datetime) -> bytes:
    """Return the PDF signed with the configured certificate, dated `signed_at`.

    Raises ImproperlyConfigured when the PKCS#12 file cannot be read or opened.
    """
    signer = _load_signer()
    writer = _DatedWriter(io.BytesIO(document))
    # pyHanko gives an updated file a random second identifier; ours is derived from the document.
    digest = hashlib.sha256(document + signed_at.isoformat().encode()).digest()[:16]
    writer._document_id = generic.ArrayObject(
        [_first_identifier(writer), generic.ByteStringObject(digest)]
    )
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, md_algorithm="sha256")
    output = _DatedSigner(meta, signer=signer, signed_at=signed_at).sign_pdf(writer)
    signed: bytes = output.getvalue()
    return signed


@dataclass(frozen=True)
class SignatureCheck:
    """What a PDF's signature says: whether the file is unchanged since, and who signed it."""

    intact: bool
    signer: str
    covers_whole_file: bool

    @property
    def ok(self) -> bool:
        return self.intact and self.covers_whole_file


def check_signature(document: bytes) -> SignatureCheck | None:
    """Return what the PDF's report signature says, or None when none can be read from it."""
    try:
        reader = PdfFileReader(io.BytesIO(document))
        embedded = reader.embedded_signatures
    except Exception:
        # Too damaged to read a signature from: whatever it was, the report log's hash decides.
        return None
    if not embedded:
        return None
    signature = embedded[-1]
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=[], allow_fetching=False)
    )
    subject = status.signing_cert.subject.human_friendly if status.signing_cert else ""
    return SignatureCheck(
        intact=bool(status.intact and status.valid),
        signer=subject,
        covers_whole_file=status.coverage is not None and status.coverage.name == "ENTIRE_FILE",
    )


class _DatedWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document's dates as the report printed them."""

    def _update_meta(self) -> None:
        # pyHanko stamps the clock's time as the modification date (Info and XMP); keeping the
        # report's own dates keeps signing repeatable and Info and XMP agreeing, as PDF/A asks.
        return


class _DatedSigner(signers.PdfSigner):
    """A signer whose signing time is the report's generation time, not the clock's."""

    def __init__(self, *args: Any, signed_at: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed_at = signed_at

    def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self.signed_at
        return session


def _first_identifier(writer: IncrementalPdfFileWriter) -> generic.ByteStringObject:
    first = writer._document_id[0]
    if isinstance(first, generic.TextStringObject):
        return generic.ByteStringObject(first.original_bytes)
    return generic.ByteStringObject(bytes(first))


def _load_signer() -> signers.SimpleSigner:
    path = Path(settings.REPORT_SIGNING_P12)
    password = settings.REPORT_SIGNING_PASSWORD.encode() or None
    try:
        signer = signers.SimpleSigner.load_pkcs12(path, passphrase=password)  # type: ignore[no-untyped-call]
    except (OSError, ValueError, SigningError) as error:
        raise ImproperlyConfigured(
            f"REPORT_SIGNING_P12 cannot be used: {type(error).__name__}."
        ) from None
    if signer is None:
        raise ImproperlyConfigured(
            "REPORT_SIGNING_P12 cannot be opened: check the file and REPORT_SIGNING_PASSWORD."
        )
    loaded: signers.SimpleSigner = signer
    return loaded
