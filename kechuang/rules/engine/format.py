"""Format values the way an officer reads them: money in 万元, ratios in %, years in 年, dates in 年月日."""

from __future__ import annotations

import datetime as dt

from .types import ValueType

OP_SYMBOL = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}
OP_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _plain(value: float, decimals: int = 2) -> str:
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_value(value: object, vtype: ValueType, unit: str = "") -> str:
    """One value with its unit; ``None`` (unknown) reads as 未知."""
    if value is None:
        return "未知"
    if vtype is ValueType.MONEY:
        v = float(value)
        if abs(v) >= 1000:
            return f"{_plain(v / 10_000, 2 if abs(v) < 1e8 else 0)}万元"
        return f"{_plain(v)}元"
    if vtype is ValueType.RATIO:
        return f"{_plain(float(value) * 100, 2)}%"
    if vtype in (ValueType.NUMBER, ValueType.COUNT):
        return f"{_plain(float(value))}{' ' + unit if unit else ''}"
    if vtype is ValueType.DURATION:
        return f"{_plain(float(value))} {unit or '年'}"
    if vtype is ValueType.DATE:
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return f"{d.year}年{d.month}月{d.day}日"
    if vtype is ValueType.BOOL:
        return "是" if value else "否"
    return f"「{value}」"


def year_label(offset: int, on: dt.date) -> str:
    """Annual-report year for a relative offset: -1 on 2024-06-30 is 2023年度."""
    return f"{on.year + offset}年度"


def date_spec_label(spec: str) -> str:
    """Readable name of a DateOf spec or a valid_on spec."""
    if spec == "eval_date":
        return "评估日"
    kind, _, offset = spec.partition(":")
    if kind in ("year_end", "year_start"):
        n = int(offset)
        year = "本年" if n == 0 else (f"{-n}年前" if n < 0 else f"{n}年后")
        return f"{year}{'年末' if kind == 'year_end' else '年初'}"
    return format_value(spec, ValueType.DATE)
