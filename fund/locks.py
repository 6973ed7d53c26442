"""One advisory lock, by key, held until the transaction ends: for things no row stands for yet
(a Stripe payment not booked, a form's idempotency key not used)."""

from django.db import connection


def hold_lock(key: str) -> None:
    """Wait for and hold a lock on `key` until the current transaction commits or rolls back.

    Two requests about one thing (two deliveries of a payment, a form sent twice) queue here; the
    second finds what the first wrote. Held to the end of the transaction, it means nothing
    outside one, so it is refused there.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Locks are held until commit: call this inside transaction.atomic.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
