"""Units in the rule language: money, ratio, count and duration never mix silently."""

import datetime as dt

import pytest

from kechuang.rules.engine import (
    RuleError,
    Schema,
    Variable,
    compile_rule,
    evaluate_one,
    explain,
)
from kechuang.rules.engine.policy import LIBRARY_DIR, load_schema, parse_amount
from kechuang.rules.engine.types import NUMERIC_TYPES, ValueType

ON = dt.date(2024, 6, 30)
REVENUE = ("metric", "revenue", -1)


@pytest.fixture(scope="module")
def schema():
    return load_schema()


def error(text, schema, kind="condition") -> RuleError:
    with pytest.raises(RuleError) as info:
        compile_rule(text, schema, kind=kind)
    return info.value


# --- the examples -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("revenue >= 5%", 12, "无法比较金额与比例"),
        ("rd_ratio >= 500万", 13, "无法比较比例与金额"),
        ("revenue + rd_ratio > 3", 11, "金额与比例不能相加"),
    ],
)
def test_mixing_money_and_ratio_is_a_compile_error_naming_both(schema, text, column, message):
    err = error(text, schema)
    assert (err.code, err.line, err.column) == ("unit_mismatch", 1, column), str(err)
    assert err.message_zh == message


def test_bare_number_compared_with_money_is_refused_where_it_stands(schema):
    # An officer wrote 5000 meaning 5000万; the engine would have read 5000 元.
    err = error("revenue > 5000", schema)
    assert (err.code, err.line, err.column) == ("money_needs_unit", 1, 11)
    assert err.message_zh.startswith("金额需要带单位，例如 5000万")
    assert "第 1 行第 11 列" in str(err)


def test_unit_error_position_on_a_later_line(schema):
    err = error("years_registered >= 1\nand revenue > 5000", schema)
    assert (err.code, err.line, err.column) == ("money_needs_unit", 2, 15)


def test_bare_fraction_for_a_ratio_is_refused(schema):
    err = error("rd_ratio >= 0.05", schema)
    assert (err.code, err.column) == ("ratio_needs_percent", 13)
    assert "5%" in err.message_zh


# --- what compiles --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "revenue > 0",  # zero is zero in every unit
        "rd_ratio > 0",
        "revenue >= 5000万 and revenue <= 1.2亿 and total_assets > 300元",
        "rd_ratio >= 3% and tech_staff_ratio >= 10%",
        "rd_expense >= revenue * 5%",  # money × ratio is money
        "rd_expense * 2 <= revenue",  # a plain factor keeps the kind
        "rd_expense / revenue >= 3%",  # money / money is a ratio
        "revenue / staff >= 100万",  # money / count: per head
        "tech_staff * 1万 >= 10万",  # count × money: per-head amounts
        "tech_staff >= staff * 10%",  # count × ratio is a count
        "staff <= 500 and invention_patents_valid + ip_count >= 3",
        "years_registered >= 3 and years_registered >= 3年",
        "years_since(registered_on) between 1年 and 10",
        "days_since(registered_on) >= 30",
        "revenue between 2000万 and 4亿",
        "staff in [100, 200]",
        "revenue in [0, 5000万]",
        "min(rd_expense * 20%, 50万) > 0",
        "coalesce(rd_expense, 0) >= 10万",
        "5000万 < revenue <= 2亿",
        "rd_ratio >= case when revenue <= 5000万 then 5% when revenue <= 2亿 then 4% else 3% end",
    ],
)
def test_quantities_of_one_kind_compile(schema, text):
    assert compile_rule(text, schema).unit_problems == ()


@pytest.mark.parametrize(
    ("text", "code", "column"),
    [
        ("staff > 3年", "unit_mismatch", 9),  # count vs duration
        ("years_registered >= 3%", "unit_mismatch", 21),
        ("revenue * rd_expense > 1亿", "unit_mismatch", 11),  # money × money
        ("staff / revenue > 1", "unit_mismatch", 9),  # count ÷ money
        ("rd_ratio + 1 > 5%", "ratio_needs_percent", 12),
        ("revenue - 100 > 0", "money_needs_unit", 11),
        ("revenue > 1000 * 10000", "money_needs_unit", 16),  # still a bare number
        ("min(revenue, 5000) > 0", "money_needs_unit", 14),
        ("max(rd_ratio, revenue) > 0", "unit_mismatch", 15),
        ("coalesce(rd_expense, 100) > 1万", "money_needs_unit", 22),
        ("revenue in [5000]", "money_needs_unit", 13),
        ("revenue between 2000 and 4亿", "money_needs_unit", 17),
        ("case when staff > 10 then 5% else 0.03 end > 1%", "ratio_needs_percent", 35),
        ("case when staff > 10 then 10万 else 3% end > 0", "unit_mismatch", 36),
    ],
)
def test_mixed_kinds_are_refused_with_position(schema, text, code, column):
    err = error(text, schema)
    assert (err.code, err.column) == (code, column), str(err)


def test_min_max_require_the_same_kind(schema):
    err = error("max(staff, years_registered) > 1", schema)
    assert err.code == "unit_mismatch"
    assert "数量" in err.message_zh and "年限" in err.message_zh


# --- amount formulas ------------------------------------------------------------------


def test_amount_formula_must_give_money(schema):
    assert compile_rule("min(rd_expense * 10%, 100万)", schema, kind="amount").type == "money"
    assert compile_rule("tech_staff * 2万", schema, kind="amount").type == "money"
    assert error("5%", schema, kind="amount").code == "unit_mismatch"
    assert error("200000", schema, kind="amount").code == "money_needs_unit"
    err = error("staff * 2", schema, kind="amount")
    assert err.message_zh == "金额公式的结果必须是金额，这里是数量"


def test_amount_tiers_are_checked_like_conditions(schema):
    err = error("case when revenue >= 1亿 then 30万 else 200000 end", schema, kind="amount")
    assert (err.code, err.column) == ("money_needs_unit", 39)


# --- variables ------------------------------------------------------------------------


def test_every_shipped_numeric_variable_declares_its_kind(schema):
    numeric = [v for v in schema.variables.values() if v.type in NUMERIC_TYPES]
    assert numeric
    assert all(v.type is not ValueType.NUMBER for v in numeric), [v.code for v in numeric]
    assert schema["staff"].type is ValueType.COUNT
    assert schema["years_registered"].type is ValueType.DURATION


def _with(*extra: Variable, strict: bool = True) -> Schema:
    base = load_schema(LIBRARY_DIR / "variables.yaml")
    return Schema([*base.variables.values(), *extra], strict_units=strict)


def test_formula_variable_must_give_its_declared_kind():
    bad = Variable("rd_share", "money", "研发占比（误作金额）", formula="rd_expense / revenue")
    with pytest.raises(RuleError) as info:
        _with(bad)
    assert info.value.code == "unit_mismatch"
    assert "声明为金额" in info.value.message_zh and "比例" in info.value.message_zh


def test_formula_with_unit_error_is_kept_when_lenient_but_new_rules_cannot_use_it():
    bad = Variable("big", "money", "超出部分", formula="revenue - 5000")
    schema = _with(bad, strict=False)
    assert [p.code for p in schema.unit_problems["big"]] == ["money_needs_unit"]
    err = error("staff > 1 and big > 0", schema)
    assert (err.code, err.column) == ("money_needs_unit", 15)
    assert "公式变量 big" in err.message_zh
    lenient = compile_rule("big > 0", schema, strict_units=False)
    assert [p.code for p in lenient.unit_problems] == ["money_needs_unit"]


# --- text stored before unit checks ---------------------------------------------------


def test_lenient_compile_keeps_the_old_meaning_and_lists_the_problem(schema):
    rule = compile_rule("revenue > 5000 and rd_ratio >= 0.05", schema, strict_units=False)
    assert [(p.code, p.column) for p in rule.unit_problems] == [
        ("money_needs_unit", 11),
        ("ratio_needs_percent", 32),
    ]
    facts = {REVENUE: 6000.0, ("metric", "rd_expense", -1): 600.0}
    assert evaluate_one(rule, facts, on=ON) is True  # a bare number was, and stays, 元


def test_lenient_compile_still_refuses_other_errors(schema):
    with pytest.raises(RuleError) as info:
        compile_rule("revenu > 5000", schema, strict_units=False)
    assert info.value.code == "unknown_variable"


# --- display and test inputs ----------------------------------------------------------


def test_duration_literal_reads_in_years(schema):
    rule = compile_rule("years_registered >= 3年", schema)
    text = explain(rule, {("field", "registered_on"): dt.date(2020, 1, 1)}, on=ON).text()
    assert "注册成立年限 4 年 ≥ 要求 3 年" in text


@pytest.mark.parametrize(
    ("raw", "vtype", "expected"),
    [
        ("5000万", ValueType.MONEY, 50_000_000.0),
        ("300元", ValueType.MONEY, 300.0),
        (0, ValueType.MONEY, 0.0),
        ("5%", ValueType.RATIO, 0.05),
        (120, ValueType.COUNT, 120.0),
        ("3年", ValueType.DURATION, 3.0),
    ],
)
def test_test_case_inputs_read_with_their_units(raw, vtype, expected):
    assert parse_amount(raw, vtype) == expected


@pytest.mark.parametrize(
    ("raw", "vtype"),
    [(5000, ValueType.MONEY), ("0.05", ValueType.RATIO), ("5%", ValueType.MONEY)],
)
def test_test_case_money_without_unit_is_refused(raw, vtype):
    with pytest.raises(ValueError):
        parse_amount(raw, vtype)
