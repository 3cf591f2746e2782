"""Demo plans: the seed documents imported through the extraction path, with units, tasks and reports.

Deterministic through ctx.rng. Indicators whose names map to platform data (高新技术企业,
科技小巨人, 研发费用 …) become computed from the demo district's enterprises.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from kechuang.core.demo import DemoContext, _user
from kechuang.core.models import Role
from kechuang.plans import services
from kechuang.plans.models import Indicator, Plan, ResponsibleUnit, SourceKind, Task, TaskStatus
from kechuang.plans.schedule import period_containing, previous_period
from kechuang.plans.seeds import import_seed_file, seed_directory

UNITS = ["区科委", "区发改委", "区经委", "区财政局", "区人社局", "莘庄镇", "七宝镇", "各镇/街道"]
PARTNERS = ["区发改委", "区经委", "区财政局", "区人社局", "各镇/街道"]
PROGRESS = [
    "已召开专题推进会,明确年度目标和分工,相关工作按计划推进。",
    "完成阶段性调研,形成工作方案初稿,正在征求相关部门意见。",
    "已组织企业申报辅导两场,覆盖企业六十余家,后续将跟踪服务。",
    "项目已立项,资金已拨付首期,正按节点推进建设。",
]


def build(ctx: DemoContext) -> None:
    officer = ctx.users.get("officer")
    if officer is None:
        ctx.log("plans: no 'officer' user; skipped")
        return
    directory = seed_directory()
    if directory is None:
        ctx.log(
            "plans: no seed documents found (../shared/seeds or kechuang/plans/fixtures/seeds); skipped"
        )
        return
    rng = ctx.rng
    today = timezone.localdate()
    ctx.users["unit"] = _user("unit", Role.UNIT, "刘科长(区经委)")
    ctx.users["unit2"] = _user("unit2", Role.UNIT, "孙干事(七宝镇)")
    units = {}
    for name in UNITS:
        unit = ResponsibleUnit.objects.filter(name=name).first()
        units[name] = unit or services.create_unit(name, acting_user=officer)
    services.set_unit_members(units["区经委"], [ctx.users["unit"]], acting_user=officer)
    services.set_unit_members(units["七宝镇"], [ctx.users["unit2"]], acting_user=officer)

    Plan.objects.filter(title__in=_titles(directory)).delete()  # re-running replaces the demo plans
    plans = [
        import_seed_file(path, acting_user=officer) for path in sorted(directory.glob("*.txt"))
    ]

    for plan in plans:
        tasks = list(plan.tasks.prefetch_related("assignments"))
        for task in tasks:
            if not task.assignments.all():
                partner = units[rng.choice(PARTNERS)]
                services.assign_units(task, [units["区科委"], partner], acting_user=officer)
        _milestones_and_reports(plan, tasks, units, officer, rng, today)
        _reported_values(plan, units, officer, rng, today)
    ctx.log(
        f"plans: {len(plans)} plans, {Indicator.objects.filter(plan__in=plans).count()} indicators "
        f"({Indicator.objects.filter(plan__in=plans, source_kind=SourceKind.COMPUTED).count()} computed), "
        f"{Task.objects.filter(plan__in=plans).count()} tasks; unit user 'unit' (区经委)"
    )


def _titles(directory) -> list[str]:
    from kechuang.plans.extraction import extract_metadata

    return [
        extract_metadata(p.read_text(encoding="utf-8")).title or p.stem
        for p in directory.glob("*.txt")
    ]


def _milestones_and_reports(plan, tasks, units, officer, rng, today) -> None:
    """Two milestones per task inside the plan's period; reports for recent periods."""
    if not plan.period_start or not plan.period_end:
        return
    end_year = plan.period_end
    for task in tasks:
        mid = datetime.date(
            end_year if plan.period_start == end_year else plan.period_start + 1, 6, 30
        )
        final = datetime.date(end_year, 12, 15)
        m1 = services.add_milestone(
            task, due_on=mid, description="完成阶段性目标", acting_user=officer
        )
        services.add_milestone(
            task, due_on=final, description="完成年度任务并总结", acting_user=officer
        )
        if (rng.random() < 0.7 or mid > today) and mid <= today:
            services.set_milestone_done(m1, True, acting_user=officer, on=mid)
        if final < today and rng.random() < 0.6:
            services.set_task_status(task, TaskStatus.IN_PROGRESS, acting_user=officer)
            services.set_task_status(task, TaskStatus.DONE, acting_user=officer)
    # Progress reports for the current plan (the one whose period covers the last year).
    if not (plan.period_start <= today.year - 1 <= plan.period_end + 1):
        return
    period = previous_period(period_containing(today, plan.report_frequency), plan.report_frequency)
    for task in tasks:
        for a in task.assignments.select_related("unit"):
            if rng.random() < 0.5:
                reporter = next(iter(a.unit.members.all()), None) or officer
                services.file_progress_report(
                    task,
                    unit=a.unit,
                    period=period.label,
                    period_end=period.end,
                    text=rng.choice(PROGRESS),
                    figures={"服务企业数": str(rng.randint(5, 80))},
                    acting_user=reporter,
                )


def _reported_values(plan, units, officer, rng, today) -> None:
    """Reported indicators get 区科委 as responsible unit and a value near their path."""
    for ind in plan.indicators.filter(source_kind=SourceKind.REPORTED):
        services.update_indicator(ind, {"responsible_unit": units["区科委"]}, acting_user=officer)
        year = min(ind.target_year, today.year - 1)
        share = rng.uniform(0.7, 1.05)
        base = float(ind.baseline_value) if ind.baseline_value is not None else 0.0
        value = base + (float(ind.target_value) - base) * share
        services.file_indicator_report(
            ind,
            period_end=datetime.date(year, 12, 31),
            value=round(value, 2),
            note="根据统计快报填报",
            acting_user=officer,
        )
