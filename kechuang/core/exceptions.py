"""Errors the service layer raises that views and the API translate for the user."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

STALE_EDIT = _(
    "This record was changed by someone else after you opened it; your changes were not "
    "saved. Please reload the page and try again."
)


class ConflictError(ValidationError):
    """A write based on an old version of a record (the API answers 409).

    A ValidationError, so every form that shows service errors shows this one too, at the
    top of the form and with the user's input kept.
    """

    def __init__(self, message=STALE_EDIT, *, current_version=None, sent_version=None):
        super().__init__(message, code="conflict")
        self.current_version = current_version
        self.sent_version = sent_version

    @property
    def details(self) -> dict:
        return {"current_version": self.current_version, "sent_version": self.sent_version}
