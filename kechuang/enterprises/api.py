"""Enterprise API, scoped by the same `visible_to` and filtered by the same FilterSets as the pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kechuang.core.api import (
    SavedThroughServiceMixin,
    ScopedViewSetMixin,
    VersionedViewSetMixin,
)
from kechuang.core.models import Role
from kechuang.core.validators import validate_uscc
from kechuang.enterprises import services
from kechuang.enterprises.filters import (
    AnnualReportFilterSet,
    EnterpriseFilterSet,
    QualificationFilterSet,
    VisitFilterSet,
    VisitIssueFilterSet,
)
from kechuang.enterprises.models import (
    ANNUAL_METRICS,
    AnnualReport,
    Enterprise,
    LadderStage,
    Qualification,
    QualificationType,
    Visit,
    VisitIssue,
    WatchList,
    WatchListMember,
)

STAFF = (Role.COMMISSION, Role.STATION)
STAFF_AND_ENTERPRISE = (Role.COMMISSION, Role.STATION, Role.ENTERPRISE)


class OwnEnterpriseFieldMixin:
    """Serializers with an `enterprise` field accept only enterprises the user may see
    (the same answer for missing and forbidden)."""

    def validate_enterprise(self, value):
        user = self.context["request"].user
        if not Enterprise.objects.visible_to(user).filter(pk=value.pk).exists():
            raise serializers.ValidationError("No such enterprise.")
        return value


class EnterpriseSchema(serializers.ModelSerializer):
    class Meta:
        model = Enterprise
        fields = [
            "id", "uscc", "name", "legal_rep", "registered_on", "registered_capital", "address",
            "jurisdiction", "park", "lat", "lng", "industry", "sectors", "listing_status",
            "contact_name", "contact_phone", "contact_email", "ladder_stage", "row_version",
        ]  # fmt: skip
        read_only_fields = ["ladder_stage", "row_version"]

    # Read-only fields lose allow_blank, so the schema's enum would omit "" (no stage yet).
    ladder_stage = serializers.ChoiceField(
        choices=LadderStage.choices, allow_blank=True, read_only=True
    )

    def validate_uscc(self, value):
        return validate_uscc(value)


class EnterpriseViewSet(VersionedViewSetMixin, ScopedViewSetMixin, viewsets.ModelViewSet):
    """The enterprise register; filters as on the list page (EnterpriseFilterSet)."""

    queryset = Enterprise.objects.all()
    serializer_class = EnterpriseSchema
    filterset_class = EnterpriseFilterSet
    allowed_roles = STAFF_AND_ENTERPRISE

    def get_queryset(self):
        return super().get_queryset().prefetch_related("sectors").order_by("name", "pk")

    def perform_create(self, serializer):
        serializer.instance = services.create_enterprise(
            serializer.validated_data, acting_user=self.request.user
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_enterprise(
            serializer.instance,
            serializer.validated_data,
            acting_user=self.request.user,
            expected_version=self.expected_version(),
        )

    def perform_destroy(self, instance):
        services.delete_enterprise(instance, acting_user=self.request.user)


class QualificationTypeSchema(serializers.ModelSerializer):
    class Meta:
        model = QualificationType
        fields = ["id", "code", "name", "level", "validity_years", "description", "is_active"]


class QualificationTypeViewSet(SavedThroughServiceMixin, ScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = QualificationType.objects.all()
    serializer_class = QualificationTypeSchema
    allowed_roles = STAFF
    save_service = staticmethod(services.save_qualification_type)
    undeletable = "Qualification types are deactivated, not deleted."


class QualificationSchema(OwnEnterpriseFieldMixin, serializers.ModelSerializer):
    type = serializers.SlugRelatedField(slug_field="code", queryset=QualificationType.objects.all())

    class Meta:
        model = Qualification
        fields = [
            "id", "enterprise", "type", "certificate_no", "issued_on", "expires_on", "revoked_on",
            "row_version",
        ]  # fmt: skip


class QualificationViewSet(VersionedViewSetMixin, ScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = Qualification.objects.all()
    serializer_class = QualificationSchema
    filterset_class = QualificationFilterSet
    allowed_roles = STAFF_AND_ENTERPRISE

    def get_queryset(self):
        return super().get_queryset().select_related("type").order_by("-issued_on", "pk")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        enterprise = data.pop("enterprise")
        serializer.instance = services.add_qualification(
            enterprise, data, acting_user=self.request.user
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("enterprise", None)
        serializer.instance = services.update_qualification(
            serializer.instance,
            data,
            acting_user=self.request.user,
            expected_version=self.expected_version(),
        )

    def perform_destroy(self, instance):
        services.delete_qualification(instance, acting_user=self.request.user)


class AnnualReportSchema(OwnEnterpriseFieldMixin, serializers.ModelSerializer):
    class Meta:
        model = AnnualReport
        fields = [
            "id", "enterprise", "year", *ANNUAL_METRICS, "status", "source", "submitted_by",
            "row_version",
        ]  # fmt: skip
        read_only_fields = ["status", "source", "submitted_by", "row_version"]

    def validate(self, attrs):
        # One row per enterprise-year: creating an existing year updates it through the service.
        return attrs

    def get_validators(self):
        return []


class AnnualReportViewSet(
    VersionedViewSetMixin,
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Yearly metrics in yuan. Enterprise users file their own (status "submitted")."""

    queryset = AnnualReport.objects.all()
    serializer_class = AnnualReportSchema
    filterset_class = AnnualReportFilterSet
    allowed_roles = STAFF_AND_ENTERPRISE

    def get_queryset(self):
        return super().get_queryset().order_by("enterprise_id", "-year")

    def _save(self, serializer, enterprise, year):
        metrics = {k: v for k, v in serializer.validated_data.items() if k in ANNUAL_METRICS}
        serializer.instance = services.save_annual_report(
            enterprise,
            year,
            metrics,
            acting_user=self.request.user,
            expected_version=self.expected_version(),
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        self._save(serializer, data["enterprise"], data["year"])

    def perform_update(self, serializer):
        report = serializer.instance
        self._save(serializer, report.enterprise, report.year)

    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        report = self.get_object()
        services.confirm_annual_report(report, acting_user=request.user)
        return Response(self.get_serializer(report).data)


class WatchListSchema(serializers.ModelSerializer):
    class Meta:
        model = WatchList
        fields = ["id", "code", "name", "purpose"]


class WatchListViewSet(SavedThroughServiceMixin, ScopedViewSetMixin, viewsets.ModelViewSet):
    queryset = WatchList.objects.all()
    serializer_class = WatchListSchema
    allowed_roles = STAFF
    save_service = staticmethod(services.save_watch_list)
    undeletable = "Watch-lists keep their history and are not deleted."


class WatchListMemberSchema(OwnEnterpriseFieldMixin, serializers.ModelSerializer):
    watch_list = serializers.SlugRelatedField(slug_field="code", queryset=WatchList.objects.all())

    class Meta:
        model = WatchListMember
        fields = [
            "id",
            "watch_list",
            "enterprise",
            "reason",
            "added_on",
            "removed_on",
            "removal_reason",
        ]
        read_only_fields = ["removed_on", "removal_reason"]
        extra_kwargs = {"added_on": {"required": False}}


class WatchListRemovalSchema(serializers.Serializer):
    """The body of POST …/remove/: why the enterprise leaves the list (optional)."""

    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class WatchListMemberViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Memberships with history; POST adds, POST …/remove/ closes a membership."""

    queryset = WatchListMember.objects.all()
    serializer_class = WatchListMemberSchema
    allowed_roles = STAFF
    filterset_fields = ["watch_list", "enterprise"]

    def get_queryset(self):
        return super().get_queryset().select_related("watch_list").order_by("-added_on", "pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.add_to_watch_list(
            data["watch_list"],
            data["enterprise"],
            reason=data.get("reason", ""),
            added_on=data.get("added_on"),
            acting_user=self.request.user,
        )

    @extend_schema(request=WatchListRemovalSchema, responses=WatchListMemberSchema)
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        member = self.get_object()
        removal = WatchListRemovalSchema(data=request.data)
        removal.is_valid(raise_exception=True)
        services.remove_from_watch_list(
            member, reason=removal.validated_data.get("reason", ""), acting_user=request.user
        )
        return Response(self.get_serializer(member).data)


class VisitIssueSchema(serializers.ModelSerializer):
    class Meta:
        model = VisitIssue
        fields = [
            "id", "visit", "enterprise", "category", "description", "status", "due_on",
            "closed_on", "follow_up", "row_version",
        ]  # fmt: skip
        read_only_fields = ["visit", "enterprise", "closed_on", "row_version"]


class VisitSchema(OwnEnterpriseFieldMixin, serializers.ModelSerializer):
    issues = VisitIssueSchema(many=True, required=False)

    class Meta:
        model = Visit
        fields = [
            "id",
            "enterprise",
            "visited_on",
            "staff",
            "participants",
            "station",
            "summary",
            "issues",
        ]
        read_only_fields = ["staff", "station"]


class VisitViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Visit.objects.all()
    serializer_class = VisitSchema
    filterset_class = VisitFilterSet
    allowed_roles = STAFF

    def get_queryset(self):
        return super().get_queryset().prefetch_related("issues").order_by("-visited_on", "pk")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        enterprise = data.pop("enterprise")
        issues = [
            {k: v for k, v in i.items() if k in ("category", "description", "due_on")}
            for i in data.pop("issues", [])
        ]
        serializer.instance = services.record_visit(
            enterprise, data, issues, acting_user=self.request.user
        )


class VisitIssueViewSet(
    VersionedViewSetMixin,
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Follow-ups; `?overdue=true` lists those past their due date and not closed."""

    queryset = VisitIssue.objects.all()
    serializer_class = VisitIssueSchema
    filterset_class = VisitIssueFilterSet
    allowed_roles = STAFF

    def get_queryset(self):
        return super().get_queryset().order_by("due_on", "pk")

    def perform_update(self, serializer):
        serializer.instance = services.update_issue(
            serializer.instance,
            serializer.validated_data,
            acting_user=self.request.user,
            expected_version=self.expected_version(),
        )


def register(router) -> None:
    router.register("enterprises", EnterpriseViewSet, basename="enterprise")
    router.register("qualification-types", QualificationTypeViewSet, basename="qualificationtype")
    router.register("qualifications", QualificationViewSet, basename="qualification")
    router.register("annual-reports", AnnualReportViewSet, basename="annualreport")
    router.register("watch-lists", WatchListViewSet, basename="watchlist")
    router.register("watch-list-members", WatchListMemberViewSet, basename="watchlistmember")
    router.register("visits", VisitViewSet, basename="visit")
    router.register("visit-issues", VisitIssueViewSet, basename="visitissue")
