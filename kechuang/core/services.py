"""Generic register writes: permission check, one transaction, audit entry.

Apps call these from their own services (or wrap them with domain rules);
views and the API never save models directly.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
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
