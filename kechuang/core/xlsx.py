"""The one .xlsx writer: streams SpreadsheetML for every workbook the platform hands out.

xlsxwriter spends most of an export in its per-cell bookkeeping (about 11 s for
100,000 rows × 15 columns here); our workbooks need sheets of plain values, a
styled header, frozen panes, a filter and, for the import template, a few cell
styles and merged cells, so this module writes the SpreadsheetML itself, a few
thousand rows per zip write (about 5× faster).

Text is always written as an inline string, never as a formula: an enterprise
named ``=HYPERLINK(…)`` or ``=cmd|' /C calc'!A0`` stays text in Excel (no other
writer may be used for exports, so this holds everywhere).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from kechuang.core.tablebase import column_letter

_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 in the 1900 date system (after the 1900 bug)
_EPOCH_DT = dt.datetime(1899, 12, 30)
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_EXACT_DIGITS = 15
_BATCH = 2000

STYLE_HEADER, STYLE_DATE, STYLE_DATETIME = 1, 2, 3
STYLE_HEADER_REQUIRED = 4  # a header of a column that must be filled (import template)
STYLE_TEXT = 5  # the "@" (text) number format: what is typed in stays text
STYLE_WRAP = 6  # wrapped, top-aligned text


@dataclass
class Sheet:
    """One worksheet: a header row, then ``rows``; the options the import template needs."""

    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    column_widths: Sequence[float] = ()
    header_styles: Sequence[int] = ()  # per column; default STYLE_HEADER
    column_styles: Sequence[int] = ()  # per column, for the column and its text cells
    merged: Sequence[str] = ()  # ranges such as "B10:E10"
    autofilter: bool = True


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{sheets}"
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    )


_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{sheets}"
        f'<Relationship Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        "</Relationships>"
    )


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="4"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFFCE4D6"/><bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"/><right style="thin"/><top style="thin"/><bottom style="thin"/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="3" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("", text)
    return text


def _text_cell(text: str, style: int = 0) -> str:
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    styled = f' s="{style}"' if style else ""
    return f'<c{styled} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def write_workbook(
    stream: str | IO[bytes],
    sheets: Sequence[Sheet],
    *,
    bool_text: tuple[str, str],
    localise: Callable[[dt.datetime], dt.datetime],
    max_rows: int,
    on_too_many: Callable[[], Exception],
) -> list[int]:
    """Write the sheets; return each one's number of data rows. See export.write_xlsx for the rules."""
    counts = []
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _content_types(len(sheets)))
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        zf.writestr("xl/styles.xml", _STYLES)
        entries, filters = [], []
        for index, sheet in enumerate(sheets):
            name = _escape(sheet.name).replace('"', "&quot;")
            entries.append(f'<sheet name="{name}" sheetId="{index + 1}" r:id="rId{index + 1}"/>')
            if sheet.autofilter and sheet.headers:
                filters.append(
                    f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" '
                    f"hidden=\"1\">'{name}'!$A$1:${column_letter(len(sheet.headers) - 1)}$1"
                    "</definedName>"
                )
        zf.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{''.join(entries)}</sheets>"
            + (f"<definedNames>{''.join(filters)}</definedNames>" if filters else "")
            + "</workbook>",
        )
        for index, sheet in enumerate(sheets, start=1):
            with zf.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as part:
                counts.append(_write_rows(part, sheet, bool_text, localise, max_rows, on_too_many))
    return counts


def _write_rows(part, sheet: Sheet, bool_text, localise, max_rows, on_too_many) -> int:
    yes, no = bool_text
    text = _text_cell
    headers = sheet.headers
    ncols = len(headers)
    styles = list(sheet.column_styles)
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{w:.1f}" customWidth="1"'
        + (f' style="{styles[i]}"' if i < len(styles) and styles[i] else "")
        + "/>"
        for i, w in enumerate(sheet.column_widths)
    )
    header_styles = list(sheet.header_styles) or [STYLE_HEADER] * ncols
    head = "".join(
        f'<c s="{style}" t="inlineStr"><is><t>{_escape(h)}</t></is></c>'
        for h, style in zip(headers, header_styles, strict=True)
    )
    part.write(
        (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            + (f"<cols>{cols}</cols>" if cols else "")
            + f'<sheetData><row r="1">{head}</row>'
        ).encode()
    )
    # Text cells of a styled column carry the style (a column's style covers empty cells only).
    text_styles = (
        [styles[i] if i < len(styles) else 0 for i in range(ncols)] if any(styles) else None
    )
    parts: list[str] = []
    append = parts.append
    count = 0
    for count, row in enumerate(sheet.rows, start=1):  # noqa: B007 - count is returned
        if count >= max_rows:
            raise on_too_many()
        append(f'<row r="{count + 1}">')
        for position, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if not value:
                    append("<c/>")
                elif text_styles:
                    append(text(value, text_styles[position] if position < ncols else 0))
                else:
                    append(text(value))
            elif value is None:
                append("<c/>")
            elif kind is int:
                append(
                    f"<c><v>{value}</v></c>"
                    if -(10**_MAX_EXACT_DIGITS) < value < 10**_MAX_EXACT_DIGITS
                    else text(str(value))
                )
            elif kind is Decimal:
                if value.is_finite() and len(value.as_tuple().digits) <= _MAX_EXACT_DIGITS:
                    append(f"<c><v>{value}</v></c>")
                else:
                    append(text(str(value)))
            elif kind is float:
                append(f"<c><v>{value!r}</v></c>" if math.isfinite(value) else text(str(value)))
            elif kind is bool:
                append(text(yes if value else no))
            elif isinstance(value, dt.datetime):
                delta = localise(value) - _EPOCH_DT
                serial = delta.days + delta.seconds / 86400 + delta.microseconds / 8.64e10
                append(f'<c s="{STYLE_DATETIME}"><v>{serial!r}</v></c>')
            elif isinstance(value, dt.date):
                append(f'<c s="{STYLE_DATE}"><v>{(value - _EPOCH).days}</v></c>')
            else:
                append(text(str(value)))
        append("</row>")
        if count % _BATCH == 0:
            part.write("".join(parts).encode())
            parts.clear()
    parts.append("</sheetData>")
    if ncols and sheet.autofilter:
        parts.append(f'<autoFilter ref="A1:{column_letter(ncols - 1)}{max(count, 1) + 1}"/>')
    if sheet.merged:
        merges = "".join(f'<mergeCell ref="{ref}"/>' for ref in sheet.merged)
        parts.append(f'<mergeCells count="{len(sheet.merged)}">{merges}</mergeCells>')
    parts.append("</worksheet>")
    part.write("".join(parts).encode())
    return count
