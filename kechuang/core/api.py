"""API plumbing shared by every app: pagination, error bodies, scoped viewsets."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from rest_framework import permissions, serializers, viewsets
from rest_framework.response import Response

from kechuang.core.models import AuditEntry, Jurisdiction, Role
from kechuang.core.rest import ANY_ROLE, RolePermission  # noqa: F401 (re-exported)


class ScopedViewSetMixin:
    """Querysets come from `visible_to(user, action)`: the API cannot see more than the UI."""

    def get_queryset(self):
        action = "view" if self.request.method in permissions.SAFE_METHODS else "change"
        return self.queryset.model.objects.visible_to(self.request.user, action)


class VersionedViewSetMixin:
    """Optimistic concurrency for a register with `row_version`.

    Responses carry the version (the `row_version` field and an ETag); an update may send it
    back as `If-Match: "<version>"` or as `row_version` in the body, and is refused with 409
    when the record has changed since. An update without a version is still safe for the
    fields it does not send (the service locks the row and saves only what changed).
    """

    def expected_version(self) -> int | None:
        raw = self.request.headers.get("If-Match")
        if raw is not None and raw.strip() != "*":
            raw = raw.strip().removeprefix("W/").strip('"')
        else:
            raw = (
                self.request.data.get("row_version") if hasattr(self.request.data, "get") else None
            )
        if raw in (None, ""):
            return None
        try:
            version = int(raw)
        except (TypeError, ValueError):
            version = -1
        if version < 0:
            raise serializers.ValidationError(
                {"row_version": ['Send the record\'s version as a whole number (If-Match: "3").']}
            )
        return version

    def finalize_response(self, request, response, *args, **kwargs):
        data = getattr(response, "data", None)
        if 200 <= response.status_code < 300 and isinstance(data, dict) and "row_version" in data:
            response["ETag"] = f'"{data["row_version"]}"'
        return super().finalize_response(request, response, *args, **kwargs)


class SavedThroughServiceMixin:
    """Create and update through one service `save(instance_or_None, data, *, acting_user)`.

    For reference registers that are never deleted (their history matters), set
    `undeletable` to the reason the API gives.
    """

    save_service = None  # staticmethod(services.save_x)
    undeletable = "This record is kept for its history and cannot be deleted."

    def perform_create(self, serializer):
        serializer.instance = self.save_service(
            None, serializer.validated_data, acting_user=self.request.user
        )

    def perform_update(self, serializer):
        serializer.instance = self.save_service(
            serializer.instance, serializer.validated_data, acting_user=self.request.user
        )

    def perform_destroy(self, instance):
        raise DjangoPermissionDenied(self.undeletable)


class JurisdictionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Jurisdiction
        fields = ["id", "code", "name", "level", "parent", "path"]


class JurisdictionViewSet(viewsets.ReadOnlyModelViewSet):
    """The jurisdiction tree (district, towns/streets, parks); public reference data."""

    queryset = Jurisdiction.objects.all()
    serializer_class = JurisdictionSerializer
    allowed_roles = ANY_ROLE
    filterset_fields = ["level", "parent"]


class AuditEntrySerializer(serializers.ModelSerializer):
    content_type = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = [
            "id", "at", "actor", "actor_name", "via", "content_type", "object_id",
            "object_repr", "action", "event", "changes",
        ]  # fmt: skip

    def get_content_type(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, read-only for everyone (commission staff only)."""

    serializer_class = AuditEntrySerializer
    allowed_roles = (Role.COMMISSION,)
    filterset_fields = ["action", "actor", "object_id", "via"]

    def get_queryset(self):
        return AuditEntry.objects.visible_to(self.request.user).select_related("content_type")


def ok(data, status=200):
    return Response(data, status=status)
