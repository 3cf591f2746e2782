"""Units of the rule language: which kinds of quantity may be compared, added, multiplied.

Numeric kinds (``ValueType``): money (stored in 元), ratio (a fraction: 5% = 0.05),
count (things: people, patents, days), duration (years) and number (plain, no unit).
A bare literal such as ``3`` is a plain number. It may stand for a count, a number of
years or a plain number, whose screens show the same figure the engine stores. It may
never stand for money or a ratio: screens show those in 万元 and %, the engine stores
元 and fractions, so ``revenue > 5000`` would silently mean 5000 元. Zero is the one
exception — 0 is the same in every unit (``revenue > 0``).

The algebra (documented in docs/rule-language.md, "Units"):

* compare, ``+``, ``-``, ``min``/``max``/``coalesce``, case branches: the same kind;
* ``*``: a plain number or a ratio scales any kind (``rd_expense * 10%`` is money);
  count × money and duration × money are money (per-head, per-year amounts);
* ``/``: by a plain number or a ratio keeps the kind; like / like is a ratio;
  money / count and money / duration are money (per head, per year).

Checked at compile time only: evaluation never looks at a kind.
"""

from __future__ import annotations

from . import ir
from . import syntax as ast
from .building import err
from .errors import RuleError
from .types import ValueType

N, C, M, R, Y = (
    ValueType.NUMBER,
    ValueType.COUNT,
    ValueType.MONEY,
    ValueType.RATIO,
    ValueType.DURATION,
)
BARE_OK = frozenset({N, C, Y})  # kinds a plain number may stand for
UNIT_CODES = frozenset({"unit_mismatch", "money_needs_unit", "ratio_needs_percent"})
_VERBS = {
    "compare": ("无法比较{a}与{b}", "cannot compare {a} with {b}"),
    "+": ("{a}与{b}不能相加", "cannot add {a} and {b}"),
    "-": ("{a}与{b}不能相减", "cannot subtract {b} from {a}"),
    "*": ("{a}与{b}不能相乘", "cannot multiply {a} by {b}"),
    "/": ("{a}不能除以{b}", "cannot divide {a} by {b}"),
}


def is_zero(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.Const) and expr.type is N and expr.value == 0


def is_constant(expr: ir.Expr) -> bool:
    """True when the expression reads no data (a literal or arithmetic on literals)."""
    stack = [expr]
    while stack:
        cur = stack.pop()
        if isinstance(cur, ir.Ref | ir.Formula | ir.DateOf):
            return False
        stack.extend(ir.children(cur))
    return True


def common_kind(left: ir.Expr, right: ir.Expr) -> ValueType | None:
    """Kind two numeric operands share (to compare, add or pick between), or None."""
    a, b = left.type, right.type
    if a == b:
        return a
    if a is N and (b in BARE_OK or is_zero(left)):
        return b
    if b is N and (a in BARE_OK or is_zero(right)):
        return a
    return None


def product_kind(left: ir.Expr, right: ir.Expr) -> ValueType | None:
    a, b = left.type, right.type
    if a is N or a is R:
        return b
    if b is N or b is R:
        return a
    if {a, b} in ({C, M}, {Y, M}):
        return M
    return None


def quotient_kind(left: ir.Expr, right: ir.Expr) -> ValueType | None:
    a, b = left.type, right.type
    if b is N:
        return a
    if a == b:
        return R
    if b is R and a in (C, M, Y):
        return a
    if a is M and b in (C, Y):
        return M
    return None


def assignable(declared: ValueType, value: ir.Expr) -> bool:
    """Whether a formula's result may be stored in a variable declared ``declared``."""
    actual = value.type
    if declared == actual:
        return True
    return declared in BARE_OK and actual in BARE_OK and N in (declared, actual)


def unit_error(
    op: str,
    left: ir.Expr,
    right: ir.Expr,
    left_node: ast.Node,
    right_node: ast.Node,
    *,
    where_zh: str = "",
    where_en: str = "",
) -> RuleError:
    """Why two operands do not fit, pointing at the one to change.

    ``op`` is "compare", an arithmetic operator, or "same" (arguments of min/max/
    coalesce, case branches: ``where_zh``/``where_en`` name them).
    """
    if op not in "*/":
        for bare, bare_node, other in ((left, left_node, right), (right, right_node, left)):
            if bare.type is N and is_constant(bare) and other.type is M:
                return err(
                    "money_needs_unit",
                    "金额需要带单位，例如 5000万、1.2亿 或 300元",
                    "an amount of money needs a unit, e.g. 5000万, 1.2亿 or 300元",
                    bare_node,
                )
            if bare.type is N and is_constant(bare) and other.type is R:
                return err(
                    "ratio_needs_percent",
                    "比例需要带 %，例如 5%（不要写成 0.05 或 5）",
                    "a ratio needs %, e.g. 5% (not 0.05 or 5)",
                    bare_node,
                )
    a, b = left.type, right.type
    if op == "same":
        zh = f"{where_zh}必须是同一种量，这里有{a.label_zh}和{b.label_zh}"
        en = f"{where_en} must all be the same kind of quantity, got {a} and {b}"
    else:
        zh_t, en_t = _VERBS[op]
        zh, en = zh_t.format(a=a.label_zh, b=b.label_zh), en_t.format(a=a, b=b)
    return err("unit_mismatch", zh, en, right_node, kinds=[a.value, b.value])
