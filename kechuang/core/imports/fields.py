"""Column types of an import: how one cell becomes a Python value, and how to explain it.

A field turns a cell into the value stored (or raises ``ParseError`` /
``ValidationError`` whose message is shown to the officer next to the row and
column). Fields are built once per import and their ``converter(unit)`` is a
plain function called in a tight loop, so keep them cheap.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kechuang.core.dates import parse_date
from kechuang.core.parsing import AMOUNT_UNITS, ParseError, parse_amount, parse_int
from kechuang.core.tabular import Column, TableError
from kechuang.core.validators import (
    _AUTHORITY_CATEGORIES,
    _ORG_WEIGHTS,
    _PROVINCE_PREFIXES,
    _USCC_WEIGHTS,
    AMOUNT_MAX,
    COUNT_MAX,
    DATE_MAX,
    DATE_MIN,
    USCC_CHARSET,
    validate_mobile,
    validate_uscc,
)

Converter = Callable[[Any], Any]
# A whole column at once: cells (None for blank) -> (values, {position: message}); a
# value is None where the cell is blank or could not be converted.
ColumnConverter = Callable[[Sequence[Any]], tuple[list[Any], dict[int, str]]]
CELL_ERRORS = (ParseError, ValidationError, ValueError, TypeError)
_NoneType = type(None)


def message_of(exc: Exception) -> str:
    if isinstance(exc, ParseError | TableError):
        return exc.message
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def convert_cells(
    convert: Converter, cells: Sequence[Any], *, repetitive: bool = False
) -> tuple[list[Any], dict[int, str]]:
    """Convert one column; see ``ColumnConverter``.

    Columns with few distinct values (towns, industries, dates, amounts …) convert each
    distinct value once; others map the converter over the column in one go and fall
    back to cell-by-cell only when a cell is blank or bad.
    """
    count = len(cells)
    kinds = set(map(type, cells))
    kinds.discard(_NoneType)
    if len(kinds) == 1:  # one type: no 1 == 1.0 == True collisions between distinct cells
        distinct = set(cells)
        if repetitive or len(distinct) * 4 <= count:
            table: dict[Any, Any] = {None: None}
            bad: dict[Any, str] = {}
            for cell in distinct:
                if cell is None:
                    continue
                try:
                    table[cell] = convert(cell)
                except CELL_ERRORS as exc:
                    table[cell] = None
                    bad[cell] = message_of(exc)
            values = list(map(table.__getitem__, cells))
            if not bad:
                return values, {}
            return values, {i: bad[cell] for i, cell in enumerate(cells) if cell in bad}
    if None not in cells:
        try:
            return list(map(convert, cells)), {}
        except CELL_ERRORS:
            pass
    values = [None] * count
    errors: dict[int, str] = {}
    for position, cell in enumerate(cells):
        if cell is None:
            continue
        try:
            values[position] = convert(cell)
        except CELL_ERRORS as exc:
            errors[position] = message_of(exc)
    return values, errors


# Text that clean_text would change: whitespace other than single inner spaces. Cells are
# joined with NUL (not whitespace, never composes under NFKC) to test a column at once.
_UNCLEAN = re.compile(r"[^\S ]|  |\x00 | \x00|^ | $")


def _texts_clean(texts: Sequence[str]) -> bool:
    """True when clean_text(t) == t for every t (a whole column checked with a few calls)."""
    joined = "\x00".join(texts)
    if _UNCLEAN.search(joined):
        return False
    return joined.isascii() or unicodedata.is_normalized("NFKC", joined)


# -- credit codes, a whole column at once -------------------------------------------------

_USCC_FORM = re.compile(rf"(?:[{USCC_CHARSET}]{{18}})*")
_USCC_VALUES = np.zeros(256, dtype=np.int64)  # byte -> GB 32100 value
_ORG_VALUES = np.zeros(256, dtype=np.int64)  # byte -> GB 11714 value (int(c, 36))
for _value, _char in enumerate(USCC_CHARSET):
    _USCC_VALUES[ord(_char)] = _value
for _char in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _ORG_VALUES[ord(_char)] = int(_char, 36)
_USCC_CHECK_BYTES = np.frombuffer(USCC_CHARSET.encode(), dtype=np.uint8)
_ORG_CHECK_BYTES = np.frombuffer(b"0123456789X0", dtype=np.uint8)  # at 11 - total % 11


def _uscc_head_ok(head: str) -> bool:
    """Characters 1-8 (authority, category, region) as validate_uscc checks them."""
    authority, category, region = head[0], head[1], head[2:8]
    allowed = _AUTHORITY_CATEGORIES.get(authority)
    if allowed is None or (allowed and category not in allowed):
        return False
    return region.isdigit() and region[:2] in _PROVINCE_PREFIXES


def uscc_suspects(cells: Sequence[Any]) -> Sequence[int]:
    """Positions of the cells that are not already valid, canonical credit codes.

    The common column (18-character codes in canonical form) is checked as one array;
    every other cell, and every cell whose checks fail, goes to ``validate_uscc`` for
    its message, so this is only a fast way of saying "these are fine".
    """
    count = len(cells)
    if not count:
        return ()
    if None in cells or set(map(type, cells)) != {str} or set(map(len, cells)) != {18}:
        return range(count)
    joined = "".join(cells)
    if not joined.isascii() or not _USCC_FORM.fullmatch(joined):
        return range(count)
    codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(count, 18)
    heads = np.ascontiguousarray(codes[:, :8]).view(np.uint64).ravel()
    distinct = np.unique(heads)
    good = [h for h in distinct if _uscc_head_ok(h.tobytes().decode("ascii"))]
    ok = np.isin(heads, np.array(good, dtype=np.uint64))
    org_total = (_ORG_VALUES[codes[:, 8:16]] * np.array(_ORG_WEIGHTS)).sum(axis=1)
    ok &= codes[:, 16] == _ORG_CHECK_BYTES[11 - org_total % 11]
    total = (_USCC_VALUES[codes[:, :17]] * np.array(_USCC_WEIGHTS)).sum(axis=1)
    ok &= codes[:, 17] == _USCC_CHECK_BYTES[(31 - total % 31) % 31]
    return np.flatnonzero(~ok).tolist()


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
    # Few distinct values expected (a town, a type): convert each distinct value once.
    repetitive: bool = False

    @property
    def column(self) -> Column:
        return Column(self.name, self.label, self.aliases, self.required)

    def header(self) -> str:
        return self.label

    def converter(self, unit: str | None) -> Converter:
        return clean_text

    def column_converter(self, unit: str | None) -> ColumnConverter:
        convert, repetitive = self.converter(unit), self.repetitive

        def convert_column(cells: Sequence[Any]) -> tuple[list[Any], dict[int, str]]:
            return convert_cells(convert, cells, repetitive=repetitive)

        return convert_column


def _text_cells(cells: Sequence[Any]) -> list[str] | None:
    """The non-blank cells when all of them are text, else None."""
    texts = cells if None not in cells else [c for c in cells if c is not None]
    if set(map(type, texts)) <= {str}:
        return list(texts)
    return None


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

    def column_converter(self, unit: str | None) -> ColumnConverter:
        slow = super().column_converter(unit)
        max_length = self.max_length

        def convert_column(cells: Sequence[Any]) -> tuple[list[Any], dict[int, str]]:
            texts = _text_cells(cells)
            if (
                texts is not None
                and (not texts or max(map(len, texts)) <= max_length)
                and _texts_clean(texts)
            ):
                return list(cells), {}  # already what clean_text would return
            return slow(cells)

        return convert_column


@dataclass(frozen=True)
class UsccField(ImportField):
    def converter(self, unit: str | None) -> Converter:
        return validate_uscc

    def column_converter(self, unit: str | None) -> ColumnConverter:
        def convert_column(cells: Sequence[Any]) -> tuple[list[Any], dict[int, str]]:
            values = list(cells)
            errors: dict[int, str] = {}
            suspects = uscc_suspects(cells)
            for position in suspects:
                cell = cells[position]
                if cell is None:
                    continue
                try:
                    values[position] = validate_uscc(cell)
                except CELL_ERRORS as exc:
                    values[position] = None
                    errors[position] = message_of(exc)
            return values, errors

        return convert_column


@dataclass(frozen=True)
class DateField(ImportField):
    def converter(self, unit: str | None) -> Converter:
        fromisoformat = dt.date.fromisoformat

        def convert(value: Any) -> dt.date | None:
            if type(value) is str and len(value) == 10:
                try:  # 2023-05-01, the common case, fast
                    day = fromisoformat(value)
                except ValueError:
                    pass
                else:
                    if DATE_MIN <= day <= DATE_MAX:
                        return day
            return parse_date(value)  # also explains a date outside the plausible range

        return convert


@dataclass(frozen=True)
class AmountField(ImportField):
    """Money, stored in integer yuan; a bare number is in the header's unit (default 万元)."""

    default_unit: str = "万元"
    # Negative only where a loss is meaningful (profit); bounds from core.validators.
    signed: bool = False

    def header(self) -> str:
        return f"{self.label}({self.default_unit})"

    def converter(self, unit: str | None) -> Converter:
        unit = unit if unit in AMOUNT_UNITS else self.default_unit
        multiplier = int(AMOUNT_UNITS[unit])
        low, high = (-AMOUNT_MAX if self.signed else 0), AMOUNT_MAX

        def convert(value: Any) -> int:
            if type(value) is int:  # a whole number in a number cell, fast
                yuan = value * multiplier
            else:
                amount = parse_amount(value, default_unit=unit)
                if amount != amount.to_integral_value():
                    # Stored as whole yuan: round half up at the edge (fen are not kept).
                    amount = amount.quantize(Decimal(1), rounding="ROUND_HALF_UP")
                yuan = int(amount)
            if not low <= yuan <= high:
                raise ParseError(_amount_range_message(yuan, low, high), code="amount_range")
            return yuan

        return convert


def _amount_range_message(yuan: int, low: int, high: int) -> str:
    if yuan < 0 and low == 0:
        return _("The amount must not be negative (%(yuan)s yuan).") % {"yuan": yuan}
    return _(
        "%(yuan)s yuan is outside the plausible range (up to %(max)s yuan, i.e. 10 trillion "
        "yuan); check the digits and the unit in the header."
    ) % {"yuan": yuan, "max": f"{high:,}"}


@dataclass(frozen=True)
class IntField(ImportField):
    min_value: int | None = 0
    max_value: int | None = COUNT_MAX

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
class MobileField(ImportField):
    """A mainland mobile number, stored as its 11 digits (validators.validate_mobile)."""

    def converter(self, unit: str | None) -> Converter:
        return validate_mobile


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
