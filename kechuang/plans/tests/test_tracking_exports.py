"""The evaluation report opens as .docx and .xlsx and lists the indicator rows; lapsing export."""

import datetime
import io

from kechuang.enterprises.tests.factories import QualificationFactory, QualificationTypeFactory
from kechuang.plans.models import SourceKind
from kechuang.plans.tests.factories import (
    AssignmentFactory,
    IndicatorFactory,
    PlanFactory,
    TaskFactory,
)


def _plan():
    plan = PlanFactory(title="测试三年行动计划")
    hte = QualificationTypeFactory(code="HTE")
    QualificationFactory(
        type=hte, issued_on=datetime.date(2024, 1, 1), expires_on=datetime.date(2026, 12, 31)
    )
    IndicatorFactory(
        plan=plan,
        name="有效期内高新技术企业",
        target_value=10,
        target_year=2025,
        source_kind=SourceKind.COMPUTED,
        source={"aggregate": "count_valid", "qualification": ["HTE"]},
    )
    IndicatorFactory(
        plan=plan, name="技术合同成交额", unit="亿元", target_value=230, target_year=2025
    )
    AssignmentFactory(task=TaskFactory(plan=plan, title="实施高企倍增计划"))
    return plan


def test_docx_export_opens_and_lists_indicators(client_for, officer, django_assert_max_num_queries):
    from docx import Document

    plan = _plan()
    client = client_for(officer)
    client.get("/plans/")
    with django_assert_max_num_queries(15):
        response = client.get(f"/plans/{plan.pk}/report.docx")
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.content))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert (
        "有效期内高新技术企业" in cells
        and "技术合同成交额" in cells
        and "实施高企倍增计划" in cells
    )
    assert any("实施情况评估报告" in p.text for p in doc.paragraphs)


def test_xlsx_export_opens_with_indicators_and_series(client_for, officer):
    from openpyxl import load_workbook

    plan = _plan()
    response = client_for(officer).get(f"/plans/{plan.pk}/report.xlsx")
    wb = load_workbook(io.BytesIO(response.content))
    names = [row[0] for row in wb["指标"].iter_rows(min_row=2, values_only=True)]
    assert names == ["有效期内高新技术企业", "技术合同成交额"]
    series = list(wb["图表数据"].iter_rows(min_row=2, values_only=True))
    assert any(r[0] == "有效期内高新技术企业" and r[1] == "目标路径" for r in series)


def test_lapsing_export(client_for, officer):
    from openpyxl import load_workbook

    plan = _plan()
    ind = plan.indicators.get(name="有效期内高新技术企业")
    ind.target_year = 2027
    ind.save()
    response = client_for(officer).get(f"/plans/indicators/{ind.pk}/lapsing.xlsx")
    rows = list(
        load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True)
    )
    assert len(rows) == (1 if datetime.date.today() <= datetime.date(2026, 12, 31) else 0)


def test_dashboard_page_and_api_values(client_for, api_for, officer):
    plan = _plan()
    page = client_for(officer).get(f"/plans/{plan.pk}/")
    assert page.status_code == 200 and "chart-data" in page.content.decode()
    data = api_for(officer).get(f"/api/plan-indicators/?plan={plan.pk}").json()["results"]
    assert {d["name"]: d["evaluation"]["target"] for d in data} == {
        "有效期内高新技术企业": 10.0,
        "技术合同成交额": 230.0,
    }


INJECTIONS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example/","点我")', "+1+1", "@SUM(1)"]


def test_report_xlsx_writes_formula_like_names_as_text(client_for, officer):
    from openpyxl import load_workbook

    plan = PlanFactory(title="注入测试")
    for name in INJECTIONS:
        IndicatorFactory(plan=plan, name=name, target_value=10, target_year=2030)
    AssignmentFactory(task=TaskFactory(plan=plan, title=INJECTIONS[1]))
    response = client_for(officer).get(f"/plans/{plan.pk}/report.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    cells = [row[0] for row in book["指标"].iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == sorted(INJECTIONS)
    assert {c.data_type for c in cells} == {"s"}
    tasks = [
        c for row in book["任务"].iter_rows(min_row=2) for c in row if c.value == INJECTIONS[1]
    ]
    assert tasks and all(c.data_type == "s" for c in tasks)


def test_lapsing_xlsx_writes_a_formula_like_enterprise_name_as_text(client_for, officer):
    from openpyxl import load_workbook

    from kechuang.enterprises.tests.factories import EnterpriseFactory

    today = datetime.date.today()
    plan = PlanFactory()
    hte = QualificationTypeFactory(code="HTE")
    QualificationFactory(
        type=hte,
        enterprise=EnterpriseFactory(name=INJECTIONS[1]),
        certificate_no=INJECTIONS[0],
        issued_on=today - datetime.timedelta(days=300),
        expires_on=today + datetime.timedelta(days=400),
    )
    ind = IndicatorFactory(
        plan=plan,
        name="有效期内高新技术企业",
        target_value=10,
        target_year=today.year + 3,
        source_kind=SourceKind.COMPUTED,
        source={"aggregate": "count_valid", "qualification": ["HTE"]},
    )
    response = client_for(officer).get(f"/plans/indicators/{ind.pk}/lapsing.xlsx")
    [row] = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=2))
    assert (row[0].value, row[0].data_type) == (INJECTIONS[1], "s")
    assert (row[3].value, row[3].data_type) == (INJECTIONS[0], "s")
