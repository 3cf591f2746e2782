"""Imports of qualifications and annual reports, and the forms officers type dates and amounts in."""

from __future__ import annotations

import datetime as dt

import pytest

from kechuang.core.imports import services
from kechuang.core.imports.testing import upload, xlsx_bytes
from kechuang.core.models import AuditEntry, ImportStatus
from kechuang.enterprises.models import AnnualReport, Enterprise, Qualification, ReportStatus
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    QualificationTypeFactory,
    make_uscc,
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def hte(db):
    return QualificationTypeFactory(code="HTE", name="高新技术企业", validity_years=3)


def run(user, kind, headers, rows, *, apply=True):
    job = services.create_import_job(
        kind, upload("f.xlsx", xlsx_bytes(headers, rows)), acting_user=user
    )
    services.run_dry_run(job, acting_user=user)
    job.refresh_from_db()
    if apply and job.status == ImportStatus.VALIDATED:
        services.apply_import(job, acting_user=user)
        job.refresh_from_db()
    return job


# -- dates and amounts as officers type them ------------------------------------------

DATES = [
    ("2023-05-01", dt.date(2023, 5, 1)),
    ("2023/5/1", dt.date(2023, 5, 1)),
    ("2023.5.1", dt.date(2023, 5, 1)),
    ("2023年5月1日", dt.date(2023, 5, 1)),
    ("2023年05月01号", dt.date(2023, 5, 1)),
    ("20230501", dt.date(2023, 5, 1)),
    ("２０２３－０５－０１", dt.date(2023, 5, 1)),
    (45047, dt.date(2023, 5, 1)),  # an Excel serial typed into a number cell
    (dt.datetime(2023, 5, 1, 0, 0), dt.date(2023, 5, 1)),
    ("2023-05-01 00:00:00", dt.date(2023, 5, 1)),
]


@pytest.mark.parametrize(("cell", "expected"), DATES)
def test_dates_in_every_form(officer, town, cell, expected):
    job = run(officer, "enterprises", ["统一社会信用代码", "企业名称", "所属街镇", "成立日期"],
              [[make_uscc(800_001), "甲", "莘庄镇", cell]])  # fmt: skip
    assert job.error_rows == 0, job.problems
    assert Enterprise.objects.get().registered_on == expected


AMOUNTS = [
    ("注册资本(万元)", 500, 5_000_000),
    ("注册资本(万元)", "1,234.5", 12_345_000),
    ("注册资本(万元)", "500万元", 5_000_000),
    ("注册资本(万元)", "1.2亿", 120_000_000),
    ("注册资本(万元)", "3000元", 3_000),
    ("注册资本(万元)", "壹佰万元整", 1_000_000),
    ("注册资本(万元)", "￥200万", 2_000_000),
    ("注册资本(元)", 500, 500),
    ("注册资本(亿元)", 1.5, 150_000_000),
    ("注册资本", 80, 800_000),  # no unit in the header: 万元
    ("注册资本（万元）", "８０", 800_000),
]


@pytest.mark.parametrize(("header", "cell", "yuan"), AMOUNTS)
def test_amounts_honour_the_header_unit(officer, town, header, cell, yuan):
    job = run(officer, "enterprises", ["统一社会信用代码", "企业名称", "所属街镇", header],
              [[make_uscc(800_002), "甲", "莘庄镇", cell]])  # fmt: skip
    assert job.error_rows == 0, job.problems
    assert Enterprise.objects.get().registered_capital == yuan


@pytest.mark.parametrize("cell", ["五百多", "1,23,4", "abc", "2023-13-01"])
def test_unreadable_amounts_are_rejected_with_the_value(officer, town, cell):
    job = run(officer, "enterprises", ["统一社会信用代码", "企业名称", "所属街镇", "注册资本(万元)"],
              [[make_uscc(800_003), "甲", "莘庄镇", cell]], apply=False)  # fmt: skip
    assert job.error_rows == 1
    assert job.problems[0][1] == "注册资本(万元)"
    assert cell in job.problems[0][3]


# -- qualifications --------------------------------------------------------------------

Q_HEADERS = ["统一社会信用代码", "企业名称", "资质类型", "证书编号", "认定日期", "有效期至"]


def test_qualifications_import_by_code_or_name_and_compute_expiry(officer, enterprise, hte):
    rows = [
        [enterprise.uscc, enterprise.name, "高新技术企业", "GR2023001", "2023年11月15日", None],
        [enterprise.uscc, None, "HTE", "GR2020001", "2020-12-01", "2023-11-30"],
        [enterprise.uscc, None, "高企", None, "2017-12-01", None],
    ]
    job = run(officer, "qualifications", Q_HEADERS, rows)
    assert job.outcome["created"] == 3, job.problems
    latest = Qualification.objects.get(certificate_no="GR2023001")
    assert latest.type == hte and latest.expires_on == dt.date(2026, 11, 14)
    assert Enterprise.objects.get(pk=enterprise.pk).data_changed_at is not None
    again = run(officer, "qualifications", Q_HEADERS, rows)
    assert again.outcome == {"created": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    rows[0][3] = "GR2023001-A"
    third = run(officer, "qualifications", Q_HEADERS, rows)
    assert third.outcome["updated"] == 1
    entry = AuditEntry.objects.filter(event=f"import:{third.pk}").get()
    assert entry.changes == {"certificate_no": ["GR2023001", "GR2023001-A"]}


def test_qualification_problems(officer, town_officer, enterprise, other_enterprise, hte):
    rows = [
        [make_uscc(800_010), None, "高新技术企业", None, "2023-01-01", None],  # not in register
        [enterprise.uscc, None, "诺贝尔奖", None, "2023-01-01", None],  # unknown type
        [enterprise.uscc, None, "HTE", None, "2023-01-01", "2022-01-01"],  # expiry before issue
        [other_enterprise.uscc, None, "HTE", None, "2023-01-01", None],  # another town
        [enterprise.uscc, "别的名字", "HTE", None, "2023-01-02", None],  # warning only
        [enterprise.uscc, None, "HTE", None, "2023-01-02", None],  # duplicate key
    ]
    job = run(town_officer, "qualifications", Q_HEADERS, rows, apply=False)
    by_row = {}
    for number, column, severity, message in job.problems:
        by_row.setdefault(number, []).append((column, severity, message))
    assert (
        by_row[2][0][0] == "统一社会信用代码"
        and "先" in by_row[2][0][2]
        or "first" in by_row[2][0][2]
    )
    assert by_row[3][0][0] == "资质类型" and "高新技术企业" in by_row[3][0][2]
    assert by_row[4][0][0] == "有效期至"
    assert by_row[5][0][1] == "error"
    assert by_row[6] == [("企业名称", "warning", by_row[6][0][2])]
    assert by_row[7][0][1] == "error"
    assert job.valid_rows == 1


# -- annual reports --------------------------------------------------------------------

R_HEADERS = [
    "统一社会信用代码",
    "年度",
    "营业收入(万元)",
    "研发费用(万元)",
    "从业人数",
    "科技人员数",
]


def test_annual_reports_upsert_and_never_overwrite_a_confirmed_year(officer, enterprise):
    AnnualReportFactory(
        enterprise=enterprise, year=2022, revenue=10_000_000, status=ReportStatus.CONFIRMED
    )
    rows = [
        [enterprise.uscc, 2023, "3,000", 200.5, 80, 25],
        [enterprise.uscc, 2022, 1000, None, None, None],  # same as confirmed: unchanged
    ]
    job = run(officer, "annual_reports", R_HEADERS, rows)
    assert job.outcome == {"created": 1, "updated": 0, "unchanged": 1, "rejected": 0}
    report = AnnualReport.objects.get(year=2023)
    assert (report.revenue, report.rd_expense, report.staff) == (30_000_000, 2_005_000, 80)
    assert report.status == ReportStatus.SUBMITTED and report.source == "import"

    rows = [
        [enterprise.uscc, 2023, "3,100", None, None, None],
        [enterprise.uscc, 2022, 999, None, None, None],
    ]
    job = run(officer, "annual_reports", R_HEADERS, rows)
    assert job.outcome["updated"] == 1 and job.outcome["rejected"] == 1
    conflict = [p for p in job.problems if p[2] == "error"][0]
    assert conflict[0] == 3 and "2022" in conflict[3]
    assert AnnualReport.objects.get(year=2022).revenue == 10_000_000
    assert AnnualReport.objects.get(year=2023).revenue == 31_000_000


def test_annual_report_checks(officer, enterprise):
    future = dt.date.today().year + 1
    rows = [
        [enterprise.uscc, future, 1, 1, 1, 1],
        [enterprise.uscc, 2023, 1, 1, -5, 1],
        [enterprise.uscc, 2021, 1, 1, 10, 20],  # warning: more tech staff than staff
    ]
    job = run(officer, "annual_reports", R_HEADERS, rows, apply=False)
    severities = {(p[0], p[1], p[2]) for p in job.problems}
    assert (2, "年度", "error") in severities
    assert (3, "从业人数", "error") in severities
    assert (4, "科技人员数", "warning") in severities
