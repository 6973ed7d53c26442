"""The fund app's errors: the API maps them to 400/409 with their message."""


class FundError(Exception):
    """A ledger operation was refused; the message says why and is safe to show."""


class InvalidTransaction(FundError):
    """The legs, date or fields of a transaction are not acceptable."""


class UnbalancedTransaction(InvalidTransaction):
    """The legs of a transaction do not sum to zero."""


class InsufficientFunds(FundError):
    """The payment would take an account or a restricted fund below zero."""


class PeriodClosed(FundError):
    """The transaction is dated inside a closed period."""


class IdempotencyConflict(FundError):
    """An idempotency key was reused with a different payload."""


class AlreadyReversed(FundError):
    """The transaction has already been reversed."""


class PeriodError(FundError):
    """A period cannot be closed or reopened."""


class NotAllowed(FundError):
    """The actor's role does not allow this operation."""


class AppendOnlyError(FundError):
    """An append-only row was about to be changed or deleted."""


class StaffError(FundError):
    """A staff account could not be created or changed as asked."""
