"""Rule language: parsing, type checking, safety limits and error positions."""

import datetime as dt

import pytest

from kechuang.rules.engine import RuleError, Schema, Variable, compile_rule, evaluate_one
from kechuang.rules.engine.policy import load_schema
from kechuang.rules.engine.syntax import MAX_DEPTH, parse

ON = dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def schema():
    return load_schema()


def value(text, schema, facts=None, kind="expression"):
    return evaluate_one(compile_rule(text, schema, kind=kind), facts or {}, on=ON)


def error(text, schema, kind="condition") -> RuleError:
    with pytest.raises(RuleError) as info:
        compile_rule(text, schema, kind=kind)
    return info.value


# --- literals and units ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5000万", 50_000_000.0),
        ("2亿", 200_000_000.0),
        ("1.5亿元", 150_000_000.0),
        ("300元", 300.0),
        ("5%", 0.05),
        ("12.5％", 0.125),
        ("10 + 2 * 3", 16.0),
        ("(10 + 2) * 3", 36.0),
        ("7 / 2", 3.5),
        ("-3 + 1", -2.0),
        ("min(3, 1, 2)", 1.0),
        ("max(3, 1, 2)", 3.0),
        ("abs(-4)", 4.0),
        ("10 × 2 ÷ 4", 5.0),
    ],
)
def test_numbers_and_units(schema, text, expected):
    assert value(text, schema) == expected


def test_money_literal_has_money_type(schema):
    assert compile_rule("5000万", schema, kind="amount").type == "money"
    assert compile_rule("5%", schema, kind="expression").type == "ratio"
    assert compile_rule("3年", schema, kind="expression").type == "duration"


def test_ratio_literal_equals_exact_division(schema):
    # 250万 / 5000万 must compare equal to 5%, or boundary cases would flip.
    facts = {("metric", "rd_expense", -1): 2_500_000, ("metric", "revenue", -1): 50_000_000}
    assert value("rd_ratio >= 5%", schema, facts) is True
    assert value("rd_ratio == 5%", schema, facts) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 < 2 < 3", True),
        ("1 < 3 < 2", False),
        ("2 between 1 and 3", True),
        ("3 between 1 and 3", True),
        ("4 between 1 and 3", False),
        ("true and not false", True),
        ("真 且 非 假", True),
        ("false 或 true", True),
        ("1 ≤ 1 and 2 ≥ 1 and 1 ≠ 2", True),
        ('"软件" in ["软件", "制造"]', True),
        ('"农业" not in ["软件", "制造"]', True),
        ("3 in [1, 2, -3]", False),
        ("-3 in [1, 2, -3]", True),
        ('date("2024-01-01") < date("2024-12-31")', True),
        ('year_end(-1) == date("2023-12-31")', True),
        ('year_start() == date("2024-01-01")', True),
        ('eval_date() == date("2024-06-30")', True),
        ("case when 1 > 2 then 1 when 2 > 1 then 2 else 3 end == 2", True),
    ],
)
def test_operators(schema, text, expected):
    assert value(text, schema, kind="condition") is expected


def test_identifier_may_start_with_keyword(schema):
    extra = Schema(
        [Variable("android_apps", "number", "应用数"), Variable("ending", "number", "期末")]
    )
    rule = compile_rule("android_apps > ending", extra)
    assert rule.requirements == {("field", "android_apps"), ("field", "ending")}


def test_comments_and_newlines(schema):
    text = "# 注册满一年\nyears_registered >= 1  # 含恰满一年\n  and ip_count >= 1"
    assert compile_rule(text, schema).requirements == {
        ("field", "registered_on"),
        ("field", "ip_count"),
    }


# --- requirements ------------------------------------------------------------------------


def test_requirement_keys(schema):
    rule = compile_rule(
        'has_qualification("高新技术企业") and has_qualification("科技型中小企业", valid_on=year_end(-1))'
        ' and has_qualification("院士专家工作站", valid_on=date("2024-12-31"))'
        ' and metric("revenue", year=-2) > revenue and years_since(registered_on) >= 1',
        schema,
    )
    assert rule.requirements == {
        ("qualification", "高新技术企业", "eval_date"),
        ("qualification", "科技型中小企业", "year_end:-1"),
        ("qualification", "院士专家工作站", "2024-12-31"),
        ("metric", "revenue", -2),
        ("metric", "revenue", -1),
        ("field", "registered_on"),
    }


def test_metric_of_formula_shifts_its_inputs(schema):
    rule = compile_rule('metric("rd_ratio", year=-2) > rd_ratio', schema)
    assert rule.requirements == {
        ("metric", "rd_expense", -2),
        ("metric", "revenue", -2),
        ("metric", "rd_expense", -1),
        ("metric", "revenue", -1),
    }


def test_formula_expansion_is_shared_between_rules(schema):
    a = compile_rule("rd_ratio >= 5%", schema)
    b = compile_rule("rd_ratio < 50%", schema)
    assert a.expr.left is b.expr.left  # one node, so bulk evaluation computes it once


# --- schema ------------------------------------------------------------------------------


def test_formula_cycle_is_reported():
    with pytest.raises(RuleError) as info:
        Schema(
            [
                Variable("a", "number", "甲", formula="b + 1", source="formula"),
                Variable("b", "number", "乙", formula="c * 2", source="formula"),
                Variable("c", "number", "丙", formula="a", source="formula"),
            ]
        )
    assert info.value.code == "cycle"
    assert "a → b → c → a" in info.value.message_zh


def test_formula_type_is_checked():
    with pytest.raises(RuleError) as info:
        Schema(
            [
                Variable("d", "date", "日"),
                Variable("r", "ratio", "比", formula="d", source="formula"),
            ]
        )
    assert info.value.code == "type_mismatch"
    assert info.value.source_name == "variable r"


def test_bad_variable_code():
    with pytest.raises(RuleError):
        Schema([Variable("Revenue", "money", "收入")])


# --- errors with positions ---------------------------------------------------------------


def test_unknown_variable_with_suggestion_and_position(schema):
    err = error("years_registered >= 1 and\n  revenu > 5000万", schema)
    assert (err.code, err.line, err.column) == ("unknown_variable", 2, 3)
    assert err.hint["suggestion"] == "revenue"
    assert "revenue" in err.message_zh and "revenue" in err.message_en
    assert "第 2 行第 3 列" in str(err)


def test_unknown_function(schema):
    err = error("sqrt(revenue) > 1", schema)
    assert (err.code, err.line, err.column) == ("unknown_function", 1, 1)


@pytest.mark.parametrize(
    ("text", "code", "column"),
    [
        ('revenue > date("2024-01-01")', "type_mismatch", 11),
        ("revenue and true", "type_mismatch", 1),
        ("registered_on + 1 > 2", "type_mismatch", 1),
        ('"a" < "b"', "type_mismatch", 7),
        ("revenue", "type_mismatch", 1),
        ("min(revenue) > 1", "arity", 1),
        ("abs(1, 2) > 1", "arity", 1),
        ("years_since() > 1", "arity", 1),
        ("years_since(revenue) > 1", "type_mismatch", 13),
        ("has_qualification(revenue)", "bad_argument", 19),
        ('has_qualification("高企")', "unknown_qualification", 19),
        ('has_qualification("高新技术企业", valid_on=registered_on)', "bad_argument", 38),
        ('has_qualification("高新技术企业", at=eval_date())', "bad_argument", 32),
        ('metric("registered_on") > 1', "unknown_variable", 8),
        ('metric("revenue", year=1) > 1', "bad_argument", 24),
        ('metric("revenue", year=0.5) > 1', "bad_argument", 24),
        ('date("2024-02-30") < eval_date()', "bad_date", 6),
        ("revenue in []", "empty_list", 9),
        ('revenue in ["a"]', "type_mismatch", 13),
        ("case when revenue > 1元 then 1 else true end", "type_mismatch", 1),
        ("revenue(1) > 1", "unknown_function", 1),
        ("min > 1", "not_a_variable", 1),
    ],
)
def test_type_and_argument_errors(schema, text, code, column):
    err = error(text, schema)
    assert (err.code, err.column) == (code, column), str(err)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("revenue >", 1, 10),
        ("revenue > > 1", 1, 11),
        ("revenue = 1", 1, 9),
        ("(revenue > 1", 1, 13),
        ("revenue > 1)", 1, 12),
        ("revenue > 1\n and and", 2, 6),
        ("revenue > 'x'", 1, 11),
        ("revenue @ 1", 1, 9),
        ("case when true then 1 end", 1, 23),
    ],
)
def test_syntax_errors_have_positions(schema, text, line, column):
    err = error(text, schema)
    assert (err.code, err.line, err.column) == ("syntax", line, column), str(err)


def test_error_as_dict(schema):
    data = error("revenu > 1", schema).as_dict()
    assert data["code"] == "unknown_variable"
    assert data["line"] == 1 and data["column"] == 1
    assert data["message_zh"] and data["message_en"]


# --- safety ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('__import__("os")', "forbidden_name"),
        ('__import__("os").system("ls")', "forbidden_name"),
        ("x.__class__", "attribute_not_allowed"),
        ("revenue.real > 1", "attribute_not_allowed"),
        ("().__class__", "syntax"),
        ("9**9**9", "power_not_allowed"),
        ("9^9^9 > 1", "power_not_allowed"),
        ("revenue[0] > 1", "subscript_not_allowed"),
        ("99999999999999999999 > 1", "number_too_large"),
        ("1e308 > 1", "syntax"),
        ("_private > 1", "forbidden_name"),
        ("exec('1')", "syntax"),
        ("lambda: 1", "syntax"),
        ("Revenue > 1", "bad_name"),
        ("", "empty"),
        ("   \n ", "empty"),
    ],
)
def test_escapes_are_rejected_at_parse_time(schema, text, code):
    assert error(text, schema).code == code


def test_huge_power_is_never_computed(schema):
    # The classic 9**9**9 would hang CPython; the parser must refuse it outright.
    err = error("9**9**9 > 1", schema)
    assert err.line == 1 and err.column in (2, 5)


def test_ten_thousand_nested_parentheses(schema):
    err = error("(" * 10_000 + "1" + ")" * 10_000 + " > 0", schema)
    assert err.code == "too_deep"
    assert err.column == MAX_DEPTH + 1


@pytest.mark.parametrize(
    "text",
    [
        "not " * 200 + "true",
        "- " * 200 + "revenue > 1",
        "abs(" * 100 + "1" + ")" * 100 + " > 0",
        "[" * 100,
        " and ".join(["(revenue > 1" for _ in range(80)]) + ")" * 80,
    ],
)
def test_deep_nesting_is_a_rule_error_not_recursion_error(schema, text):
    assert error(text, schema).code in ("too_deep", "syntax")


def test_long_flat_rule_within_limit_is_fine(schema):
    text = " or ".join(f"revenue > {i}元" for i in range(400))
    assert len(text) < 10_000
    assert value(text, schema, {("metric", "revenue", -1): 10}, kind="condition") is True


def test_huge_input_is_rejected(schema):
    err = error("revenue > 1 and " * 100_000 + "true", schema)
    assert err.code == "too_long"


def test_non_string_rule_is_rejected(schema):
    with pytest.raises(RuleError):
        parse(None)  # type: ignore[arg-type]
