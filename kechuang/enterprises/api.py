"""Enterprise API, scoped by the same `visible_to` as the pages."""

from rest_framework import serializers, viewsets

from kechuang.core.api import ScopedViewSetMixin
from kechuang.core.models import Role
from kechuang.enterprises import services
from kechuang.enterprises.models import Enterprise


class EnterpriseSchema(serializers.ModelSerializer):
    class Meta:
        model = Enterprise
        fields = [
            "id", "uscc", "name", "legal_rep", "registered_on", "registered_capital", "address",
            "jurisdiction", "park", "lat", "lng", "industry", "listing_status", "contact_name",
            "contact_phone", "contact_email", "ladder_stage",
        ]  # fmt: skip
        read_only_fields = ["ladder_stage"]


class EnterpriseViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Enterprise.objects.all()
    serializer_class = EnterpriseSchema
    filterset_fields = ["jurisdiction", "park", "ladder_stage"]
    allowed_roles = (Role.COMMISSION, Role.STATION, Role.ENTERPRISE)

    def perform_create(self, serializer):
        serializer.instance = services.create_enterprise(
            serializer.validated_data, acting_user=self.request.user
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_enterprise(
            serializer.instance, serializer.validated_data, acting_user=self.request.user
        )

    def perform_destroy(self, instance):
        services.delete_enterprise(instance, acting_user=self.request.user)


def register(router) -> None:
    router.register("enterprises", EnterpriseViewSet, basename="enterprise")
