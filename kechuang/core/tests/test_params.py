"""Bounded request parameters: malformed ids, numbers, periods and dates are a 400, never a 500."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kechuang.core.params import (
    INT64_MAX,
    ParamError,
    parse_date_param,
    parse_decimal_param,
    parse_id,
    parse_int_param,
    parse_period,
    parse_year,
)

HUGE = str(2**70)


# -- the parsers ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "٣", "1²", "1e3", "0x10", " ", "1_000", "١٢", HUGE])
def test_ids_accept_ascii_digits_within_64_bits_only(value):
    with pytest.raises(ParamError):
        parse_id(value)


def test_ids_accept_full_width_digits_and_the_64_bit_maximum():
    assert parse_id("１２３") == 123
    assert parse_id(str(INT64_MAX)) == INT64_MAX
    with pytest.raises(ParamError):
        parse_id(str(INT64_MAX + 1))
    with pytest.raises(ParamError):
        parse_id("0")


def test_int_param_bounds_and_message_names_the_range():
    assert parse_int_param("-1", min_value=-1, max_value=1) == -1
    with pytest.raises(ParamError, match="1"):
        parse_int_param("2", min_value=-1, max_value=1)


def test_a_param_error_is_a_bad_request_with_its_name():
    from django.core.exceptions import BadRequest

    with pytest.raises(BadRequest) as info:
        parse_year("99999", name="year")
    assert info.value.name == "year"


@pytest.mark.parametrize("value", ["1" * 23, "1.23456", "１e5", "NaN", "Infinity", "--1"])
def test_decimal_params_have_bounded_digits(value):
    with pytest.raises(ParamError):
        parse_decimal_param(value, max_digits=14, decimal_places=4)


def test_decimal_param_reads_a_plain_number():
    assert parse_decimal_param("１２.５", max_digits=14, decimal_places=4) == Decimal("12.5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025", ("yearly", dt.date(2025, 1, 1))),
        ("2025Q3", ("quarterly", dt.date(2025, 7, 1))),
        ("2025H2", ("half_year", dt.date(2025, 7, 1))),
        ("2025-03", ("monthly", dt.date(2025, 3, 1))),
    ],
)
def test_periods(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["0000Q1", "9999Q1", "2025Q5", "2025-13", "2025-00", "²⁰²⁵Q1"])
def test_implausible_periods_are_refused(text):
    with pytest.raises(ParamError):
        parse_period(text)


@pytest.mark.parametrize("text", ["9999-12-31", "1899-12-31", "2025-02-30", "2025-1-1", "0"])
def test_date_params_are_iso_and_plausible(text):
    with pytest.raises(ParamError):
        parse_date_param(text)


# -- the API: every error in the documented body ------------------------------------------


def _assert_error_body(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    return error


@pytest.mark.parametrize(
    "url",
    [
        "/api/annual-reports/?enterprise=" + HUGE,
        "/api/annual-reports/?year=²",
        "/api/annual-reports/?year=99999",
        "/api/enterprises/?year=²",
        "/api/enterprises/?revenue_min=" + "1" * 23,
        "/api/enterprises/?staff_min=" + HUGE,
        "/api/qualifications/?valid_on=9999-12-31",
        "/api/plans/?period_end=" + HUGE,
        "/api/verdicts/?snapshot=²",
        "/api/verdicts/?enterprise=" + HUGE,
        "/api/verdicts/?verdict=2",
    ],
)
def test_malformed_api_parameters_answer_400_in_the_error_body(api_for, officer, url):
    error = _assert_error_body(api_for(officer).get(url), 400)
    assert error["code"] == "invalid"
    assert error["details"]


def test_explain_with_a_unicode_digit_rule_is_not_a_crash(api_for, officer, enterprise):
    api = api_for(officer)
    _assert_error_body(api.get(f"/api/explain/{enterprise.pk}/?rule=²"), 404)
    _assert_error_body(api.get(f"/api/explain/{enterprise.pk}/?rule={HUGE}"), 400)


def test_huge_and_non_numeric_ids_in_api_paths_are_404_in_the_error_body(api_for, officer):
    api = api_for(officer)
    _assert_error_body(api.get(f"/api/enterprises/{HUGE}/"), 404)
    _assert_error_body(api.get("/api/enterprises/abc/"), 404)
    _assert_error_body(api.get("/api/no-such-endpoint/"), 404)


def test_progress_report_period_0000q1_is_a_400(api_for, officer):
    response = api_for(officer).post(
        "/api/plan-progress-reports/",
        {"task": 1, "unit": 1, "period": "0000Q1", "text": "x"},
        format="json",
    )
    _assert_error_body(response, 400)


def test_an_unexpected_exception_is_a_500_in_the_error_body(api_for, officer, monkeypatch):
    from kechuang.core import api as core_api

    def boom(self, request, *args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(core_api.JurisdictionViewSet, "list", boom)
    client = api_for(officer)
    client.raise_request_exception = False
    response = client.get("/api/jurisdictions/")
    error = _assert_error_body(response, 500)
    assert error["code"] == "server_error"
    assert "secret detail" not in response.content.decode()


def test_schema_documents_the_error_body_on_every_operation(client):
    response = client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = response.json()
    assert "Error" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404", "500"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/Error"}, (path, method, status)


# -- pages: a Chinese message with a 400 ----------------------------------------------------


def test_non_numeric_pk_in_the_audit_history_url_is_a_400_page(client_for, officer, enterprise):
    client = client_for(officer)
    for pk in ("abc", "²", HUGE):
        response = client.get(f"/core/audit/enterprises/enterprise/{pk}/")
        assert response.status_code == 400, pk
        assert "整数" in response.content.decode() or "范围" in response.content.decode()
    assert client.get(f"/core/audit/enterprises/enterprise/{enterprise.pk}/").status_code == 200


@pytest.mark.parametrize("query", ["year=²", f"year={HUGE}", "year=99999"])
def test_annual_report_page_year_parameter_is_bounded(client_for, officer, enterprise, query):
    response = client_for(officer).get(f"/enterprises/{enterprise.pk}/report/?{query}")
    assert response.status_code == 400
    assert "允许的范围" in response.content.decode() or "整数" in response.content.decode()


def test_expiring_list_days_parameter_is_bounded(client_for, officer):
    client = client_for(officer)
    assert client.get("/enterprises/expiring/?days=²").status_code == 400
    assert client.get(f"/enterprises/expiring/?days={HUGE}").status_code == 400
    assert client.get("/enterprises/expiring/?days=30").status_code == 200


def test_enterprise_list_filter_with_a_huge_year_shows_the_form_error(client_for, officer):
    response = client_for(officer).get(f"/enterprises/?year={HUGE}&revenue_min={'9' * 23}")
    assert response.status_code == 200
    assert "允许的范围" in response.content.decode()


def test_verdict_page_date_parameter_is_bounded(client_for, officer, enterprise):
    client = client_for(officer)
    url = f"/rules/enterprise/{enterprise.pk}/"
    assert client.get(url + "?on=9999-12-31").status_code == 400
    assert client.get(url + "?on=2025-03-01").status_code == 200


def test_filter_values_with_percent_signs_and_huge_multiple_choices_are_400(api_for, officer):
    api = api_for(officer)
    error = _assert_error_body(api.get("/api/annual-reports/?year=%25d%25s"), 400)
    assert "%d%s" in error["details"]["year"][0]
    _assert_error_body(api.get("/api/enterprises/?sector=-" + HUGE), 400)


def test_huge_ids_in_page_urls_are_404(client_for, officer):
    client = client_for(officer)
    for url in (f"/enterprises/{HUGE}/", f"/policies/{HUGE}/", f"/plans/tasks/{HUGE}/"):
        assert client.get(url).status_code == 404, url


def test_policy_eligible_page_town_parameter_is_bounded(client_for, officer):
    from kechuang.policies.models import Policy, PolicyItem

    item = PolicyItem.objects.create(policy=Policy.objects.create(title="示例政策"), title="示例")
    response = client_for(officer).get(f"/policies/items/{item.pk}/eligible/?town=²")
    assert response.status_code == 400
