"""Form helpers shared by every app's views."""

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
