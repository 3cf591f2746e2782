"""Implausible data is refused the same way in forms, the API and imports (core.validators)."""

from __future__ import annotations

import datetime as dt

import pytest

from kechuang.core.imports import services as imports
from kechuang.core.imports.testing import upload, xlsx_bytes
from kechuang.core.models import ImportStatus
from kechuang.core.validators import AMOUNT_MAX
from kechuang.enterprises.forms import AnnualReportForm, EnterpriseForm
from kechuang.enterprises.models import AnnualReport, Enterprise
from kechuang.enterprises.tests.factories import make_uscc


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _enterprise_data(town, **changes):
    data = {
        "uscc": make_uscc(910_001),
        "name": "上海合理性检查有限公司",
        "jurisdiction": town.pk,
        "listing_status": "unlisted",
    }
    data.update(changes)
    return data


# -- the API -----------------------------------------------------------------------------

IMPLAUSIBLE_ENTERPRISE = [
    ("registered_capital", -1),
    ("registered_capital", 9_999_999_999_999_999),
    ("registered_capital", 2**70),
    ("registered_on", "1899-12-31"),
    ("registered_on", "9999-12-31"),
    ("contact_phone", "1234"),
]


@pytest.mark.parametrize(("field", "value"), IMPLAUSIBLE_ENTERPRISE)
def test_api_refuses_implausible_enterprise_data(api_for, officer, town, field, value):
    response = api_for(officer).post(
        "/api/enterprises/", _enterprise_data(town, **{field: value}), format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert not Enterprise.objects.exists()


def test_api_accepts_plausible_enterprise_data(api_for, officer, town):
    response = api_for(officer).post(
        "/api/enterprises/",
        _enterprise_data(
            town,
            registered_capital=AMOUNT_MAX,
            registered_on="1900-01-01",
            contact_phone="+86 139 1234 5678",
        ),
        format="json",
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("year", [99999, 1989, dt.date.today().year + 1])
def test_api_refuses_an_implausible_annual_report_year(api_for, officer, enterprise, year):
    response = api_for(officer).post(
        "/api/annual-reports/", {"enterprise": enterprise.pk, "year": year}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "year" in response.json()["error"]["details"]
    assert not AnnualReport.objects.exists()


def test_api_refuses_negative_revenue_but_accepts_a_loss(api_for, officer, enterprise):
    api = api_for(officer)
    refused = api.post(
        "/api/annual-reports/",
        {"enterprise": enterprise.pk, "year": 2024, "revenue": -5},
        format="json",
    )
    assert refused.status_code == 400
    accepted = api.post(
        "/api/annual-reports/",
        {"enterprise": enterprise.pk, "year": 2024, "revenue": 5, "profit": -3_000_000},
        format="json",
    )
    assert accepted.status_code == 201, accepted.content


# -- forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("registered_capital", "-1"),
        ("registered_capital", "999999999999999"),  # 万元
        ("registered_capital", "1" * 23),
        ("registered_on", "1899-12-31"),
        ("registered_on", "9999-12-31"),
        ("contact_phone", "1234"),
    ],
)
def test_enterprise_form_refuses_implausible_data(officer, town, field, value):
    form = EnterpriseForm(data=_enterprise_data(town, **{field: value}), user=officer)
    assert not form.is_valid()
    assert field in form.errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("year", "99999"),
        ("year", "²"),
        ("revenue", "1" * 23),
        ("revenue", "-1"),
        ("staff", "1" * 12),
    ],
)
def test_annual_report_form_refuses_implausible_data(field, value):
    form = AnnualReportForm(data={"year": "2024", field: value})
    assert not form.is_valid()
    assert field in form.errors


def test_annual_report_form_accepts_a_loss():
    form = AnnualReportForm(data={"year": "2024", "profit": "-300"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["profit"] == -3_000_000


# -- imports: the bad row is rejected, the good rows are applied -----------------------------

HEADERS = ["统一社会信用代码", "企业名称", "所属街镇", "注册资本(万元)", "成立日期", "联系电话"]


def test_import_rejects_implausible_rows_and_applies_the_valid_ones(officer, town):
    rows = [
        [make_uscc(920_001), "甲", "莘庄镇", 500, "2018-06-01", "13912345678"],
        [make_uscc(920_002), "乙", "莘庄镇", 9_999_999_999_999_999, "2018-06-01", ""],
        [make_uscc(920_003), "丙", "莘庄镇", -5, "2018-06-01", ""],
        [make_uscc(920_004), "丁", "莘庄镇", 10, "1899-12-31", ""],
        [make_uscc(920_005), "戊", "莘庄镇", 10, "9999-12-31", ""],
        [make_uscc(920_006), "己", "莘庄镇", 10, "2018-06-01", "1234"],
        [make_uscc(920_007), "庚", "莘庄镇", "1" * 23, "2018-06-01", ""],
    ]
    job = imports.create_import_job(
        "enterprises", upload("f.xlsx", xlsx_bytes(HEADERS, rows)), acting_user=officer
    )
    imports.run_dry_run(job, acting_user=officer)
    job.refresh_from_db()
    assert job.status == ImportStatus.VALIDATED
    assert job.error_rows == 6
    rejected = {(row, column) for row, column, severity, _message in job.problems}
    assert rejected >= {
        (3, "注册资本(万元)"),
        (4, "注册资本(万元)"),
        (5, "成立日期"),
        (6, "成立日期"),
        (7, "联系电话"),
        (8, "注册资本(万元)"),
    }
    imports.apply_import(job, acting_user=officer)
    job.refresh_from_db()
    assert job.status == ImportStatus.APPLIED
    assert list(Enterprise.objects.values_list("name", "registered_capital")) == [("甲", 5_000_000)]


def test_annual_report_import_rejects_an_implausible_year(officer, enterprise):
    headers = ["统一社会信用代码", "年度", "营业收入(万元)"]
    job = imports.create_import_job(
        "annual_reports",
        upload(
            "r.xlsx",
            xlsx_bytes(headers, [[enterprise.uscc, 99999, 10], [enterprise.uscc, 2024, 10]]),
        ),
        acting_user=officer,
    )
    imports.run_dry_run(job, acting_user=officer)
    job.refresh_from_db()
    assert job.error_rows == 1
    imports.apply_import(job, acting_user=officer)
    assert list(AnnualReport.objects.values_list("year", "revenue")) == [(2024, 100_000)]
