"""Evaluate a rule for one enterprise and explain the verdict in Chinese.

Scalar twin of bulk.py: the same Kleene three-valued semantics on Python values, plus a
clause tree an officer can read. ``facts`` maps requirement keys to plain values; a key
that is absent (or None / NaN / NaT) is missing data, which makes clauses UNKNOWN.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from . import ir
from .compiler import CompiledRule
from .format import OP_NEGATED, OP_SYMBOL, date_spec_label, format_value, year_label
from .types import NUMERIC_TYPES, ValueType

B, D, T, N = ValueType.BOOL, ValueType.DATE, ValueType.TEXT, ValueType.NUMBER
RESULT_ZH = {True: "满足", False: "不满足", None: "无法判断"}


class Verdict(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: bool | None) -> Verdict:
        return cls.UNKNOWN if value is None else (cls.ELIGIBLE if value else cls.NOT_ELIGIBLE)

    @property
    def label_zh(self) -> str:
        return {"eligible": "符合", "not_eligible": "不符合", "unknown": "无法判断"}[self.value]


@dataclass
class Missing:
    """A requirement whose value would settle an UNKNOWN, with its Chinese label."""

    key: tuple
    label: str


@dataclass
class Clause:
    """One node of the explanation tree; leaves are comparisons and yes/no tests."""

    kind: str  # all | any | not | condition | compare | in | test
    result: bool | None
    text: str
    children: list[Clause] = field(default_factory=list)
    decisive: bool = False
    code: str = ""  # condition code for kind == "condition"
    left: Any = None  # compare leaves: raw values and operator as written in the rule
    op: str = ""
    right: Any = None
    missing: list[Missing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "result": self.result,
            "text": self.text,
            "decisive": self.decisive,
            **({"code": self.code} if self.code else {}),
            **(
                {"op": self.op, "left": _jsonable(self.left), "right": _jsonable(self.right)}
                if self.op
                else {}
            ),
            **(
                {"missing": [{"key": list(m.key), "label": m.label} for m in self.missing]}
                if self.missing
                else {}
            ),
            **({"notes": self.notes} if self.notes else {}),
            **({"children": [c.as_dict() for c in self.children]} if self.children else {}),
        }


@dataclass
class Explanation:
    """Verdict of one rule for one enterprise, why, and what data would settle an unknown."""

    verdict: Verdict
    tree: Clause
    decided_by: list[Clause]
    missing: list[Missing]
    on: dt.date
    rule_code: str = ""
    rule_label: str = ""
    manual_conditions: list[str] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        """Conditions only a person can judge are never taken as met by the machine."""
        return bool(self.manual_conditions)

    def lines(self) -> list[str]:
        out = [
            f"{self.rule_label or self.rule_code or '规则'}：{self.verdict.label_zh}（评估日 {format_value(self.on, D)}）"
        ]
        stack = [(self.tree, 1)]
        while stack:
            clause, level = stack.pop()
            mark = "★ " if clause.decisive and not clause.children else ""
            out.append("  " * level + mark + clause.text)
            out.extend("  " * (level + 1) + "· " + note for note in clause.notes)
            stack.extend((c, level + 1) for c in reversed(clause.children))
        if self.missing:
            out.append("缺少数据：" + "、".join(m.label for m in self.missing))
        out.extend(f"待人工核实：{text}" for text in self.manual_conditions)
        return out

    def text(self) -> str:
        return "\n".join(self.lines())

    def as_dict(self) -> dict:
        return {
            "verdict": self.verdict.value,
            "on": self.on.isoformat(),
            "rule": self.rule_code,
            "tree": self.tree.as_dict(),
            "decided_by": [c.text for c in self.decided_by],
            "missing": [{"key": list(m.key), "label": m.label} for m in self.missing],
            "manual_conditions": list(self.manual_conditions),
        }


@dataclass
class AmountExplanation:
    """Value of an amount formula for one enterprise, with its worked formula."""

    value: float | None
    type: ValueType
    text: str
    missing: list[Missing]

    @property
    def known(self) -> bool:
        return self.value is not None


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def normalize(value: Any, vtype: ValueType) -> Any:
    """Coerce one raw fact (Python, numpy or Decimal) to the scalar the evaluator uses."""
    if value is None:
        return None
    if vtype in NUMERIC_TYPES:
        v = float(value)
        return None if math.isnan(v) else v
    if vtype is B:
        if isinstance(value, bool):
            return value
        v = int(value)
        return None if v < 0 else bool(v)
    if vtype is D:
        if hasattr(value, "dtype"):  # numpy datetime64 or float day number
            if str(value) == "NaT" or (value.dtype.kind == "f" and math.isnan(value)):
                return None
            if value.dtype.kind == "f":
                return dt.date(1970, 1, 1) + dt.timedelta(days=int(value))
            return dt.date.fromisoformat(str(value.astype("datetime64[D]")))
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value))
    return str(value)


def years_between(start: dt.date, on: dt.date) -> int:
    """Completed years from start to on (a 29 Feb start has its anniversary on 1 Mar)."""
    return on.year - start.year - ((on.month, on.day) < (start.month, start.day))


class _Scalar:
    """Evaluates IR nodes on one enterprise's facts, caching each node's value."""

    def __init__(self, facts: Mapping, on: dt.date) -> None:
        self.facts = facts
        self.on = on
        self.memo: dict[int, Any] = {}
        self.zero_division: set[int] = set()
        self.labels: dict[int, str] = {}

    def value(self, node: ir.Expr) -> Any:
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        out = self.memo[key] = self._compute(node)
        return out

    def _compute(self, node: ir.Expr) -> Any:  # noqa: C901 - one branch per node type reads best
        v = self.value
        match node:
            case ir.Const(value=value):
                return value
            case ir.Ref(key=key, type=vtype):
                return normalize(self.facts.get(key), vtype)
            case ir.DateOf(spec=spec):
                return ir.resolve_date_spec(spec, self.on)
            case ir.Formula(expr=expr) | ir.Labeled(expr=expr):
                return v(expr)
            case ir.Arith(op=op, left=left, right=right):
                a, b = v(left), v(right)
                if a is None or b is None:
                    return None
                if op == "/":
                    if b == 0:
                        self.zero_division.add(id(node))
                        return None
                    out = a / b
                else:
                    out = a + b if op == "+" else (a - b if op == "-" else a * b)
                return None if math.isnan(out) else out
            case ir.Neg(operand=x):
                a = v(x)
                return None if a is None else -a
            case ir.Cmp(op=op, left=left, right=right):
                a, b = v(left), v(right)
                if a is None or b is None:
                    return None
                return _COMPARE[op](a, b)
            case ir.InSet(operand=x, values=values, negate=negate):
                a = v(x)
                return None if a is None else ((a in values) != negate)
            case ir.And(items=items):
                seen_unknown = False
                for item in items:
                    r = v(item)
                    if r is False:
                        return False
                    seen_unknown |= r is None
                return None if seen_unknown else True
            case ir.Or(items=items):
                seen_unknown = False
                for item in items:
                    r = v(item)
                    if r is True:
                        return True
                    seen_unknown |= r is None
                return None if seen_unknown else False
            case ir.Not(operand=x):
                r = v(x)
                return None if r is None else not r
            case ir.Case(branches=branches, default=default):
                for cond, value in branches:
                    r = v(cond)
                    if r is None:
                        return None
                    if r:
                        return v(value)
                return v(default)
            case ir.Func(name=name, args=args):
                return self._func(name, args)
        raise TypeError(f"unknown node {node!r}")

    def _func(self, name: str, args: tuple[ir.Expr, ...]) -> Any:
        if name == "coalesce":
            for arg in args:
                r = self.value(arg)
                if r is not None:
                    return r
            return None
        if name == "known":
            return self.value(args[0]) is not None
        values = [self.value(a) for a in args]
        if any(x is None for x in values):
            return None
        if name == "min":
            return min(values)
        if name == "max":
            return max(values)
        if name == "abs":
            return abs(values[0])
        if name == "years_since":
            return float(years_between(values[0], self.on))
        if name == "days_since":
            return float((self.on - values[0]).days)
        raise TypeError(f"unknown function {name}")

    # -- labels -----------------------------------------------------------------------

    def label(self, node: ir.Expr) -> str:
        key = id(node)
        found = self.labels.get(key)
        if found is None:
            found = self.labels[key] = self._label(node)
        return found

    def _label(self, node: ir.Expr) -> str:
        match node:
            case ir.Ref(key=("metric", _, year), label=label):
                return f"{label}（{year_label(year, self.on)}）"
            case ir.Ref(key=("qualification", name, spec)):
                suffix = "" if spec == "eval_date" else f"（{date_spec_label(spec)}）"
                return f"持有有效的「{name}」资质{suffix}"
            case ir.Ref(label=label):
                return label
            case ir.Formula(label=label, year=year):
                return label if year is None else f"{label}（{year_label(year, self.on)}）"
            case ir.Const(value=value, type=vtype):
                return format_value(value, vtype)
            case ir.DateOf(spec=spec):
                return date_spec_label(spec)
            case ir.Arith(op=op, left=left, right=right):
                sym = {"*": "×", "/": "÷"}.get(op, op)
                return f"{self._operand(left)} {sym} {self._operand(right)}"
            case ir.Neg(operand=x):
                return f"-{self._operand(x)}"
            case ir.Func(name="years_since", args=(x,)):
                return f"{self.label(x)}至评估日的整年数"
            case ir.Func(name="days_since", args=(x,)):
                return f"{self.label(x)}至评估日的天数"
            case ir.Func(name="min", args=args):
                return f"{'、'.join(self.label(a) for a in args)}中的较小值"
            case ir.Func(name="max", args=args):
                return f"{'、'.join(self.label(a) for a in args)}中的较大值"
            case ir.Func(name="abs", args=(x,)):
                return f"{self.label(x)}的绝对值"
            case ir.Func(name="coalesce", args=args):
                return "（缺失时取）".join(self.label(a) for a in args)
            case ir.Func(name="known", args=(x,)):
                return f"{self.label(x)}已填报"
            case ir.Case():
                return "分档取值"
        return "表达式"

    def _operand(self, node: ir.Expr) -> str:
        text = self.label(node)
        return f"({text})" if isinstance(node, ir.Arith) else text

    def unit(self, node: ir.Expr) -> str:
        match node:
            case ir.Ref(unit=unit):
                return unit
            case ir.Formula(var=var):
                return var.unit
            case ir.Func(name="years_since"):
                return "年"
            case ir.Func(name="days_since"):
                return "天"
            case ir.Func(name="min" | "max" | "abs" | "coalesce", args=args):
                return self.unit(args[0])
            case ir.Arith(op="+" | "-", left=left):
                return self.unit(left)
        return ""

    def show(self, node: ir.Expr, like: ir.Expr | None = None) -> str:
        """Formatted value of a node; a bare number takes the other side's type and unit."""
        value = self.value(node)
        vtype, unit = node.type, self.unit(node)
        if like is not None and vtype is N and isinstance(node, ir.Const):
            vtype, unit = like.type, self.unit(like)
        return format_value(value, vtype, unit)

    # -- what is missing ----------------------------------------------------------------

    def gaps(self, node: ir.Expr) -> tuple[list[Missing], list[str]]:
        """Missing inputs and zero divisions under a node whose value came out unknown."""
        missing, notes, stack, seen = [], [], [node], set()
        while stack:
            cur = stack.pop()
            if id(cur) in seen:
                continue
            seen.add(id(cur))
            if isinstance(cur, ir.Ref):
                if self.value(cur) is None:
                    missing.append(Missing(cur.key, self.label(cur)))
            elif id(cur) in self.zero_division:
                notes.append(f"{self.label(cur.right)}为 0，无法计算 {self.label(cur)}")
            stack.extend(reversed(ir.children(cur)))
        return missing, notes


_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


class _Explainer:
    def __init__(self, ev: _Scalar) -> None:
        self.ev = ev

    def clause(self, node: ir.Expr) -> Clause:
        ev = self.ev
        result = ev.value(node)
        match node:
            case ir.Labeled(code=code, label=label, expr=expr):
                child = self.clause(expr)
                out = Clause(
                    "condition", result, f"{label}：{RESULT_ZH[result]}", [child], code=code
                )
                child.decisive = True
                out.missing = child.missing
                return out
            case ir.And(items=items) | ir.Or(items=items):
                kids = [self.clause(x) for x in items]
                is_and = isinstance(node, ir.And)
                for kid in kids:  # the kids that alone force this result decide it
                    kid.decisive = kid.result is result
                word = "以下条件全部满足" if is_and else "以下条件满足其一"
                out = Clause(
                    "all" if is_and else "any", result, f"{word}：{RESULT_ZH[result]}", kids
                )
                out.missing = (
                    _merge(k.missing for k in kids if k.result is None) if result is None else []
                )
                return out
            case ir.Not(operand=x):
                kid = self.clause(x)
                kid.decisive = True
                return Clause(
                    "not",
                    result,
                    f"以下情形不得出现：{RESULT_ZH[result]}",
                    [kid],
                    missing=kid.missing,
                )
            case ir.Formula(expr=expr) if node.type is B:
                kid = self.clause(expr)
                kid.decisive = True
                return Clause(
                    "test",
                    result,
                    f"{ev.label(node)}：{RESULT_ZH[result]}",
                    [kid],
                    missing=kid.missing,
                )
            case ir.Cmp():
                out = self._compare(node, result)
            case ir.InSet(operand=x, values=values, negate=negate):
                shown = "、".join(format_value(v, x.type, ev.unit(x)) for v in values)
                verb = "不属于" if negate else "属于"
                out = Clause(
                    "in",
                    result,
                    f"{ev.label(x)} {ev.show(x)}，要求{verb} {shown}：{RESULT_ZH[result]}",
                    left=ev.value(x),
                    op="not in" if negate else "in",
                    right=list(values),
                )
            case _:
                answer = {True: "是", False: "否", None: "未知"}[result]
                out = Clause("test", result, f"{ev.label(node)}：{answer}")
        if result is None:
            out.missing, out.notes = ev.gaps(node)
        return out

    def _compare(self, node: ir.Cmp, result: bool | None) -> Clause:
        ev = self.ev
        left, right = node.left, node.right
        left_text = f"{ev.label(left)} {ev.show(left, right)}"
        right_text = ev.show(right, left)
        if not isinstance(right, ir.Const | ir.DateOf | ir.Case):
            right_text = f"{ev.label(right)} {right_text}"
        shown_op = node.op if result is not False else OP_NEGATED[node.op]
        if result is None:
            text = f"{left_text}，要求 {OP_SYMBOL[node.op]} {right_text}：无法判断"
        else:
            text = f"{left_text} {OP_SYMBOL[shown_op]} 要求 {right_text}：{RESULT_ZH[result]}"
        out = Clause(
            "compare",
            result,
            text,
            left=_jsonable(ev.value(left)),
            op=node.op,
            right=_jsonable(ev.value(right)),
        )
        for side in (left, right):
            out.notes.extend(self._operand_notes(side))
        return out

    def _operand_notes(self, node: ir.Expr) -> list[str]:
        """Working shown under a comparison: formula inputs and the band a case picked."""
        ev = self.ev
        if isinstance(node, ir.Formula) and ev.value(node) is not None:
            inner = node.expr
            if isinstance(inner, ir.Arith):
                sym = {"*": "×", "/": "÷"}.get(inner.op, inner.op)
                return [
                    f"{ev.label(node)} = {ev.label(inner.left)} {ev.show(inner.left)} {sym} "
                    f"{ev.label(inner.right)} {ev.show(inner.right)}"
                ]
        if isinstance(node, ir.Case):
            for cond, value in node.branches:
                r = ev.value(cond)
                if r is None:
                    return ["分档条件无法判断"]
                if r:
                    return [f"因 {self._cond_text(cond)}，适用 {ev.show(value)}"]
            return [f"不属于以上各档，适用 {ev.show(node.default)}"]
        return []

    def _cond_text(self, cond: ir.Expr) -> str:
        ev = self.ev
        if isinstance(cond, ir.Cmp):
            return f"{ev.label(cond.left)} {ev.show(cond.left, cond.right)} {OP_SYMBOL[cond.op]} {ev.show(cond.right, cond.left)}"
        return ev.label(cond)


def _merge(groups) -> list[Missing]:
    out, seen = [], set()
    for group in groups:
        for m in group:
            if m.key not in seen:
                seen.add(m.key)
                out.append(m)
    return out


def _decided_by(root: Clause) -> list[Clause]:
    found, stack = [], [root]
    while stack:
        cur = stack.pop()
        if not cur.children:
            found.append(cur)
        stack.extend(c for c in reversed(cur.children) if c.decisive)
    return found


def explain(compiled: CompiledRule, facts: Mapping, *, on: dt.date | None = None) -> Explanation:
    """Verdict and explanation of a condition rule for one enterprise."""
    if compiled.expr.type is not B:
        raise TypeError("explain() needs a condition rule; use explain_amount() for amounts")
    on = on or dt.date.today()
    ev = _Scalar(facts, on)
    tree = _Explainer(ev).clause(compiled.expr)
    tree.decisive = True
    verdict = Verdict.of(tree.result)
    missing = tree.missing if verdict is Verdict.UNKNOWN else []
    return Explanation(verdict, tree, _decided_by(tree), missing, on, compiled.code, compiled.label)


def evaluate_one(compiled: CompiledRule, facts: Mapping, *, on: dt.date | None = None) -> Any:
    """Just the value for one enterprise (bool/None for conditions), without the explanation."""
    return _Scalar(facts, on or dt.date.today()).value(compiled.expr)


def explain_amount(
    compiled: CompiledRule, facts: Mapping, *, on: dt.date | None = None
) -> AmountExplanation:
    """Value of a numeric formula for one enterprise, with the formula written out."""
    if compiled.expr.type not in NUMERIC_TYPES:
        raise TypeError("explain_amount() needs a numeric rule")
    on = on or dt.date.today()
    ev = _Scalar(facts, on)
    value = ev.value(compiled.expr)
    missing, notes = ev.gaps(compiled.expr) if value is None else ([], [])
    inputs = [f"{ev.label(r)} {ev.show(r)}" for r in _refs_in_order(compiled.expr)]
    text = f"{ev.label(compiled.expr)} = {ev.show(compiled.expr)}"
    if inputs:
        text += "（" + "；".join(inputs) + "）"
    if notes:
        text += "；" + "；".join(notes)
    return AmountExplanation(value, compiled.expr.type, text, missing)


def _refs_in_order(node: ir.Expr) -> list[ir.Expr]:
    out, stack, seen = [], [node], set()
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, ir.Ref | ir.Formula):
            out.append(cur)
            if isinstance(cur, ir.Formula):
                continue
        stack.extend(reversed(ir.children(cur)))
    return out
