"""Policies shipped as YAML data, and the officer-written YAML test cases that check them.

A policy document names its machine-checkable conditions (rule text), the conditions
only a person can judge (``manual_conditions``, never evaluated), and an optional
amount formula. See ``kechuang/rules/library/`` for the shipped documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from .compiler import CompiledRule, compile_conditions, compile_rule
from .errors import RuleError
from .explain import Explanation, Verdict, evaluate_one, explain, explain_amount
from .syntax import UNITS
from .types import Schema, Source, ValueType

LIBRARY_DIR = Path(__file__).resolve().parent.parent / "library"


@dataclass(frozen=True)
class Condition:
    code: str
    label_zh: str
    rule: str
    note: str = ""


@dataclass(frozen=True)
class Policy:
    """A compiled policy: all conditions must hold; manual conditions are left to people."""

    code: str
    name_zh: str
    name_en: str
    basis: str
    conditions: tuple[Condition, ...]
    condition: CompiledRule
    manual_conditions: tuple[str, ...] = ()
    amount: CompiledRule | None = None
    amount_label: str = ""
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    example: bool = False
    notes: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def requirements(self) -> frozenset:
        amount = self.amount.requirements if self.amount else frozenset()
        return self.condition.requirements | amount

    def in_force(self, on: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_until is None or on <= self.valid_until
        )

    def assess(self, facts: Mapping, *, on: dt.date | None = None) -> Explanation:
        """Explain the verdict for one enterprise, listing the manual conditions to check."""
        out = explain(self.condition, facts, on=on)
        out.manual_conditions = list(self.manual_conditions)
        return out


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def load_schema(path: str | Path | None = None) -> Schema:
    """The standard variables (``library/variables.yaml``) as a Schema."""
    data = yaml.safe_load(Path(path or LIBRARY_DIR / "variables.yaml").read_text(encoding="utf-8"))
    return Schema.from_dicts(data["variables"], qualifications=data.get("qualifications"))


def load_policy(data: Mapping, schema: Schema) -> Policy:
    """Compile one policy document; errors name the policy and condition."""
    code = str(data["code"])
    conditions = tuple(
        Condition(str(c["code"]), str(c["label_zh"]), str(c["rule"]), str(c.get("note") or ""))
        for c in data.get("conditions") or ()
    )
    compiled = compile_conditions(
        [(c.code, c.label_zh, c.rule) for c in conditions],
        schema,
        code=code,
        label=str(data.get("name_zh") or code),
    )
    amount, amount_label = None, ""
    if data.get("amount"):
        spec = data["amount"]
        try:
            amount = compile_rule(
                str(spec["formula"]), schema, kind="amount", code=f"{code}.amount"
            )
        except RuleError as exc:
            raise exc.with_source(f"{code}.amount") from None
        amount_label = str(spec.get("label_zh") or "资助金额")
    known = {
        "code", "name_zh", "name_en", "basis", "conditions", "manual_conditions", "amount",
        "valid_from", "valid_until", "example", "notes",
    }  # fmt: skip
    return Policy(
        code=code,
        name_zh=str(data.get("name_zh") or code),
        name_en=str(data.get("name_en") or ""),
        basis=str(data.get("basis") or ""),
        conditions=conditions,
        condition=compiled,
        manual_conditions=tuple(str(x) for x in data.get("manual_conditions") or ()),
        amount=amount,
        amount_label=amount_label,
        valid_from=_date(data.get("valid_from")),
        valid_until=_date(data.get("valid_until")),
        example=bool(data.get("example", False)),
        notes=str(data.get("notes") or ""),
        extra={k: v for k, v in data.items() if k not in known},
    )


def load_library(
    directory: str | Path | None = None, schema: Schema | None = None
) -> dict[str, Policy]:
    """Every ``*.policy.yaml`` in the library directory, compiled against the schema."""
    directory = Path(directory or LIBRARY_DIR)
    schema = schema or load_schema(directory / "variables.yaml")
    policies = {}
    for path in sorted(directory.glob("*.policy.yaml")):
        policy = load_policy(yaml.safe_load(path.read_text(encoding="utf-8")), schema)
        policies[policy.code] = policy
    return policies


# --- officer-written test cases --------------------------------------------------------


def parse_amount(value: Any, vtype: ValueType) -> float:
    """A test input number: text with a unit ("5000万", "2亿", "300元", "5%", "3年").

    As in rule text, money and ratios must carry their unit (a bare 5000 would be
    5000 元 to the engine while every screen speaks 万元); 0 needs none.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    text = str(value).strip().replace(",", "")
    unit = next((u for u in UNITS if text.endswith(u)), "")
    try:
        number = Decimal(text[: len(text) - len(unit)])
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if unit:
        factor, unit_type = UNITS[unit]
        if vtype.is_numeric and vtype is not ValueType.NUMBER and unit_type is not vtype:
            raise ValueError(f"{value!r} is {unit_type.label_zh}, expected {vtype.label_zh}")
        return float(number * factor)
    if number != 0 and vtype in (ValueType.MONEY, ValueType.RATIO):
        example = "5000万 or 300元" if vtype is ValueType.MONEY else "5%"
        raise ValueError(f"{value!r} needs a unit, e.g. {example}")
    return float(number)


def facts_from_inputs(inputs: Mapping, schema: Schema, requirements: Iterable[tuple]) -> dict:
    """Facts for explain() from a test case's friendly ``input:`` mapping.

    Keys are variable codes (metrics at their default year), ``code@-2`` for another
    year, and ``qualifications: [names]`` for the qualifications held (all others are
    then false; without the key they are unknown). Anything not given is missing.
    """
    facts: dict[tuple, Any] = {}
    held = inputs.get("qualifications")
    for key, raw in inputs.items():
        if key == "qualifications":
            continue
        code, _, year_text = str(key).partition("@")
        var = schema.get(code)
        if var is None or var.source is Source.FORMULA:
            raise ValueError(f"test input {key!r} is not an input variable of the schema")
        if var.source is Source.METRIC:
            req = ("metric", code, int(year_text) if year_text else var.year)
        else:
            req = ("field", code)
        if raw is None:
            continue
        if var.type.is_numeric:
            facts[req] = parse_amount(raw, var.type)
        elif var.type is ValueType.DATE:
            facts[req] = _date(raw)
        elif var.type is ValueType.BOOL:
            facts[req] = bool(raw)
        else:
            facts[req] = str(raw)
    if held is not None:
        for req in requirements:
            if req[0] == "qualification":
                facts[req] = req[1] in held
    return facts


@dataclass
class CaseResult:
    name: str
    failures: list[str]
    explanation: Explanation | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


def run_case(case: Mapping, policies: Mapping[str, Policy], schema: Schema) -> CaseResult:
    """Check one ``input:`` / ``output:`` case against its policy."""
    name = str(case.get("name") or "")
    policy = policies[case["policy"]]
    on = _date(case.get("date")) or dt.date.today()
    facts = facts_from_inputs(case.get("input") or {}, schema, policy.requirements)
    result = policy.assess(facts, on=on)
    expected = case.get("output") or {}
    failures = []
    if "verdict" in expected and Verdict(expected["verdict"]) is not result.verdict:
        failures.append(f"verdict: expected {expected['verdict']}, got {result.verdict.value}")
    conditions = expected.get("conditions") or {}
    for cond_code, want in conditions.items():
        got = next((c.result for c in result.tree.children if c.code == cond_code), "absent")
        want_value = {"met": True, "not_met": False, "unknown": None}[want]
        if got is not want_value:
            failures.append(f"condition {cond_code}: expected {want}, got {got}")
    if "missing" in expected:
        got_missing = sorted(m.key[1] for m in result.missing)
        if got_missing != sorted(expected["missing"]):
            failures.append(f"missing: expected {sorted(expected['missing'])}, got {got_missing}")
    if "amount" in expected:
        if policy.amount is None:
            failures.append("amount: the policy has no amount formula")
        else:
            value = evaluate_one(policy.amount, facts, on=on)
            want = (
                None
                if expected["amount"] is None
                else parse_amount(expected["amount"], ValueType.MONEY)
            )
            if (value is None) != (want is None) or (
                want is not None and abs(value - want) > 0.005
            ):
                shown = explain_amount(policy.amount, facts, on=on).text
                failures.append(f"amount: expected {expected['amount']}, got {value} ({shown})")
    return CaseResult(name, failures, result)


def load_cases(directory: str | Path | None = None) -> list[tuple[str, dict]]:
    """All cases from ``*.tests.yaml`` files, as (file name, case) pairs."""
    out = []
    for path in sorted(Path(directory or LIBRARY_DIR).glob("*.tests.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or ():
            out.append((path.name, case))
    return out
