"""Plan pages: dashboards, import review, indicators, tasks and reports. Thin views over services."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kechuang.core.models import Role
from kechuang.core.permissions import get_object_for_user, role_required
from kechuang.core.workflow import InvalidTransition, TransitionNotAllowed
from kechuang.plans import dashboards, exports, forecast, schedule, services, tracking
from kechuang.plans.forms import (
    ImportForm,
    IndicatorForm,
    IndicatorReportForm,
    MilestoneForm,
    PlanForm,
    ProgressReportForm,
    ReviewIndicatorFormSet,
    ReviewMetaForm,
    ReviewTaskFormSet,
    UnitForm,
)
from kechuang.plans.models import (
    Indicator,
    Milestone,
    Plan,
    PlanImport,
    ResponsibleUnit,
    Task,
    TaskAssignment,
    TaskStatus,
    is_unit_user,
)
from kechuang.plans.workflows import TASK

PLAN_ROLES = (Role.COMMISSION, Role.STATION, Role.UNIT)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


# ---------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------


@role_required(*PLAN_ROLES)
def plan_list(request):
    plans = (
        Plan.objects.visible_to(request.user)
        .annotate(
            n_indicators=Count("indicators", distinct=True), n_tasks=Count("tasks", distinct=True)
        )
        .order_by("-period_end", "title")
    )
    page = Paginator(plans, 50).get_page(request.GET.get("page"))
    return render(request, "plans/plan_list.html", {"page": page})


@role_required(*PLAN_ROLES)
def plan_detail(request, pk: int):
    """The plan dashboard: indicator cards, trend charts against the path, tasks by status and unit."""
    plan = get_object_for_user(Plan, request.user, pk)
    dash = dashboards.plan_dashboard(plan, request.user)
    names = dashboards.type_names()
    cards = [(ev, dashboards.source_label(ev.indicator, names)) for ev in dash.evaluations]
    return render(
        request,
        "plans/plan_detail.html",
        {
            "plan": plan,
            "dash": dash,
            "cards": cards,
            "chart_data": dash.chart_data(),
            "task_status_choices": TaskStatus.choices,
            "can_edit": request.user.is_commission,
        },
    )


@role_required(Role.COMMISSION)
def plan_edit(request, pk: int):
    plan = get_object_for_user(Plan, request.user, pk, "change")
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        version = changes.pop("row_version", None)
        try:
            services.update_plan(plan, changes, acting_user=request.user, expected_version=version)
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, _("The plan was saved."))
            return redirect("plans:detail", pk=plan.pk)
    return render(request, "plans/plan_form.html", {"plan": plan, "form": form})


@role_required(Role.COMMISSION, Role.STATION)
def plan_export(request, pk: int, fmt: str):
    """规划实施情况评估报告 as .docx or .xlsx."""
    plan = get_object_for_user(Plan, request.user, pk)
    dash = dashboards.plan_dashboard(plan, request.user)
    stem = f"{plan.title}实施情况评估报告"
    if fmt == "docx":
        return _download(exports.plan_report_docx(dash), f"{stem}.docx", DOCX)
    if fmt == "xlsx":
        return _download(exports.plan_report_xlsx(dash), f"{stem}.xlsx", XLSX)
    raise Http404


@role_required(Role.COMMISSION, Role.STATION)
def cross_plan(request):
    """The same indicator across plans and years (by shared computation or normalised name)."""
    groups = dashboards.cross_plan_groups(request.user)
    return render(
        request,
        "plans/cross_plan.html",
        {"groups": groups, "charts": [{"key": i, **g["chart"]} for i, g in enumerate(groups)]},
    )


# ---------------------------------------------------------------------------
# Import from text
# ---------------------------------------------------------------------------


@role_required(Role.COMMISSION)
def plan_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("file")
        try:
            if upload:
                imp = services.create_plan_import(
                    data=upload.read(), filename=upload.name, acting_user=request.user
                )
            else:
                imp = services.create_plan_import(
                    text=form.cleaned_data["text"], filename="", acting_user=request.user
                )
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            return redirect("plans:import-review", pk=imp.pk)
    recent = PlanImport.objects.visible_to(request.user).select_related("plan")[:10]
    return render(request, "plans/import_upload.html", {"form": form, "recent": recent})


def _review_initial(imp: PlanImport):
    meta, inds, tasks = services.rows_from_draft(imp.draft)
    meta["title"] = meta["title"] or imp.filename
    for row in inds:
        row["keep"] = True
        row["source"] = json.dumps(row["source"], ensure_ascii=False) if row["source"] else ""
    for row in tasks:
        row["keep"] = True
        row["units"] = "、".join(row["units"])
    return meta, inds, tasks


@role_required(Role.COMMISSION)
def plan_import_review(request, pk: int):
    """Staff confirm, edit or drop (untick) what the extraction proposed, then save the plan."""
    imp = get_object_for_user(PlanImport, request.user, pk)
    if imp.plan_id:
        messages.info(request, _("This import was already saved as a plan."))
        return redirect("plans:detail", pk=imp.plan_id)
    meta_initial, ind_initial, task_initial = _review_initial(imp)
    if request.method == "POST":
        meta_form = ReviewMetaForm(request.POST, prefix="meta")
        ind_set = ReviewIndicatorFormSet(request.POST, prefix="ind")
        task_set = ReviewTaskFormSet(request.POST, prefix="task")
        if meta_form.is_valid() and ind_set.is_valid() and task_set.is_valid():
            indicators = [f.cleaned_data for f in ind_set if f.cleaned_data.get("keep")]
            tasks = [f.cleaned_data for f in task_set if f.cleaned_data.get("keep")]
            try:
                plan = services.save_reviewed_plan(
                    meta_form.cleaned_data,
                    indicators,
                    tasks,
                    acting_user=request.user,
                    plan_import=imp,
                )
            except ValidationError as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(
                    request,
                    _("Plan saved with %(i)s indicators and %(t)s tasks.")
                    % {"i": len(indicators), "t": len(tasks)},
                )
                return redirect("plans:detail", pk=plan.pk)
    else:
        meta_form = ReviewMetaForm(initial=meta_initial, prefix="meta")
        ind_set = ReviewIndicatorFormSet(initial=ind_initial, prefix="ind")
        task_set = ReviewTaskFormSet(initial=task_initial, prefix="task")
    return render(
        request,
        "plans/import_review.html",
        {"imp": imp, "meta_form": meta_form, "ind_set": ind_set, "task_set": task_set},
    )


# ---------------------------------------------------------------------------
# Indicators
# ---------------------------------------------------------------------------


@role_required(*PLAN_ROLES)
def indicator_detail(request, pk: int):
    indicator = get_object_for_user(Indicator, request.user, pk)
    ev = tracking.evaluate_one(indicator)
    fc = None
    if forecast.can_forecast(indicator) and request.user.is_staff_member:
        fc = forecast.forecast_indicator(indicator)
    reports = indicator.reports.select_related("reported_by")[:50]
    can_report = Indicator.objects.visible_to(request.user, "change").filter(pk=pk).exists() or (
        is_unit_user(request.user) and indicator.responsible_unit_id is not None
    )
    form = IndicatorReportForm()
    if request.method == "POST" and not can_report:
        raise PermissionDenied  # a value may only be filed by those who can report it
    if request.method == "POST":
        form = IndicatorReportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.file_indicator_report(
                    indicator,
                    period_end=form.cleaned_data["period_end"],
                    value=form.cleaned_data["value"],
                    note=form.cleaned_data["note"],
                    attachment=form.cleaned_data.get("attachment"),
                    acting_user=request.user,
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(
                    None, _error_text(exc) if isinstance(exc, ValidationError) else str(exc)
                )
            else:
                messages.success(request, _("The value was reported."))
                return redirect("plans:indicator", pk=pk)
    chart = dashboards.PlanDashboard(
        plan=indicator.plan, today=timezone.localdate(), evaluations=[ev]
    ).chart_data()[0]
    return render(
        request,
        "plans/indicator_detail.html",
        {
            "indicator": indicator,
            "ev": ev,
            "fc": fc,
            "lapsing": forecast.visible_lapsing(fc, request.user)[:100] if fc else [],
            "reports": reports,
            "form": form,
            "can_report": can_report and not indicator.is_computed,
            "chart": chart,
            "source_label": dashboards.source_label(indicator, dashboards.type_names()),
        },
    )


@role_required(Role.COMMISSION)
def indicator_edit(request, pk: int):
    indicator = get_object_for_user(Indicator, request.user, pk, "change")
    form = IndicatorForm(request.POST or None, instance=indicator)
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data.items())
        version = changes.pop("row_version", None)
        try:
            services.update_indicator(
                indicator, changes, acting_user=request.user, expected_version=version
            )
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, _("The indicator was saved."))
            return redirect("plans:indicator", pk=pk)
    return render(request, "plans/indicator_form.html", {"indicator": indicator, "form": form})


@role_required(Role.COMMISSION, Role.STATION)
def indicator_lapsing_export(request, pk: int):
    """The enterprises whose qualification lapses before the target date, as .xlsx."""
    indicator = get_object_for_user(Indicator, request.user, pk)
    if not forecast.can_forecast(indicator):
        raise Http404
    lapses = forecast.visible_lapsing(forecast.forecast_indicator(indicator), request.user)
    return _download(
        exports.lapsing_xlsx(indicator, lapses), f"{indicator.name}-到期未续企业.xlsx", XLSX
    )


# ---------------------------------------------------------------------------
# Tasks and progress reports
# ---------------------------------------------------------------------------


@role_required(*PLAN_ROLES)
def task_list(request):
    """Tasks the user may see (a unit: only its own), with overdue flags."""
    tasks = (
        Task.objects.visible_to(request.user)
        .select_related("plan")
        .prefetch_related(
            Prefetch("assignments", queryset=TaskAssignment.objects.select_related("unit")),
            "milestones",
        )
        .order_by("plan__title", "order", "id")
    )
    status = request.GET.get("status", "")
    if status in TaskStatus.values:
        tasks = tasks.filter(status=status)
    q = request.GET.get("q", "").strip()
    if q:
        tasks = tasks.filter(Q(title__icontains=q) | Q(content__icontains=q))
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(t, services.is_task_overdue(t, today, list(t.milestones.all()))) for t in page]
    return render(
        request,
        "plans/task_list.html",
        {"page": page, "rows": rows, "status": status, "q": q, "statuses": TaskStatus.choices},
    )


def _report_periods(plan: Plan, today):
    current = schedule.period_containing(today, plan.report_frequency)
    periods = [current]
    for _i in range(3):
        periods.append(schedule.previous_period(periods[-1], plan.report_frequency))
    return periods


@role_required(*PLAN_ROLES)
def task_detail(request, pk: int):
    task = get_object_for_user(Task, request.user, pk)
    today = timezone.localdate()
    assignments = list(task.assignments.select_related("unit"))
    my_units = ResponsibleUnit.objects.filter(pk__in=[a.unit_id for a in assignments])
    if not request.user.is_commission:
        my_units = my_units.filter(members=request.user)
    can_report = my_units.exists()
    report_form = ProgressReportForm(units=my_units, periods=_report_periods(task.plan, today))
    if request.method == "POST" and can_report:
        report_form = ProgressReportForm(
            request.POST, request.FILES, units=my_units, periods=_report_periods(task.plan, today)
        )
        if report_form.is_valid():
            period = report_form.periods[report_form.cleaned_data["period"]]
            try:
                services.file_progress_report(
                    task,
                    unit=report_form.cleaned_data["unit"],
                    period=period.label,
                    period_end=period.end,
                    text=report_form.cleaned_data["text"],
                    figures=report_form.cleaned_data["figures"],
                    attachment=report_form.cleaned_data.get("attachment"),
                    acting_user=request.user,
                )
            except ValidationError as exc:
                report_form.add_error(None, _error_text(exc))
            else:
                messages.success(request, _("The progress report was filed."))
                return redirect("plans:task", pk=pk)
    milestones = list(task.milestones.all())
    return render(
        request,
        "plans/task_detail.html",
        {
            "task": task,
            "assignments": assignments,
            "milestones": milestones,
            "overdue": services.is_task_overdue(task, today, milestones),
            "reports": task.reports.select_related("unit", "reported_by"),
            "report_form": report_form if can_report else None,
            "can_change": Task.objects.visible_to(request.user, "change").filter(pk=pk).exists(),
            "milestone_form": MilestoneForm() if request.user.is_commission else None,
            "transitions": TASK.allowed(task, request.user),
            "today": today,
        },
    )


@role_required(*PLAN_ROLES)
@require_POST
def task_status(request, pk: int):
    task = get_object_for_user(Task, request.user, pk, "change")
    step = request.POST.get("transition") or request.POST.get("status", "")
    try:
        services.set_task_status(task, step, acting_user=request.user)
    except InvalidTransition as exc:
        messages.error(request, _error_text(exc))
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    return redirect("plans:task", pk=pk)


@role_required(Role.COMMISSION)
@require_POST
def milestone_add(request, pk: int):
    task = get_object_for_user(Task, request.user, pk, "change")
    form = MilestoneForm(request.POST)
    if form.is_valid():
        services.add_milestone(task, **form.cleaned_data, acting_user=request.user)
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("plans:task", pk=pk)


@role_required(*PLAN_ROLES)
@require_POST
def milestone_toggle(request, pk: int):
    milestone = get_object_for_user(Milestone, request.user, pk, "change")
    services.set_milestone_done(milestone, not milestone.done, acting_user=request.user)
    return redirect("plans:task", pk=milestone.task_id)


# ---------------------------------------------------------------------------
# Responsible units
# ---------------------------------------------------------------------------


@role_required(Role.COMMISSION)
def unit_list(request):
    form = UnitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_unit(form.cleaned_data["name"], acting_user=request.user)
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            return redirect("plans:units")
    units = (
        ResponsibleUnit.objects.visible_to(request.user)
        .prefetch_related("members")
        .annotate(n_tasks=Count("assignments"))
    )
    return render(request, "plans/unit_list.html", {"units": units, "form": form})
