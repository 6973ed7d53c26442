"""The form that uploads a document to a case: what kind it is, and the file."""

from typing import Any

from django import forms
from django.conf import settings

from cases.models import Document

ACCEPTED = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"


class DocumentUploadForm(forms.Form):
    """A file and its kind. What the file is, the service decides by its content."""

    kind = forms.ChoiceField(label="Kind of document", choices=Document.Kind.choices)
    file = forms.FileField(
        label="File",
        widget=forms.FileInput(attrs={"accept": ACCEPTED}),
        allow_empty_file=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        max_mb = settings.DOCUMENT_MAX_BYTES // (1024 * 1024)
        self.fields["file"].help_text = f"A PDF, JPEG or PNG file of at most {max_mb} MB."
