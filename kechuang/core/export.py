"""Writing exports: .xlsx (streamed by kechuang.core.xlsx) and UTF-8-with-BOM CSV.

Every workbook the platform hands out (register exports, plan reports, import
templates and rejected rows) goes through ``write_xlsx`` or ``write_workbook``, so
text is always text and never a live formula.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import gc
import math
import re
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO, Any

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from kechuang.core import xlsx
from kechuang.core.tablebase import EXCEL_MAX_ROWS, TableError
from kechuang.core.xlsx import Sheet

__all__ = ["Sheet", "write_csv", "write_workbook", "write_xlsx", "xlsx_response"]

# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_EXACT_DIGITS = 15  # Excel keeps 15 significant digits
# Cell values, not messages: an export reads the same whatever the user's language.
_BOOL_TEXT = ("是", "否")


def _local_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)


def write_xlsx(
    stream: str | IO[bytes],
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_name: str = "Sheet1",
    column_widths: Sequence[float] | None = None,
) -> int:
    """Write one sheet with a bold, frozen, filterable header row; return the data row count.

    Streams rows through kechuang.core.xlsx (SpreadsheetML written directly), so 100k+
    rows are fine. Text is
    always written as text (a credit code stays "914403001922038216"; "=1+1" is not a
    formula); ``Decimal`` is written as a number when Excel can hold it exactly;
    ``bool`` as 是/否; aware datetimes in the local time zone.
    """
    sheet = Sheet(sheet_name, headers, rows, column_widths=column_widths or ())
    return write_workbook(stream, [sheet])[0]


def write_workbook(stream: str | IO[bytes], sheets: Sequence[Sheet]) -> list[int]:
    """Write several sheets (rules as in ``write_xlsx``); return each sheet's data row count."""
    prepared = []
    for sheet in sheets:
        name = _SHEET_NAME_FORBIDDEN.sub("_", sheet.name).strip("'")[:31] or "Sheet1"
        widths = [
            sheet.column_widths[i] if sheet.column_widths else max(10, min(40, 2.2 * len(h)))
            for i, h in enumerate(sheet.headers)
        ]
        prepared.append(dataclasses.replace(sheet, name=name, column_widths=widths))
    # As in read_table: no reference cycles are made, and with a large ``rows`` list in
    # memory the cyclic collector's full scans cost a large share of the time.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return xlsx.write_workbook(
            stream,
            prepared,
            bool_text=_BOOL_TEXT,
            localise=_local_naive,
            max_rows=EXCEL_MAX_ROWS,
            on_too_many=lambda: TableError(
                _(
                    "The export has more rows than one Excel worksheet can hold (%(limit)d); "
                    "narrow the filter or export as CSV instead."
                )
                % {"limit": EXCEL_MAX_ROWS - 1},
                code="too_many_rows",
            ),
        )
    finally:
        if gc_was_enabled:
            gc.enable()


class _Utf8Writer:
    """Minimal text sink for csv.writer that encodes to a binary stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._write = stream.write

    def write(self, text: str) -> None:
        self._write(text.encode("utf-8"))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _csv_text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        # A cell starting with = + - @ would run as a formula in Excel (CSV injection).
        if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
            return "'" + value
        return value
    if value is None:
        return ""
    if kind is bool:
        return _BOOL_TEXT[0] if value else _BOOL_TEXT[1]
    if kind is Decimal:
        return format(value, "f")
    if kind is float:
        return format(Decimal(format(value, ".15g")), "f") if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime):
        return _local_naive(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(stream: IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write UTF-8 CSV with a BOM (so Excel shows Chinese correctly); return the row count.

    ``stream`` is binary (an open file, ``BytesIO`` or Django ``HttpResponse``). Text
    that Excel would run as a formula is prefixed with an apostrophe.
    """
    stream.write(codecs.BOM_UTF8)
    writer = csv.writer(_Utf8Writer(stream), lineterminator="\r\n")
    writer.writerow(headers)
    count = 0
    for count, row in enumerate(rows, start=1):  # noqa: B007 - count is returned
        writer.writerow([_csv_text(value) for value in row])
    return count


def xlsx_response(
    filename: str, headers: Sequence[str], rows: Iterable[Sequence], sheet_name: str
) -> FileResponse:
    """An .xlsx download: written to a temporary file (any size), then streamed."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_xlsx(handle, headers, rows, sheet_name=sheet_name)
    handle.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{filename}-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
