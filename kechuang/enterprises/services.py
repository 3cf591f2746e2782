"""Business actions on the enterprise register; views, API, imports and commands call these."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from kechuang.core import services as core_services
from kechuang.enterprises.models import Enterprise


def _require_staff(user) -> None:
    if user is not None and not user.is_staff_member:
        raise PermissionDenied("Only commission or station staff can change the register.")


def create_enterprise(data: dict, *, acting_user) -> Enterprise:
    """Register a new enterprise (staff only; station staff within their jurisdiction)."""
    _require_staff(acting_user)
    data = dict(data)
    sectors = data.pop("sectors", None)
    enterprise = Enterprise(**data, data_changed_at=timezone.now())
    core_services.create_record(enterprise, acting_user=acting_user)
    if sectors is not None:
        enterprise.sectors.set(sectors)
    return enterprise


def update_enterprise(enterprise: Enterprise, changes: dict, *, acting_user) -> Enterprise:
    _require_staff(acting_user)
    changes = dict(changes)
    sectors = changes.pop("sectors", None)
    changes["data_changed_at"] = timezone.now()
    core_services.update_record(enterprise, changes, acting_user=acting_user)
    if sectors is not None:
        enterprise.sectors.set(sectors)
    return enterprise


def delete_enterprise(enterprise: Enterprise, *, acting_user) -> None:
    if acting_user is not None and not acting_user.is_commission:
        raise PermissionDenied("Only commission staff can delete an enterprise.")
    core_services.delete_record(enterprise, acting_user=acting_user)
