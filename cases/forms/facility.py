"""The form that records a move to another detention facility."""

from django import forms

from cases.forms.case import RefusableForm
from cases.models import Facility


class FacilityForm(RefusableForm):
    """Where the person is held now (from the admins' list), with an optional note."""

    facility = forms.ModelChoiceField(
        label="Now held at",
        queryset=Facility.objects.filter(active=True).order_by("name"),
        error_messages={"required": "Choose the facility the person is held at now."},
    )
    note = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: when and how you learned of the move. Kept encrypted on the timeline.",
    )
