"""Writing the audit log. Called explicitly by service functions, never by signals.

A register change is recorded as a field diff (before -> after); a workflow
step as a typed event with a payload.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import decimal
import uuid
from collections.abc import Iterable, Iterator

from django.contrib.contenttypes.models import ContentType
from django.db import models

from kechuang.core.models import AuditAction, AuditEntry

# How the change reached us (ui / api / import / command / task). Set by the
# request middleware or by `audit_via()` in commands; only a label, the actor
# is always passed explicitly.
_via: contextvars.ContextVar[str] = contextvars.ContextVar("audit_via", default="")


@contextlib.contextmanager
def audit_via(channel: str) -> Iterator[None]:
    token = _via.set(channel)
    try:
        yield
    finally:
        _via.reset(token)


class AuditViaMiddleware:
    """Labels changes made during a request as coming from the UI or the API."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_via("api" if request.path.startswith("/api/") else "ui"):
            return self.get_response(request)


def _jsonable(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def snapshot(obj: models.Model) -> dict:
    """The audited state of a record: its concrete fields, JSON-ready."""
    exclude = set(getattr(obj, "audit_exclude", ()))
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude or field.primary_key:
            continue
        data[field.attname] = _jsonable(getattr(obj, field.attname))
    return data


def diff(before: dict, after: dict) -> dict:
    """Changed fields only, as {field: [before, after]}."""
    keys = before.keys() | after.keys()
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def require_actor(actor) -> None:
    """Every entry names who acted: a person, or a system job's actor (services.system_actor)."""
    if actor is None or actor.pk is None:
        raise ValueError("An audit entry needs a saved actor; jobs use core.services.system_actor.")


def _entry(obj, action, *, actor, changes=None, event="") -> AuditEntry:
    require_actor(actor)
    return AuditEntry(
        actor=actor,
        actor_name=str(actor)[:150],
        via=_via.get(),
        content_type=ContentType.objects.get_for_model(obj.__class__),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        action=action,
        event=event,
        changes=changes or {},
    )


def record_create(obj, *, actor) -> AuditEntry:
    after = snapshot(obj)
    entry = _entry(obj, AuditAction.CREATE, actor=actor, changes=diff({}, after))
    entry.save()
    return entry


def record_update(obj, before: dict, *, actor) -> AuditEntry | None:
    """Record an update; nothing is written when no audited field changed."""
    changes = diff(before, snapshot(obj))
    if not changes:
        return None
    entry = _entry(obj, AuditAction.UPDATE, actor=actor, changes=changes)
    entry.save()
    return entry


def record_delete(obj, before: dict, *, actor) -> AuditEntry:
    entry = _entry(obj, AuditAction.DELETE, actor=actor, changes=diff(before, {}))
    entry.save()
    return entry


def record_event(obj, event: str, payload: dict | None = None, *, actor) -> AuditEntry:
    entry = _entry(
        obj, AuditAction.EVENT, actor=actor, changes=_jsonable(payload or {}), event=event
    )
    entry.save()
    return entry


def record_login_event(user, username: str, event: str, payload: dict, *, actor) -> AuditEntry:
    """A login-related event about an account that may not exist (the name that was tried)."""
    from kechuang.core.models import User

    require_actor(actor)
    entry = AuditEntry(
        actor=actor,
        actor_name=str(actor)[:150],
        via=_via.get(),
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk) if user is not None else "",
        object_repr=(username or "-")[:255],
        action=AuditAction.EVENT,
        event=event,
        changes=_jsonable(payload),
    )
    entry.save()
    return entry


def bulk_record(entries: Iterable[AuditEntry], batch_size: int = 2000) -> int:
    """Write many prepared entries at once (imports, bulk recomputation), MACs in one pass."""
    from kechuang.core import auditchain

    entries = list(entries)
    if not entries:
        return 0
    rows = [[getattr(e, name) for name in auditchain.HASHED] for e in entries]
    for entry, mac in zip(entries, auditchain.macs(rows), strict=True):
        entry.mac = mac
    created = AuditEntry.objects.bulk_create(entries, batch_size=batch_size)
    ids = [e.pk for e in created if e.pk is not None]
    auditchain.seal_after_commit(min(ids) if ids else None)
    return len(created)


def prepare_entry(obj, action: str, *, actor, changes=None, event="") -> AuditEntry:
    """An unsaved entry, for bulk paths that write many at once with bulk_record."""
    return _entry(obj, action, actor=actor, changes=changes, event=event)
