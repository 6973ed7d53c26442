"""Which of the viewer's notes the case page offers to edit (cases/views/extras.py edits them).

Kept apart from extras.py (which uses case.py's helpers) so that case.py imports it without a
cycle.
"""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.utils import timezone

from cases.models import Case, TimelineEntry
from cases.services.cases import EDITABLE_KINDS, NOTE_EDIT_WINDOW
from fund.security.roles import CASE_WORKERS


def editable_notes(
    user: User, case: Case, entries: Iterable[TimelineEntry], *, sees_person: bool
) -> set[int]:
    """Return which of the shown entries are notes and calls the user wrote less than 15
    minutes ago (the service decides again when the edit is sent)."""
    if not sees_person or not CASE_WORKERS.allows(user):
        return set()
    cutoff = timezone.now() - NOTE_EDIT_WINDOW
    return {
        entry.pk
        for entry in entries
        if entry.by_id == user.pk and entry.kind in EDITABLE_KINDS and entry.at > cutoff
    }
