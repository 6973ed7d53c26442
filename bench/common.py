"""Shared set-up for the benchmarks: Django on the PostgreSQL named by DATABASE_URL, migrated."""

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fund.settings")
os.environ.setdefault(
    "SECRET_KEY", "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("CONN_MAX_AGE", "0")
# Production settings refuse to start without keys; these are for benchmark data only.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "bench:YmVuY2htYXJrLW9ubHktZmllbGQta2V5LTAxMjM0NTY=")
os.environ.setdefault("BLIND_INDEX_KEY", "YmVuY2htYXJrLW9ubHktYmxpbmQtaW5kZXgta2V5LTAxMjM=")


def setup() -> None:
    """Configure Django and migrate the benchmark database."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench: run under `tests/pg.py --durable --` or set DATABASE_URL to PostgreSQL")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def median_ms(fn: Callable[[], object], repeat: int = 2000, warmup: int = 200) -> float:
    """Return the median wall time of fn() in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def machine() -> str:
    """Describe the machine the figures come from."""
    import platform

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SHOW fsync")
        fsync = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        sync = cursor.fetchone()[0]
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL {pg} "
        f"(fsync={fsync}, synchronous_commit={sync})"
    )
