"""The one API router; each app registers its viewsets here explicitly."""

from rest_framework.routers import DefaultRouter

from kechuang.core.api import AuditEntryViewSet, JurisdictionViewSet

router = DefaultRouter(trailing_slash=True)
router.register("jurisdictions", JurisdictionViewSet, basename="jurisdiction")
router.register("audit", AuditEntryViewSet, basename="auditentry")

# Domain apps register below (keep in dependency order).
from kechuang.enterprises.api import register as register_enterprises  # noqa: E402

register_enterprises(router)
