"""Reading uploaded tables (xlsx, xls, ods, CSV) and writing exports (xlsx, CSV).

Reading detects the format from the file's bytes, not its name: officers rename
files, and government systems export HTML or GBK text with an ``.xls`` name. The
result is a :class:`Table` whose rows carry the row number the user sees in Excel,
so that import errors can say "第 12 行". Every refusal is a :class:`TableError`
with a translated message that names the problem and what to do about it.

Spreadsheets are read with python-calamine (Rust, ~100k rows/s and more); CSV with
the csv module after detecting UTF-8 (with or without BOM), UTF-16 or GBK/GB18030.
Uploads are untrusted: the sheet size an .xlsx declares, the rows, columns and
characters per cell are capped (kechuang.core.tableguard.Limits, from settings), and
the read runs in a child process with a memory and CPU limit, so no file can take
down the process that reads it.
Header mapping lives in kechuang.core.columns and writing in kechuang.core.export;
both are re-exported here so callers keep one import.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import io
import math
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

import python_calamine
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from kechuang.core import tableguard
from kechuang.core.tablebase import TableError, column_letter
from kechuang.core.tableguard import Limits

__all__ = [
    "Column",
    "ColumnMapping",
    "Row",
    "Table",
    "TableError",
    "column_letter",
    "map_columns",
    "normalize_header",
    "read_table",
    "write_csv",
    "write_xlsx",
]

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024  # guards against zip bombs
# How many non-empty rows at the top may hold titles, notes and the header.
_HEADER_SEARCH_ROWS = 10


class Row(NamedTuple):
    """One data row: ``number`` is the row number shown in Excel (1-based)."""

    number: int
    values: list[Any]


@dataclass
class Table:
    """A read table: header names and the non-empty data rows below them.

    Cell values are ``str`` (stripped), ``int`` (spreadsheet numbers that are whole),
    ``float``, ``bool``, ``datetime.date``/``datetime.datetime``/``datetime.time``, or
    ``None`` for a blank cell. CSV cells are always ``str`` or ``None``.
    """

    headers: list[str]
    rows: list[Row]
    kind: str  # "xlsx", "xls", "ods" or "csv"
    header_row: int  # row number of the header as the user sees it
    skipped_rows: list[int] = field(default_factory=list)  # title/note rows above the header
    sheet_name: str | None = None
    encoding: str | None = None
    # The data rows' cells column by column, when the reader already had them (the
    # contained read hands the table back by columns): saves importers a transposition.
    columns: list[list[Any]] | None = field(default=None, repr=False, compare=False)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


# ---------------------------------------------------------------------------
# Format detection
# ---------------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_BINARY_SIGNATURES: tuple[tuple[bytes, Any], ...] = (  # (magic bytes, lazy description)
    (b"\x89PNG\r\n\x1a\n", gettext_lazy("a PNG image")),
    (b"\xff\xd8\xff", gettext_lazy("a JPEG image")),
    (b"GIF87a", gettext_lazy("a GIF image")),
    (b"GIF89a", gettext_lazy("a GIF image")),
    (b"BM", gettext_lazy("a BMP image")),
    (b"%PDF", gettext_lazy("a PDF document")),
    (b"Rar!\x1a\x07", gettext_lazy("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", gettext_lazy("a 7z archive")),
    (b"\x1f\x8b", gettext_lazy("a gzip archive")),
    (b"{\\rtf", gettext_lazy("an RTF document")),
)


def _join(items: Sequence[str]) -> str:
    """Join items into a list for a message ("、" in Chinese)."""
    return pgettext("list separator", ", ").join(items)


def _utf16le(text: str) -> bytes:
    return text.encode("utf-16-le")


def _describe(filename: str) -> str:
    return f"“{filename}”" if filename else _("the uploaded file")


def _sniff(raw: bytes, filename: str) -> str:
    name = _describe(filename)
    if not raw.strip():
        raise TableError(
            _("There is nothing in %(name)s: the file is empty.") % {"name": name}, code="empty"
        )
    if raw.startswith(_ZIP_MAGIC) or raw.startswith(b"PK\x05\x06"):
        return _sniff_zip(raw, name)
    if raw.startswith(_OLE_MAGIC):
        if _utf16le("EncryptedPackage") in raw:
            raise TableError(
                _(
                    "Cannot read %(name)s because it is protected by a password; remove the "
                    "password in Excel and upload the file again."
                )
                % {"name": name},
                code="encrypted",
            )
        if _utf16le("WordDocument") in raw:
            raise TableError(
                _(
                    "The content of %(name)s is a Word document, not a table; upload an Excel "
                    "(.xlsx) or CSV file."
                )
                % {"name": name},
                code="not_table",
            )
        return "xls"
    if raw.startswith(b"RIFF") and raw[8:12] == b"WEBP":
        raise TableError(_not_a_table(name, _("a WEBP image")), code="not_table")
    for signature, kind in _BINARY_SIGNATURES:
        if raw.startswith(signature):
            raise TableError(_not_a_table(name, kind), code="not_table")
    return "csv"


def _not_a_table(name: str, kind: str) -> str:
    return _(
        "The content of %(name)s is actually %(kind)s, not a table (changing the file name "
        "extension does not change the file format); upload an Excel (.xlsx, .xls) or CSV file."
    ) % {"name": name, "kind": kind}


def _sniff_zip(raw: bytes, name: str) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
        names = {info.filename for info in infos}
        mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError):
        raise TableError(
            _(
                "Cannot open %(name)s: the file is damaged or incomplete; export it again and "
                "upload the new file."
            )
            % {"name": name},
            code="corrupt",
        ) from None
    if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED_BYTES:
        raise TableError(
            _(
                "Unpacked, %(name)s takes more than %(limit)d MB, which is too large; split it "
                "into smaller files and upload those."
            )
            % {"name": name, "limit": MAX_UNCOMPRESSED_BYTES // (1024 * 1024)},
            code="too_large",
        )
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return "xlsx"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return "ods"
    if "word/document.xml" in names:
        raise TableError(_not_a_table(name, _("a Word document")), code="not_table")
    if any(n.startswith("ppt/") for n in names):
        raise TableError(_not_a_table(name, _("a PowerPoint presentation")), code="not_table")
    raise TableError(_not_a_table(name, _("a ZIP archive")), code="not_table")


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def read_table(
    data: bytes | bytearray | memoryview | IO[bytes],
    filename: str = "",
    *,
    sheet: str | int | None = None,
    max_rows: int | None = None,
) -> Table:
    """Read the first (or the given) sheet of an uploaded xlsx/xls/ods file, or a CSV file.

    ``data`` is the file's bytes or a binary file object (a Django ``UploadedFile``
    works; its ``name`` is used when ``filename`` is empty). The header row is found
    automatically: title rows such as a merged "2023年企业名单" above it are skipped.
    ``max_rows`` lowers the TABULAR_MAX_ROWS setting. Raises :class:`TableError`,
    also when the file is too large to read or the reader died on it.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        filename = filename or getattr(data, "name", "") or ""
        if hasattr(data, "seek"):
            data.seek(0)
        data = data.read(MAX_UPLOAD_BYTES + 1)
    raw = bytes(data)
    name = _describe(filename)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise TableError(
            _(
                "The size of %(name)s is more than %(limit)d MB, which is too large; split it "
                "into smaller files and upload those."
            )
            % {"name": name, "limit": MAX_UPLOAD_BYTES // (1024 * 1024)},
            code="too_large",
        )
    kind = _sniff(raw, filename)
    limits = Limits.from_settings(max_rows)
    # Reading allocates millions of small objects and none of them form cycles; the cyclic
    # garbage collector would otherwise rescan them over and over (about 40% of read time).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if not limits.contained:
            return _read(raw, kind, name, sheet, limits)
        encoded = tableguard.run_contained(
            lambda: tableguard.encode_table(_read(raw, kind, name, sheet, limits)), limits
        )
        return tableguard.decode_table(encoded, Table, Row)
    except tableguard.ReaderDied as exc:
        raise TableError(_reader_died_message(name, exc.reason), code="unreadable") from None
    finally:
        if gc_was_enabled:
            gc.enable()


def _reader_died_message(name: str, reason: str) -> str:
    if reason == "time":
        return _(
            "Reading %(name)s took longer than allowed and was stopped; it is probably much "
            "larger than its data (for example formatting or a cell far below or to the right "
            "of the table). Copy only the table into a new workbook, save it and upload that."
        ) % {"name": name}
    if reason == "crash":
        return _(
            "Cannot read %(name)s: the spreadsheet reader stopped on it, so the file is probably "
            "damaged. Open it in Excel, save it again as .xlsx and upload that."
        ) % {"name": name}
    return _(
        "Cannot read %(name)s: reading it needed more memory than allowed and was stopped, "
        "usually because a worksheet reaches cells far below or to the right of the table. "
        "Copy only the table into a new workbook, save it and upload that."
    ) % {"name": name}


def _read(raw: bytes, kind: str, name: str, sheet: str | int | None, limits: Limits) -> Table:
    if kind == "csv":
        text, encoding = _decode_text(raw, name)
        grid = _csv_grid(text, name, limits)
        return _build_table(
            grid, None, kind="csv", name=name, max_rows=limits.max_rows, encoding=encoding
        )
    grid, merged, sheet_name = _spreadsheet_grid(raw, kind, name, sheet, limits)
    return _build_table(
        grid, merged, kind=kind, name=name, max_rows=limits.max_rows, sheet_name=sheet_name
    )


def _spreadsheet_grid(
    raw: bytes, kind: str, name: str, sheet: str | int | None, limits: Limits
) -> tuple[list[list[Any]], list[tuple[tuple[int, int], tuple[int, int]]], str]:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(raw))
    except python_calamine.PasswordError:
        raise TableError(
            _(
                "Cannot read %(name)s because it is protected by a password; remove the "
                "password in Excel and upload the file again."
            )
            % {"name": name},
            code="encrypted",
        ) from None
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise TableError(
            _(
                "Cannot open %(name)s as an Excel workbook (%(detail)s); save it as .xlsx in "
                "Excel and upload it again."
            )
            % {"name": name, "detail": exc},
            code="corrupt",
        ) from None
    try:
        if sheet is None:
            visible = [
                meta.name
                for meta in workbook.sheets_metadata
                if meta.visible == python_calamine.SheetVisibleEnum.Visible
                and meta.typ == python_calamine.SheetTypeEnum.WorkSheet
            ]
            if not visible:
                raise TableError(
                    _("There is no visible worksheet in %(name)s.") % {"name": name},
                    code="no_sheet",
                )
            sheet_name = visible[0]
        elif isinstance(sheet, int):
            sheet_name = workbook.sheet_names[sheet]
        else:
            sheet_name = sheet
        if kind == "xlsx":
            # Loading a sheet allocates its whole declared rectangle: check it first.
            _check_declared_size(raw, sheet_name, name, limits)
        worksheet = workbook.get_sheet_by_name(sheet_name)
    except (python_calamine.WorksheetNotFound, IndexError):
        raise TableError(
            _("There is no worksheet “%(sheet)s” in %(name)s; its worksheets are: %(sheets)s.")
            % {"name": name, "sheet": sheet, "sheets": _join(workbook.sheet_names)},
            code="no_sheet",
        ) from None
    except python_calamine.CalamineError as exc:
        raise TableError(
            _("Cannot read the worksheets of %(name)s (%(detail)s).")
            % {"name": name, "detail": exc},
            code="corrupt",
        ) from None
    try:
        grid = worksheet.to_python(skip_empty_area=False)
    except python_calamine.CalamineError as exc:
        raise TableError(
            _("Cannot read worksheet “%(sheet)s” of %(name)s (%(detail)s).")
            % {"name": name, "sheet": worksheet.name, "detail": exc},
            code="corrupt",
        ) from None
    merged = list(worksheet.merged_cell_ranges or [])
    where = _where(name, worksheet.name)
    width = max(map(len, grid[:1] + grid[-1:]), default=0)
    _check_size(len(grid), width, where, limits)
    return _normalize_grid(grid, where, limits.max_cell_chars), merged, worksheet.name


def _where(name: str, sheet_name: str | None) -> str:
    if sheet_name is None:
        return name
    return _("worksheet “%(sheet)s” of %(name)s") % {"name": name, "sheet": sheet_name}


def _check_declared_size(raw: bytes, sheet_name: str, name: str, limits: Limits) -> None:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        size = tableguard.declared_sizes(archive).get(sheet_name)
    if size is not None:
        _check_size(*size, _where(name, sheet_name), limits)


def _check_size(rows: int, columns: int, where: str, limits: Limits) -> None:
    """Refuse a sheet taller or wider than the limits, naming the sheet and the limit."""
    if rows > limits.max_sheet_rows:
        message = _(
            "%(where)s spans %(rows)d rows; at most %(limit)d data rows can be imported at "
            "once. Split the data into several files, or delete the empty rows below the table."
        ) % {"where": where, "rows": rows, "limit": limits.max_rows}
        raise TableError(_capitalize(message), code="too_many_rows")
    if columns > limits.max_columns:
        message = _(
            "%(where)s spans %(columns)d columns (up to column %(last)s); at most %(limit)d "
            "columns can be imported. Delete the columns to the right of the table."
        ) % {
            "where": where,
            "columns": columns,
            "last": column_letter(columns - 1),
            "limit": limits.max_columns,
        }
        raise TableError(_capitalize(message), code="too_many_columns")


def _capitalize(message: str) -> str:
    return message[:1].upper() + message[1:]


def _check_cell_length(
    column: Sequence[Any], longest: int, index: int, first_row: int, where: str, limit: int
) -> None:
    """Refuse a cell longer than ``limit`` characters, naming its cell (e.g. C12)."""
    if longest <= limit:
        return
    position = next(i for i, cell in enumerate(column) if type(cell) is str and len(cell) > limit)
    raise TableError(
        _(
            "In %(where)s, cell %(cell)s holds %(length)d characters; a cell may hold at most "
            "%(limit)d (Excel's own limit). Shorten it and upload the file again."
        )
        % {
            "where": where,
            "cell": f"{column_letter(index)}{first_row + position}",
            "length": longest,
            "limit": limit,
        },
        code="cell_too_long",
    )


def _longest_text(column: Sequence[Any]) -> int:
    return max((len(cell) for cell in column if type(cell) is str), default=0)


_FLOAT_LIMIT = float(2**53)
_HEAD_ROWS = 32


def _normalize_cell(cell: Any) -> Any:
    if type(cell) is str:
        return cell.strip() or None
    if type(cell) is float and cell.is_integer() and -_FLOAT_LIMIT < cell < _FLOAT_LIMIT:
        return int(cell)
    return cell


def _normalize_column(column: Sequence[Any]) -> list[Any]:
    """Blank strings -> None, whole floats -> int ("3000", not "3000.0"), text stripped.

    A column holds one kind of cell in the common case (all text, or all numbers), and
    then the work is done by built-ins over the whole column instead of per cell.
    """
    kinds = set(map(type, column))
    if kinds == {str}:
        cells = list(map(str.strip, column))
        if "" in cells:
            cells = [cell or None for cell in cells]
        return cells
    if (
        kinds == {float}
        and all(map(float.is_integer, column))
        and min(column) > -_FLOAT_LIMIT
        and max(column) < _FLOAT_LIMIT
    ):
        return list(map(int, column))
    return [_normalize_cell(cell) for cell in column]


def _normalize_grid(grid: list[list[Any]], where: str, max_chars: int) -> list[list[Any]]:
    """Normalize the cells (see _normalize_column) and refuse a cell longer than max_chars."""
    if not grid:
        return grid
    width = len(grid[0])
    if any(len(row) != width for row in grid):  # calamine's grid is rectangular; be safe
        for number, row in enumerate(grid, start=1):
            for index, cell in enumerate(row):
                if type(cell) is str and len(cell) > max_chars:
                    _check_cell_length([cell], len(cell), index, number, where, max_chars)
        return [[_normalize_cell(cell) for cell in row] for row in grid]
    # The rows at the top (titles, the header) mix text into number columns: cell by cell.
    for index, column in enumerate(zip(*grid[:_HEAD_ROWS], strict=True)):
        _check_cell_length(column, _longest_text(column), index, 1, where, max_chars)
    head = [[_normalize_cell(cell) for cell in row] for row in grid[:_HEAD_ROWS]]
    body = grid[_HEAD_ROWS:]
    if not body or not width:
        return head + [[] for _row in body]
    columns = []
    for index, column in enumerate(zip(*body, strict=True)):
        cells = _normalize_column(column)
        if type(cells[0]) is str and None not in cells:
            longest = max(map(len, cells))
        else:
            longest = _longest_text(cells)
        _check_cell_length(cells, longest, index, _HEAD_ROWS + 1, where, max_chars)
        columns.append(cells)
    return head + list(map(list, zip(*columns, strict=True)))


def _decode_text(raw: bytes, name: str) -> tuple[str, str]:
    if raw.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]  # Excel's "Unicode text" export
    else:
        # GB18030 is a superset of GBK and GB2312, the usual encodings of government CSVs.
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise TableError(
            _("Cannot read %(name)s as a text table: its character encoding is neither "
              "UTF-8 nor GBK; open it in Excel, save it as .xlsx and upload that.")
            % {"name": name},
            code="encoding",
        )  # fmt: skip
    if "\x00" in text[:4096]:
        raise TableError(
            _(
                "The content of %(name)s is not a table (it contains binary data); upload an "
                "Excel (.xlsx, .xls) or CSV file."
            )
            % {"name": name},
            code="not_table",
        )
    head = text[:1024].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<table", "<meta", "<?xml", "<head")):
        raise TableError(
            _("The content of %(name)s is actually a web page (HTML/XML) with a spreadsheet "
              "extension; open it in Excel, use “Save As” to save it as .xlsx, and upload that.")
            % {"name": name},
            code="html",
        )  # fmt: skip
    return text, "gbk" if encoding == "gb18030" else encoding


def _csv_grid(text: str, name: str, limits: Limits) -> list[list[Any]]:
    first_line = next((line for line in text[:1_000_000].splitlines() if line.strip()), "")
    delimiter = max((",", "\t", ";", "|"), key=first_line.count)
    if not first_line.count(delimiter):
        delimiter = ","
    grid: list[list[Any]] = []
    append = grid.append
    # csv's field limit is process-wide: set it for this read only (it runs in a child
    # process unless containment is switched off).
    previous_limit = csv.field_size_limit(limits.max_cell_chars)
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if len(record) > limits.max_columns and any(record[limits.max_columns :]):
                _check_size(len(grid) + 1, len(record), name, limits)
            append([cell.strip() or None for cell in record])
            if len(grid) > limits.max_sheet_rows:
                _check_size(len(grid), 0, name, limits)
        return grid
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise TableError(
                _(
                    "In %(where)s, row %(row)d has a cell of more than %(limit)d characters "
                    "(Excel's own limit); shorten it and upload the file again."
                )
                % {"where": name, "row": len(grid) + 1, "limit": limits.max_cell_chars},
                code="cell_too_long",
            ) from None
        raise TableError(
            _(
                "The CSV format of %(name)s is wrong (%(detail)s); check that quotation marks "
                "come in pairs."
            )
            % {"name": name, "detail": exc},
            code="csv",
        ) from None
    finally:
        csv.field_size_limit(previous_limit)


def _header_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime):
        cell = cell.date() if cell.time() == dt.time() else cell
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return " ".join(str(cell).split())


def _two_row_header_hint() -> str:
    # Appended to a message; the leading space separates it in English (not in Chinese).
    return _(" (The header seems to take two rows; make it a single header row.)")


def _count(row: list[Any]) -> int:
    return len(row) - row.count(None)


def _build_table(
    grid: list[list[Any]],
    merged: list[tuple[tuple[int, int], tuple[int, int]]] | None,
    *,
    kind: str,
    name: str,
    max_rows: int,
    sheet_name: str | None = None,
    encoding: str | None = None,
) -> Table:
    where = _where(name, sheet_name)
    candidates: list[int] = []
    for index, row in enumerate(grid):
        if _count(row):
            candidates.append(index)
            if len(candidates) == _HEADER_SEARCH_ROWS:
                break
    if not candidates:
        raise TableError(
            _("There is no data in %(where)s: it is empty.") % {"where": where}, code="empty"
        )

    # The header is the first row that is at least two thirds as full as the fullest of the top
    # rows; rows above it (a merged title "2023年企业名单", "填报单位：…") are skipped.
    fullest = max(_count(grid[i]) for i in candidates)
    needed = max(2, math.ceil(fullest * 2 / 3)) if fullest > 1 else 1
    header_index = next(i for i in candidates if _count(grid[i]) >= needed)
    skipped = [i + 1 for i in candidates if i < header_index]
    header_cells = grid[header_index]
    width = max(i for i, cell in enumerate(header_cells) if cell is not None) + 1
    headers = [_header_text(cell) for cell in header_cells[:width]]
    header_number = header_index + 1

    _check_header_merges(merged or [], header_index, width, where)

    rows: list[Row] = []
    blank_with_data: dict[int, int] = {}
    blank_columns = [i for i, h in enumerate(headers) if not h]
    append, new_row = rows.append, Row._make
    for index in range(header_index + 1, len(grid)):
        row = grid[index]
        if len(row) > width:
            extra = next((i for i in range(width, len(row)) if row[i] is not None), None)
            if extra is not None:
                message = _(
                    "In %(where)s, row %(row)d has content in column %(col)s, but that column "
                    "has no header (the header is in row %(header)d and ends at column "
                    "%(last)s); add a header for the column or delete its content."
                ) % {
                    "where": where,
                    "row": index + 1,
                    "col": column_letter(extra),
                    "header": header_number,
                    "last": column_letter(width - 1),
                }
                if index == header_index + 1 and isinstance(row[extra], str):
                    message += _two_row_header_hint()
                raise TableError(message, code="data_without_header")
            values = row[:width]
        elif len(row) == width:
            values = row  # the grid's own fresh list: no copy
        else:
            values = list(row) + [None] * (width - len(row))
        if values.count(None) == width:
            continue
        if blank_columns:
            for column in blank_columns:
                if values[column] is not None:
                    blank_with_data.setdefault(column, index + 1)
        append(new_row((index + 1, values)))
        if len(rows) > max_rows:
            raise TableError(
                _(
                    "There are more than %(limit)d data rows in %(where)s; split them into "
                    "several files and upload those."
                )
                % {"where": where, "limit": max_rows},
                code="too_many_rows",
            )

    if blank_with_data:
        letters = _join([column_letter(c) for c in sorted(blank_with_data)])
        message = _(
            "In %(where)s, the header (row %(row)d) is blank in column %(cols)s but there is "
            "data below it; give every column a header name."
        ) % {"where": where, "row": header_number, "cols": letters}
        next_row = grid[header_index + 1] if header_index + 1 < len(grid) else []
        if any(c < len(next_row) and isinstance(next_row[c], str) for c in blank_with_data):
            message += _two_row_header_hint()
        raise TableError(message, code="blank_header")

    seen: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        if header in seen:
            raise TableError(
                _("In %(where)s, the header “%(header)s” appears twice (columns %(first)s and "
                  "%(second)s); delete or rename one of them.")
                % {"where": where, "header": header, "first": column_letter(seen[header]),
                   "second": column_letter(index)},
                code="duplicate_header",
            )  # fmt: skip
        seen[header] = index

    return Table(
        headers=headers,
        rows=rows,
        kind=kind,
        header_row=header_number,
        skipped_rows=skipped,
        sheet_name=sheet_name,
        encoding=encoding,
    )


def _check_header_merges(
    merged: list[tuple[tuple[int, int], tuple[int, int]]], header_index: int, width: int, where: str
) -> None:
    """Refuse a header that uses merged cells: it is a two-row (grouped) header."""
    for (top, left), (bottom, right) in merged:
        if not top <= header_index <= bottom or left >= width:
            continue
        if bottom > header_index or top < header_index or right > left:
            first, last = column_letter(left), column_letter(min(right, width - 1))
            columns = first if first == last else f"{first}–{last}"
            raise TableError(
                _("In %(where)s, the header (row %(row)d) has merged cells in column %(cols)s, "
                  "so the header seems to take more than one row; use a single header row with "
                  "one name per column (for example “%(example)s”).")
                % {"where": where, "row": header_index + 1, "cols": columns,
                   "example": "营业收入2023年(万元)"},
                code="merged_header",
            )  # fmt: skip


# Re-exported: one import for callers (`from kechuang.core.tabular import ...`).
from kechuang.core.columns import Column, ColumnMapping, map_columns, normalize_header  # noqa: E402
from kechuang.core.export import write_csv, write_xlsx  # noqa: E402
