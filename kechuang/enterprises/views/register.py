"""The register itself: filtered list, .xlsx export, the profile (企业画像), create/edit."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from kechuang.core.export import xlsx_response
from kechuang.core.forms import form_error, submitted_version
from kechuang.core.models import Role
from kechuang.core.permissions import get_object_for_user, open_to_any_user, role_required
from kechuang.enterprises import services
from kechuang.enterprises.filters import EnterpriseFilterSet, default_metric_year
from kechuang.enterprises.forms import EnterpriseForm, bootstrapify
from kechuang.enterprises.models import (
    ANNUAL_METRICS,
    AnnualReport,
    Enterprise,
    LadderStage,
    Qualification,
    Visit,
    VisitIssue,
    WatchListMember,
)
from kechuang.enterprises.versioning import cached_count
from kechuang.enterprises.views.common import render_filter_fields, wan
from kechuang.enterprises.workflows import ANNUAL_REPORT

STAFF = (Role.COMMISSION, Role.STATION)
PAGE_SIZE = 50


def filtered_enterprises(request) -> EnterpriseFilterSet:
    """The one path from a request to the enterprises it may list: visible_to + the FilterSet."""
    qs = Enterprise.objects.visible_to(request.user).select_related(
        "jurisdiction", "park", "industry"
    )
    data = request.GET.copy()
    if not data.get("ordering"):
        qs = qs.order_by("name", "pk")
    return EnterpriseFilterSet(data, queryset=qs, request=request)


def _page_facts(ids: list[int], year: int) -> tuple[dict, dict]:
    """Metrics of `year` and valid qualification names for the rows on one page (2 queries)."""
    metrics = {
        r["enterprise_id"]: r
        for r in AnnualReport.objects.filter(enterprise_id__in=ids, year=year).values(
            "enterprise_id", "revenue", "rd_expense", "staff", "status"
        )
    }
    quals: dict[int, list[str]] = defaultdict(list)
    rows = (
        Qualification.objects.valid_on(timezone.localdate())
        .filter(enterprise_id__in=ids)
        .order_by("type__sort_order")
        .values_list("enterprise_id", "type__name")
    )
    for eid, name in rows:
        if name not in quals[eid]:
            quals[eid].append(name)
    return metrics, quals


class CachedCountPaginator(Paginator):
    """The exact count, from the short-lived cache keyed by query and register version."""

    @cached_property
    def count(self) -> int:
        return cached_count(self.object_list.order_by())


@role_required(*STAFF)
def enterprise_list(request):
    """科技企业库 list: filters, sort, count, page; HTMX swaps only the results."""
    filterset = filtered_enterprises(request)
    bootstrapify(filterset.form)
    qs = filterset.qs if filterset.is_valid() else Enterprise.objects.none()
    # Two steps: page through ids only (the sort touches no joined columns), then load
    # the 50 rows of the page with their joins.
    page = CachedCountPaginator(qs.values_list("pk", flat=True), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ids = list(page.object_list)
    by_id = qs.model.objects.select_related("jurisdiction", "park", "industry").in_bulk(ids)
    rows = [by_id[pk] for pk in ids if pk in by_id]
    year = filterset.metric_year if filterset.is_valid() else default_metric_year()
    metrics, quals = _page_facts([e.pk for e in rows], year)
    for e in rows:
        m = metrics.get(e.pk) or {}
        e.m_revenue = wan(m.get("revenue"))
        rd, revenue = m.get("rd_expense"), m.get("revenue")
        e.m_rd_ratio = round(100 * rd / revenue, 1) if rd is not None and revenue else None
        e.m_staff = m.get("staff")
        e.valid_quals = quals.get(e.pk, [])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "filter_fields": render_filter_fields(filterset.form) if not request.htmx else [],
        "page": page,
        "rows": rows,
        "year": year,
        "query": query.urlencode(),
    }
    template = (
        "enterprises/_enterprise_results.html"
        if request.htmx and not request.htmx.boosted
        else "enterprises/enterprise_list.html"
    )
    return render(request, template, context)


EXPORT_HEADERS = [
    "统一社会信用代码", "企业名称", "法定代表人", "成立日期", "注册资本(万元)", "街镇", "园区",
    "行业代码", "行业", "战略性新兴产业", "梯队", "上市状态", "有效资质", "年度",
    "营业收入(万元)", "研发费用(万元)", "研发投入占比(%)", "从业人员", "联系人", "联系电话", "地址",
]  # fmt: skip


def export_rows(filterset: EnterpriseFilterSet):
    """Rows of the export, streamed: the filterset's queryset plus three look-up queries."""
    qs = filterset.qs
    year = filterset.metric_year
    ids = qs.values("pk")
    metrics = {
        eid: (revenue, rd, staff)
        for eid, revenue, rd, staff in AnnualReport.objects.filter(
            enterprise_id__in=ids, year=year
        ).values_list("enterprise_id", "revenue", "rd_expense", "staff")
    }
    sectors: dict[int, list[str]] = defaultdict(list)
    through = Enterprise.sectors.through
    for eid, name in through.objects.filter(enterprise_id__in=ids).values_list(
        "enterprise_id", "sector__name"
    ):
        sectors[eid].append(name)
    quals: dict[int, set[str]] = defaultdict(set)
    for eid, name in (
        Qualification.objects.valid_on(timezone.localdate())
        .filter(enterprise_id__in=ids)
        .values_list("enterprise_id", "type__name")
    ):
        quals[eid].add(name)
    stages = dict(LadderStage.choices)
    fields = (
        "pk", "uscc", "name", "legal_rep", "registered_on", "registered_capital",
        "jurisdiction__name", "park__name", "industry__code", "industry__name", "ladder_stage",
        "listing_status", "contact_name", "contact_phone", "address",
    )  # fmt: skip
    for row in qs.values_list(*fields).iterator(chunk_size=5000):
        (pk, uscc, name, rep, reg_on, capital, town, park, ind_code, ind_name, stage, listing,
         contact, phone, address) = row  # fmt: skip
        revenue, rd, staff = metrics.get(pk, (None, None, None))
        yield (
            uscc, name, rep, reg_on, wan(capital), town, park, ind_code, ind_name,
            "、".join(sectors.get(pk, ())), str(stages.get(stage, "")), listing,
            "、".join(sorted(quals.get(pk, ()))), year, wan(revenue), wan(rd),
            round(100 * rd / revenue, 2) if rd is not None and revenue else None,
            staff, contact, phone, address,
        )  # fmt: skip


@role_required(*STAFF)
def enterprise_export(request):
    """The list exactly as filtered, as .xlsx (same FilterSet, same visible_to)."""
    filterset = filtered_enterprises(request)
    if not filterset.is_valid():
        messages.error(request, _("The filters are not valid; nothing was exported."))
        return redirect("enterprises:list")
    return xlsx_response("enterprises", EXPORT_HEADERS, export_rows(filterset), "科技企业库")


@role_required(Role.ENTERPRISE)
def my_enterprise(request):
    if not request.user.enterprise_id:
        raise Http404
    return redirect("enterprises:detail", pk=request.user.enterprise_id)


@open_to_any_user  # scoped by get_object_for_user: others get 404
def enterprise_detail(request, pk: int):
    """企业画像: facts, qualifications, metrics over the years, ladder, lists, visits."""
    enterprise = (
        Enterprise.objects.visible_to(request.user)
        .select_related("jurisdiction", "park", "industry")
        .filter(pk=pk)
        .first()
    )
    if enterprise is None:
        raise Http404
    today = timezone.localdate()
    qualifications = list(
        Qualification.objects.filter(enterprise=enterprise)
        .select_related("type")
        .order_by("-issued_on")
    )
    for q in qualifications:
        q.valid_now = q.is_valid_on(today)
        q.days_left = (q.expires_on - today).days if q.expires_on and q.valid_now else None
    reports = list(AnnualReport.objects.filter(enterprise=enterprise).order_by("year"))
    for r in reports:  # only a submitted report has steps (and costs a scope query)
        r.steps = {t.name for t in ANNUAL_REPORT.allowed(r, request.user)}
    chart = {
        "years": [r.year for r in reports],
        "revenue": [wan(r.revenue) for r in reports],
        "rd_expense": [wan(r.rd_expense) for r in reports],
        "tax": [wan(r.tax) for r in reports],
        "staff": [r.staff for r in reports],
        "tech_staff": [r.tech_staff for r in reports],
    }
    visits = list(
        Visit.objects.filter(enterprise=enterprise)
        .select_related("staff", "station")
        .prefetch_related(Prefetch("issues", queryset=VisitIssue.objects.order_by("id")))[:20]
    )
    is_staff = request.user.is_staff_member
    context = {
        "enterprise": enterprise,
        "sectors": list(enterprise.sectors.all()),
        "qualifications": qualifications,
        "reports": list(reversed(reports)),
        "metric_names": list(ANNUAL_METRICS),
        "chart": chart,
        "ladder": list(enterprise.ladder_changes.order_by("-changed_at", "-id")[:20]),
        "memberships": list(
            WatchListMember.objects.filter(enterprise=enterprise).select_related("watch_list")
        ),
        "visits": visits,
        "is_staff": is_staff,
        "can_file": request.user.role == Role.ENTERPRISE
        and request.user.enterprise_id == enterprise.pk,
        "today": today,
    }
    return render(request, "enterprises/enterprise_detail.html", context)


@role_required(*STAFF)
def enterprise_edit(request, pk: int | None = None):
    """Create or edit an enterprise (station staff only inside their jurisdiction)."""
    enterprise = (
        get_object_for_user(Enterprise, request.user, pk, "change") if pk is not None else None
    )
    # The form works on its own copy: the service must see the record as it was (audit diff).
    form_instance = Enterprise.objects.get(pk=enterprise.pk) if enterprise else None
    form = EnterpriseForm(request.POST or None, instance=form_instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in form.cleaned_data if f != "row_version"}
        try:
            if enterprise is None:
                enterprise = services.create_enterprise(data, acting_user=request.user)
            else:
                services.update_enterprise(
                    enterprise,
                    data,
                    acting_user=request.user,
                    expected_version=submitted_version(form),
                )
        except ValidationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(
        request, "enterprises/enterprise_form.html", {"form": form, "enterprise": enterprise}
    )
