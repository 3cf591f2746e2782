"""The one API router; each app registers its viewsets here explicitly."""

from rest_framework.routers import DefaultRouter

from kechuang.core.api import AuditEntryViewSet, JurisdictionViewSet

router = DefaultRouter(trailing_slash=True)
router.register("jurisdictions", JurisdictionViewSet, basename="jurisdiction")
router.register("audit", AuditEntryViewSet, basename="auditentry")

# Domain apps register below (keep in dependency order).
from kechuang.enterprises.api import register as register_enterprises  # noqa: E402

register_enterprises(router)
from kechuang.plans.api import register as register_plans  # noqa: E402
from kechuang.policies.api import register as register_policies  # noqa: E402
from kechuang.rules.api import register as register_rules  # noqa: E402

register_rules(router)
register_policies(router)
register_plans(router)
