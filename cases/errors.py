"""The cases app's errors: each is a refusal whose message is safe to show (the API answers it as
{"detail": ...} through fund/api.py's ERROR_STATUSES). A message never names the person: it says
what was refused and why, by case reference at most."""


class CaseError(Exception):
    """A case operation was refused; the message says why."""


class CaseNotFound(CaseError):
    """No case the user may open matches: out of scope is the same as missing (404)."""


class TransitionRefused(CaseError):
    """A status change the workflow does not allow; the message names the allowed ones."""


class SelfApproval(CaseError):
    """Whoever requested a disbursement neither approves nor pays it (the database refuses too)."""


class NoteLocked(CaseError):
    """A note can be edited only by its author, and only for 15 minutes."""


class DetailsChanged(CaseError):
    """The person's details changed since the form that corrects them was shown."""
