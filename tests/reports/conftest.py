"""Report fixtures: the ledger fixtures, a private REPORT_ROOT, and small report definitions."""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from fund.reports.registry import Cell, Column, Period, Report, Row, Total
from tests.fund.conftest import fund, seeded  # noqa: F401  (fixtures for these tests)

PERIOD = Period(date(2026, 1, 1), date(2026, 12, 31))
GENERATED_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COLUMNS = (
    Column("Date", Cell.DATE),
    Column("Memo"),
    Column("Postings", Cell.NUMBER),
    Column("Amount", Cell.MONEY),
)


@pytest.fixture(autouse=True)
def report_root(settings, tmp_path):
    """Store generated reports in a folder of the test's own, unsigned unless a test signs."""
    settings.REPORT_ROOT = tmp_path / "reports"
    settings.REPORT_SIGNING_P12 = ""
    settings.REPORT_SIGNING_PASSWORD = ""
    return settings.REPORT_ROOT


def table_report(
    rows: Sequence[Row], totals: Sequence[Total] = (), *, kind: str = "test-table", **extra
) -> Report:
    """Return a report definition whose rows and totals are the ones given (test data)."""
    return Report(
        kind=kind,
        title="Test table",
        description="Rows given by the test.",
        columns=COLUMNS,
        rows=lambda _fund, _period: iter(rows),
        totals=lambda _fund, _period: tuple(totals),
        count=lambda _fund, _period: len(rows),
        **extra,
    )


def memo_rows(count: int, *, memo: str = "Attorney fee") -> list[Row]:
    """Return `count` numbered lines of 12.50 each (the last refunds -12.50)."""
    rows = [Row((date(2026, 3, 1), f"{memo} {n}", n, 1250)) for n in range(1, count + 1)]
    if rows:
        rows[-1] = Row((date(2026, 3, 2), f"Refund {count}", count, -1250))
    return rows


@pytest.fixture
def signing_certificate(settings, tmp_path):
    """Configure a self-signed RSA certificate for signing reports, made for this test."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Valley Labor Council"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Valley Fund Reports"),
        ]
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    password = b"correct horse"
    bundle = pkcs12.serialize_key_and_certificates(
        b"reports", key, certificate, None, serialization.BestAvailableEncryption(password)
    )
    path = tmp_path / "reports.p12"
    path.write_bytes(bundle)
    settings.REPORT_SIGNING_P12 = str(path)
    settings.REPORT_SIGNING_PASSWORD = password.decode()
    return certificate
