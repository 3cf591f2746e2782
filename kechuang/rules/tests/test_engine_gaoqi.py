"""The 高新技术企业认定 rule, clause by clause: boundaries, unknowns and explanations."""

import datetime as dt

import pytest

from kechuang.rules.engine import Verdict, explain_amount
from kechuang.rules.engine.policy import load_library, load_schema

ON = dt.date(2024, 6, 30)
W = 10_000  # 1 万元 in yuan


@pytest.fixture(scope="module")
def schema():
    return load_schema()


@pytest.fixture(scope="module")
def gaoqi(schema):
    return load_library(schema=schema)["gaoqi_recognition"]


def enterprise(**changes):
    """A complete, eligible enterprise; keyword arguments override or drop (None) facts."""
    base = {
        "registered_on": dt.date(2019, 5, 1),
        "invention_patents_valid": 1,
        "ip_count": 3,
        "staff": 100,
        "tech_staff": 20,
        "revenue": 4800 * W,
        "rd_expense": 300 * W,
        "hightech_revenue": 4000 * W,
    }
    base.update(changes)
    keys = {
        "registered_on": ("field", "registered_on"),
        "invention_patents_valid": ("field", "invention_patents_valid"),
        "ip_count": ("field", "ip_count"),
    }
    return {keys.get(k, ("metric", k, -1)): v for k, v in base.items() if v is not None}


def conditions(result):
    return {c.code: c.result for c in result.tree.children}


def test_complete_enterprise_is_eligible(gaoqi):
    result = gaoqi.assess(enterprise(), on=ON)
    assert result.verdict is Verdict.ELIGIBLE
    assert all(conditions(result).values())
    assert result.missing == []


def test_manual_conditions_are_listed_never_passed(gaoqi):
    result = gaoqi.assess(enterprise(), on=ON)
    assert result.needs_review
    assert any("重大安全" in text for text in result.manual_conditions)
    assert "待人工核实" in result.text()


# --- registered >= 1 year ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("registered_on", "met"),
    [
        (dt.date(2023, 6, 30), True),  # exactly one year
        (dt.date(2023, 7, 1), False),  # one day short
        (dt.date(2023, 6, 29), True),
        (dt.date(2024, 6, 30), False),
    ],
)
def test_registered_one_year_boundary(gaoqi, registered_on, met):
    result = gaoqi.assess(enterprise(registered_on=registered_on), on=ON)
    assert conditions(result)["registered_one_year"] is met


def test_registered_on_29_february(gaoqi):
    facts = enterprise(registered_on=dt.date(2020, 2, 29))
    assert conditions(gaoqi.assess(facts, on=dt.date(2021, 2, 28)))["registered_one_year"] is False
    assert conditions(gaoqi.assess(facts, on=dt.date(2021, 3, 1)))["registered_one_year"] is True


# --- core IP -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patents", "ip", "met"),
    [
        (1, 0, True),
        (0, 1, True),
        (0, 0, False),
        (None, 1, True),
        (None, 0, None),
        (None, None, None),
    ],
)
def test_core_ip(gaoqi, patents, ip, met):
    result = gaoqi.assess(enterprise(invention_patents_valid=patents, ip_count=ip), on=ON)
    assert conditions(result)["core_ip"] is met


# --- tech staff >= 10 % ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tech", "staff", "met"), [(10, 100, True), (9, 100, False), (1, 10, True), (3, 31, False)]
)
def test_tech_staff_ratio_boundary(gaoqi, tech, staff, met):
    result = gaoqi.assess(enterprise(tech_staff=tech, staff=staff), on=ON)
    assert conditions(result)["tech_staff_ratio"] is met


# --- R&D ratio by revenue band -----------------------------------------------------------


@pytest.mark.parametrize(
    ("revenue_wan", "rd_wan", "met"),
    [
        (5000, 250, True),  # exactly 5,000 万 is in the first band; exactly 5 % passes
        (5000, 249.99, False),
        (5000, 240, False),  # 4.8 % would pass the 4 % band, but 5,000 万 is not in it
        (5000.01, 200.0004, True),  # just above 5,000 万: 4 % band, exactly 4 %
        (5000.01, 200, False),
        (20000, 800, True),  # exactly 2 亿 is in the 4 % band
        (20000, 799, False),
        (20000.01, 600.0003, True),  # above 2 亿: 3 % band
        (30000, 899, False),
        (100, 5, True),
        (100, 4.99, False),
    ],
)
def test_rd_ratio_bands(gaoqi, revenue_wan, rd_wan, met):
    revenue, rd = round(revenue_wan * W, 2), round(rd_wan * W, 2)
    facts = enterprise(revenue=revenue, rd_expense=rd, hightech_revenue=revenue)
    assert conditions(gaoqi.assess(facts, on=ON))["rd_ratio_by_revenue"] is met


def test_rd_ratio_explanation_reads_like_an_officer(gaoqi):
    result = gaoqi.assess(enterprise(revenue=4800 * W, rd_expense=153.6 * W), on=ON)
    assert result.verdict is Verdict.NOT_ELIGIBLE
    [leaf] = result.decided_by
    assert leaf.text.startswith("研发费用占营业收入比例 3.2% < 要求 5%")
    assert (leaf.left, leaf.op, leaf.right) == (pytest.approx(0.032), ">=", 0.05)
    notes = " ".join(leaf.notes)
    assert "研发费用（2023年度） 153.6万元" in notes
    assert "营业收入（2023年度） 4,800万元 ≤ 5,000万元" in notes


# --- high-tech revenue >= 60 % -----------------------------------------------------------


@pytest.mark.parametrize(("hightech_wan", "met"), [(3000, True), (2999.99, False), (5000, True)])
def test_hightech_revenue_ratio_boundary(gaoqi, hightech_wan, met):
    facts = enterprise(
        revenue=5000 * W, rd_expense=300 * W, hightech_revenue=round(hightech_wan * W, 2)
    )
    assert conditions(gaoqi.assess(facts, on=ON))["hightech_revenue_ratio"] is met


# --- unknowns ----------------------------------------------------------------------------


def test_missing_rd_expense_is_unknown_with_the_right_requirement(gaoqi):
    result = gaoqi.assess(enterprise(rd_expense=None), on=ON)
    assert result.verdict is Verdict.UNKNOWN
    assert [m.key for m in result.missing] == [("metric", "rd_expense", -1)]
    assert result.missing[0].label == "研发费用（2023年度）"
    assert "缺少数据：研发费用（2023年度）" in result.text()


def test_missing_revenue_is_needed_for_three_clauses_but_listed_once(gaoqi):
    result = gaoqi.assess(enterprise(revenue=None), on=ON)
    assert result.verdict is Verdict.UNKNOWN
    assert [m.key for m in result.missing] == [("metric", "revenue", -1)]
    assert conditions(result)["hightech_revenue_ratio"] is None


def test_false_beats_unknown(gaoqi):
    result = gaoqi.assess(enterprise(rd_expense=None, ip_count=0, invention_patents_valid=0), on=ON)
    assert result.verdict is Verdict.NOT_ELIGIBLE
    assert result.missing == []  # nothing more to ask: the verdict is settled
    assert [c.code for c in result.tree.children if c.decisive] == ["core_ip"]


def test_true_or_unknown_is_true(gaoqi):
    result = gaoqi.assess(enterprise(invention_patents_valid=None, ip_count=2), on=ON)
    assert conditions(result)["core_ip"] is True


def test_nothing_known(gaoqi):
    result = gaoqi.assess({}, on=ON)
    assert result.verdict is Verdict.UNKNOWN
    assert {m.key[1] for m in result.missing} == {
        "registered_on", "invention_patents_valid", "ip_count", "staff",
        "tech_staff", "revenue", "rd_expense", "hightech_revenue",
    }  # fmt: skip


def test_division_by_zero_is_unknown_and_explained(gaoqi):
    result = gaoqi.assess(enterprise(staff=0, tech_staff=0), on=ON)
    assert result.verdict is Verdict.UNKNOWN
    assert conditions(result)["tech_staff_ratio"] is None
    assert result.missing == []
    leaf = next(c for c in result.decided_by if "科技人员" in c.text)
    assert any("职工总数（2023年度）为 0" in note for note in leaf.notes)


def test_nan_and_none_are_missing(gaoqi):
    assert gaoqi.assess(enterprise(rd_expense=float("nan")), on=ON).verdict is Verdict.UNKNOWN


def test_explanation_as_dict_is_json_friendly(gaoqi):
    import json

    data = gaoqi.assess(enterprise(rd_expense=None), on=ON).as_dict()
    text = json.dumps(data, ensure_ascii=False)
    assert data["verdict"] == "unknown" and "rd_expense" in text


# --- amounts -----------------------------------------------------------------------------


def test_amount_formula_explained(schema):
    from kechuang.rules.engine import compile_rule

    amount = compile_rule("min(rd_expense * 10%, 50万)", schema, kind="amount")
    out = explain_amount(amount, {("metric", "rd_expense", -1): 235 * W}, on=ON)
    assert out.value == pytest.approx(23.5 * W)
    assert "23.5万元" in out.text
    assert explain_amount(amount, {}, on=ON).missing[0].key == ("metric", "rd_expense", -1)


def test_fifty_rules_explained_fast(gaoqi):
    import time

    facts = enterprise()
    rules = [gaoqi] * 50
    start = time.perf_counter()
    for rule in rules:
        rule.assess(facts, on=ON)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5  # target is 20 ms; generous here so slow CI machines do not flake
