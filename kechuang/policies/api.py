"""API endpoints of the policies app (registered on the one router in kechuang/api_urls.py)."""

from rest_framework import permissions, serializers, viewsets

from kechuang.core.rest import ANY_ROLE
from kechuang.policies.models import Policy, PolicyItem


class PublicRead(permissions.BasePermission):
    """Published policies are public information: anyone may read, nobody writes here."""

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS


class PolicyItemSerializer(serializers.ModelSerializer):
    rule_code = serializers.CharField(
        source="rule.code", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = PolicyItem
        fields = ["id", "policy", "title", "clause_text", "rule", "rule_code", "benefit",
                  "window_start", "window_end"]  # fmt: skip


class PolicySerializer(serializers.ModelSerializer):
    items = PolicyItemSerializer(many=True, read_only=True)

    class Meta:
        model = Policy
        fields = ["id", "title", "issuer", "doc_no", "published_on", "valid_from", "valid_until",
                  "status", "summary", "text", "items"]  # fmt: skip


class PolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """Policies: published and in force for everyone (anonymous too); drafts for commission staff."""

    serializer_class = PolicySerializer
    permission_classes = [PublicRead]
    allowed_roles = ANY_ROLE  # and anonymous: see PublicRead
    search_fields = ["title", "doc_no", "issuer"]

    def get_queryset(self):
        return (
            Policy.objects.visible_to(self.request.user)
            .prefetch_related("items__rule")
            .order_by("-published_on", "-id")
        )


class PolicyItemViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PolicyItemSerializer
    permission_classes = [PublicRead]
    allowed_roles = ANY_ROLE
    filterset_fields = ["policy", "rule"]

    def get_queryset(self):
        return (
            PolicyItem.objects.visible_to(self.request.user).select_related("rule").order_by("id")
        )


def register(router) -> None:
    """Register this app's viewsets on the shared router."""
    router.register("policies", PolicyViewSet, basename="policy")
    router.register("policy-items", PolicyItemViewSet, basename="policyitem")
