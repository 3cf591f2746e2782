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
from kechuang.core.models import Role
from kechuang.core.permissions import check_visible

# Every job that writes without a person behind it, and the name its audit entries show.
# A system actor has commission (full) scope but exists only where code asks for it by
# one of these names; it has no usable password and no backend lets it log in
# (core.auth.AccountBackend), so it cannot be used from a browser or the API.
SYSTEM_JOBS: dict[str, str] = {
    "rules.evaluate": "系统: 规则批量评估",
    "rules.library": "系统: 规则库加载",
    "plans.remind": "系统: 提醒",
    "policies.expire": "系统: 政策到期",
    "policies.outbox": "系统: 邮件发送",
    "demo": "系统: 演示数据",
    "imports": "系统: 导入任务",
    "auth": "系统: 登录防护",
    "backup": "系统: 备份与恢复",
}


def system_actor(job: str):
    """The User that acts for a named background job, created on first use; audited by name."""
    from kechuang.core.models import User

    try:
        display = SYSTEM_JOBS[job]
    except KeyError:
        raise ValueError(
            f"Unknown system job {job!r}; declare it in core.services.SYSTEM_JOBS."
        ) from None
    user, created = User.objects.get_or_create(
        username=f"system:{job}",
        defaults={"role": Role.SYSTEM, "display_name": display, "is_active": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif user.role != Role.SYSTEM:
        raise PermissionDenied(f"User {user.username!r} exists but is not a system actor.")
    return user


def create_record(obj, *, acting_user, check=True):
    """Validate, save and audit a new record; refuse if it lands outside the user's scope."""
    with transaction.atomic():
        obj.full_clean()
        obj.save()
        if check:
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
        if check:
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
        if check:
            check_visible(obj, acting_user, "change")
        audit.record_update(obj, before, actor=acting_user)
    return obj


def delete_record(obj, *, acting_user, check=True) -> None:
    with transaction.atomic():
        if check:
            check_visible(obj, acting_user, "delete")
        before = audit.snapshot(obj)
        audit.record_delete(obj, before, actor=acting_user)
        obj.delete()


def rotate_api_token(user, *, acting_user) -> str:
    """Issue a new API token for `user`; the old one stops working at once. Audited."""
    from rest_framework.authtoken.models import Token

    if acting_user is None or (acting_user != user and not acting_user.is_superuser):
        raise PermissionDenied("Only the user or an administrator can rotate a token.")
    if user.is_system:
        raise PermissionDenied("System actors have no API token.")
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        audit.record_event(user, "api_token_rotated", actor=acting_user)
    return token.key


def may_reset_password(user, *, acting_user) -> bool:
    """Superusers reset anyone's password; commission staff those of non-staff accounts."""
    if acting_user is None or user.is_system or acting_user.is_system or acting_user == user:
        return False
    if acting_user.is_active and acting_user.is_superuser:
        return True
    return (
        acting_user.is_commission
        and not user.is_superuser
        and user.role not in (Role.COMMISSION, Role.SYSTEM)
    )


def reset_password(user, *, acting_user) -> str:
    """Give `user` a random one-time password (returned once, never stored in clear); audited.

    The user must choose a new one at the next login; existing sessions end because the
    password hash changes.
    """
    import secrets

    if not may_reset_password(user, acting_user=acting_user):
        raise PermissionDenied("You may not reset this user's password.")
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    password = "".join(secrets.choice(alphabet) for _ in range(14))
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        audit.record_event(user, "password_reset", {"by": str(acting_user)}, actor=acting_user)
    return password


def change_own_password(user, raw_password: str, *, acting_user) -> None:
    """A user sets their own new password (already validated by the form); audited."""
    if acting_user is None or acting_user != user or user.is_system:
        raise PermissionDenied("Users change only their own password.")
    with transaction.atomic():
        user.set_password(raw_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        audit.record_event(user, "password_changed", actor=acting_user)


def mark_notifications_read(user, *, acting_user) -> int:
    """Mark all of `user`'s unread notifications read; returns how many changed."""
    from django.utils import timezone

    from kechuang.core.models import Notification

    if acting_user is None or acting_user != user:
        raise PermissionDenied("Only the recipient can mark notifications read.")

    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
