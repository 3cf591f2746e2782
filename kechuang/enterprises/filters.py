"""One FilterSet per list: the UI list, the API and the .xlsx export all use these."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import F, Q, Value
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from kechuang.core.filters import (
    BoundedFilterSet,
    DateFilter,
    DecimalFilter,
    IdFilter,
    IntegerFilter,
    ModelMultipleChoiceFilter,
    YearFilter,
)
from kechuang.core.models import Jurisdiction, JurisdictionLevel
from kechuang.core.validators import COUNT_MAX
from kechuang.enterprises.models import (
    AnnualReport,
    Enterprise,
    Industry,
    IssueStatus,
    LadderStage,
    Qualification,
    QualificationType,
    ReportStatus,
    Sector,
    Visit,
    VisitIssue,
    WatchList,
    WatchListMember,
)

WAN = Decimal(10_000)


def default_metric_year() -> int:
    """The last complete fiscal year: the year metric filters read unless told otherwise."""
    return timezone.localdate().year - 1


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sort as asked, then by id in the same direction, so pages never overlap on ties."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            fields = [f for f in value if f]
            if fields:
                qs = qs.order_by(*qs.query.order_by, "-pk" if fields[-1][0] == "-" else "pk")
        return qs


class EnterpriseFilterSet(BoundedFilterSet):
    """Filters for the enterprise register (科技企业库).

    Metric filters read the annual report of `year` (default: last year);
    money is given in 万元 and ratios in per cent, as officers think of them.
    """

    q = django_filters.CharFilter(label=_("Name or credit code"), method="filter_q")
    jurisdiction = django_filters.ModelChoiceFilter(
        label=_("town / street"),
        queryset=Jurisdiction.objects.exclude(level=JurisdictionLevel.PARK),
        method="filter_jurisdiction",
    )
    park = django_filters.ModelChoiceFilter(
        label=_("park"), queryset=Jurisdiction.objects.filter(level=JurisdictionLevel.PARK)
    )
    industry = django_filters.ModelChoiceFilter(
        label=_("industry"), queryset=Industry.objects.all(), method="filter_industry"
    )
    sector = ModelMultipleChoiceFilter(
        label=_("sectors"),
        field_name="sectors",
        queryset=Sector.objects.all(),
        method="filter_sector",
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    qualification = django_filters.ModelChoiceFilter(
        label=_("qualification valid"),
        queryset=QualificationType.objects.all(),
        to_field_name="code",
        method="filter_qualification",
    )
    valid_on = DateFilter(
        label=_("valid on"), method="filter_noop", widget=forms.DateInput(attrs={"type": "date"})
    )
    stage = django_filters.MultipleChoiceFilter(
        label=_("ladder stage"), field_name="ladder_stage", choices=LadderStage.choices
    )
    watch_list = django_filters.ModelChoiceFilter(
        label=_("watch-list"),
        queryset=WatchList.objects.all(),
        to_field_name="code",
        method="filter_watch_list",
    )
    listing_status = django_filters.CharFilter(label=_("listing status"))
    year = YearFilter(label=_("metric year"), method="filter_noop")
    # Money in 万元: the plausible range of core.validators (10^13 yuan = 10^9 万元).
    revenue_min = DecimalFilter(
        label=_("revenue ≥ (10k yuan)"), method="filter_noop", max_digits=14, decimal_places=4
    )
    revenue_max = DecimalFilter(
        label=_("revenue ≤ (10k yuan)"), method="filter_noop", max_digits=14, decimal_places=4
    )
    rd_ratio_min = DecimalFilter(
        label=_("R&D ratio ≥ (%)"), method="filter_noop", max_digits=8, decimal_places=2
    )
    staff_min = IntegerFilter(
        label=_("staff ≥"), method="filter_noop", min_value=0, max_value=COUNT_MAX
    )
    ordering = StableOrderingFilter(
        label=_("sort"),
        fields=(("name", "name"), ("registered_on", "registered_on"), ("uscc", "uscc")),
        field_labels={
            "name": _("name"),
            "registered_on": _("registered on"),
            "uscc": _("unified social credit code"),
        },
    )

    class Meta:
        model = Enterprise
        fields: list[str] = []

    # -- methods ------------------------------------------------------------
    def filter_noop(self, queryset, name, value):
        return queryset  # read together in filter_queryset

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        code = value.upper().replace(" ", "")
        if len(code) >= 6 and code.isalnum() and code.isascii():
            return queryset.filter(Q(uscc__startswith=code) | Q(name__icontains=value))
        return queryset.filter(name__icontains=value)

    def filter_jurisdiction(self, queryset, name, value):
        return queryset.filter(
            Q(jurisdiction__path__startswith=value.path) | Q(park__path__startswith=value.path)
        )

    def filter_industry(self, queryset, name, value):
        return queryset.filter(industry__code__startswith=value.code)

    def filter_sector(self, queryset, name, value):
        if not value:
            return queryset
        through = Enterprise.sectors.through
        return queryset.filter(
            pk__in=through.objects.filter(sector__in=value).values("enterprise_id")
        )

    @extend_schema_field(OpenApiTypes.STR)  # a qualification type code, e.g. HTE
    def filter_qualification(self, queryset, name, value):
        day = self.form.cleaned_data.get("valid_on") or timezone.localdate()
        # IN (subquery), not a correlated EXISTS or a UNION of valid_on's cases: one
        # semi-join the planner may run either way — hash the index-only scan of
        # (type, expires_on, issued_on, revoked_on, enterprise) when few match, or walk
        # the sort index probing (enterprise, type, dates) when many do (sort + LIMIT).
        valid = Qualification.objects.valid_on(day).filter(type=value)
        return queryset.filter(pk__in=valid.values("enterprise_id"))

    @extend_schema_field(OpenApiTypes.STR)  # a watch-list code
    def filter_watch_list(self, queryset, name, value):
        members = WatchListMember.objects.current().filter(watch_list=value)
        return queryset.filter(pk__in=members.values("enterprise_id"))

    @property
    def metric_year(self) -> int:
        data = getattr(self.form, "cleaned_data", {}) or {}
        return int(data.get("year") or default_metric_year())

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        report_q, extra = Q(), []
        if data.get("revenue_min") is not None:
            report_q &= Q(revenue__gte=int(data["revenue_min"] * WAN))
        if data.get("revenue_max") is not None:
            report_q &= Q(revenue__lte=int(data["revenue_max"] * WAN))
        if data.get("rd_ratio_min") is not None:
            # rd_expense / revenue ≥ p %  ⇔  rd_expense × 10 000 ≥ revenue × (p × 100), in integers
            basis_points = int(Decimal(str(data["rd_ratio_min"])) * 100)
            report_q &= Q(revenue__gt=0)
            extra.append(
                GreaterThanOrEqual(F("rd_expense") * 10_000, F("revenue") * Value(basis_points))
            )
        if data.get("staff_min") is not None:
            report_q &= Q(staff__gte=int(data["staff_min"]))
        if report_q:
            reports = AnnualReport.objects.filter(
                report_q, *extra, year=self.metric_year, status=ReportStatus.CONFIRMED
            )
            queryset = queryset.filter(pk__in=reports.values("enterprise_id"))
        return queryset


class QualificationFilterSet(BoundedFilterSet):
    type = django_filters.ModelChoiceFilter(
        label=_("type"), queryset=QualificationType.objects.all(), to_field_name="code"
    )
    enterprise = IdFilter(field_name="enterprise_id")
    valid_on = DateFilter(label=_("valid on"), method="filter_valid_on")
    expires_after = DateFilter(field_name="expires_on", lookup_expr="gte")
    expires_before = DateFilter(field_name="expires_on", lookup_expr="lte")

    class Meta:
        model = Qualification
        fields: list[str] = []

    def filter_valid_on(self, queryset, name, value):
        return queryset.valid_on(value)


class AnnualReportFilterSet(BoundedFilterSet):
    enterprise = IdFilter(field_name="enterprise_id")
    year = YearFilter()
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)

    class Meta:
        model = AnnualReport
        fields: list[str] = []


class VisitFilterSet(BoundedFilterSet):
    enterprise = IdFilter(field_name="enterprise_id")
    since = DateFilter(field_name="visited_on", lookup_expr="gte")
    until = DateFilter(field_name="visited_on", lookup_expr="lte")

    class Meta:
        model = Visit
        fields: list[str] = []


class VisitIssueFilterSet(BoundedFilterSet):
    enterprise = IdFilter(field_name="enterprise_id")
    status = django_filters.ChoiceFilter(choices=IssueStatus.choices)
    overdue = django_filters.BooleanFilter(label=_("overdue"), method="filter_overdue")

    class Meta:
        model = VisitIssue
        fields: list[str] = []

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.overdue(timezone.localdate())
        return queryset
