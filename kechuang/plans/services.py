"""Business actions on plans; views, API, commands, the demo and tests call these.

Each action checks permission, writes in one transaction, writes the audit entry and
sends notifications only after commit.
"""

from __future__ import annotations

import contextlib
import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kechuang.core import audit
from kechuang.core import services as core_services
from kechuang.core.models import Notification
from kechuang.core.workflow import InvalidTransition
from kechuang.plans import aggregates, schedule
from kechuang.plans.models import (
    KIND_FROM_EXTRACTION,
    Indicator,
    IndicatorKind,
    IndicatorReport,
    Milestone,
    Plan,
    PlanImport,
    PlanKind,
    ProgressReport,
    ResponsibleUnit,
    SourceKind,
    Task,
    TaskAssignment,
    TaskStatus,
    is_unit_user,
)
from kechuang.plans.workflows import TASK


def _require_commission(user) -> None:
    if user is None or not user.is_commission:
        raise PermissionDenied("Only commission staff can change plans.")


def _decimal(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{value!r} is not a number."}) from None


# ---------------------------------------------------------------------------
# Import from text
# ---------------------------------------------------------------------------


def create_plan_import(
    *, text: str | None = None, data: bytes | None = None, filename: str = "", acting_user
) -> PlanImport:
    """Read the text (pasted, or from an uploaded .txt/.docx/.pdf), run the extraction, keep the draft."""
    from kechuang.plans.extraction import SourceError, extract_plan, read_source
    from kechuang.plans.mapping import propose_source

    _require_commission(acting_user)
    if data is not None:
        try:
            text = read_source(data, filename)
        except SourceError as exc:
            raise ValidationError({"file": str(exc)}) from None
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "The plan text is empty: paste the text or upload a file."})
    draft = extract_plan(text).to_dict()
    for target in draft["targets"]:
        target["source"] = propose_source(
            target.get("indicator", ""), target.get("kind", "level"), target.get("unit", "")
        )
    with transaction.atomic():
        imp = PlanImport(filename=filename[:255], text=text, draft=draft, created_by=acting_user)
        if data is not None:
            imp.source_file.save(filename or "plan.txt", ContentFile(data), save=False)
        core_services.create_record(imp, acting_user=acting_user)
    return imp


def rows_from_draft(draft: dict) -> tuple[dict, list[dict], list[dict]]:
    """The extraction's proposal in the shape `save_reviewed_plan` takes (and the review page shows)."""
    meta = draft.get("metadata", {})
    metadata = {
        "title": meta.get("title") or "",
        "kind": KIND_FROM_EXTRACTION.get(meta.get("kind"), PlanKind.OTHER),
        "issuer": meta.get("issuer") or "",
        "doc_number": meta.get("doc_number") or "",
        "published_on": meta.get("published"),
        "period_start": meta.get("period_start"),
        "period_end": meta.get("period_end"),
        "report_frequency": "quarterly",
    }
    indicators = [
        {
            "name": t.get("indicator", ""),
            "unit": t.get("unit", ""),
            "kind": t.get("kind") if t.get("kind") in IndicatorKind.values else IndicatorKind.LEVEL,
            "direction": "up",
            "baseline_value": t.get("baseline"),
            "baseline_year": t.get("baseline_year"),
            "target_value": t.get("value"),
            "target_year": t.get("year") or meta.get("period_end"),
            "quote": t.get("quote", ""),
            "source": t.get("source") or {},
        }
        for t in draft.get("targets", [])
    ]
    tasks = [
        {
            "number": t.get("number", ""),
            "area": t.get("area", ""),
            "title": (t.get("title") or "")[:255],
            "content": t.get("content", ""),
            "units": list(t.get("responsible_units") or []),
        }
        for t in draft.get("tasks", [])
    ]
    return metadata, indicators, tasks


def _unit_by_name(name: str, cache: dict, *, acting_user) -> ResponsibleUnit:
    name = name.strip()[:100]
    if name not in cache:
        unit = ResponsibleUnit.objects.filter(name=name).first()
        if unit is None:
            unit = core_services.create_record(ResponsibleUnit(name=name), acting_user=acting_user)
        cache[name] = unit
    return cache[name]


def save_reviewed_plan(
    metadata: dict,
    indicators: list[dict],
    tasks: list[dict],
    *,
    acting_user,
    plan_import: PlanImport | None = None,
) -> Plan:
    """Create the plan, its indicators and tasks (with responsible units) as staff confirmed them.

    `indicators`: dicts with name, unit, kind, direction, baseline_value, baseline_year,
    target_value, target_year, quote, definition, source (spec or None).
    `tasks`: dicts with number, area, title, content, units (list of names, lead first).
    """
    _require_commission(acting_user)
    with transaction.atomic():
        kind = metadata.get("kind") or PlanKind.OTHER
        plan = Plan(
            title=(metadata.get("title") or "").strip()[:255],
            kind=KIND_FROM_EXTRACTION.get(kind, kind),
            issuer=(metadata.get("issuer") or "")[:100],
            doc_number=(metadata.get("doc_number") or "")[:64],
            published_on=metadata.get("published_on") or None,
            period_start=metadata.get("period_start") or None,
            period_end=metadata.get("period_end") or None,
            report_frequency=metadata.get("report_frequency") or "quarterly",
            source_text=plan_import.text if plan_import else metadata.get("source_text", ""),
        )
        if isinstance(plan.published_on, str):
            plan.published_on = datetime.date.fromisoformat(plan.published_on)
        if plan_import is not None and plan_import.source_file:
            plan.source_file.name = plan_import.source_file.name
        core_services.create_record(plan, acting_user=acting_user)
        for i, row in enumerate(indicators):
            add_indicator(plan, row, order=i + 1, acting_user=acting_user)
        units: dict = {}
        for i, row in enumerate(tasks):
            task = core_services.create_record(
                Task(
                    plan=plan,
                    order=i + 1,
                    number=(row.get("number") or "")[:32],
                    area=(row.get("area") or "")[:200],
                    title=(row.get("title") or row.get("content") or "?")[:255],
                    content=row.get("content") or "",
                ),
                acting_user=acting_user,
            )
            names = [n for n in row.get("units") or [] if n.strip()]
            if names:
                assign_units(
                    task,
                    [_unit_by_name(n, units, acting_user=acting_user) for n in names],
                    acting_user=acting_user,
                )
        if plan_import is not None:
            plan_import.plan = plan
            plan_import.save(update_fields=["plan", "updated_at"])
            audit.record_event(plan, "imported", {"import": plan_import.pk}, actor=acting_user)
    return plan


def add_indicator(plan: Plan, row: dict, *, order: int = 0, acting_user) -> Indicator:
    """Add one indicator to a plan; a non-empty `source` makes it computed."""
    _require_commission(acting_user)
    source = row.get("source") or {}
    if source:
        try:
            source = aggregates.validate_spec(source)
        except aggregates.SpecError as exc:
            raise ValidationError({"source": str(exc)}) from None
    target_year = row.get("target_year") or plan.period_end or timezone.localdate().year
    ind = Indicator(
        plan=plan,
        order=order,
        name=(row.get("name") or "").strip()[:200],
        unit=(row.get("unit") or "")[:20],
        kind=row.get("kind") or IndicatorKind.LEVEL,
        direction=row.get("direction") or "up",
        baseline_value=_decimal(row.get("baseline_value"), "baseline_value"),
        baseline_year=row.get("baseline_year") or None,
        target_value=_decimal(row.get("target_value"), "target_value"),
        target_year=target_year,
        quote=row.get("quote") or "",
        definition=row.get("definition") or "",
        source_kind=SourceKind.COMPUTED if source else SourceKind.REPORTED,
        source=source,
        responsible_unit=row.get("responsible_unit"),
    )
    return core_services.create_record(ind, acting_user=acting_user)


def update_indicator(
    indicator: Indicator, changes: dict, *, acting_user, expected_version=None
) -> Indicator:
    """Edit an indicator (target, path, data source …); the computation spec is validated."""
    _require_commission(acting_user)
    changes = dict(changes)
    if "source" in changes:
        source = changes["source"] or {}
        if source:
            try:
                source = aggregates.validate_spec(source)
            except aggregates.SpecError as exc:
                raise ValidationError({"source": str(exc)}) from None
        changes["source"] = source
        changes.setdefault("source_kind", SourceKind.COMPUTED if source else SourceKind.REPORTED)
    return core_services.update_record(
        indicator, changes, acting_user=acting_user, expected_version=expected_version
    )


def update_plan(plan: Plan, changes: dict, *, acting_user, expected_version=None) -> Plan:
    """Edit a plan's metadata; a stale `expected_version` is refused (ConflictError)."""
    _require_commission(acting_user)
    return core_services.update_record(
        plan, changes, acting_user=acting_user, expected_version=expected_version
    )


def delete_plan(plan: Plan, *, acting_user) -> None:
    _require_commission(acting_user)
    core_services.delete_record(plan, acting_user=acting_user)


# ---------------------------------------------------------------------------
# Tasks, units, milestones
# ---------------------------------------------------------------------------


def create_unit(name: str, *, members=(), acting_user) -> ResponsibleUnit:
    _require_commission(acting_user)
    with transaction.atomic():
        unit = core_services.create_record(
            ResponsibleUnit(name=name.strip()), acting_user=acting_user
        )
        if members:
            unit.members.set(members)
            audit.record_event(
                unit, "members", {"members": [m.pk for m in members]}, actor=acting_user
            )
    return unit


def set_unit_members(unit: ResponsibleUnit, members, *, acting_user) -> None:
    _require_commission(acting_user)
    with transaction.atomic():
        unit.members.set(members)
        audit.record_event(unit, "members", {"members": [m.pk for m in members]}, actor=acting_user)


def assign_units(task: Task, units: list[ResponsibleUnit], *, acting_user) -> None:
    """Replace the task's responsible units; the first one is the lead (牵头单位)."""
    _require_commission(acting_user)
    seen, ordered = set(), []
    for unit in units:
        if unit.pk not in seen:
            seen.add(unit.pk)
            ordered.append(unit)
    with transaction.atomic():
        TaskAssignment.objects.filter(task=task).delete()
        TaskAssignment.objects.bulk_create(
            [TaskAssignment(task=task, unit=u, is_lead=(i == 0)) for i, u in enumerate(ordered)]
        )
        audit.record_event(
            task, "units_assigned", {"units": [u.name for u in ordered]}, actor=acting_user
        )


def update_task(task: Task, changes: dict, *, acting_user) -> Task:
    """Edit a task's definition (commission only)."""
    _require_commission(acting_user)
    return core_services.update_record(task, changes, acting_user=acting_user)


def set_task_status(task: Task, status: str, *, acting_user, expected_version=None) -> Task:
    """Move a task along its workflow (plans.workflows.TASK): a target status or a step name.

    Units assigned to the task start and complete it; commission staff also suspend,
    resume and reopen. Asking for the status it already has changes nothing; a stale
    `expected_version` is refused with ConflictError.
    """
    if status == task.status:
        return task
    TASK.transition(task, status, acting_user=acting_user, expected_version=expected_version)
    return task


def add_milestone(task: Task, *, due_on: datetime.date, description: str, acting_user) -> Milestone:
    _require_commission(acting_user)
    return core_services.create_record(
        Milestone(task=task, due_on=due_on, description=description), acting_user=acting_user
    )


def set_milestone_done(milestone: Milestone, done: bool, *, acting_user, on=None) -> Milestone:
    """Tick a milestone (commission or a unit of the task)."""
    changes = {"done": done, "done_on": (on or timezone.localdate()) if done else None}
    return core_services.update_record(milestone, changes, acting_user=acting_user)


def is_task_overdue(task: Task, today: datetime.date | None = None, milestones=None) -> bool:
    """Overdue: a milestone whose date has passed is not done (and the task is not closed)."""
    today = today or timezone.localdate()
    if task.status in (TaskStatus.DONE, TaskStatus.SUSPENDED):
        return False
    items = milestones if milestones is not None else task.milestones.all()
    return any(not m.done and m.due_on < today for m in items)


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------


def units_of(user):
    return ResponsibleUnit.objects.filter(members=user)


def file_progress_report(
    task: Task,
    *,
    unit: ResponsibleUnit,
    period: str,
    period_end: datetime.date,
    text: str,
    figures: dict | None = None,
    attachment=None,
    acting_user,
) -> ProgressReport:
    """A unit's report on its task for one period; a unit reports only for itself and its tasks."""
    if is_unit_user(acting_user) and not unit.members.filter(pk=acting_user.pk).exists():
        raise PermissionDenied("You can report only for your own unit.")
    if not TaskAssignment.objects.filter(task=task, unit=unit).exists():
        raise ValidationError({"unit": f"{unit} is not a responsible unit of this task."})
    if ProgressReport.objects.filter(task=task, unit=unit, period=period).exists():
        raise ValidationError({"period": f"{unit} has already reported for {period}."})
    report = ProgressReport(
        task=task,
        unit=unit,
        period=period,
        period_end=period_end,
        text=text,
        figures=figures or {},
        reported_by=acting_user,
    )
    if attachment is not None:
        report.attachment = attachment
    with transaction.atomic():
        core_services.create_record(report, acting_user=acting_user)
        if task.status == TaskStatus.NOT_STARTED:
            # Someone may have moved it on meanwhile: then the report needs no start.
            with contextlib.suppress(InvalidTransition):
                TASK.transition(task, "start", acting_user=acting_user)
    return report


def file_indicator_report(
    indicator: Indicator,
    *,
    period_end: datetime.date,
    value,
    note: str = "",
    attachment=None,
    acting_user,
) -> IndicatorReport:
    """A reported indicator's value for a date, with evidence (its responsible unit or commission)."""
    report = IndicatorReport(
        indicator=indicator,
        period_end=period_end,
        value=_decimal(value, "value"),
        note=note,
        reported_by=acting_user,
    )
    if attachment is not None:
        report.attachment = attachment
    return core_services.create_record(report, acting_user=acting_user)


def send_report_reminders(*, acting_user, today: datetime.date | None = None) -> int:
    """Notify unit members whose progress report is due soon or overdue; returns notices created.

    Idempotent per (user, task, unit, period, kind): running it twice a day sends nothing new.
    """
    _require_commission(acting_user)
    today = today or timezone.localdate()
    plans = Plan.objects.filter(period_start__lte=today.year, period_end__gte=today.year - 1)
    assignments = (
        TaskAssignment.objects.filter(task__plan__in=plans)
        .exclude(task__status__in=[TaskStatus.DONE, TaskStatus.SUSPENDED])
        .select_related("task__plan", "unit")
    )
    wanted = []  # (assignment, period, kind)
    for a in assignments:
        plan = a.task.plan
        current = schedule.period_containing(today, plan.report_frequency)
        previous = schedule.previous_period(current, plan.report_frequency)
        if previous.end.year >= plan.period_start and previous.start.year <= plan.period_end:
            kind = "plans.report_overdue" if today > previous.due_on else "plans.report_due"
            wanted.append((a, previous, kind))
        if current.end.year <= plan.period_end and today >= current.end - datetime.timedelta(
            days=schedule.REMIND_BEFORE_DAYS
        ):
            wanted.append((a, current, "plans.report_due"))
    if not wanted:
        return 0
    filed = set(
        ProgressReport.objects.filter(task__in={a.task_id for a, _, _ in wanted}).values_list(
            "task_id", "unit_id", "period"
        )
    )
    members: dict[int, list] = {}
    for unit_id, user_id in ResponsibleUnit.members.through.objects.filter(
        responsibleunit_id__in={a.unit_id for a, _, _ in wanted}
    ).values_list("responsibleunit_id", "user_id"):
        members.setdefault(unit_id, []).append(user_id)
    notices = []
    for a, period, kind in wanted:
        if (a.task_id, a.unit_id, period.label) in filed:
            continue
        link = reverse("plans:task", args=[a.task_id])
        if kind == "plans.report_overdue":
            title = (
                f"进度报告逾期:{a.task} · {a.unit} · {period.label}(应于 {period.due_on} 前报送)"
            )
        else:
            title = f"进度报告待报送:{a.task} · {a.unit} · {period.label}(截止 {period.due_on})"
        for user_id in members.get(a.unit_id, []):
            notices.append(
                Notification(recipient_id=user_id, title=title[:200], link=link, kind=kind)
            )
    if not notices:
        return 0
    existing = set(
        Notification.objects.filter(
            kind__in=["plans.report_due", "plans.report_overdue"],
            recipient_id__in={n.recipient_id for n in notices},
            created_at__date__gte=today - datetime.timedelta(days=120),
        ).values_list("recipient_id", "title")
    )
    fresh = [n for n in notices if (n.recipient_id, n.title) not in existing]
    transaction.on_commit(lambda: Notification.objects.bulk_create(fresh))
    return len(fresh)
