"""Value types of the rule language and the Schema of variables rules may use."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from .errors import RuleError

CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class ValueType(StrEnum):
    """Kind of a variable or expression: money in yuan, ratio a fraction (0.05 = 5 %),
    duration in years, count a number of things, number a plain (dimensionless) number."""

    NUMBER = "number"
    COUNT = "count"
    MONEY = "money"
    RATIO = "ratio"
    DURATION = "duration"
    BOOL = "bool"
    DATE = "date"
    TEXT = "text"

    @property
    def is_numeric(self) -> bool:
        return self in NUMERIC_TYPES

    @property
    def label_zh(self) -> str:
        return _TYPE_ZH[self]


NUMERIC_TYPES = frozenset(
    {ValueType.NUMBER, ValueType.COUNT, ValueType.MONEY, ValueType.RATIO, ValueType.DURATION}
)
_TYPE_ZH = {
    ValueType.NUMBER: "数值",
    ValueType.COUNT: "数量",
    ValueType.MONEY: "金额",
    ValueType.RATIO: "比例",
    ValueType.DURATION: "年限",
    ValueType.BOOL: "是/否",
    ValueType.DATE: "日期",
    ValueType.TEXT: "文本",
}


class Source(StrEnum):
    """Where a variable's value comes from, which tells the DB loader what to query."""

    FIELD = "field"  # an attribute of the enterprise record
    METRIC = "metric"  # a figure of an annual report, for a year relative to the evaluation year
    FORMULA = "formula"  # computed from other variables


@dataclass(frozen=True)
class Variable:
    """One variable a rule may name; formula variables carry their expression text."""

    code: str
    type: ValueType
    label_zh: str
    label_en: str = ""
    unit: str = ""
    source: Source = Source.FIELD
    formula: str | None = None
    year: int = -1  # default annual-report year offset for metrics (and formulas over them)
    description: str = ""

    def __post_init__(self) -> None:
        # Accept plain strings ("money", "formula") from callers and YAML alike.
        object.__setattr__(self, "type", ValueType(self.type))
        source = Source.FORMULA if self.formula and self.source == Source.FIELD else self.source
        object.__setattr__(self, "source", Source(source))

    @classmethod
    def from_dict(cls, data: Mapping) -> Variable:
        """Build from a YAML/JSON mapping, as in ``library/variables.yaml``."""
        formula = data.get("formula")
        source = Source(data.get("source") or (Source.FORMULA if formula else Source.FIELD))
        try:
            vtype = ValueType(data["type"])
        except (KeyError, ValueError):
            raise RuleError(
                "bad_variable",
                f"变量 {data.get('code')!r} 的类型 {data.get('type')!r} 无效，"
                f"可选：{', '.join(t.value for t in ValueType)}",
                f"variable {data.get('code')!r} has invalid type {data.get('type')!r}",
            ) from None
        return cls(
            code=str(data["code"]),
            type=vtype,
            label_zh=str(data.get("label_zh") or data["code"]),
            label_en=str(data.get("label_en") or ""),
            unit=str(data.get("unit") or ""),
            source=source,
            formula=str(formula) if formula else None,
            year=int(data.get("year", -1)),
            description=str(data.get("description") or ""),
        )


class Schema:
    """The variables (and optionally the qualification names) rules are checked against.

    Formula variables are parsed, type-checked and checked for cycles when the schema
    is built, so a broken formula is reported once, not in every rule that uses it.
    """

    def __init__(
        self,
        variables: Iterable[Variable],
        *,
        qualifications: Iterable[str] | None = None,
        strict_units: bool = True,
    ) -> None:
        self.variables: dict[str, Variable] = {}
        # strict_units=False: a formula's unit errors (stored before unit checks existed)
        # are kept here by variable code instead of refusing the whole schema.
        self.strict_units = strict_units
        self.unit_problems: dict[str, list[RuleError]] = {}
        for var in variables:
            if not CODE_RE.match(var.code) or "__" in var.code:
                raise RuleError(
                    "bad_variable",
                    f"变量代码 {var.code!r} 无效：只能使用小写字母、数字和下划线，且以字母开头",
                    f"invalid variable code {var.code!r}: use lowercase ascii snake_case",
                )
            if var.code in self.variables:
                raise RuleError(
                    "bad_variable",
                    f"变量代码 {var.code!r} 重复",
                    f"duplicate variable code {var.code!r}",
                )
            if var.source is Source.FORMULA and not var.formula:
                raise RuleError(
                    "bad_variable",
                    f"公式变量 {var.code!r} 缺少公式",
                    f"formula variable {var.code!r} has no formula",
                )
            if not -20 <= var.year <= 0:
                raise RuleError(
                    "bad_variable",
                    f"变量 {var.code!r} 的年度偏移 {var.year} 超出范围 -20..0",
                    f"variable {var.code!r} year offset {var.year} is outside -20..0",
                )
            self.variables[var.code] = var
        self.qualifications = frozenset(qualifications) if qualifications is not None else None
        # Imported here: the compiler needs Schema's type, and the schema needs the compiler.
        from .compiler import FormulaCache

        self.formulas = FormulaCache(self)
        self.formulas.check_all()

    @classmethod
    def from_dicts(
        cls,
        items: Iterable[Mapping],
        *,
        qualifications: Iterable[str] | None = None,
        strict_units: bool = True,
    ) -> Schema:
        return cls(
            [Variable.from_dict(d) for d in items],
            qualifications=qualifications,
            strict_units=strict_units,
        )

    def __contains__(self, code: object) -> bool:
        return code in self.variables

    def __getitem__(self, code: str) -> Variable:
        return self.variables[code]

    def get(self, code: str) -> Variable | None:
        return self.variables.get(code)
