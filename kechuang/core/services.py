"""Generic register writes: permission check, one transaction, audit entry.

Apps call these from their own services (or wrap them with domain rules);
views and the API never save models directly.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from kechuang.core import audit
from kechuang.core.exceptions import ConflictError
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


def update_record(obj, changes: dict, *, acting_user, check=True, expected_version=None):
    """Apply field changes to the current row under a lock, save only what changed, audit the
    diff (before -> after); refuse with ConflictError if `expected_version` is not current.

    The row is re-read with SELECT … FOR UPDATE inside the transaction, so `obj` may be an old
    copy: concurrent edits of different fields both survive, and the audit's "before" is the
    row as it really was. `obj` is refreshed in place and returned.
    """
    model = type(obj)
    with transaction.atomic():
        try:
            obj.refresh_from_db(from_queryset=model._base_manager.select_for_update())
        except model.DoesNotExist:
            raise ConflictError(
                _("This record was deleted by someone else; your changes were not saved.")
            ) from None
        if check and acting_user is not None:
            check_visible(obj, acting_user, "change")
        versioned = hasattr(obj, "row_version")
        if versioned and expected_version is not None and expected_version != obj.row_version:
            raise ConflictError(current_version=obj.row_version, sent_version=expected_version)
        fields = [f for f in obj._meta.concrete_fields if not f.primary_key]
        raw_before = {f.attname: getattr(obj, f.attname) for f in fields}
        before = audit.snapshot(obj)
        for field, value in changes.items():
            setattr(obj, field, value)
        obj.full_clean()
        changed = [f.name for f in fields if getattr(obj, f.attname) != raw_before[f.attname]]
        if not changed:
            return obj
        changed += [f.name for f in fields if getattr(f, "auto_now", False)]
        if versioned:
            obj.row_version += 1
            changed.append("row_version")
        obj.save(update_fields=set(changed))
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


def rotate_api_token(user, *, acting_user) -> str:
    """Issue a new API token for `user`; the old one stops working at once. Audited."""
    from rest_framework.authtoken.models import Token

    if acting_user is not None and acting_user != user and not acting_user.is_superuser:
        raise PermissionDenied("Only the user or an administrator can rotate a token.")
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        audit.record_event(user, "api_token_rotated", actor=acting_user)
    return token.key


def mark_notifications_read(user) -> int:
    """Mark all of `user`'s unread notifications read; returns how many changed."""
    from django.utils import timezone

    from kechuang.core.models import Notification

    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
