"""Typed, checked expression tree that both evaluators (explain and bulk) walk.

Nodes compare by identity: the schema hands out one node per data reference and per
formula expansion, so evaluators can cache results per node and share them across rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .types import ValueType, Variable

# A requirement key names one piece of data the loader must supply:
#   ("field", code)                     an attribute of the enterprise record
#   ("metric", code, year_offset)       an annual-report figure, year relative to evaluation year
#   ("qualification", name, valid_on)   whether a valid qualification is held on that date
Requirement = tuple


@dataclass(eq=False, slots=True)
class Expr:
    type: ValueType
    depth: int = field(default=1, kw_only=True)


@dataclass(eq=False, slots=True)
class Const(Expr):
    value: Any  # float for numbers, str, bool, datetime.date


@dataclass(eq=False, slots=True)
class Ref(Expr):
    key: Requirement
    label: str
    unit: str = ""


@dataclass(eq=False, slots=True)
class DateOf(Expr):
    """A date fixed by the evaluation date: "eval_date", "year_end:-1", "year_start:0"."""

    spec: str


@dataclass(eq=False, slots=True)
class Arith(Expr):
    op: str  # + - * /
    left: Expr
    right: Expr


@dataclass(eq=False, slots=True)
class Neg(Expr):
    operand: Expr


@dataclass(eq=False, slots=True)
class Cmp(Expr):
    op: str  # < <= > >= == !=
    left: Expr
    right: Expr


@dataclass(eq=False, slots=True)
class InSet(Expr):
    operand: Expr
    values: tuple
    negate: bool


@dataclass(eq=False, slots=True)
class And(Expr):
    items: tuple[Expr, ...]


@dataclass(eq=False, slots=True)
class Or(Expr):
    items: tuple[Expr, ...]


@dataclass(eq=False, slots=True)
class Not(Expr):
    operand: Expr


@dataclass(eq=False, slots=True)
class Case(Expr):
    branches: tuple[tuple[Expr, Expr], ...]
    default: Expr


@dataclass(eq=False, slots=True)
class Func(Expr):
    name: str  # min max abs coalesce years_since days_since known
    args: tuple[Expr, ...]


@dataclass(eq=False, slots=True)
class Formula(Expr):
    """A formula variable expanded in place; kept as a node for labels and caching."""

    var: Variable
    year: int | None  # year override from metric(code, year=...), None for the default
    expr: Expr
    label: str


@dataclass(eq=False, slots=True)
class Labeled(Expr):
    """A named condition of a policy, shown as one clause in explanations."""

    code: str
    label: str
    expr: Expr


def children(node: Expr) -> tuple[Expr, ...]:
    """Direct sub-expressions, for walks that need no per-type code."""
    match node:
        case Arith(left=a, right=b) | Cmp(left=a, right=b):
            return (a, b)
        case Neg(operand=x) | Not(operand=x) | InSet(operand=x):
            return (x,)
        case And(items=items) | Or(items=items) | Func(args=items):
            return items
        case Case(branches=branches, default=default):
            return (*(x for pair in branches for x in pair), default)
        case Formula(expr=x) | Labeled(expr=x):
            return (x,)
    return ()


def requirements(node: Expr) -> frozenset[Requirement]:
    """All requirement keys a tree reads, found without recursion."""
    found, stack, seen = set(), [node], set()
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, Ref):
            found.add(cur.key)
        stack.extend(children(cur))
    return frozenset(found)


def resolve_date_spec(spec: str, on: dt.date) -> dt.date:
    """Turn a date spec from a requirement key or DateOf node into a date, given the evaluation date."""
    if spec == "eval_date":
        return on
    kind, _, offset = spec.partition(":")
    if kind == "year_end":
        return dt.date(on.year + int(offset), 12, 31)
    if kind == "year_start":
        return dt.date(on.year + int(offset), 1, 1)
    return dt.date.fromisoformat(spec)
