"""Forms of the case screens added after the first ones: editing a note, a hearing's outcome and
new time, taking a coordinator off a case, a legal hold, a payee's W-9.

As in cases/forms/case.py, each form checks what it can and the services decide the rest; their
refusals are shown on the form (`refused`). No error message echoes what was typed.
"""

from typing import Any

from django import forms
from django.contrib.auth.models import User

from cases.forms.case import CoordinatorChoiceField, DateTimeInput, RefusableForm
from cases.models import Case


class EditNoteForm(RefusableForm):
    """The new text of a note or a call (its earlier text is kept on the timeline)."""

    text = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "A note needs some text."},
    )


class OutcomeForm(RefusableForm):
    """What came of a hearing (encrypted: it may name people)."""

    outcome = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what came of the hearing."},
    )


class RescheduleForm(RefusableForm):
    """A hearing's new time, and its court (which may change with it)."""

    at = forms.DateTimeField(
        label="New date and time",
        widget=DateTimeInput(),
        error_messages={"required": "Enter the day and time.", "invalid": "Enter a day and time."},
    )
    court = forms.CharField(max_length=200, error_messages={"required": "Enter the court."})


class UnassignForm(RefusableForm):
    """Take one of the case's coordinators off it (legal directors and admins)."""

    coordinator = CoordinatorChoiceField(
        queryset=User.objects.none(), empty_label=None, label="Coordinator to take off"
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["coordinator"]
        field.queryset = case.coordinators.order_by("username")  # type: ignore[attr-defined]


class LegalHoldForm(RefusableForm):
    """Place or lift a legal hold, with the reason (it goes on the timeline)."""

    hold = forms.ChoiceField(
        choices=[("place", "Place"), ("lift", "Lift")], widget=forms.HiddenInput
    )
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the legal hold is placed or lifted."},
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"hold": "lift" if case.legal_hold else "place"})
        super().__init__(*args, **kwargs)


class W9Form(forms.Form):
    """Whether a payee's W-9 is on file."""

    received = forms.ChoiceField(choices=[("yes", "Received"), ("no", "Not received")])
