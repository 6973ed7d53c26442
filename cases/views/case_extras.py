"""What the case page needs for the actions of cases/views/extras.py: which of the viewer's notes
are still editable, and the forms to take a coordinator off and to place or lift a legal hold.

Kept apart from extras.py (which uses case.py's helpers) so that case.py imports it without a
cycle.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from cases.forms.extras import LegalHoldForm, UnassignForm
from cases.models import Case, TimelineEntry
from cases.services.cases import EDITABLE_KINDS, NOTE_EDIT_WINDOW, may_assign
from cases.services.retention import may_set_legal_hold
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


def case_page_extras(user: User, case: Case, *, sees_person: bool) -> dict[str, Any]:
    """Return the case page's context for the extra actions (forms bound after a refusal replace
    these: case_page applies its `bound` forms after them)."""
    works_on_person = CASE_WORKERS.allows(user) and sees_person
    return {
        "updates_hearings": works_on_person and case.purged_at is None,
        "unassign_form": UnassignForm(case=case) if may_assign(user) else None,
        "hold_form": (
            LegalHoldForm(case=case)
            if may_set_legal_hold(user) and case.purged_at is None
            else None
        ),
    }
