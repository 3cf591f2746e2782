"""规划实施情况评估报告 as .docx and .xlsx, and the list of lapsing certificates as .xlsx."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from kechuang.core.export import Sheet, write_workbook, write_xlsx
from kechuang.plans.dashboards import PlanDashboard
from kechuang.plans.status import AT_RISK, OFF_TRACK, ON_TRACK

STATUS_ZH = {
    ON_TRACK: "符合进度",
    AT_RISK: "存在风险",
    OFF_TRACK: "明显滞后",
    "unknown": "暂无数据",
}
TASK_STATUS_ZH = {
    "not_started": "未启动",
    "in_progress": "推进中",
    "done": "已完成",
    "suspended": "暂缓",
}


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


def narrative(dash: PlanDashboard) -> list[str]:
    """Plain sentences about the gaps, for the report's analysis section."""
    lines = []
    evs = dash.evaluations
    counts = {s: sum(1 for e in evs if e.status == s) for s in STATUS_ZH}
    lines.append(
        f"截至{dash.today:%Y年%m月%d日},本规划共设{len(evs)}项指标,其中符合进度{counts[ON_TRACK]}项、"
        f"存在风险{counts[AT_RISK]}项、明显滞后{counts[OFF_TRACK]}项、暂无数据{counts['unknown']}项。"
    )
    for ev in evs:
        ind = ev.indicator
        if ev.status in (AT_RISK, OFF_TRACK) and ev.gap is not None:
            lines.append(
                f"“{ind.name}”{ind.target_year}年目标{_fmt(ev.target)}{ind.unit},"
                f"当前{_fmt(ev.actual)}{ind.unit}(截至{ev.actual_at:%Y-%m-%d}),"
                f"按目标路径应达{_fmt(ev.expected)}{ind.unit},差距{_fmt(abs(ev.gap))}{ind.unit},"
                f"{STATUS_ZH[ev.status]}。"
            )
    total = len(dash.tasks)
    done = sum(1 for r in dash.tasks if r.task.status == "done")
    lines.append(f"重点任务{total}项,已完成{done}项,逾期未完成节点的任务{dash.overdue_count}项。")
    for row in dash.tasks:
        if row.overdue:
            lines.append(
                f"任务{row.task.number}“{row.task.title}”有逾期节点,牵头单位:{row.lead or '—'}。"
            )
    return lines


def plan_report_docx(dash: PlanDashboard) -> bytes:
    from docx import Document
    from docx.shared import Pt

    plan = dash.plan
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10.5)
    doc.add_heading(f"{plan.title}实施情况评估报告", level=0)
    meta = [plan.issuer, plan.doc_number, plan.period_label and f"规划期 {plan.period_label}"]
    doc.add_paragraph(" · ".join(m for m in meta if m) or plan.get_kind_display())
    doc.add_heading("一、总体情况", level=1)
    for line in narrative(dash)[:1]:
        doc.add_paragraph(line)
    doc.add_heading("二、主要指标完成情况", level=1)
    headers = [
        "指标",
        "单位",
        "基期值",
        "目标值",
        "目标年",
        "当前值",
        "截至",
        "路径应达",
        "差距",
        "状态",
    ]
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    for ev in dash.evaluations:
        ind = ev.indicator
        cells = table.add_row().cells
        values = [
            ind.name,
            ind.unit,
            _fmt(ev.baseline) + (f"({ev.baseline_year})" if ev.baseline_year else ""),
            _fmt(ev.target),
            str(ind.target_year),
            _fmt(ev.actual),
            ev.actual_at.isoformat() if ev.actual_at else "—",
            _fmt(ev.expected),
            _fmt(ev.gap),
            STATUS_ZH.get(ev.status, ev.status),
        ]
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    doc.add_heading("三、重点任务推进情况", level=1)
    headers = ["序号", "领域", "重点工作", "牵头单位", "责任单位", "状态", "逾期"]
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    for row in dash.tasks:
        cells = table.add_row().cells
        values = [
            row.task.number,
            row.task.area,
            row.task.title,
            row.lead,
            "、".join(row.units),
            TASK_STATUS_ZH.get(row.task.status, row.task.status),
            "是" if row.overdue else "否",
        ]
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    doc.add_heading("四、差距分析", level=1)
    for line in narrative(dash)[1:]:
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def plan_report_xlsx(dash: PlanDashboard) -> bytes:
    """The indicators, the chart series and the tasks as three sheets (core's xlsx writer)."""
    indicators = [
        [
            ind.name, ind.unit, ind.kind, ind.direction, ev.baseline, ev.baseline_year, ev.target,
            ind.target_year, ev.actual, ev.actual_at, ev.expected, ev.gap, STATUS_ZH.get(ev.status),
            ev.progress_pct,
        ]
        for ev in dash.evaluations
        for ind in (ev.indicator,)
    ]  # fmt: skip
    series = [
        [item["name"], label, int(year), value]
        for item in dash.chart_data()
        for label, values in (("实际", item["actual"]), ("目标路径", item["path"]))
        for year, value in zip(item["years"], values, strict=True)
    ]
    tasks = [
        [row.task.number, row.task.area, row.task.title, row.lead, "、".join(row.units),
         TASK_STATUS_ZH.get(row.task.status), "是" if row.overdue else "否"]
        for row in dash.tasks
    ]  # fmt: skip
    buf = io.BytesIO()
    write_workbook(
        buf,
        [
            Sheet("指标", ["指标", "单位", "类型", "方向", "基期值", "基期年", "目标值", "目标年",
                           "当前值", "截至", "路径应达", "差距", "状态", "进度%"], indicators),
            Sheet("图表数据", ["指标", "序列", "年份", "数值"], series),
            Sheet("任务", ["序号", "领域", "重点工作", "牵头单位", "责任单位", "状态", "逾期"], tasks),
        ],
    )  # fmt: skip
    return buf.getvalue()


def lapsing_xlsx(indicator, lapses) -> bytes:
    """Enterprises whose certificate lapses before the target date (to remind them to re-apply).

    `lapses` comes from `forecast.visible_lapsing`, already narrowed to the user's scope.
    """
    rows = []
    for lapse in lapses:
        ent = lapse.enterprise
        rows.append(
            [
                ent.name if ent else lapse.enterprise_id,
                ent.uscc if ent else "",
                str(ent.jurisdiction) if ent else "",
                lapse.certificate_no,
                lapse.expires_on,
            ]
        )
    headers = [
        _("enterprise"),
        _("unified social credit code"),
        _("town / street"),
        _("certificate no."),
        _("expires on"),
    ]
    buf = io.BytesIO()
    write_xlsx(buf, headers, rows, sheet_name="到期未续")
    return buf.getvalue()
