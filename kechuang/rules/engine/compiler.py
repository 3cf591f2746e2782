"""Type-check an AST against a Schema and lower it to the typed IR.

All checking happens here, at compile time: unknown names, wrong arity, wrong argument
types, type mismatches and unit mismatches (engine.units) are RuleErrors with the
position of the offending text. Formula variables are expanded in place (once per
schema, cached) and cycles refused.

Unit checks can be relaxed for text stored before they existed (``strict_units=False``):
unit errors are then collected in ``CompiledRule.unit_problems`` instead of raised, and
the rule evaluates exactly as it did — evaluation never looks at a kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import ir, units
from . import syntax as ast
from .building import err as _err
from .building import mk as _mk
from .building import suggest as _suggest
from .errors import RuleError
from .functions import FUNCTION_NAMES, FunctionsMixin
from .types import NUMERIC_TYPES, Source, ValueType, Variable

if TYPE_CHECKING:
    from .types import Schema

N, M, B, D, T = (
    ValueType.NUMBER,
    ValueType.MONEY,
    ValueType.BOOL,
    ValueType.DATE,
    ValueType.TEXT,
)
KINDS = ("condition", "amount", "expression")


@dataclass(frozen=True, eq=False)
class CompiledRule:
    """A checked rule ready for explain() and evaluate_bulk(); compile once, evaluate often."""

    source: str
    expr: ir.Expr
    kind: str  # "condition" (bool), "amount" (money) or "expression" (any type)
    requirements: frozenset
    schema: Schema
    code: str = ""
    label: str = ""
    # Unit errors tolerated because the text was compiled with strict_units=False.
    unit_problems: tuple[RuleError, ...] = ()

    @property
    def type(self) -> ValueType:
        return self.expr.type


class FormulaCache:
    """Per-schema store of compiled formula variables and interned data references."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._asts: dict[str, ast.Node] = {}
        self._compiled: dict[tuple[str, int | None], ir.Formula] = {}
        self._refs: dict[tuple, ir.Ref] = {}

    def check_all(self) -> None:
        for var in self.schema.variables.values():
            if var.source is Source.FORMULA:
                self.formula(var, None, ())

    def ref(self, key: tuple, vtype: ValueType, label: str, unit: str = "") -> ir.Ref:
        found = self._refs.get(key)
        if found is None:
            found = self._refs[key] = ir.Ref(vtype, key, label, unit)
        return found

    def formula(self, var: Variable, year: int | None, stack: tuple[str, ...]) -> ir.Formula:
        cached = self._compiled.get((var.code, year))
        if cached is not None:
            return cached
        if var.code in stack:
            path = " → ".join((*stack[stack.index(var.code) :], var.code))
            raise RuleError(
                "cycle",
                f"公式变量循环引用：{path}",
                f"formula variables form a cycle: {path}",
                hint={"cycle": [*stack[stack.index(var.code) :], var.code]},
            ).with_source(var.code)
        strict = self.schema.strict_units
        problems: list[RuleError] | None = None if strict else []
        try:
            tree = self._asts.get(var.code)
            if tree is None:
                tree = self._asts[var.code] = ast.parse(var.formula or "")
            body = _Checker(self.schema, (*stack, var.code), year, problems).expr(tree)
            vtype = var.type
            if body.type != vtype and not (body.type in NUMERIC_TYPES and vtype in NUMERIC_TYPES):
                raise RuleError(
                    "type_mismatch",
                    f"公式变量 {var.code} 声明为{vtype.label_zh}，但公式结果是{body.type.label_zh}",
                    f"formula variable {var.code} is declared {vtype} but its formula gives {body.type}",
                )
            if vtype in NUMERIC_TYPES and not units.assignable(vtype, body):
                problem = RuleError(
                    "unit_mismatch",
                    f"公式变量 {var.code} 声明为{vtype.label_zh}，但公式结果是{body.type.label_zh}",
                    f"formula variable {var.code} is declared {vtype} but its formula gives {body.type}",
                    hint={"kinds": [vtype.value, body.type.value]},
                )
                if problems is None:
                    raise problem
                problems.append(problem)
        except RuleError as exc:
            raise exc if exc.source_name else exc.with_source(f"variable {var.code}") from None
        if problems and year is None:
            self.schema.unit_problems[var.code] = [
                p if p.source_name else p.with_source(f"variable {var.code}") for p in problems
            ]
        node = _mk(ir.Formula, vtype, var, year, body, var.label_zh)
        self._compiled[(var.code, year)] = node
        return node


class _Checker(FunctionsMixin):
    """Walks the AST of one rule or formula; the AST depth is capped so recursion is safe."""

    def __init__(
        self,
        schema: Schema,
        stack: tuple[str, ...] = (),
        year: int | None = None,
        problems: list[RuleError] | None = None,
    ):
        self.schema = schema
        self.cache: FormulaCache = schema.formulas
        self.stack = stack
        self.year = year  # metric year override while expanding metric(formula, year=...)
        self.problems = problems  # None: unit errors raise; a list: they are collected

    def expr(self, node: ast.Node) -> ir.Expr:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def expect(
        self, node: ast.Node, allowed: frozenset | set, what_zh: str, what_en: str
    ) -> ir.Expr:
        out = self.expr(node)
        if out.type not in allowed:
            if allowed == NUMERIC_TYPES:
                need_zh, need_en = "数值（金额、比例、数量、年限等）", "numeric"
            else:
                need_zh = "或".join(sorted(t.label_zh for t in allowed))
                need_en = " or ".join(sorted(allowed))
            raise _err(
                "type_mismatch",
                f"{what_zh}需要{need_zh}，这里是{out.type.label_zh}",
                f"{what_en} must be {need_en}, got {out.type}",
                node,
            )
        return out

    # -- units ----------------------------------------------------------------------

    def unit_problem(self, problem: RuleError) -> None:
        """Raise a unit error, or note it when checking text stored before unit checks."""
        if self.problems is None:
            raise problem
        self.problems.append(problem)

    def same_kind(
        self,
        values: Iterable[ir.Expr],
        nodes: Iterable[ast.Node],
        where_zh: str,
        where_en: str,
    ) -> ValueType:
        """The one kind of several numeric values (min/max/coalesce arguments, case results)."""
        pairs = list(zip(values, nodes, strict=True))
        lead, lead_node = pairs[0]  # the value whose kind the others must match
        for value, node in pairs[1:]:
            kind = units.common_kind(lead, value)
            if kind is None:
                self.unit_problem(
                    units.unit_error(
                        "same", lead, value, lead_node, node, where_zh=where_zh, where_en=where_en
                    )
                )
            elif lead.type is N and kind is not N:
                lead, lead_node = value, node
        return lead.type

    # -- leaves ---------------------------------------------------------------------

    def _number(self, node: ast.Number) -> ir.Expr:
        return ir.Const(node.type, node.value)

    def _string(self, node: ast.String) -> ir.Expr:
        return ir.Const(T, node.value)

    def _boolean(self, node: ast.Boolean) -> ir.Expr:
        return ir.Const(B, node.value)

    def _name(self, node: ast.Name) -> ir.Expr:
        var = self.schema.get(node.code)
        if var is None:
            if node.code in FUNCTION_NAMES:
                raise _err(
                    "not_a_variable",
                    f"{node.code} 是函数，请加括号调用，例如 {node.code}(...)",
                    f"{node.code} is a function; call it with parentheses",
                    node,
                )
            guess = _suggest(node.code, self.schema.variables)
            raise _err(
                "unknown_variable",
                f"未知变量 {node.code}" + (f"（是否想写 {guess}？）" if guess else ""),
                f"unknown variable {node.code!r}"
                + (f" (did you mean {guess!r}?)" if guess else ""),
                node,
                suggestion=guess,
            )
        return self.variable(var, self.year, node)

    def variable(self, var: Variable, year: int | None, node: ast.Node) -> ir.Expr:
        if var.source is Source.FORMULA:
            try:
                found = self.cache.formula(var, year, self.stack)
            except RuleError as exc:
                if exc.code == "cycle" or not exc.line:
                    exc.line, exc.column = node.line, node.column
                raise
            for problem in self.schema.unit_problems.get(var.code, ()):
                # A formula stored before unit checks: new text may not build on it.
                self.unit_problem(
                    _err(
                        problem.code,
                        f"公式变量 {var.code} 有单位错误，请先修改该变量：{problem.message_zh}",
                        f"formula variable {var.code} has a unit error; fix it first: "
                        f"{problem.message_en}",
                        node,
                    )
                )
            return found
        if var.source is Source.METRIC:
            key = ("metric", var.code, var.year if year is None else year)
        else:
            key = ("field", var.code)
        return self.cache.ref(key, var.type, var.label_zh, var.unit)

    # -- operators ------------------------------------------------------------------

    def _binop(self, node: ast.BinOp) -> ir.Expr:
        what = {"+": "加法", "-": "减法", "*": "乘法", "/": "除法"}[node.op]
        left = self.expect(node.left, NUMERIC_TYPES, f"{what}的左边", f"left side of {node.op!r}")
        right = self.expect(
            node.right, NUMERIC_TYPES, f"{what}的右边", f"right side of {node.op!r}"
        )
        if node.op in "+-":
            kind = units.common_kind(left, right)
        elif node.op == "*":
            kind = units.product_kind(left, right)
        else:
            kind = units.quotient_kind(left, right)
        if kind is None:
            self.unit_problem(units.unit_error(node.op, left, right, node.left, node.right))
            kind = left.type if left.type is not N else right.type
        return _mk(ir.Arith, kind, node.op, left, right)

    def _negate(self, node: ast.Negate) -> ir.Expr:
        operand = self.expect(node.operand, NUMERIC_TYPES, "负号后", "operand of unary '-'")
        return _mk(ir.Neg, operand.type, operand)

    def _compare(self, node: ast.Compare) -> ir.Expr:
        operands = [self.expr(x) for x in node.operands]
        pairs = []
        for i, op in enumerate(node.ops):
            left, right = operands[i], operands[i + 1]
            self.check_comparable(op, left, right, node.operands[i], node.operands[i + 1])
            pairs.append(_mk(ir.Cmp, B, op, left, right))
        return pairs[0] if len(pairs) == 1 else _mk(ir.And, B, tuple(pairs))

    def check_comparable(
        self, op: str, left: ir.Expr, right: ir.Expr, left_at: ast.Node, at: ast.Node
    ) -> None:
        a, b = left.type, right.type
        if a in NUMERIC_TYPES and b in NUMERIC_TYPES:
            if units.common_kind(left, right) is None:
                self.unit_problem(units.unit_error("compare", left, right, left_at, at))
            return
        if a == b and a in (T, B) and op not in ("==", "!="):
            raise _err(
                "type_mismatch",
                f"{a.label_zh}只能比较是否相等（== 或 !=），不能用 {op}",
                f"{a} values can only be compared with == or !=, not {op}",
                at,
            )
        if a != b:
            raise _err(
                "type_mismatch",
                f"无法比较{a.label_zh}与{b.label_zh}",
                f"cannot compare {a} with {b}",
                at,
            )

    def _between(self, node: ast.Between) -> ir.Expr:
        operand = self.expr(node.operand)
        low, high = self.expr(node.low), self.expr(node.high)
        self.check_comparable("<=", operand, low, node.operand, node.low)
        self.check_comparable("<=", operand, high, node.operand, node.high)
        return _mk(
            ir.And, B, (_mk(ir.Cmp, B, ">=", operand, low), _mk(ir.Cmp, B, "<=", operand, high))
        )

    def _inlist(self, node: ast.InList) -> ir.Expr:
        operand = self.expr(node.operand)
        values = []
        for item in node.items:
            is_text = isinstance(item, ast.String)
            if is_text != (operand.type == T) or operand.type in (B, D):
                raise _err(
                    "type_mismatch",
                    f"列表中的值必须与左边同为{operand.type.label_zh}",
                    f"list items must have the same type as the left side ({operand.type})",
                    item,
                )
            if not is_text:
                self.check_comparable("==", operand, self._number(item), node.operand, item)
            values.append(item.value)
        if not values:
            raise _err("empty_list", "列表不能为空", "the list must not be empty", node)
        return _mk(ir.InSet, B, operand, tuple(values), node.negate)

    def _boolop(self, node: ast.BoolOp) -> ir.Expr:
        word = "且（and）" if node.op == "and" else "或（or）"
        items = tuple(
            self.expect(x, {B}, f"{word}的每一项", f"each operand of {node.op!r}")
            for x in node.operands
        )
        return _mk(ir.And if node.op == "and" else ir.Or, B, items)

    def _not(self, node: ast.Not) -> ir.Expr:
        return _mk(ir.Not, B, self.expect(node.operand, {B}, "非（not）之后", "operand of 'not'"))

    def _case(self, node: ast.Case) -> ir.Expr:
        branches = []
        for cond, value in node.branches:
            c = self.expect(cond, {B}, "when 之后的条件", "condition after 'when'")
            branches.append((c, self.expr(value)))
        default = self.expr(node.default)
        results = [v for _, v in branches] + [default]
        if all(v.type in NUMERIC_TYPES for v in results):
            vtype = self.same_kind(
                results,
                [v for _, v in node.branches] + [node.default],
                "case 各分支的结果",
                "the results of 'case'",
            )
        elif all(v.type == default.type for v in results):
            vtype = default.type
        else:
            raise _err(
                "type_mismatch",
                "case 各分支的结果类型不一致",
                "the branches of 'case' give values of different types",
                node,
            )
        return _mk(ir.Case, vtype, tuple(branches), default)


def compile_rule(
    text: str,
    schema: Schema,
    *,
    kind: str = "condition",
    code: str = "",
    label: str = "",
    strict_units: bool = True,
) -> CompiledRule:
    """Parse and type-check rule text; ``kind`` fixes the result type (bool or money).

    With ``strict_units=False`` unit errors are kept in ``unit_problems`` instead of
    raised (for stored text written before unit checks); every other error still raises.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    problems: list[RuleError] | None = None if strict_units else []
    tree = ast.parse(text)
    checker = _Checker(schema, problems=problems)
    expr = checker.expr(tree)
    _check_kind(expr, kind, tree, checker)
    return CompiledRule(
        text, expr, kind, ir.requirements(expr), schema, code, label, tuple(problems or ())
    )


def compile_conditions(
    conditions: Iterable[tuple[str, str, str]],
    schema: Schema,
    *,
    code: str = "",
    label: str = "",
    strict_units: bool = True,
) -> CompiledRule:
    """Compile a policy's named conditions ``(code, label, text)``; all must hold."""
    items = []
    problems: list[RuleError] | None = None if strict_units else []
    for cond_code, cond_label, text in conditions:
        source = f"{code}.{cond_code}" if code else cond_code
        found: list[RuleError] | None = None if strict_units else []
        try:
            tree = ast.parse(text)
            checker = _Checker(schema, problems=found)
            expr = checker.expr(tree)
            _check_kind(expr, "condition", tree, checker)
        except RuleError as exc:
            raise exc.with_source(source) from None
        if problems is not None:
            problems.extend(p if p.source_name else p.with_source(source) for p in found or ())
        items.append(_mk(ir.Labeled, B, cond_code, cond_label, expr))
    if not items:
        raise RuleError(
            "empty", "政策没有可自动判断的条件", "the policy has no machine-checkable condition"
        )
    expr = _mk(ir.And, B, tuple(items))
    source = "\n".join(f"# {lab}\n{text}" for _, lab, text in conditions)
    return CompiledRule(
        source, expr, "condition", ir.requirements(expr), schema, code, label,
        tuple(problems or ()),
    )  # fmt: skip


def _check_kind(expr: ir.Expr, kind: str, tree: ast.Node, checker: _Checker) -> None:
    if kind == "condition" and expr.type != B:
        raise _err(
            "type_mismatch",
            f"条件的结果必须是“是/否”，这里是{expr.type.label_zh}",
            f"a condition must give a boolean, got {expr.type}",
            tree,
        )
    if kind == "amount" and expr.type not in NUMERIC_TYPES:
        raise _err(
            "type_mismatch",
            f"金额公式的结果必须是金额，这里是{expr.type.label_zh}",
            f"an amount formula must give money, got {expr.type}",
            tree,
        )
    if kind == "amount" and expr.type is not M:
        if expr.type is N and units.is_constant(expr):
            zh, en = "金额需要带单位，例如 20万", "an amount of money needs a unit, e.g. 20万"
            code = "money_needs_unit"
        else:
            zh = f"金额公式的结果必须是金额，这里是{expr.type.label_zh}"
            en = f"an amount formula must give money, got {expr.type}"
            code = "unit_mismatch"
        checker.unit_problem(_err(code, zh, en, tree))
