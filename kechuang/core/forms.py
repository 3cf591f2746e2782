"""Form helpers shared by every app's views."""

from django import forms
from django.core.exceptions import ValidationError


def form_error(form, exc: ValidationError) -> None:
    """Put a service-layer ValidationError onto the form that caused it.

    Errors on fields the form does not show go to the top of the form (Django's own
    `add_error` would raise, turning a validation message into a 500).
    """
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def add_version_field(form, instance) -> None:
    """Carry the record's `row_version` through the form's round trip (a hidden field), so
    that saving over someone else's newer change is refused (ConflictError) instead."""
    form.fields["row_version"] = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0
    )
    if instance is not None and instance.pk is not None:
        form.initial["row_version"] = instance.row_version


def submitted_version(form) -> int | None:
    """The version the user's form was opened on (None: a new record or no version sent)."""
    return form.cleaned_data.get("row_version")
