"""Indicator tables: rows of indicator / unit / baseline / target laid out in columns.

Text copied from web pages or Word files lays tables out in three ways, all handled:

* one row per line, cells separated by tabs or runs of spaces (also what read_source
  renders from .docx tables);
* one cell per line, rows one after another (the header is then one cell per line too);
* column blocks: all indicator names first, then the baseline column, then the target
  column (a page layout where each column was copied as a whole).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .numbers import UNITS, fold_width, parse_number

CELL_SPLIT_RE = re.compile(r"\t+| {2,}|\u3000+")
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_UNIT_ALT = "|".join(re.escape(u) for u in UNITS)
VALUE_CELL_RE = re.compile(
    rf"^(?:预计|约|保持|力争|达到|达|超过|不低于|不少于|≥|>=|>|≈)?\s*(?P<n>{_NUM})\s*(?P<unit>{_UNIT_ALT})?"
    r"\s*(?P<qual>左右|以上|以内|以下)?$"
)
EMPTY_CELL_RE = re.compile(r"^(?:—+|-+|/|无|——|\\)$")
YEAR_HEAD_RE = re.compile(r"((?:19|20)\d\d)\s*年")
VALUE_HEAD_RE = re.compile(
    r"^(?:(?:19|20)\d\d\s*年[^\d]{0,6}|[^\d]{0,4}(?:基期|基数|现状|现值|基准|目标|预期|规划)值?[^\d]{0,4})$"
)
INDICATOR_HEAD_RE = re.compile(r"^[^\d]{0,4}(?:指标|名称|项目)[^\d]{0,4}$")
UNIT_HEAD_RE = re.compile(r"^(?:计量)?单位$")
NUMBER_HEAD_RE = re.compile(r"^(?:序号|编号)$")
OTHER_HEAD_RE = re.compile(r"^(?:属性|类别|类型|备注|指标属性|分类)$")
_NUMBERING_RE = re.compile(r"^\s*(?:\d{1,2}[.．、]|[(（]\d{1,2}[)）])\s*")
_UNIT_PAREN_RE = re.compile(r"[(（]\s*([^()（）]{1,6})\s*[)）]\s*$")


@dataclass(slots=True)
class Cell:
    text: str
    start: int
    end: int


@dataclass(slots=True)
class IndicatorRow:
    """One indicator of a table with its baseline and target."""

    indicator: str
    unit: str | None
    start: int
    end: int
    baseline: float | None = None
    baseline_year: int | None = None
    target: float | None = None
    target_year: int | None = None
    target_qualifier: str = ""
    # Header of the baseline column ("2020年", "基期值" …): a year column inside the plan's
    # period is a milestone target rather than a baseline (targets.py decides).
    baseline_label: str = ""
    # Value columns between the baseline and the target (2023年 in 2020年 / 2023年 / 2025年):
    # (value, year, qualifier) for each, milestones on the way to the target.
    milestones: list[tuple[float, int | None, str]] = field(default_factory=list)


@dataclass(slots=True)
class IndicatorTable:
    start: int
    end: int
    rows: list[IndicatorRow] = field(default_factory=list)


def _line_cells(scan: str, start: int, end: int) -> list[Cell]:
    cells = []
    pos = start
    for match in CELL_SPLIT_RE.finditer(scan, start, end):
        if match.start() > pos:
            cells.append(Cell(scan[pos : match.start()], pos, match.start()))
        pos = match.end()
    if pos < end:
        cells.append(Cell(scan[pos:end], pos, end))
    return [c for c in _strip_cells(cells) if c.text]


def _strip_cells(cells: list[Cell]) -> list[Cell]:
    out = []
    for cell in cells:
        text = cell.text
        lead = len(text) - len(text.lstrip())
        stripped = text.strip()
        out.append(Cell(stripped, cell.start + lead, cell.start + lead + len(stripped)))
    return out


def _lines(scan: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for line in scan.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _column_kind(text: str) -> str | None:
    if VALUE_HEAD_RE.match(text):
        return "value"
    if INDICATOR_HEAD_RE.match(text):
        return "indicator"
    if UNIT_HEAD_RE.match(text):
        return "unit"
    if NUMBER_HEAD_RE.match(text):
        return "no"
    if OTHER_HEAD_RE.match(text):
        return "other"
    return None


def _is_value(text: str) -> bool:
    return bool(VALUE_CELL_RE.match(text) or EMPTY_CELL_RE.match(text))


def _parse_value(text: str) -> tuple[float | None, str | None, str]:
    match = VALUE_CELL_RE.match(text)
    if not match:
        return None, None, ""
    return parse_number(match["n"]), match["unit"], match["qual"] or ""


def _split_unit(name: str) -> tuple[str, str | None]:
    name = _NUMBERING_RE.sub("", name).strip()
    match = _UNIT_PAREN_RE.search(name)
    if match and (match.group(1) in UNITS or match.group(1) in ("%", "％")):
        return name[: match.start()].strip(), match.group(1).replace("％", "%")
    return name, None


def _header_at(scan: str, lines, index: int):
    """Column kinds, years and texts of a header starting at lines[index], and the index after it."""
    start, end = lines[index]
    cells = _line_cells(scan, start, end)
    if len(cells) >= 2 and end - start <= 100:
        kinds = [_column_kind(c.text) for c in cells]
        values = kinds.count("value")
        if None not in kinds and values >= 1 and (values >= 2 or "indicator" in kinds):
            return kinds, [_year(c.text) for c in cells], index + 1, [c.text for c in cells]
        return None
    if len(cells) != 1 or _column_kind(cells[0].text) not in ("indicator", "no"):
        return None
    # One header cell per line.
    kinds, years, texts = [], [], []
    j = index
    while j < len(lines):
        cells = _line_cells(scan, *lines[j])
        if not cells:
            j += 1
            continue
        kind = _column_kind(cells[0].text) if len(cells) == 1 else None
        if kind is None:
            break
        kinds.append(kind)
        years.append(_year(cells[0].text))
        texts.append(cells[0].text)
        j += 1
    if "indicator" in kinds and kinds.count("value") >= 1 and len(kinds) >= 3:
        return kinds, years, j, texts
    return None


def _year(text: str) -> int | None:
    match = YEAR_HEAD_RE.search(text)
    return int(match.group(1)) if match else None


def _value_columns(kinds: list[str], years: list[int | None]) -> tuple[int | None, int]:
    value_idx = [i for i, k in enumerate(kinds) if k == "value"]
    target = value_idx[-1]
    baseline = value_idx[0] if len(value_idx) >= 2 else None
    return baseline, target


def _make_row(
    name: Cell,
    unit_text,
    baseline_cell,
    target_cell,
    years,
    b_idx,
    t_idx,
    same_line=False,
    *,
    middle=(),
    texts=None,
    contiguous=False,
):
    """One table row; middle holds (column index, cell) of the value columns between baseline and target."""
    indicator, unit = _split_unit(name.text)
    if unit_text:
        unit = unit_text
    row = IndicatorRow(indicator, unit, name.start, name.end)
    if baseline_cell is not None:
        row.baseline, b_unit, _ = _parse_value(baseline_cell.text)
        row.baseline_year = years[b_idx]
        row.baseline_label = texts[b_idx] if texts else ""
        unit = unit or b_unit
    for col, cell in middle:
        value, m_unit, qualifier = _parse_value(cell.text)
        if value is not None:
            row.milestones.append((value, years[col], qualifier))
            unit = unit or m_unit
    if target_cell is not None:
        if (same_line or contiguous) and target_cell.start > name.end:
            row.end = target_cell.end  # quote the whole row
        row.target, t_unit, row.target_qualifier = _parse_value(target_cell.text)
        row.target_year = years[t_idx]
        unit = unit or t_unit
    row.unit = unit
    return row


def find_indicator_tables(text: str) -> list[IndicatorTable]:
    """Every indicator table of the text, each with the span it covers."""
    scan = fold_width(text)
    if not YEAR_HEAD_RE.search(scan) and "目标值" not in scan:
        return []
    lines = _lines(scan)
    tables: list[IndicatorTable] = []
    index = 0
    while index < len(lines):
        start, end = lines[index]
        if end - start > 100 or not scan[start:end].strip():
            index += 1
            continue
        header = _header_at(scan, lines, index)
        if header is None:
            index += 1
            continue
        kinds, years, after, texts = header
        table, index = _read_body(
            scan, lines, kinds, years, after, one_line_header=after == index + 1, texts=texts
        )
        if table is not None and table.rows:
            table.start = start
            tables.append(table)
    return tables


def _body_cells(scan: str, lines, after: int) -> tuple[list[Cell], list[int]]:
    """Cells following the header, up to the first prose line; with the line index of each."""
    cells: list[Cell] = []
    line_of: list[int] = []
    j = after
    while j < len(lines):
        start, end = lines[j]
        line_cells = _line_cells(scan, start, end)
        if any(len(c.text) > 60 or "。" in c.text for c in line_cells):
            break
        cells.extend(line_cells)
        line_of.extend([j] * len(line_cells))
        j += 1
    return cells, line_of


def _read_body(scan, lines, kinds, years, after, *, one_line_header, texts=None):
    cells, line_of = _body_cells(scan, lines, after)
    if not cells:
        return None, after
    b_idx, t_idx = _value_columns(kinds, years)
    name_idx = kinds.index("indicator") if "indicator" in kinds else 0
    unit_idx = kinds.index("unit") if "unit" in kinds else None
    text_cols = sum(1 for k in kinds if k != "value")
    value_cols = [i for i, k in enumerate(kinds) if k == "value"]
    middle_cols = [i for i in value_cols if i not in (b_idx, t_idx)]
    leading = 0
    while leading < len(cells) and not _is_value(cells[leading].text):
        leading += 1
    table = IndicatorTable(0, 0)
    used = 0
    if leading > text_cols + 1 and "unit" not in kinds:
        # Column blocks: every name, then one block of values per value column.
        names = cells[:leading]
        count = len(names)
        values = cells[leading : leading + count * len(value_cols)]
        if len(values) == count * len(value_cols) and all(_is_value(v.text) for v in values):
            for i, name in enumerate(names):
                by_col = {col: values[k * count + i] for k, col in enumerate(value_cols)}
                middle = [(col, by_col[col]) for col in middle_cols]
                table.rows.append(
                    _make_row(
                        name,
                        None,
                        by_col.get(b_idx),
                        by_col[t_idx],
                        years,
                        b_idx,
                        t_idx,
                        middle=middle,
                        texts=texts,
                    )
                )
            used = leading + len(values)
    else:
        width = len(kinds)
        pos = 0
        while pos + width <= len(cells):
            chunk = cells[pos : pos + width]
            if one_line_header and len({line_of[pos], line_of[pos + width - 1]}) != 1:
                break
            if any(not _is_value(chunk[i].text) for i in value_cols):
                break
            unit_text = chunk[unit_idx].text if unit_idx is not None else None
            baseline = chunk[b_idx] if b_idx is not None else None
            table.rows.append(
                _make_row(
                    chunk[name_idx],
                    unit_text,
                    baseline,
                    chunk[t_idx],
                    years,
                    b_idx,
                    t_idx,
                    same_line=one_line_header,
                    middle=[(col, chunk[col]) for col in middle_cols],
                    texts=texts,
                    contiguous=not one_line_header,
                )
            )
            pos += width
        used = pos
    if not used:
        return None, after
    last_line = line_of[used - 1]
    table.end = lines[last_line][1]
    return table, last_line + 1
