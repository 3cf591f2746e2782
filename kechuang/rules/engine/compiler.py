"""Type-check an AST against a Schema and lower it to the typed IR.

All checking happens here, at compile time: unknown names, wrong arity, wrong argument
types and type mismatches are RuleErrors with the position of the offending text.
Formula variables are expanded in place (once per schema, cached) and cycles refused.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import ir
from . import syntax as ast
from .errors import RuleError
from .types import NUMERIC_TYPES, Source, ValueType, Variable

if TYPE_CHECKING:
    from .types import Schema

MAX_IR_DEPTH = 400  # after formula expansion; keeps every recursive walk far from Python's limit
MAX_YEAR_OFFSET = 20
N, M, R, B, D, T = (
    ValueType.NUMBER,
    ValueType.MONEY,
    ValueType.RATIO,
    ValueType.BOOL,
    ValueType.DATE,
    ValueType.TEXT,
)
FUNCTION_NAMES = (
    "has_qualification",
    "metric",
    "date",
    "eval_date",
    "year_end",
    "year_start",
    "years_since",
    "days_since",
    "min",
    "max",
    "abs",
    "coalesce",
    "known",
)
KINDS = ("condition", "amount", "expression")


@dataclass(frozen=True, eq=False)
class CompiledRule:
    """A checked rule ready for explain() and evaluate_bulk(); compile once, evaluate often."""

    source: str
    expr: ir.Expr
    kind: str  # "condition" (bool), "amount" (number) or "expression" (any type)
    requirements: frozenset
    schema: Schema
    code: str = ""
    label: str = ""

    @property
    def type(self) -> ValueType:
        return self.expr.type


def _err(code: str, zh: str, en: str, node: ast.Node | None, **hint) -> RuleError:
    return RuleError(code, zh, en, node.line if node else 0, node.column if node else 0, hint=hint)


def _mk(cls, *args, **kwargs):
    """Build an IR node, tracking depth so no later walk can hit Python's recursion limit."""
    node = cls(*args, **kwargs)
    subs = ir.children(node)
    if subs:
        node.depth = 1 + max(c.depth for c in subs)
        if node.depth > MAX_IR_DEPTH:
            raise RuleError(
                "too_deep",
                f"规则展开公式后嵌套超过 {MAX_IR_DEPTH} 层",
                f"rule is nested deeper than {MAX_IR_DEPTH} levels after expanding formulas",
            )
    return node


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else ""


def arith_type(op: str, left: ir.Expr, right: ir.Expr) -> ValueType:
    """Result type of arithmetic, chosen so results display in the right unit."""
    a, b = left.type, right.type
    if op in "+-":
        return a if a == b or b == N else (b if a == N else N)
    if op == "*":
        if M in (a, b):
            return M if {a, b} <= {M, R, N} and not a == b == M else N
        return R if R in (a, b) else N
    # Division: X / literal keeps X's unit; like / like is a ratio; money / ratio is money.
    if isinstance(right, ir.Const) and b in (N, R) and a != N:
        return a
    if a == b:
        return R
    return M if a == M and b in (N, R) else N


def join_types(types: list[ValueType]) -> ValueType | None:
    """Common type of case branches or coalesce arguments; None when incompatible."""
    first = types[0]
    if all(t == first for t in types):
        return first
    if all(t in NUMERIC_TYPES for t in types):
        specific = {t for t in types if t != N}
        return specific.pop() if len(specific) == 1 else N
    return None


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
        try:
            tree = self._asts.get(var.code)
            if tree is None:
                tree = self._asts[var.code] = ast.parse(var.formula or "")
            body = _Checker(self.schema, (*stack, var.code), year).expr(tree)
        except RuleError as exc:
            raise exc if exc.source_name else exc.with_source(f"variable {var.code}") from None
        vtype = var.type
        if body.type != vtype and not (body.type in NUMERIC_TYPES and vtype in NUMERIC_TYPES):
            raise RuleError(
                "type_mismatch",
                f"公式变量 {var.code} 声明为{vtype.label_zh}，但公式结果是{body.type.label_zh}",
                f"formula variable {var.code} is declared {vtype} but its formula gives {body.type}",
            ).with_source(f"variable {var.code}")
        node = _mk(ir.Formula, vtype, var, year, body, var.label_zh)
        self._compiled[(var.code, year)] = node
        return node


class _Checker:
    """Walks the AST of one rule or formula; the AST depth is capped so recursion is safe."""

    def __init__(self, schema: Schema, stack: tuple[str, ...] = (), year: int | None = None):
        self.schema = schema
        self.cache: FormulaCache = schema.formulas
        self.stack = stack
        self.year = year  # metric year override while expanding metric(formula, year=...)

    def expr(self, node: ast.Node) -> ir.Expr:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def expect(
        self, node: ast.Node, allowed: frozenset | set, what_zh: str, what_en: str
    ) -> ir.Expr:
        out = self.expr(node)
        if out.type not in allowed:
            raise _err(
                "type_mismatch",
                f"{what_zh}需要{'或'.join(sorted(t.label_zh for t in allowed))}，这里是{out.type.label_zh}",
                f"{what_en} must be {' or '.join(sorted(allowed))}, got {out.type}",
                node,
            )
        return out

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
                return self.cache.formula(var, year, self.stack)
            except RuleError as exc:
                if exc.code == "cycle" or not exc.line:
                    exc.line, exc.column = node.line, node.column
                raise
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
        return _mk(ir.Arith, arith_type(node.op, left, right), node.op, left, right)

    def _negate(self, node: ast.Negate) -> ir.Expr:
        operand = self.expect(node.operand, NUMERIC_TYPES, "负号后", "operand of unary '-'")
        return _mk(ir.Neg, operand.type, operand)

    def _compare(self, node: ast.Compare) -> ir.Expr:
        operands = [self.expr(x) for x in node.operands]
        pairs = []
        for i, op in enumerate(node.ops):
            left, right = operands[i], operands[i + 1]
            self.check_comparable(op, left, right, node.operands[i + 1])
            pairs.append(_mk(ir.Cmp, B, op, left, right))
        return pairs[0] if len(pairs) == 1 else _mk(ir.And, B, tuple(pairs))

    def check_comparable(self, op: str, left: ir.Expr, right: ir.Expr, at: ast.Node) -> None:
        a, b = left.type, right.type
        ok = (a in NUMERIC_TYPES and b in NUMERIC_TYPES) or a == b
        if ok and a in (T, B) and op not in ("==", "!="):
            raise _err(
                "type_mismatch",
                f"{a.label_zh}只能比较是否相等（== 或 !=），不能用 {op}",
                f"{a} values can only be compared with == or !=, not {op}",
                at,
            )
        if not ok:
            raise _err(
                "type_mismatch",
                f"无法比较{a.label_zh}与{b.label_zh}",
                f"cannot compare {a} with {b}",
                at,
            )

    def _between(self, node: ast.Between) -> ir.Expr:
        operand = self.expr(node.operand)
        low, high = self.expr(node.low), self.expr(node.high)
        self.check_comparable("<=", low, operand, node.operand)
        self.check_comparable("<=", operand, high, node.high)
        return _mk(
            ir.And, B, (_mk(ir.Cmp, B, ">=", operand, low), _mk(ir.Cmp, B, "<=", operand, high))
        )

    def _inlist(self, node: ast.InList) -> ir.Expr:
        operand = self.expr(node.operand)
        values = []
        for item in node.items:
            item_type = T if isinstance(item, ast.String) else N
            if (item_type == T) != (operand.type == T) or operand.type in (B, D):
                raise _err(
                    "type_mismatch",
                    f"列表中的值必须与左边同为{operand.type.label_zh}",
                    f"list items must have the same type as the left side ({operand.type})",
                    item,
                )
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
        vtype = join_types([v.type for _, v in branches] + [default.type])
        if vtype is None:
            raise _err(
                "type_mismatch",
                "case 各分支的结果类型不一致",
                "the branches of 'case' give values of different types",
                node,
            )
        return _mk(ir.Case, vtype, tuple(branches), default)

    # -- functions ------------------------------------------------------------------

    def _call(self, node: ast.Call) -> ir.Expr:
        if node.name not in FUNCTION_NAMES:
            guess = _suggest(node.name, FUNCTION_NAMES)
            extra = "（变量不能像函数一样调用）" if node.name in self.schema else ""
            raise _err(
                "unknown_function",
                f"未知函数 {node.name}{extra}" + (f"（是否想写 {guess}？）" if guess else ""),
                f"unknown function {node.name!r}"
                + (f" (did you mean {guess!r}?)" if guess else ""),
                node,
                suggestion=guess,
            )
        return getattr(self, "_fn_" + node.name)(node)

    def _args(
        self, node: ast.Call, positional: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict:
        """Bind arguments by name, so both f(x, y=1) and f(x, 1) work and mistakes are explicit."""
        names = positional + optional
        if len(node.args) > len(names):
            raise _err(
                "arity",
                f"函数 {node.name} 最多接受 {len(names)} 个参数，这里有 {len(node.args)} 个",
                f"{node.name}() takes at most {len(names)} arguments, got {len(node.args)}",
                node,
            )
        bound = dict(zip(names, node.args, strict=False))
        for key, value in node.kwargs:
            if key not in names:
                raise _err(
                    "bad_argument",
                    f"函数 {node.name} 没有参数 {key}（可用：{', '.join(names) or '无'}）",
                    f"{node.name}() has no argument {key!r}",
                    value,
                )
            if key in bound:
                raise _err(
                    "bad_argument", f"参数 {key} 重复", f"argument {key!r} given twice", value
                )
            bound[key] = value
        missing = [p for p in positional if p not in bound]
        if missing:
            raise _err(
                "arity",
                f"函数 {node.name} 缺少参数 {', '.join(missing)}",
                f"{node.name}() is missing argument(s) {', '.join(missing)}",
                node,
            )
        return bound

    def _literal_text(self, node: ast.Node, fn: str) -> str:
        if not isinstance(node, ast.String):
            raise _err(
                "bad_argument",
                f'函数 {fn} 的名称参数必须是带引号的文本，例如 "高新技术企业"',
                f"the name argument of {fn}() must be a quoted text literal",
                node,
            )
        return node.value

    def _literal_year(self, node: ast.Node | None, fn: str, low: int, high: int) -> int:
        if node is None:
            return 0
        if not (isinstance(node, ast.Number) and node.type == N and node.value == int(node.value)):
            raise _err(
                "bad_argument",
                f"函数 {fn} 的 year 参数必须是整数，例如 -1 表示上一年度",
                f"the year argument of {fn}() must be an integer such as -1",
                node,
            )
        if not low <= node.value <= high:
            raise _err(
                "bad_argument",
                f"年度偏移 {int(node.value)} 超出范围 {low}..{high}",
                f"year offset {int(node.value)} is outside {low}..{high}",
                node,
            )
        return int(node.value)

    def _fn_has_qualification(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, ("name",), ("valid_on",))
        name = self._literal_text(args["name"], "has_qualification")
        known = self.schema.qualifications
        if known is not None and name not in known:
            guess = _suggest(name, known)
            raise _err(
                "unknown_qualification",
                f"未知资质 {name!r}" + (f"（是否想写 {guess!r}？）" if guess else ""),
                f"unknown qualification {name!r}"
                + (f" (did you mean {guess!r}?)" if guess else ""),
                args["name"],
                suggestion=guess,
            )
        spec = "eval_date"
        if "valid_on" in args:
            when = self.expr(args["valid_on"])
            if isinstance(when, ir.DateOf):
                spec = when.spec
            elif isinstance(when, ir.Const) and when.type == D:
                spec = when.value.isoformat()
            else:
                raise _err(
                    "bad_argument",
                    'valid_on 必须是固定日期，如 date("2024-12-31")、eval_date()、year_end(-1)',
                    "valid_on must be a fixed date: date(...), eval_date(), year_end(n) or year_start(n)",
                    args["valid_on"],
                )
        return self.cache.ref(("qualification", name, spec), B, f"持有有效的「{name}」资质")

    def _fn_metric(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, ("name",), ("year",))
        code = self._literal_text(args["name"], "metric")
        var = self.schema.get(code)
        if var is None or var.source is Source.FIELD:
            guess = _suggest(
                code,
                [v.code for v in self.schema.variables.values() if v.source is not Source.FIELD],
            )
            raise _err(
                "unknown_variable",
                f"{code!r} 不是年报指标" + (f"（是否想写 {guess!r}？）" if guess else ""),
                f"{code!r} is not an annual-report metric"
                + (f" (did you mean {guess!r}?)" if guess else ""),
                args["name"],
                suggestion=guess,
            )
        year = (
            self._literal_year(args.get("year"), "metric", -MAX_YEAR_OFFSET, 0)
            if "year" in args
            else None
        )
        return self.variable(var, year, node)

    def _fn_date(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, ("text",))
        text = self._literal_text(args["text"], "date")
        try:
            return ir.Const(D, dt.date.fromisoformat(text))
        except ValueError:
            raise _err(
                "bad_date",
                f'日期 {text!r} 无效，请写成 "YYYY-MM-DD"',
                f'invalid date {text!r}; write it as "YYYY-MM-DD"',
                args["text"],
            ) from None

    def _fn_eval_date(self, node: ast.Call) -> ir.Expr:
        self._args(node, ())
        return ir.DateOf(D, "eval_date")

    def _fn_year_end(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, (), ("year",))
        return ir.DateOf(D, f"year_end:{self._literal_year(args.get('year'), 'year_end', -50, 50)}")

    def _fn_year_start(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, (), ("year",))
        return ir.DateOf(
            D, f"year_start:{self._literal_year(args.get('year'), 'year_start', -50, 50)}"
        )

    def _fn_years_since(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, ("date",))
        arg = self.expect(args["date"], {D}, "years_since 的参数", "argument of years_since()")
        return _mk(ir.Func, N, "years_since", (arg,))

    def _fn_days_since(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, ("date",))
        arg = self.expect(args["date"], {D}, "days_since 的参数", "argument of days_since()")
        return _mk(ir.Func, N, "days_since", (arg,))

    def _variadic(self, node: ast.Call, numeric_only: bool) -> tuple[ir.Expr, ...]:
        if node.kwargs:
            raise _err(
                "bad_argument",
                f"函数 {node.name} 不接受关键字参数",
                f"{node.name}() takes no keyword arguments",
                node.kwargs[0][1],
            )
        if len(node.args) < 2:
            raise _err(
                "arity",
                f"函数 {node.name} 至少需要 2 个参数",
                f"{node.name}() needs at least 2 arguments",
                node,
            )
        if numeric_only:
            return tuple(
                self.expect(a, NUMERIC_TYPES, f"{node.name} 的参数", f"arguments of {node.name}()")
                for a in node.args
            )
        return tuple(self.expr(a) for a in node.args)

    def _fn_min(self, node: ast.Call) -> ir.Expr:
        args = self._variadic(node, True)
        return _mk(ir.Func, join_types([a.type for a in args]) or N, "min", args)

    def _fn_max(self, node: ast.Call) -> ir.Expr:
        args = self._variadic(node, True)
        return _mk(ir.Func, join_types([a.type for a in args]) or N, "max", args)

    def _fn_abs(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, ("value",))
        arg = self.expect(args["value"], NUMERIC_TYPES, "abs 的参数", "argument of abs()")
        return _mk(ir.Func, arg.type, "abs", (arg,))

    def _fn_coalesce(self, node: ast.Call) -> ir.Expr:
        args = self._variadic(node, False)
        vtype = join_types([a.type for a in args])
        if vtype is None:
            raise _err(
                "type_mismatch",
                "coalesce 的各参数类型必须一致",
                "all arguments of coalesce() must have the same type",
                node,
            )
        return _mk(ir.Func, vtype, "coalesce", args)

    def _fn_known(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, ("value",))
        return _mk(ir.Func, B, "known", (self.expr(args["value"]),))


def compile_rule(
    text: str,
    schema: Schema,
    *,
    kind: str = "condition",
    code: str = "",
    label: str = "",
) -> CompiledRule:
    """Parse and type-check rule text; ``kind`` fixes the result type (bool or number)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    tree = ast.parse(text)
    expr = _Checker(schema).expr(tree)
    _check_kind(expr, kind, tree)
    return CompiledRule(text, expr, kind, ir.requirements(expr), schema, code, label)


def compile_conditions(
    conditions: Iterable[tuple[str, str, str]],
    schema: Schema,
    *,
    code: str = "",
    label: str = "",
) -> CompiledRule:
    """Compile a policy's named conditions ``(code, label, text)``; all must hold."""
    items = []
    for cond_code, cond_label, text in conditions:
        try:
            tree = ast.parse(text)
            expr = _Checker(schema).expr(tree)
            _check_kind(expr, "condition", tree)
        except RuleError as exc:
            raise exc.with_source(f"{code}.{cond_code}" if code else cond_code) from None
        items.append(_mk(ir.Labeled, B, cond_code, cond_label, expr))
    if not items:
        raise RuleError(
            "empty", "政策没有可自动判断的条件", "the policy has no machine-checkable condition"
        )
    expr = _mk(ir.And, B, tuple(items))
    source = "\n".join(f"# {lab}\n{text}" for _, lab, text in conditions)
    return CompiledRule(source, expr, "condition", ir.requirements(expr), schema, code, label)


def _check_kind(expr: ir.Expr, kind: str, tree: ast.Node) -> None:
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
            f"金额公式的结果必须是数值，这里是{expr.type.label_zh}",
            f"an amount formula must give a number, got {expr.type}",
            tree,
        )
