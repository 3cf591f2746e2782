"""Functions of the rule language, checked and lowered to IR (a mixin of the type checker)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from . import ir
from . import syntax as ast
from .building import err as _err
from .building import mk as _mk
from .building import suggest as _suggest
from .types import NUMERIC_TYPES, Source, ValueType

if TYPE_CHECKING:
    from .compiler import FormulaCache
    from .types import Schema

N, C, B, D, Y = (
    ValueType.NUMBER,
    ValueType.COUNT,
    ValueType.BOOL,
    ValueType.DATE,
    ValueType.DURATION,
)
MAX_YEAR_OFFSET = 20
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


class FunctionsMixin:
    """Calls: argument binding, literal arguments, and one ``_fn_<name>`` per function.

    The checker that mixes it in supplies ``expr``, ``expect``, ``variable`` and
    ``same_kind`` (engine.compiler._Checker).
    """

    schema: Schema
    cache: FormulaCache

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
        return _mk(ir.Func, Y, "years_since", (arg,))

    def _fn_days_since(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, ("date",))
        arg = self.expect(args["date"], {D}, "days_since 的参数", "argument of days_since()")
        return _mk(ir.Func, C, "days_since", (arg,))  # a count of days

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
        kind = self.same_kind(args, node.args, f"{node.name} 的各参数", "arguments of min()")
        return _mk(ir.Func, kind, "min", args)

    def _fn_max(self, node: ast.Call) -> ir.Expr:
        args = self._variadic(node, True)
        kind = self.same_kind(args, node.args, f"{node.name} 的各参数", "arguments of max()")
        return _mk(ir.Func, kind, "max", args)

    def _fn_abs(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, ("value",))
        arg = self.expect(args["value"], NUMERIC_TYPES, "abs 的参数", "argument of abs()")
        return _mk(ir.Func, arg.type, "abs", (arg,))

    def _fn_coalesce(self, node: ast.Call) -> ir.Expr:
        args = self._variadic(node, False)
        if all(a.type in NUMERIC_TYPES for a in args):
            kind = self.same_kind(args, node.args, "coalesce 的各参数", "arguments of coalesce()")
        elif all(a.type == args[0].type for a in args):
            kind = args[0].type
        else:
            raise _err(
                "type_mismatch",
                "coalesce 的各参数类型必须一致",
                "all arguments of coalesce() must have the same type",
                node,
            )
        return _mk(ir.Func, kind, "coalesce", args)

    def _fn_known(self, node: ast.Call) -> ir.Expr:
        args = self._args(node, ("value",))
        return _mk(ir.Func, B, "known", (self.expr(args["value"]),))
