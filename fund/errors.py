"""The core's one error tree: every refusal of the ledger and the security kit is a FundError.

The API maps these to 400/403/409 with their message (fund/api.py). `DecryptionError` (in
fund/security/crypto.py) stays outside the tree on purpose: it is never a message for a user.
"""


class FundError(Exception):
    """An operation was refused; the message says why and is safe to show."""


class InvalidAmount(FundError):
    """A typed amount is not one we accept (fund/money.py says which rules)."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


class InvalidTransaction(FundError):
    """The legs, date or fields of a transaction are not acceptable."""


class UnbalancedTransaction(InvalidTransaction):
    """The legs of a transaction do not sum to zero."""


class InsufficientFunds(FundError):
    """The payment would take an account or a restricted fund below zero."""


class BooksClosed(FundError):
    """The transaction is dated on or before the day the fund's books are closed through."""


class IdempotencyConflict(FundError):
    """An idempotency key was reused with a different payload."""


class AlreadyReversed(FundError):
    """The transaction has already been reversed."""


class OwnedByWorkflow(FundError):
    """The transaction belongs to another app's workflow: only that app's service reverses it."""


class LockError(FundError):
    """The books cannot be closed, or reopened, through the day asked."""


class NotAllowed(FundError):
    """The actor's role does not allow this operation."""


class AppendOnlyError(FundError):
    """An append-only row was about to be changed or deleted."""


class StaffError(FundError):
    """A staff account could not be created or changed as asked."""


class ReportError(FundError):
    """A report was asked for with a kind, format or period the engine does not offer."""
