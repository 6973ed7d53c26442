"""Forms of the case screens: the board's filters, a new case, and the case page's quick actions
(status, note or call, hearing, assignment).

Each form checks what it can (a date is a date); the services decide the rest, and their refusals
are shown on the form (`refused`). No form ever echoes a name or an A-number in an error.
"""

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.http import QueryDict

from cases.errors import CaseError
from cases.models import Case, Facility, Hearing
from cases.services.cases import allowed_moves, status_label, validate_a_number
from fund.errors import IdempotencyConflict
from fund.ledger.forms import new_idempotency_key
from fund.security.roles import StaffRole


class RefusableForm(forms.Form):
    """A form whose submission calls a service; the service's refusal is shown on it."""

    def refused(self, error: Exception) -> None:
        """Show why the service refused what the form asked."""
        self.add_error(None, str(error))


class RecordingForm(RefusableForm):
    """A form that records something once; a key already spent on other values is replaced, so
    that submitting again records deliberately."""

    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("idempotency_key", new_idempotency_key())
        super().__init__(*args, **kwargs)

    def refused(self, error: Exception) -> None:
        if isinstance(error, IdempotencyConflict):
            data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
            data["idempotency_key"] = new_idempotency_key()
            self.data = data
        self.add_error(None, str(error))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class FacilityChoiceField(forms.ModelChoiceField[Facility]):
    """One of the facilities on the admins' list."""

    def label_from_instance(self, obj: Facility) -> str:
        place = ", ".join(part for part in (obj.city, obj.state) if part)
        return f"{obj.name} ({place})" if place else obj.name


class CoordinatorChoiceField(forms.ModelChoiceField[User]):
    """One of the legal coordinators, by user name."""

    def label_from_instance(self, obj: User) -> str:
        return obj.get_username()


def coordinators() -> Any:
    """Return the active legal coordinators, by user name."""
    return User.objects.filter(groups__name=StaffRole.COORDINATOR.value, is_active=True).order_by(
        "username"
    )


class CaseFilterForm(forms.Form):
    """Narrow the case board by status, facility and coordinator; find a case (POSTed only)."""

    search = forms.CharField(
        required=False,
        max_length=100,
        label="Find",
        help_text="A case reference (C-2026-0042); its coordinators also find a name or A-number.",
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Case.Status.choices])
    facility = FacilityChoiceField(
        queryset=Facility.objects.order_by("name"), required=False, empty_label="Any facility"
    )
    coordinator = CoordinatorChoiceField(
        queryset=coordinators(), required=False, empty_label="Any coordinator"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coordinator"].queryset = coordinators()  # type: ignore[attr-defined]


class PersonForm(RefusableForm):
    """Who the case is about and since when they are held: at intake, and to correct later."""

    legal_name = forms.CharField(
        max_length=200, label="Legal name", error_messages={"required": "Enter the legal name."}
    )
    a_number = forms.CharField(
        max_length=20,
        required=False,
        label="A-number",
        help_text="8 or 9 digits, with or without the A (A012-345-678).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    other_names = forms.CharField(
        max_length=300, required=False, label="Other names", help_text="Aliases, maiden names."
    )
    date_of_birth = forms.DateField(required=False, label="Date of birth", widget=DateInput())
    phone = forms.CharField(
        max_length=50, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    preferred_language = forms.CharField(max_length=100, required=False, label="Preferred language")
    family_contact = forms.CharField(
        max_length=500,
        required=False,
        label="Family contact",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    employer = forms.CharField(max_length=200, required=False)
    union_local = forms.CharField(
        max_length=100,
        required=False,
        label="Union local",
        help_text="Leave blank if the person is not in a union.",
    )
    detained_on = forms.DateField(required=False, label="Detained on", widget=DateInput())

    def clean_a_number(self) -> str:
        try:
            return validate_a_number(self.cleaned_data.get("a_number", ""))
        except CaseError as error:
            raise forms.ValidationError(str(error)) from None


class CorrectPersonForm(PersonForm):
    """The person's details as recorded, to correct, with a digest of them as shown
    (`details_seen`). A date of birth recorded as free text (the API takes one) is offered as
    text: a date input would show it blank and clear it."""

    seen = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        born = str(self.initial.get("date_of_birth") or "")
        if born and not _is_iso_date(born):
            self.fields["date_of_birth"] = forms.CharField(
                max_length=20,
                required=False,
                label="Date of birth",
                help_text="Recorded as written; a date reads best as YYYY-MM-DD.",
            )

    def clean_date_of_birth(self) -> str:
        born = self.cleaned_data.get("date_of_birth")
        if isinstance(born, date):
            return born.isoformat()
        return str(born or "")


def _is_iso_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


class OpenCaseForm(RecordingForm, PersonForm):
    """Who the case is about and where they are held: the fields of open_case. Sent twice (a
    double click, a reload), it opens one case."""

    facility = FacilityChoiceField(
        queryset=Facility.objects.filter(active=True).order_by("name"),
        required=False,
        empty_label="Not detained, or not known",
    )


class StatusChoiceField(forms.ChoiceField):
    """Offers the moves the workflow allows; accepts any status, so that the service refuses a
    move it does not allow with its own message."""

    def valid_value(self, value: Any) -> bool:
        return value in Case.Status.values


class StatusForm(RefusableForm):
    """Move the case along the workflow, with an optional note."""

    to = StatusChoiceField(label="New status")
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [  # type: ignore[attr-defined]
            (status, status_label(status).capitalize()) for status in allowed_moves(case.status)
        ]


class NoteForm(RefusableForm):
    """A note or a call, written on the case's timeline (encrypted)."""

    kind = forms.ChoiceField(
        choices=[("note", "Note"), ("call", "Call")], initial="note", widget=forms.RadioSelect
    )
    text = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "A note needs some text."},
    )


class HearingForm(RefusableForm):
    """A hearing to schedule: when, where, which kind, before whom."""

    at = forms.DateTimeField(
        label="Date and time",
        widget=DateTimeInput(),
        error_messages={"required": "Enter the day and time.", "invalid": "Enter a day and time."},
    )
    court = forms.CharField(max_length=200, error_messages={"required": "Enter the court."})
    kind = forms.ChoiceField(choices=Hearing.Kind.choices)
    judge = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the note form beside it on the case page has a "kind" too, and a second
        # id_kind would take the "Kind" label away from this select.
        kwargs.setdefault("auto_id", "id_hearing_%s")
        super().__init__(*args, **kwargs)


class AssignForm(RefusableForm):
    """Assign a coordinator to the case (legal directors)."""

    coordinator = CoordinatorChoiceField(queryset=coordinators(), empty_label=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coordinator"].queryset = coordinators()  # type: ignore[attr-defined]
