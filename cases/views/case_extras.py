"""What the case page needs for the actions of cases/views/extras.py: which of the viewer's notes
are still editable, and the forms to take a coordinator off and to place or lift a legal hold.

Kept apart from extras.py (which uses case.py's helpers) so that case.py imports it without a
cycle.
"""

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from cases.forms.extras import LegalHoldForm, UnassignForm
from cases.models import Case
from cases.queries import may_see_person
from cases.services.cases import EDITABLE_KINDS, NOTE_EDIT_WINDOW, may_assign
from cases.services.retention import may_set_legal_hold
from fund.security.roles import CASE_WORKERS


def editable_notes(user: User, case: Case) -> set[int]:
    """Return the numbers of the case's notes and calls the user wrote less than 15 minutes ago
    (the service decides again when the edit is sent)."""
    if not CASE_WORKERS.allows(user) or not may_see_person(user, case):
        return set()
    cutoff = timezone.now() - NOTE_EDIT_WINDOW
    return set(
        case.timeline.filter(by=user, kind__in=EDITABLE_KINDS, at__gt=cutoff).values_list(
            "pk", flat=True
        )
    )


def case_page_extras(user: User, case: Case) -> dict[str, Any]:
    """Return the case page's context for the extra actions (forms bound after a refusal replace
    these: case_page applies its `bound` forms after them)."""
    works_on_person = CASE_WORKERS.allows(user) and may_see_person(user, case)
    return {
        "editable_notes": editable_notes(user, case),
        "updates_hearings": works_on_person and case.purged_at is None,
        "unassign_form": UnassignForm(case=case) if may_assign(user) else None,
        "hold_form": (
            LegalHoldForm(case=case)
            if may_set_legal_hold(user) and case.purged_at is None
            else None
        ),
    }
