"""API endpoints of the rules app (registered on the one router in kechuang/api_urls.py)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from kechuang.core.api import ANY_ROLE, ScopedViewSetMixin
from kechuang.core.models import Role
from kechuang.core.params import parse_id, parse_int_param, query_param
from kechuang.core.permissions import get_object_for_user
from kechuang.enterprises.models import Enterprise
from kechuang.rules.explaining import explain_versions
from kechuang.rules.models import (
    Rule,
    RuleSnapshot,
    RuleVersion,
    SnapshotEnterprise,
    SnapshotStatus,
    Variable,
)


class VariableSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variable
        fields = [
            "id",
            "code",
            "label_zh",
            "label_en",
            "type",
            "unit",
            "source",
            "formula",
            "year",
            "description",
        ]


class RuleVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RuleVersion
        fields = ["id", "number", "status", "expression", "amount_formula", "manual_conditions",
                  "effective_from", "effective_to", "published_at", "note"]  # fmt: skip


class RuleSerializer(serializers.ModelSerializer):
    versions = RuleVersionSerializer(many=True, read_only=True)

    class Meta:
        model = Rule
        fields = ["id", "code", "name", "description", "clause_ref", "versions"]


class VariableViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Variables rules may name (commission staff)."""

    queryset = Variable.objects.all()
    serializer_class = VariableSerializer
    allowed_roles = (Role.COMMISSION,)


class RuleViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Rules with every version (commission staff); edits go through the UI's services."""

    queryset = Rule.objects.all()
    serializer_class = RuleSerializer
    allowed_roles = (Role.COMMISSION,)

    def get_queryset(self):
        return super().get_queryset().prefetch_related("versions")


class EnterpriseVerdictsSerializer(serializers.ModelSerializer):
    """One enterprise in one snapshot: a verdict per rule version (decoded from the packed row)."""

    data_date = serializers.DateField(source="snapshot.data_date", read_only=True)
    verdicts = serializers.SerializerMethodField()

    class Meta:
        model = SnapshotEnterprise
        fields = ["snapshot", "data_date", "enterprise", "computed_in", "verdicts"]

    def get_verdicts(self, obj) -> list[dict]:
        versions = self.context["versions"]
        wanted = self.context.get("verdict")
        out = []
        for vid, (verdict, amount) in obj.decoded(obj.snapshot).items():
            if wanted is not None and verdict != wanted:
                continue
            version = versions.get(vid)
            if version is None:
                continue
            out.append(
                {
                    "rule": version.rule_id,
                    "rule_code": version.rule.code,
                    "rule_version": vid,
                    "version": version.number,
                    "verdict": verdict,
                    "amount": amount,
                }
            )
        return out


class VerdictViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Verdicts of the latest snapshot (or ?snapshot=<id>), one entry per enterprise with
    a verdict (1 eligible, 0 not, -1 unknown) and amount for every rule version in it.

    ?enterprise=<id> narrows to one enterprise; ?rule=<id or code> and ?verdict=<1|0|-1>
    narrow each entry's list. Scoped: an enterprise user sees its own enterprise only,
    station staff their towns.
    """

    queryset = SnapshotEnterprise.objects.all()
    serializer_class = EnterpriseVerdictsSerializer
    allowed_roles = ANY_ROLE

    def _snapshot(self):
        if not hasattr(self, "_snapshot_cache"):
            snap = query_param(self.request.query_params, "snapshot", parse_id)
            if snap is not None:
                found = RuleSnapshot.objects.filter(pk=snap, status=SnapshotStatus.DONE)
                self._snapshot_cache = found.first()
            else:
                self._snapshot_cache = RuleSnapshot.latest()
        return self._snapshot_cache

    def get_queryset(self):
        ent = query_param(self.request.query_params, "enterprise", parse_id)
        snapshot = self._snapshot()
        if snapshot is None:
            return super().get_queryset().none()
        qs = super().get_queryset().filter(snapshot=snapshot).select_related("snapshot")
        if ent is not None:
            qs = qs.filter(enterprise_id=ent)
        return qs.order_by("enterprise_id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        snapshot = self._snapshot()
        versions = {}
        if snapshot is not None:
            qs = RuleVersion.objects.filter(
                pk__in=snapshot.positions,
                rule__in=Rule.objects.explainable_to(self.request.user),
            ).select_related("rule")
            ref = _rule_ref(self.request.query_params)
            if isinstance(ref, int):
                qs = qs.filter(rule_id=ref)
            elif ref:
                qs = qs.filter(rule__code=ref)
            versions = {v.pk: v for v in qs}
        context["versions"] = versions
        context["verdict"] = query_param(
            self.request.query_params, "verdict", parse_int_param, min_value=-1, max_value=1
        )
        return context


class ExplainViewSet(viewsets.ViewSet):
    """GET /api/explain/<enterprise>/?rule=<id or code>: verdict, clauses, missing data, manual checks.

    Scoped like the explain page: others' enterprises answer 404.
    """

    allowed_roles = ANY_ROLE

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="enterprise id"
            ),
            OpenApiParameter(
                "rule", OpenApiTypes.STR, description="rule id or code", required=True
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def retrieve(self, request, pk=None):
        enterprise = get_object_for_user(Enterprise, request.user, pk)
        ref = _rule_ref(request.query_params)
        rules = Rule.objects.explainable_to(request.user)
        rule = (
            get_object_or_404(rules, pk=ref)
            if isinstance(ref, int)
            else get_object_or_404(rules, code=ref)
        )
        on = timezone.localdate()
        version = rule.version_on(on)
        if version is None:
            raise Http404
        res = explain_versions(enterprise.pk, [version], on)[0]
        if res.explanation is None:
            return Response(
                {"error": {"code": "rule_error", "message": res.error, "details": {}}}, status=409
            )
        return Response(
            {
                "enterprise": enterprise.pk,
                "rule": rule.code,
                "version": version.number,
                "status": res.status,
                **res.explanation.as_dict(),
                "manual_conditions": res.manual_conditions,
                "amount": res.amount_value,
                "amount_text": res.amount.text if res.amount else "",
            }
        )


def _rule_ref(query) -> int | str:
    """?rule=: an id (ASCII digits, within 64 bits) or a rule code; "" when absent."""
    ref = (query.get("rule") or "").strip()
    if ref.isascii() and ref.isdigit():
        return parse_id(ref, name="rule")
    return ref


def register(router) -> None:
    """Register this app's viewsets on the shared router."""
    router.register("variables", VariableViewSet, basename="variable")
    router.register("rules", RuleViewSet, basename="rule")
    router.register("verdicts", VerdictViewSet, basename="verdict")
    router.register("explain", ExplainViewSet, basename="explain")
