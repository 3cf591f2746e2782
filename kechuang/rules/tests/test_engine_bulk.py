"""Vectorised evaluation: column encodings, three-valued logic, and agreement with explain()."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kechuang.rules.engine import (
    BulkEvaluator,
    Schema,
    Variable,
    compile_rule,
    evaluate_bulk,
    evaluate_one,
    evaluate_values,
    explain,
    facts_from_columns,
)
from kechuang.rules.engine.policy import LIBRARY_DIR, load_library

ON = dt.date(2024, 6, 30)
W = 10_000


@pytest.fixture(scope="module")
def schema():
    import yaml

    data = yaml.safe_load((LIBRARY_DIR / "variables.yaml").read_text(encoding="utf-8"))
    extra = [
        Variable("industry", "text", "所属行业"),
        Variable("listed", "bool", "是否上市"),
    ]
    return Schema([Variable.from_dict(d) for d in data["variables"]] + extra)


# --- three-valued logic ------------------------------------------------------------------

T, F, U = 1, 0, -1


def truth_column(values):
    return np.array(values, dtype=np.int8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("listed and x", [T, F, U, F, F, F, U, F, U]),
        ("listed or x", [T, T, T, T, F, U, T, U, U]),
        ("not listed", [F, F, F, T, T, T, U, U, U]),
        ("listed == x", [T, F, U, F, T, U, U, U, U]),
        ("listed != x", [F, T, U, T, F, U, U, U, U]),
    ],
)
def test_kleene_truth_tables(text, expected):
    schema = Schema([Variable("listed", "bool", "甲"), Variable("x", "bool", "乙")])
    rule = compile_rule(text, schema)
    a = [T, T, T, F, F, F, U, U, U]
    b = [T, F, U, T, F, U, T, F, U]
    columns = {("field", "listed"): truth_column(a), ("field", "x"): truth_column(b)}
    assert evaluate_bulk(rule, columns, 9, on=ON).tolist() == expected
    for i in range(9):
        facts = {("field", "listed"): a[i], ("field", "x"): b[i]}
        got = evaluate_one(rule, facts, on=ON)
        assert {True: T, False: F, None: U}[got] == expected[i]


def test_division_by_zero_is_unknown(schema):
    rule = compile_rule("rd_ratio >= 5%", schema)
    columns = {
        ("metric", "rd_expense", -1): np.array([1.0, 0.0, 5.0, np.nan]),
        ("metric", "revenue", -1): np.array([0.0, 0.0, 100.0, 100.0]),
    }
    assert evaluate_bulk(rule, columns, 4, on=ON).tolist() == [U, U, T, U]


def test_constant_rule_broadcasts(schema):
    assert evaluate_bulk(compile_rule("1 < 2", schema), {}, 3).tolist() == [T, T, T]
    assert evaluate_bulk(compile_rule("1 / 0 > 2", schema), {}, 2).tolist() == [U, U]


# --- column encodings --------------------------------------------------------------------


def test_date_columns_accept_datetime64_and_day_numbers(schema):
    rule = compile_rule("years_registered >= 1", schema)
    dates = np.array(["2023-06-30", "2023-07-01", "NaT", "2020-02-29"], dtype="datetime64[D]")
    as_days = dates.astype(np.int64).astype(np.float64)
    as_days[2] = np.nan
    expected = [T, F, U, T]
    assert evaluate_bulk(rule, {("field", "registered_on"): dates}, 4, on=ON).tolist() == expected
    assert evaluate_bulk(rule, {("field", "registered_on"): as_days}, 4, on=ON).tolist() == expected


def test_bool_columns_accept_numpy_bool(schema):
    rule = compile_rule('has_qualification("高新技术企业")', schema)
    key = ("qualification", "高新技术企业", "eval_date")
    assert evaluate_bulk(rule, {key: np.array([True, False])}, 2).tolist() == [T, F]
    assert evaluate_bulk(rule, {key: np.array([1, 0, -1], dtype=np.int8)}, 3).tolist() == [T, F, U]


def test_integer_and_object_numeric_columns(schema):
    rule = compile_rule("staff <= 500", schema)
    key = ("metric", "staff", -1)
    assert evaluate_bulk(rule, {key: np.array([500, 501])}, 2).tolist() == [T, F]
    assert evaluate_bulk(rule, {key: np.array([500, None], dtype=object)}, 2).tolist() == [T, U]


def test_text_columns(schema):
    rule = compile_rule('industry in ["软件", "制造"]', schema)
    column = np.array(["软件", "农业", None], dtype=object)
    assert evaluate_bulk(rule, {("field", "industry"): column}, 3).tolist() == [T, F, U]


def test_missing_column_is_a_clear_error(schema):
    with pytest.raises(KeyError, match="revenue"):
        evaluate_bulk(compile_rule("revenue > 1元", schema), {}, 1)


def test_wrong_length_column_is_an_error(schema):
    with pytest.raises(ValueError, match="shape"):
        evaluate_bulk(
            compile_rule("revenue > 1元", schema), {("metric", "revenue", -1): np.zeros(3)}, 2
        )


def test_amount_values_and_known_mask(schema):
    rule = compile_rule("min(rd_expense * 10%, 50万)", schema, kind="amount")
    values, known = evaluate_values(
        rule, {("metric", "rd_expense", -1): np.array([100 * W, 1000 * W, np.nan])}, 3
    )
    assert values[:2].tolist() == [10 * W, 50 * W]
    assert known.tolist() == [True, True, False]


def test_evaluator_shares_formulas_and_never_mutates_inputs(schema):
    revenue = np.array([4000 * W, 6000 * W, np.nan])
    rd = np.array([200 * W, 100 * W, 1.0])
    columns = {("metric", "revenue", -1): revenue, ("metric", "rd_expense", -1): rd}
    before = (revenue.copy(), rd.copy())
    evaluator = BulkEvaluator(columns, 3, on=ON)
    a = evaluator.verdicts(compile_rule("rd_ratio >= 5% and rd_ratio >= 1%", schema))
    b = evaluator.verdicts(compile_rule("rd_ratio < 5% or revenue > 1元", schema))
    assert a.tolist() == [T, F, U]
    assert b.tolist() == [T, T, U]
    np.testing.assert_array_equal(revenue, before[0])
    np.testing.assert_array_equal(rd, before[1])


def test_bool_column_is_not_mutated_by_and(schema):
    key = ("field", "listed")
    column = np.array([1, 0, -1], dtype=np.int8)
    evaluator = BulkEvaluator({key: column}, 3)
    rule = compile_rule("listed and false", schema)
    assert evaluator.verdicts(rule).tolist() == [F, F, F]
    assert evaluator.verdicts(compile_rule("listed", schema)).tolist() == [T, F, U]


def test_facts_from_columns_round_trip(schema):
    rule = compile_rule("years_registered >= 1 and revenue > 1元", schema)
    columns = {
        ("field", "registered_on"): np.array(["2020-01-01", "NaT"], dtype="datetime64[D]"),
        ("metric", "revenue", -1): np.array([2.0, 3.0]),
    }
    verdicts = evaluate_bulk(rule, columns, 2, on=ON)
    for i in range(2):
        result = explain(rule, facts_from_columns(columns, i), on=ON)
        assert {"eligible": T, "not_eligible": F, "unknown": U}[result.verdict.value] == verdicts[i]


# --- bulk and explain agree --------------------------------------------------------------

EXTRA_RULES = [
    'industry in ["软件", "制造"] or listed',
    'not listed and industry != "农业"',
    "coalesce(rd_expense, 0) >= 10万",
    "known(staff) and staff > 50",
    "max(revenue, total_assets) between 1000万 and 2亿",
    'registered_on < date("2020-01-01") or days_since(registered_on) > 1000',
    'case when listed then revenue > 1亿 when industry == "软件" then rd_ratio > 5% else tech_staff_ratio >= 10% end',
    "(revenue - rd_expense) * 2 / staff > 100万",
    "-rd_expense < -100万",
    "abs(revenue - total_assets) <= 1000万",
    'has_qualification("高新技术企业", valid_on=year_end(-1)) != has_qualification("科技型中小企业")',
    "1000万 < revenue <= 2亿 and not (staff > 300)",
    "staff in [100, 200, 300] or coalesce(listed, false)",
    'coalesce(industry, "未知") == "未知"',
    'registered_on between date("2019-01-01") and year_end(-1)',
]
EXTRA_AMOUNTS = [
    "case when revenue > 1亿 then min(rd_expense * 10%, 100万) else coalesce(rd_expense * 5%, 1万) end",
    "max(revenue / staff, 0) - 1万",
    "years_registered * 1万 + rd_ratio * 100万",
]
NUMERIC = {
    "revenue": [0.0, 1000 * W, 4800 * W, 5000 * W, 5000 * W + 1, 20000 * W, 30000 * W],
    "rd_expense": [0.0, 100 * W, 200 * W, 250 * W, 600 * W],
    "hightech_revenue": [0.0, 3000 * W, 5000 * W],
    "total_assets": [0.0, 5000 * W, 20000 * W],
    "staff": [0.0, 10.0, 100.0, 200.0, 500.0, 501.0],
    "tech_staff": [0.0, 1.0, 10.0, 50.0],
    "invention_patents_valid": [0.0, 1.0, 2.0],
    "ip_count": [0.0, 1.0, 5.0],
}
QUALIFICATIONS = [
    "高新技术企业",
    "科技型中小企业",
    "专精特新中小企业",
    "专精特新“小巨人”企业",
    "院士专家工作站",
]


def _key(code, schema):
    var = schema[code]
    return ("metric", code, var.year) if var.source == "metric" else ("field", code)


def _row_strategy():
    def number(options):
        return st.one_of(
            st.none(),
            st.sampled_from(options),
            st.floats(min_value=0, max_value=5e8, allow_nan=False),
        )

    fields = {code: number(options) for code, options in NUMERIC.items()}
    fields["revenue_2"] = number(NUMERIC["revenue"])
    fields["registered_on"] = st.one_of(
        st.none(),
        st.sampled_from([dt.date(2020, 2, 29), dt.date(2023, 6, 30), dt.date(2023, 7, 1)]),
        st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2024, 12, 31)),
    )
    fields["industry"] = st.sampled_from([None, "软件", "制造", "农业"])
    fields["listed"] = st.sampled_from([None, True, False])
    for i, _name in enumerate(QUALIFICATIONS):
        fields[f"q{i}"] = st.sampled_from([None, True, False])
    fields["q_end"] = st.sampled_from([None, True, False])
    return st.fixed_dictionaries(fields)


def _columns_and_facts(rows, schema):
    n = len(rows)
    columns, facts = {}, [{} for _ in rows]

    def put(key, values, column):
        columns[key] = column
        for i, v in enumerate(values):
            if v is not None:
                facts[i][key] = v

    for code in NUMERIC:
        values = [r[code] for r in rows]
        put(_key(code, schema), values, np.array([np.nan if v is None else v for v in values]))
    values = [r["revenue_2"] for r in rows]
    put(("metric", "revenue", -2), values, np.array([np.nan if v is None else v for v in values]))
    values = [r["registered_on"] for r in rows]
    put(
        ("field", "registered_on"),
        values,
        np.array([v or "NaT" for v in values], dtype="datetime64[D]"),
    )
    values = [r["industry"] for r in rows]
    put(("field", "industry"), values, np.array(values, dtype=object))
    keys = [("field", "listed")] + [("qualification", q, "eval_date") for q in QUALIFICATIONS]
    keys.append(("qualification", "高新技术企业", "year_end:-1"))
    for key, name in zip(
        keys, ["listed", *(f"q{i}" for i in range(len(QUALIFICATIONS))), "q_end"], strict=True
    ):
        values = [r[name] for r in rows]
        put(key, values, np.array([-1 if v is None else int(v) for v in values], dtype=np.int8))
    assert all(len(c) == n for c in columns.values())
    return columns, facts


@pytest.fixture(scope="module")
def all_rules(schema):
    policies = load_library(schema=schema)
    conditions = [p.condition for p in policies.values()]
    conditions += [compile_rule(text, schema) for text in EXTRA_RULES]
    amounts = [p.amount for p in policies.values() if p.amount]
    amounts += [compile_rule(text, schema, kind="amount") for text in EXTRA_AMOUNTS]
    return conditions, amounts


def _check_agreement(rows, schema, all_rules, on):
    conditions, amounts = all_rules
    columns, facts = _columns_and_facts(rows, schema)
    evaluator = BulkEvaluator(columns, len(rows), on=on)
    for rule in conditions:
        bulk = evaluator.verdicts(rule)
        for i, row_facts in enumerate(facts):
            scalar = explain(rule, row_facts, on=on).verdict.value
            expected = {"eligible": T, "not_eligible": F, "unknown": U}[scalar]
            assert bulk[i] == expected, (rule.source, rows[i])
    for rule in amounts:
        values, known = evaluator.values(rule)
        for i, row_facts in enumerate(facts):
            scalar = evaluate_one(rule, row_facts, on=on)
            assert known[i] == (scalar is not None), (rule.source, rows[i])
            if scalar is not None:
                assert values[i] == scalar, (rule.source, rows[i])


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(_row_strategy(), min_size=1, max_size=60),
    on=st.sampled_from([ON, dt.date(2021, 2, 28), dt.date(2024, 2, 29)]),
)
def test_bulk_and_explain_agree_on_random_enterprises(schema, all_rules, rows, on):
    _check_agreement(rows, schema, all_rules, on)


def test_bulk_and_explain_agree_on_thousands_of_enterprises(schema, all_rules):
    rng = np.random.default_rng(20240630)
    strategy_free_rows = []
    for _ in range(3000):
        row = {}
        for code, options in NUMERIC.items():
            pick = rng.integers(0, 4)
            row[code] = (
                None
                if pick == 0
                else (float(rng.choice(options)) if pick < 3 else float(rng.uniform(0, 3e8)))
            )
        row["revenue_2"] = None if rng.random() < 0.2 else float(rng.uniform(0, 3e8))
        row["registered_on"] = (
            None
            if rng.random() < 0.1
            else dt.date(2000, 1, 1) + dt.timedelta(days=int(rng.integers(0, 9000)))
        )
        row["industry"] = [None, "软件", "制造", "农业"][rng.integers(0, 4)]
        row["listed"] = [None, True, False][rng.integers(0, 3)]
        for i in range(len(QUALIFICATIONS)):
            row[f"q{i}"] = [None, True, False][rng.integers(0, 3)]
        row["q_end"] = [None, True, False][rng.integers(0, 3)]
        strategy_free_rows.append(row)
    _check_agreement(strategy_free_rows, schema, all_rules, ON)
