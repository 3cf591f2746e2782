"""Mapping an uploaded table's header row to the fields an importer expects.

Headers arrive as officers typed them: Chinese or English, with full-width
brackets, spaces and units ("营业收入（万元）"). `map_columns` finds each field's
column by its accepted aliases and reports missing, unknown and doubled columns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kechuang.core.tablebase import TableError, column_letter

# ---------------------------------------------------------------------------
# Header mapping
# ---------------------------------------------------------------------------

_BRACKETED = re.compile(r"[(\[【〔<《{]([^)\]】〕>》}]*)[)\]】〕>》}]")
_UNIT_SUFFIXES = ("万亿元", "亿元", "千万元", "百万元", "万元", "千元", "元", "%", "‰")
_HEADER_NOISE = re.compile(r"[\s*:_\-.·/\\、]+")


def normalize_header(header: str) -> tuple[str, str | None]:
    """Return (matching key, unit) for a header or alias.

    "＊营业收入（万元）" -> ("营业收入", "万元"); "Credit Code" -> ("creditcode", None).
    The key ignores width, case, spaces, bracketed notes, required-markers (*) and
    punctuation; the unit is the last bracketed note, if any.
    """
    text = unicodedata.normalize("NFKC", header or "")
    notes = _BRACKETED.findall(text)
    key = _HEADER_NOISE.sub("", _BRACKETED.sub("", text)).lower()
    unit = notes[-1].strip() or None if notes else None
    return key, unit


@dataclass(frozen=True)
class Column:
    """One expected column of an import: its field name, label and accepted headers."""

    field: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = True


@dataclass
class ColumnMapping:
    """Result of :func:`map_columns`: which column holds each field, and what is wrong."""

    indexes: dict[str, int]
    units: dict[str, str | None]
    missing: list[Column]
    unknown: list[tuple[int, str]]
    conflicts: list[tuple[Column, list[int]]]
    headers: list[str]
    allow_unknown: bool = True

    @property
    def errors(self) -> list[str]:
        """User-facing messages for every problem that stops the import."""
        messages = []
        for column, indexes in self.conflicts:
            found = _join(_name_column(i, self.headers[i]) for i in indexes)
            messages.append(
                _("“%(label)s” matches several columns: %(found)s; keep only one of them.")
                % {"label": column.label, "found": found}
            )
        if self.missing:
            separator = pgettext("separator of a list of longer items", "; ")
            messages.append(
                _("Required columns are missing: %(columns)s.")
                % {"columns": separator.join(_describe_column(c) for c in self.missing)}
            )
        if self.unknown and not self.allow_unknown:
            messages.append(self.unknown_message)
        return messages

    @property
    def unknown_message(self) -> str:
        found = _join(_name_column(i, h) for i, h in self.unknown)
        return (
            _("These columns are not recognised: %(found)s.") % {"found": found}
            if self.unknown
            else ""
        )

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise TableError carrying all messages when the mapping is not usable."""
        if self.errors:
            raise TableError("\n".join(self.errors), code="columns")

    def get(self, values: Sequence[Any], field_name: str) -> Any:
        """The cell for ``field_name`` in a row's values, or None when the column is absent."""
        index = self.indexes.get(field_name)
        return None if index is None else values[index]


def _join(items: Iterable[str]) -> str:
    """Join items into a list for a message ("、" in Chinese)."""
    return pgettext("list separator", ", ").join(items)


def _name_column(index: int, header: str) -> str:
    return _("column %(letter)s “%(header)s”") % {"letter": column_letter(index), "header": header}


def _describe_column(column: Column) -> str:
    if column.aliases:
        return _("“%(label)s” (also accepted: %(aliases)s)") % {
            "label": column.label,
            "aliases": _join(column.aliases),
        }
    return f"“{column.label}”"


def map_columns(
    headers: Sequence[str], spec: Iterable[Column], *, allow_unknown: bool = True
) -> ColumnMapping:
    """Match table headers to the expected columns by label or alias.

    Matching ignores spaces, full/half width, case, required-markers and bracketed
    units ("营业收入（万元）" matches 营业收入; its unit "万元" is reported in
    ``units``). Unknown columns are listed, and are an error only with
    ``allow_unknown=False``.
    """
    spec = list(spec)
    lookup: dict[str, Column] = {}
    for column in spec:
        for alias in (column.label, column.field, *column.aliases):
            key, _unit = normalize_header(alias)
            if key in lookup and lookup[key] is not column:
                raise ValueError(
                    f"alias {alias!r} is used by {lookup[key].field} and {column.field}"
                )
            lookup[key] = column

    found: dict[str, list[int]] = {}
    units: dict[str, str | None] = {}
    unknown: list[tuple[int, str]] = []
    for index, header in enumerate(headers):
        if not header:
            continue
        key, unit = normalize_header(header)
        column = lookup.get(key)
        if column is None:
            for suffix in _UNIT_SUFFIXES:
                if key.endswith(suffix) and key[: -len(suffix)] in lookup:
                    column, unit = lookup[key[: -len(suffix)]], unit or suffix
                    break
        if column is None:
            unknown.append((index, header))
            continue
        found.setdefault(column.field, []).append(index)
        units.setdefault(column.field, unit)

    by_field = {column.field: column for column in spec}
    conflicts = [(by_field[f], idx) for f, idx in found.items() if len(idx) > 1]
    return ColumnMapping(
        indexes={f: idx[0] for f, idx in found.items()},
        units=units,
        missing=[c for c in spec if c.required and c.field not in found],
        unknown=unknown,
        conflicts=conflicts,
        headers=list(headers),
        allow_unknown=allow_unknown,
    )
