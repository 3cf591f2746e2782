"""Generic register writes: permission check, one transaction, audit entry.

Apps call these from their own services (or wrap them with domain rules);
views and the API never save models directly.
"""

from __future__ import annotations

from django.db import transaction

from kechuang.core import audit
from kechuang.core.permissions import check_visible


def create_record(obj, *, acting_user, check=True):
    """Validate, save and audit a new record; refuse if it lands outside the user's scope."""
    with transaction.atomic():
        obj.full_clean()
        obj.save()
        if check and acting_user is not None:
            check_visible(obj, acting_user, "change")
        audit.record_create(obj, actor=acting_user)
    return obj


def update_record(obj, changes: dict, *, acting_user, check=True):
    """Apply field changes, validate, save and audit the diff (before -> after)."""
    with transaction.atomic():
        if check and acting_user is not None:
            check_visible(obj, acting_user, "change")
        before = audit.snapshot(obj)
        for field, value in changes.items():
            setattr(obj, field, value)
        obj.full_clean()
        obj.save()
        if check and acting_user is not None:
            check_visible(obj, acting_user, "change")
        audit.record_update(obj, before, actor=acting_user)
    return obj


def delete_record(obj, *, acting_user, check=True) -> None:
    with transaction.atomic():
        if check and acting_user is not None:
            check_visible(obj, acting_user, "delete")
        before = audit.snapshot(obj)
        audit.record_delete(obj, before, actor=acting_user)
        obj.delete()
