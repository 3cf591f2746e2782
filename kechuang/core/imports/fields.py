"""Column types of an import: how one cell becomes a Python value, and how to explain it.

A field turns a cell into the value stored (or raises ``ParseError`` /
``ValidationError`` whose message is shown to the officer next to the row and
column). Fields are built once per import and their ``converter(unit)`` is a
plain function called in a tight loop, so keep them cheap.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kechuang.core.parsing import AMOUNT_UNITS, ParseError, parse_amount, parse_date, parse_int
from kechuang.core.tabular import Column
from kechuang.core.validators import validate_uscc

Converter = Callable[[Any], Any]


def clean_text(value: Any) -> str:
    """Cell -> text: numbers without a trailing .0, whitespace runs collapsed, half width."""
    if type(value) is str and value.isascii() and "  " not in value:
        return value.strip()  # the common case, fast
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class ImportField:
    """One column of an import spec."""

    name: str  # the model field (or pseudo-field) the value goes to
    label: str  # the Chinese header written into the template
    required: bool = False
    aliases: tuple[str, ...] = ()
    note: str = ""  # what the template's notes row says about accepted forms
    example: Any = None
    width: float = 16

    @property
    def column(self) -> Column:
        return Column(self.name, self.label, self.aliases, self.required)

    def header(self) -> str:
        return self.label

    def converter(self, unit: str | None) -> Converter:
        return clean_text


@dataclass(frozen=True)
class TextField(ImportField):
    max_length: int = 255

    def converter(self, unit: str | None) -> Converter:
        max_length = self.max_length

        def convert(value: Any) -> str:
            text = clean_text(value)
            if len(text) > max_length:
                raise ParseError(
                    _("Too long: %(length)d characters, at most %(max)d.")
                    % {"length": len(text), "max": max_length}
                )
            return text

        return convert


@dataclass(frozen=True)
class UsccField(ImportField):
    def converter(self, unit: str | None) -> Converter:
        return validate_uscc


@dataclass(frozen=True)
class DateField(ImportField):
    def converter(self, unit: str | None) -> Converter:
        fromisoformat = dt.date.fromisoformat

        def convert(value: Any) -> dt.date | None:
            if type(value) is str and len(value) == 10:
                try:  # 2023-05-01, the common case, fast
                    return fromisoformat(value)
                except ValueError:
                    pass
            return parse_date(value)

        return convert


@dataclass(frozen=True)
class AmountField(ImportField):
    """Money, stored in integer yuan; a bare number is in the header's unit (default 万元)."""

    default_unit: str = "万元"

    def header(self) -> str:
        return f"{self.label}({self.default_unit})"

    def converter(self, unit: str | None) -> Converter:
        unit = unit if unit in AMOUNT_UNITS else self.default_unit
        multiplier = int(AMOUNT_UNITS[unit])

        def convert(value: Any) -> int:
            if type(value) is int:  # a whole number in a number cell, fast
                return value * multiplier
            amount = parse_amount(value, default_unit=unit)
            if amount != amount.to_integral_value():
                # Stored as whole yuan: round half up at the edge (fen are not kept).
                amount = amount.quantize(Decimal(1), rounding="ROUND_HALF_UP")
            return int(amount)

        return convert


@dataclass(frozen=True)
class IntField(ImportField):
    min_value: int | None = 0
    max_value: int | None = None

    def converter(self, unit: str | None) -> Converter:
        low, high = self.min_value, self.max_value

        def convert(value: Any) -> int:
            number = value if type(value) is int else parse_int(value)
            if low is not None and number < low:
                raise ParseError(
                    _("%(value)s is less than %(min)d.") % {"value": number, "min": low}
                )
            if high is not None and number > high:
                raise ParseError(
                    _("%(value)s is more than %(max)d.") % {"value": number, "max": high}
                )
            return number

        return convert


@dataclass(frozen=True)
class DecimalField(ImportField):
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    decimal_places: int = 6

    def converter(self, unit: str | None) -> Converter:
        low, high = self.min_value, self.max_value
        quantum = Decimal(1).scaleb(-self.decimal_places)

        def convert(value: Any) -> Decimal:
            try:
                number = Decimal(format(value, ".15g") if isinstance(value, float) else str(value))
            except InvalidOperation:
                raise ParseError(_("“%(value)s” is not a number.") % {"value": value}) from None
            if not number.is_finite():
                raise ParseError(_("“%(value)s” is not a number.") % {"value": value})
            if (low is not None and number < low) or (high is not None and number > high):
                raise ParseError(
                    _("%(value)s is outside %(min)s – %(max)s.")
                    % {"value": number, "min": low, "max": high}
                )
            return number.quantize(quantum)

        return convert


@dataclass(frozen=True)
class EmailField(ImportField):
    def converter(self, unit: str | None) -> Converter:
        def convert(value: Any) -> str:
            text = clean_text(value)
            try:
                validate_email(text)
            except ValidationError:
                raise ParseError(
                    _("“%(value)s” is not an e-mail address.") % {"value": text}
                ) from None
            return text

        return convert


@dataclass(frozen=True)
class ChoiceField(ImportField):
    """A value from a fixed list, written as its Chinese label, English label or code."""

    choices: tuple[tuple[str, str], ...] = ()  # (code, label)
    extra: dict[str, str] = field(default_factory=dict)  # more spellings -> code

    def lookup(self) -> dict[str, str]:
        table = {}
        for code, label in self.choices:
            table[_key(code)] = code
            table[_key(str(label))] = code
        for spelling, code in self.extra.items():
            table[_key(spelling)] = code
        return table

    def converter(self, unit: str | None) -> Converter:
        table = self.lookup()
        allowed = "、".join(str(label) for _code, label in self.choices)

        def convert(value: Any) -> str:
            code = table.get(_key(clean_text(value)))
            if code is None:
                raise ParseError(
                    _("“%(value)s” is not one of: %(allowed)s.")
                    % {"value": clean_text(value), "allowed": allowed}
                )
            return code

        return convert


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


@dataclass(frozen=True)
class RawField(ImportField):
    """Kept as the cleaned text; the importer resolves it (jurisdictions, types …)."""


lazy = gettext_lazy
