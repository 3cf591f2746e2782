"""Evaluate compiled rules for every enterprise at once with NumPy (no per-row Python).

Column encodings (``columns`` maps requirement key -> 1-D array of length ``n``):

* number / money / ratio: any numeric array, read as float64; NaN means missing.
* date: ``datetime64`` (NaT = missing) or float64 days since 1970-01-01 (NaN = missing).
* bool (bool fields, qualifications): int8 with 1 true, 0 false, -1 unknown, or a plain
  numpy bool array (nothing missing).
* text: object array of str, None = missing.

Internally a three-valued truth is uint8 0 = false, 1 = unknown, 2 = true, so Kleene
``and`` / ``or`` / ``not`` are ``minimum`` / ``maximum`` / ``2 - x``. Verdicts returned
to callers are int8: 1 true, 0 false, -1 unknown.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import ir
from .compiler import CompiledRule
from .types import NUMERIC_TYPES, ValueType

B, D, T = ValueType.BOOL, ValueType.DATE, ValueType.TEXT
FALSE, UNKNOWN, TRUE = 0, 1, 2
VERDICT_TRUE, VERDICT_FALSE, VERDICT_UNKNOWN = 1, 0, -1
_TO_PUBLIC = np.array([VERDICT_FALSE, VERDICT_UNKNOWN, VERDICT_TRUE], dtype=np.int8)
_FROM_PUBLIC = np.array([UNKNOWN, FALSE, TRUE], dtype=np.uint8)  # indexed by public + 1
EPOCH = dt.date(1970, 1, 1)
_CMP = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
}


@functools.lru_cache(maxsize=32)
def _anniversary_bounds(on: dt.date) -> tuple[int, np.ndarray]:
    """Day numbers b[k] of the last start date with at least k completed years on ``on``.

    Returned ascending (k descending) with the smallest k, for every start year 1..9999,
    so the search is exact for any date numpy and Python can both represent.
    """
    ks = np.arange(on.year - 9999, on.year)  # start years on.year - k from 9999 down to 1
    years = on.year - ks
    months = (years - 1970) * 12 + (on.month - 1)
    day = months.astype("datetime64[M]").astype("datetime64[D]") + (on.day - 1)
    overflow = day.astype("datetime64[M]") != months.astype("datetime64[M]")
    day = day - overflow.astype("timedelta64[D]")  # 29 Feb in a common year: 28 Feb
    bounds = day.astype(np.int64).astype(np.float64)[::-1]
    return int(ks[0]), np.ascontiguousarray(bounds)


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray)


class BulkEvaluator:
    """Evaluates many rules over one set of columns, sharing data and formula results.

    Build one per evaluation run (one date, one set of enterprises) and ask it for each
    rule: formula variables such as ``rd_ratio`` are then computed once for all rules.
    """

    def __init__(self, columns: Mapping[tuple, Any], n: int, *, on: dt.date | None = None) -> None:
        self.columns = columns
        self.n = int(n)
        self.on = on or dt.date.today()
        self.on_days = float((self.on - EPOCH).days)
        self._memo: dict[ir.Expr, Any] = {}
        self._nan: dict[ir.Expr, np.ndarray | None] = {}

    # -- public ---------------------------------------------------------------------------

    def verdicts(self, compiled: CompiledRule) -> np.ndarray:
        """int8 per enterprise: 1 true / eligible, 0 false, -1 unknown."""
        if compiled.expr.type is not B:
            raise TypeError("verdicts() needs a condition rule; use values() for numbers")
        with np.errstate(all="ignore"):  # overflow to inf and NaN are values here, not errors
            t = self.tri(compiled.expr)
        if not _is_array(t):
            return np.full(self.n, _TO_PUBLIC[t], dtype=np.int8)
        return _TO_PUBLIC.take(t)

    def values(self, compiled: CompiledRule) -> tuple[np.ndarray, np.ndarray]:
        """float64 values and a bool mask of which are known, for a numeric rule."""
        if compiled.expr.type not in NUMERIC_TYPES:
            raise TypeError("values() needs a numeric rule")
        with np.errstate(all="ignore"):
            v = self.val(compiled.expr)
        v = np.full(self.n, v, dtype=np.float64) if not _is_array(v) else v.copy()
        return v, ~np.isnan(v)

    # -- columns --------------------------------------------------------------------------

    def _column(self, ref: ir.Ref) -> Any:
        try:
            raw = self.columns[ref.key]
        except KeyError:
            raise KeyError(f"no column supplied for requirement {ref.key!r}") from None
        arr = np.asarray(raw)
        if arr.shape != (self.n,):
            raise ValueError(f"column {ref.key!r} has shape {arr.shape}, expected ({self.n},)")
        vtype = ref.type
        if vtype in NUMERIC_TYPES:
            return arr if arr.dtype == np.float64 else arr.astype(np.float64)
        if vtype is D:
            if arr.dtype.kind == "M":
                days = arr.astype("datetime64[D]")
                out = days.view(np.int64).astype(np.float64)
                out[np.isnat(days)] = np.nan
                return out
            return arr.astype(np.float64, copy=False)
        if vtype is B:
            if arr.dtype == np.bool_:
                return arr.view(np.uint8) << 1
            return _FROM_PUBLIC.take(arr.astype(np.intp) + 1)
        return arr.astype(object, copy=False)

    # -- values ---------------------------------------------------------------------------

    def val(self, node: ir.Expr) -> Any:
        """Value of a node: float64 array / float, uint8 truth, float days, or object array."""
        if isinstance(node, ir.Ref | ir.Formula):
            found = self._memo.get(node)
            if found is None:
                found = self._memo[node] = (
                    self._column(node) if isinstance(node, ir.Ref) else self.val(node.expr)
                )
            return found
        if node.type is B:
            return self.tri(node)
        return self._value(node)

    def nan_mask(self, node: ir.Expr) -> np.ndarray | None:
        """Where a numeric or date node is missing; None when nothing is."""
        if isinstance(node, ir.Const | ir.DateOf):
            return None
        cacheable = isinstance(node, ir.Ref | ir.Formula)
        if cacheable and node in self._nan:
            return self._nan[node]
        v = self.val(node)
        mask = None
        if _is_array(v):
            mask = np.isnan(v)
            if cacheable and not mask.any():
                mask = None
        elif v != v:  # scalar NaN
            mask = np.ones(self.n, dtype=bool)
        if cacheable:
            self._nan[node] = mask
        return mask

    def _value(self, node: ir.Expr) -> Any:
        match node:
            case ir.Const(value=value, type=vtype):
                if vtype is D:
                    return float((value - EPOCH).days)
                return float(value) if vtype in NUMERIC_TYPES else value
            case ir.DateOf(spec=spec):
                return float((ir.resolve_date_spec(spec, self.on) - EPOCH).days)
            case ir.Arith(op=op, left=left, right=right):
                return self._arith(op, self.val(left), self.val(right))
            case ir.Neg(operand=x):
                return np.negative(self.val(x))
            case ir.Case():
                return self._case(node)
            case ir.Func(name=name, args=args):
                return self._func(node, name, args)
        raise TypeError(f"unknown node {node!r}")

    def _arith(self, op: str, a: Any, b: Any) -> Any:
        if op == "+":
            return np.add(a, b)
        if op == "-":
            return np.subtract(a, b)
        if op == "*":
            return np.multiply(a, b)
        out = np.divide(a, b)
        if _is_array(b):
            zero = b == 0
            if zero.any():
                if not _is_array(out):
                    out = np.full(self.n, out)
                np.copyto(out, np.nan, where=zero)
        elif b == 0:
            out = np.full(self.n, np.nan)
        return out

    def _func(self, node: ir.Func, name: str, args: tuple[ir.Expr, ...]) -> Any:
        if name in ("min", "max"):
            ufunc = np.minimum if name == "min" else np.maximum
            out = self.val(args[0])
            for arg in args[1:]:
                out = ufunc(out, self.val(arg))  # NaN propagates: unknown in, unknown out
            return out
        if name == "abs":
            return np.abs(self.val(args[0]))
        if name == "coalesce":
            return self._coalesce(node, args)
        if name == "days_since":
            return np.subtract(self.on_days, self.val(args[0]))
        if name == "years_since":
            return self._years_since(args[0])
        raise TypeError(f"unknown function {name}")

    def _years_since(self, arg: ir.Expr) -> Any:
        days = self.val(arg)
        if not _is_array(days):
            if days != days:
                return np.nan
            start = EPOCH + dt.timedelta(days=int(days))
            return float(
                self.on.year
                - start.year
                - ((self.on.month, self.on.day) < (start.month, start.day))
            )
        # Completed years is a step function of the start day; binary search over the
        # anniversary boundaries is one pass instead of a dozen calendar conversions.
        first_k, bounds = _anniversary_bounds(self.on)
        out = (first_k + len(bounds) - 1) - np.searchsorted(bounds, days, side="left").astype(
            np.float64
        )
        mask = self.nan_mask(arg)
        if mask is not None:
            out[mask] = np.nan
        return out

    def _missing_of(self, node: ir.Expr, value: Any) -> Any:
        """Missing mask of an already computed value (any type), or a scalar bool."""
        if node.type is B:
            return value == UNKNOWN
        if node.type is T:
            return np.equal(value, None) if _is_array(value) else value is None
        mask = self.nan_mask(node)
        return mask if mask is not None else False

    def _coalesce(self, node: ir.Func, args: tuple[ir.Expr, ...]) -> Any:
        out = self.val(args[-1])
        for arg in reversed(args[:-1]):
            v = self.val(arg)
            out = np.where(self._missing_of(arg, v), out, v)
        if node.type is B:
            return out.astype(np.uint8)
        return out

    def _case(self, node: ir.Case) -> Any:
        n, vtype = self.n, node.type
        if vtype is B:
            out = np.full(n, UNKNOWN, dtype=np.uint8)
            unknown: Any = UNKNOWN
        elif vtype is T:
            out = np.full(n, None, dtype=object)
            unknown = None
        else:
            out = np.full(n, np.nan)
            unknown = np.nan
        pending = np.ones(n, dtype=bool)
        for cond, value in node.branches:
            c = self.tri(cond)
            np.copyto(out, self.val(value), where=pending & (c == TRUE))
            np.copyto(out, unknown, where=pending & (c == UNKNOWN))
            pending &= c == FALSE
        np.copyto(out, self.val(node.default), where=pending)
        return out

    # -- truth ----------------------------------------------------------------------------

    def tri(self, node: ir.Expr) -> Any:
        """Three-valued truth of a boolean node: uint8 array (or int) 0/1/2."""
        match node:
            case ir.Ref() | ir.Formula():
                return self.val(node)
            case ir.Const(value=value):
                return TRUE if value else FALSE
            case ir.Labeled(expr=expr):
                return self.tri(expr)
            case ir.And(items=items):
                return self._fold(np.minimum, items)
            case ir.Or(items=items):
                return self._fold(np.maximum, items)
            case ir.Not(operand=x):
                t = self.tri(x)
                return np.subtract(TRUE, t, dtype=np.uint8) if _is_array(t) else TRUE - t
            case ir.Cmp():
                return self._compare(node)
            case ir.InSet():
                return self._in(node)
            case ir.Case():
                return self._case(node)
            case ir.Func(name="known", args=(x,)):
                missing = self._missing_of(x, self.val(x))
                return (
                    np.where(missing, FALSE, TRUE).astype(np.uint8)
                    if _is_array(missing)
                    else (FALSE if missing else TRUE)
                )
            case ir.Func(name="coalesce", args=args):
                return self._coalesce(node, args)
        raise TypeError(f"unknown boolean node {node!r}")

    def _fold(self, ufunc: np.ufunc, items: tuple[ir.Expr, ...]) -> Any:
        out = None
        for item in items:
            t = self.tri(item)
            if out is None:
                out = t
            elif _is_array(out) and not self._is_cached(out):
                ufunc(out, t, out=out)
            else:
                out = ufunc(out, t)
        return out

    def _is_cached(self, arr: np.ndarray) -> bool:
        # Only Ref/Formula results are cached; in-place updates must never touch them.
        return any(v is arr for v in self._memo.values())

    def _truth(self, r: Any, mask: Any) -> Any:
        """Two-valued comparison result plus unknown mask -> three-valued truth."""
        if not _is_array(r):
            if _is_array(mask):
                r = np.full(self.n, bool(r))
            else:
                return UNKNOWN if mask else (TRUE if r else FALSE)
        t = np.left_shift(r.view(np.uint8), 1)
        if _is_array(mask):
            np.bitwise_or(t, mask.view(np.uint8), out=t)
        elif mask:
            t[:] = UNKNOWN
        return t

    def _compare(self, node: ir.Cmp) -> Any:
        left, right, op = node.left, node.right, node.op
        a, b = self.val(left), self.val(right)
        ufunc = _CMP["==" if op == "!=" else op]
        if left.type is B:
            mask = np.logical_or(np.equal(a, UNKNOWN), np.equal(b, UNKNOWN))
            r = np.equal(a, b) & ~mask
        elif left.type is T:
            mask = np.logical_or(np.equal(a, None), np.equal(b, None))
            r = np.equal(a, b) & ~mask
            if _is_array(r):
                r = r.astype(bool, copy=False)
        else:
            ma, mb = self.nan_mask(left), self.nan_mask(right)
            mask = ma if mb is None else (mb if ma is None else ma | mb)
            r = ufunc(a, b)  # NaN compares false, then the mask marks it unknown
            mask = False if mask is None else mask
        t = self._truth(r, mask)
        if op == "!=":
            t = np.subtract(TRUE, t, dtype=np.uint8) if _is_array(t) else TRUE - t
        return t

    def _in(self, node: ir.InSet) -> Any:
        x = node.operand
        a = self.val(x)
        if x.type is T:
            r = np.zeros(self.n, dtype=bool) if _is_array(a) else False
            for value in node.values:
                r = r | (np.equal(a, value).astype(bool) if _is_array(a) else a == value)
            mask = np.equal(a, None) if _is_array(a) else a is None
        else:
            r = (
                np.isin(a, np.asarray(node.values, dtype=np.float64))
                if _is_array(a)
                else a in node.values
            )
            mask = self.nan_mask(x)
            mask = False if mask is None else mask
        if node.negate:
            r = ~r if _is_array(r) else not r
        return self._truth(r, mask)


def evaluate_bulk(
    compiled: CompiledRule, columns: Mapping[tuple, Any], n: int, *, on: dt.date | None = None
) -> np.ndarray:
    """int8 verdict per enterprise (1 eligible, 0 not eligible, -1 unknown)."""
    return BulkEvaluator(columns, n, on=on).verdicts(compiled)


def evaluate_values(
    compiled: CompiledRule, columns: Mapping[tuple, Any], n: int, *, on: dt.date | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Values of a numeric rule (e.g. an amount formula) and the mask of known ones."""
    return BulkEvaluator(columns, n, on=on).values(compiled)


def facts_from_columns(columns: Mapping[tuple, Any], index: int) -> dict[tuple, Any]:
    """The facts of one row of a bulk load, to explain() a single enterprise."""
    return {key: np.asarray(col)[index] for key, col in columns.items()}
