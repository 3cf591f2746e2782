"""API endpoints of the plans app (registered on the one router in kechuang/api_urls.py).

Every queryset comes from `visible_to`, so a responsible unit sees through the API exactly
what it sees in the pages: its own tasks, its indicators and its reports.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import mixins, serializers, viewsets

from kechuang.core.api import ScopedViewSetMixin, VersionedViewSetMixin
from kechuang.core.models import Role
from kechuang.core.params import ParamError, parse_decimal_param, parse_period, parse_year
from kechuang.plans import schedule, services, tracking
from kechuang.plans.models import Indicator, Plan, ProgressReport, ResponsibleUnit, Task

PLAN_ROLES = (Role.COMMISSION, Role.STATION, Role.UNIT)


class PlanSchema(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "id", "title", "kind", "issuer", "doc_number", "published_on", "period_start",
            "period_end", "report_frequency", "row_version",
        ]  # fmt: skip
        read_only_fields = ["row_version"]


class PlanViewSet(
    VersionedViewSetMixin,
    ScopedViewSetMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Plans; commission staff may edit the metadata (creation goes through the import review)."""

    queryset = Plan.objects.all()
    serializer_class = PlanSchema
    allowed_roles = PLAN_ROLES
    filterset_fields = ["kind", "period_end"]

    def perform_update(self, serializer):
        serializer.instance = services.update_plan(
            serializer.instance,
            serializer.validated_data,
            acting_user=self.request.user,
            expected_version=self.expected_version(),
        )


class IndicatorSchema(serializers.ModelSerializer):
    evaluation = serializers.SerializerMethodField()

    class Meta:
        model = Indicator
        fields = [
            "id", "plan", "name", "unit", "kind", "direction", "baseline_value", "baseline_year",
            "target_value", "target_year", "definition", "quote", "source_kind", "source",
            "path_kind", "path_points", "responsible_unit", "evaluation", "row_version",
        ]  # fmt: skip
        read_only_fields = ["plan", "evaluation", "row_version"]

    def validate_path_points(self, value):
        """{"2024": 3100, "2025": 3500}: plausible years to numbers (a JSON null is refused)."""
        if not isinstance(value, dict):
            raise serializers.ValidationError(
                _('Give the yearly milestones as an object such as {"2025": 3500}.')
            )
        points = {}
        try:
            for year, number in value.items():
                if isinstance(number, bool) or not isinstance(number, int | float | str):
                    raise ParamError(_("A milestone must be a number."), name="path_points")
                amount = parse_decimal_param(number, max_digits=20, decimal_places=4)
                points[str(parse_year(year))] = float(amount) if "." in str(amount) else int(amount)
        except ParamError as exc:
            raise serializers.ValidationError(exc.message) from None
        return points

    def get_evaluation(self, obj) -> dict:
        evs = self.context.get("evaluations") or {}
        ev = evs.get(obj.pk) or tracking.evaluate_one(obj)
        return ev.to_dict()


class IndicatorViewSet(
    VersionedViewSetMixin,
    ScopedViewSetMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Indicators with their computed value, path and status (evaluated set-at-a-time per page)."""

    queryset = Indicator.objects.all()
    serializer_class = IndicatorSchema
    allowed_roles = PLAN_ROLES
    filterset_fields = ["plan", "source_kind", "kind"]

    def get_queryset(self):
        return super().get_queryset().select_related("plan")

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        items = page if page is not None else list(queryset)
        context = self.get_serializer_context() | {"evaluations": tracking.evaluate(items)}
        serializer = self.get_serializer_class()(items, many=True, context=context)
        if page is not None:
            return self.get_paginated_response(serializer.data)
        return super().list(request, *args, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.update_indicator(
            serializer.instance,
            serializer.validated_data,
            acting_user=self.request.user,
            expected_version=self.expected_version(),
        )


class TaskSchema(serializers.ModelSerializer):
    units = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id", "plan", "number", "area", "title", "content", "status", "units", "overdue",
            "row_version",
        ]  # fmt: skip
        read_only_fields = [
            "plan", "number", "area", "title", "content", "units", "overdue", "row_version",
        ]  # fmt: skip

    def get_units(self, obj) -> list[dict]:
        return [{"name": a.unit.name, "is_lead": a.is_lead} for a in obj.assignments.all()]

    def get_overdue(self, obj) -> bool:
        return services.is_task_overdue(obj, milestones=list(obj.milestones.all()))


class TaskViewSet(
    VersionedViewSetMixin,
    ScopedViewSetMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Tasks, scoped: a unit sees only its own. PATCH changes the status only."""

    queryset = Task.objects.all()
    serializer_class = TaskSchema
    allowed_roles = PLAN_ROLES
    filterset_fields = ["plan", "status"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .prefetch_related("assignments__unit", "milestones")
            .order_by("plan", "order", "id")
        )

    def perform_update(self, serializer):
        status = serializer.validated_data.get("status", serializer.instance.status)
        serializer.instance = services.set_task_status(
            serializer.instance,
            status,
            acting_user=self.request.user,
            expected_version=self.expected_version(),
        )


class ProgressReportSchema(serializers.ModelSerializer):
    class Meta:
        model = ProgressReport
        fields = [
            "id",
            "task",
            "unit",
            "period",
            "period_end",
            "text",
            "figures",
            "reported_by",
            "created_at",
        ]
        read_only_fields = ["period_end", "reported_by", "created_at"]

    def get_fields(self):
        # Only the user's own tasks and units can be named: others read as "does not exist".
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        fields["task"].queryset = Task.objects.visible_to(user, "change")
        fields["unit"].queryset = ResponsibleUnit.objects.visible_to(user)
        return fields


class ProgressReportViewSet(
    ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Progress reports; a unit files its own for its tasks (period like 2025Q1 / 2025H1 / 2025-03)."""

    queryset = ProgressReport.objects.all()
    serializer_class = ProgressReportSchema
    allowed_roles = PLAN_ROLES
    filterset_fields = ["task", "unit", "period"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        period = _parse_period(data["period"])
        serializer.instance = services.file_progress_report(
            data["task"],
            unit=data["unit"],
            period=period.label,
            period_end=period.end,
            text=data["text"],
            figures=data.get("figures") or {},
            acting_user=self.request.user,
        )


def _parse_period(label: str) -> schedule.Period:
    """2025Q1 / 2025H1 / 2025-03 (core.params.parse_period; 0000Q1 and 2025 are refused)."""
    try:
        frequency, first_day = parse_period(label, name="period")
        if frequency == "yearly":
            raise ParamError(
                _("Write the period as 2025Q1, 2025H1 or 2025-03 (not “%(value)s”).")
                % {"value": label},
                name="period",
            )
    except ParamError as exc:
        raise serializers.ValidationError({"period": [exc.message]}) from None
    return schedule.period_containing(first_day, frequency)


def register(router) -> None:
    """Register this app's viewsets on the shared router."""
    router.register("plans", PlanViewSet, basename="plan")
    router.register("plan-indicators", IndicatorViewSet, basename="plan-indicator")
    router.register("plan-tasks", TaskViewSet, basename="plan-task")
    router.register("plan-progress-reports", ProgressReportViewSet, basename="plan-progress-report")
