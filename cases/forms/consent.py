"""The consent form: what the person agreed the fund may do, ticked from the list (never typed)."""

from django import forms

from cases.forms.case import RefusableForm
from cases.models import Case


class ConsentForm(RefusableForm):
    """Record the person's consent; the service refuses an empty choice, with its message."""

    scope = forms.MultipleChoiceField(
        label="The person agrees that the fund may",
        choices=Case.Consent.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Tick each that the person agreed to. Anything else goes in a note.",
    )
