"""What the plan dashboard, the cross-plan view and the exports show; computed once per request."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from kechuang.enterprises.models import QualificationType
from kechuang.plans import aggregates, tracking
from kechuang.plans.mapping import describe
from kechuang.plans.models import Indicator, Plan, Task, TaskAssignment, TaskStatus
from kechuang.plans.services import is_task_overdue


@dataclass
class TaskRow:
    task: Task
    lead: str
    units: list[str]
    overdue: bool
    next_milestone: object = None


@dataclass
class PlanDashboard:
    plan: Plan
    today: datetime.date
    evaluations: list = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)
    status_counts: dict = field(default_factory=dict)
    task_status_counts: dict = field(default_factory=dict)
    by_unit: list = field(default_factory=list)
    overdue_count: int = 0

    def chart_data(self) -> list[dict]:
        """Series for the trend charts (ECharts), one entry per indicator."""
        out = []
        for ev in self.evaluations:
            years = sorted({y for y, _ in ev.history} | {y for y, _ in ev.path})
            hist, path = dict(ev.history), dict(ev.path)
            out.append(
                {
                    "id": ev.indicator.pk,
                    "name": ev.indicator.name,
                    "unit": ev.indicator.unit,
                    "years": [str(y) for y in years],
                    "actual": [_r(hist.get(y)) for y in years],
                    "path": [_r(path.get(y)) for y in years],
                    "target": _r(ev.target),
                }
            )
        return out


def _r(value):
    return None if value is None else round(value, 4)


def type_names() -> dict[str, str]:
    return dict(QualificationType.objects.values_list("code", "name"))


def source_label(indicator: Indicator, names: dict[str, str]) -> str:
    return describe(indicator.source, names) if indicator.is_computed else ""


def plan_dashboard(plan: Plan, user, *, today: datetime.date | None = None) -> PlanDashboard:
    """Indicators (evaluated set-at-a-time) and tasks of one plan, as `user` may see them."""
    today = today or timezone.localdate()
    indicators = list(
        Indicator.objects.visible_to(user)
        .filter(plan=plan)
        .select_related("plan", "responsible_unit")
    )
    evs = tracking.evaluate(indicators, today=today)
    dash = PlanDashboard(plan=plan, today=today, evaluations=[evs[i.pk] for i in indicators])
    dash.status_counts = dict(Counter(ev.status for ev in dash.evaluations))
    tasks = (
        Task.objects.visible_to(user)
        .filter(plan=plan)
        .prefetch_related(
            Prefetch("assignments", queryset=TaskAssignment.objects.select_related("unit")),
            "milestones",
        )
    )
    unit_stats: dict = defaultdict(lambda: Counter())
    for task in tasks:
        assignments = list(task.assignments.all())
        milestones = list(task.milestones.all())
        overdue = is_task_overdue(task, today, milestones)
        pending = [m for m in milestones if not m.done]
        row = TaskRow(
            task=task,
            lead=next((a.unit.name for a in assignments if a.is_lead), ""),
            units=[a.unit.name for a in assignments],
            overdue=overdue,
            next_milestone=pending[0] if pending else None,
        )
        dash.tasks.append(row)
        for a in assignments:
            stats = unit_stats[a.unit.name]
            stats["total"] += 1
            stats[task.status] += 1
            stats["lead"] += int(a.is_lead)
            stats["overdue"] += int(overdue)
    dash.task_status_counts = dict(Counter(r.task.status for r in dash.tasks))
    dash.overdue_count = sum(1 for r in dash.tasks if r.overdue)
    dash.by_unit = sorted(
        ({"unit": name, **stats} for name, stats in unit_stats.items()),
        key=lambda d: (-d["total"], d["unit"]),
    )
    return dash


TASK_STATUS_ORDER = [s for s, _ in TaskStatus.choices]


def cross_plan_groups(user, *, today: datetime.date | None = None) -> list[dict]:
    """Indicators tracked by several plans, matched by shared computed spec or normalised name.

    Each group: a label, the indicators (with plan, target year/value), and one combined
    series of actual values by year (computed groups) plus each plan's target path.
    """
    today = today or timezone.localdate()
    indicators = list(Indicator.objects.visible_to(user).select_related("plan"))
    groups: dict[str, list[Indicator]] = defaultdict(list)
    for ind in indicators:
        if ind.is_computed:
            try:
                key = "spec:" + aggregates.spec_key(aggregates.validate_spec(ind.source))
            except aggregates.SpecError:
                key = "name:" + ind.match_key
        else:
            key = "name:" + ind.match_key
        groups[key].append(ind)
    multi = {k: v for k, v in groups.items() if len({i.plan_id for i in v}) > 1}
    flat = [i for v in multi.values() for i in v]
    evs = tracking.evaluate(flat, today=today)
    out = []
    for key, inds in multi.items():
        inds.sort(key=lambda i: (i.target_year, i.plan.title))
        years = sorted(
            {y for i in inds for y, _ in evs[i.pk].history}
            | {y for i in inds for y, _ in evs[i.pk].path}
        )
        actual: dict[int, float] = {}
        for i in inds:
            for y, v in evs[i.pk].history:
                if v is not None and (key.startswith("spec:") and i.kind != "increment"):
                    actual.setdefault(y, v)
        series = []
        for i in inds:
            path = dict(evs[i.pk].path)
            series.append(
                {
                    "name": f"{i.plan.title[:24]} · {i.target_year}",
                    "values": [_r(path.get(y)) for y in years],
                }
            )
        out.append(
            {
                "key": key,
                "label": inds[0].name,
                "unit": inds[0].unit,
                "computed": key.startswith("spec:"),
                "indicators": [(i, evs[i.pk]) for i in inds],
                "chart": {
                    "years": [str(y) for y in years],
                    "actual": [_r(actual.get(y)) for y in years],
                    "paths": series,
                    "unit": inds[0].unit,
                },
            }
        )
    out.sort(key=lambda g: (-len(g["indicators"]), g["label"]))
    return out
