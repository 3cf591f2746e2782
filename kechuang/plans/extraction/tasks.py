"""Tasks of a plan: task tables (序号 / 领域 / 重点工作 / 主要内容 / 责任单位) and numbered sections.

Task tables come either as tab-separated rows (Word files, read by sources.read_source)
or as one cell per line (web copies), where merged 领域 cells appear only once and a
row without 序号 continues the task above it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .numbers import fold_width
from .sections import REVIEW_RE, find_headings, section_spans

# Sections that frame the plan rather than assign work.
NON_TASK_RE = re.compile(r"指导思想|目标|指标|形势|需求|基本原则|总体要求|名词解释|总体思路")

_COLUMN_PATTERNS = (
    ("number", re.compile(r"^(?:序号|编号)$")),
    ("area", re.compile(r"^(?:领域|类别|板块|方面|任务类别|重点领域|工作领域)$")),
    (
        "title",
        re.compile(
            r"^(?:重点工作|工作任务|重点任务|任务名称|任务|项目|项目名称|工作事项|重点项目)$"
        ),
    ),
    (
        "content",
        re.compile(
            r"^(?:主要内容|工作内容|具体内容|任务内容|工作措施|主要举措|具体措施|工作目标|目标任务)$"
        ),
    ),
    ("units", re.compile(r"^(?:责任单位|牵头单位|责任部门|牵头部门|实施单位|实施主体|责任主体)$")),
    ("support", re.compile(r"^(?:配合单位|协办单位|配合部门)$")),
    ("deadline", re.compile(r"^(?:完成时限|时间节点|完成时间|时限)$")),
    ("note", re.compile(r"^备注$")),
)
_UNIT_SPLIT_RE = re.compile(r"[、,，;；/]+|\s+")
_ORG_RE = re.compile(
    r"(?:委|局|办|镇|街道|区|部|中心|单位|政府|公司|院|会|处|科|室|所|队|集团|园区|管委会)[)）]?$"
)
RESPONSIBLE_RE = re.compile(
    r"[(（]?\s*(?:责任单位|牵头单位|责任部门|牵头部门)\s*[:：]\s*([^)）\n。]+)[)）]?"
)
_ROW_NUMBER_RE = re.compile(r"^\d{1,3}$")
_LEAD_PHRASE_RE = re.compile(r"^\s*([^。\n;；:：]{2,24})。")


@dataclass(slots=True)
class Task:
    """One task: number as written, the area it belongs to, and its responsible units (lead first)."""

    number: str
    area: str
    title: str
    content: str
    responsible_units: list[str] = field(default_factory=list)
    source: str = "section"

    def to_dict(self) -> dict:
        return asdict(self)


def _column_of(text: str) -> str | None:
    text = text.strip()
    for name, pattern in _COLUMN_PATTERNS:
        if pattern.match(text):
            return name
    return None


def split_units(text: str) -> list[str]:
    """区经委、区科委,相关镇 → [区经委, 区科委, 相关镇]; the first is the lead unit."""
    return [part.strip() for part in _UNIT_SPLIT_RE.split(text.strip()) if part.strip()]


def looks_like_units(text: str) -> bool:
    """True for a cell listing organisations rather than describing work."""
    text = text.strip()
    if not text or len(text) > 80 or "。" in text:
        return False
    parts = split_units(text)
    return all(len(p) <= 16 for p in parts) and any(_ORG_RE.search(p) for p in parts)


def _is_content(text: str) -> bool:
    return len(text) >= 40 or (len(text) >= 20 and any(c in text for c in ",，;；"))


def _header_run(lines: list[str], index: int) -> tuple[list[str], int] | None:
    """Columns of a one-cell-per-line header starting at lines[index], and the index after it."""
    columns = []
    j = index
    while j < len(lines):
        cell = lines[j].strip()
        if not cell:
            j += 1
            continue
        column = _column_of(cell)
        if column is None:
            break
        columns.append(column)
        j += 1
    if len(columns) >= 3 and "content" in columns or {"title", "units"} <= set(columns):
        return columns, j
    return None


def _tasks_from_tab_rows(rows: list[list[str]], columns: list[str]) -> list[Task]:
    tasks: list[Task] = []
    area = title = number = ""
    for cells in rows:
        record = dict(zip(columns, cells, strict=False))
        number = record.get("number", "").strip() or number
        area = record.get("area", "").strip() or area
        title = record.get("title", "").strip() or title
        content = record.get("content", "").strip()
        if not (content or record.get("title")):
            continue
        tasks.append(
            Task(number, area, title, content, split_units(record.get("units", "")), "table")
        )
    return tasks


def _tasks_from_cells(cells: list[str]) -> list[Task]:
    """Group a cell stream into rows at each 序号 and read each row's cells by their look."""
    groups: list[tuple[str | None, list[str]]] = []
    last_number = 0
    for cell in cells:
        if _ROW_NUMBER_RE.match(cell) and int(cell) == last_number + 1:
            last_number = int(cell)
            groups.append((cell, []))
        elif groups:
            groups[-1][1].append(cell)
        else:
            groups.append((None, [cell]))
    tasks: list[Task] = []
    area = title = ""
    for number, group in groups:
        leading = []
        i = 0
        while i < len(group) and not _is_content(group[i]):
            leading.append(group[i])
            i += 1
        if len(leading) >= 2:
            area, title = leading[-2], leading[-1]
        elif len(leading) == 1:
            title = leading[0]
        row_number = number or (tasks[-1].number if tasks else "")
        while i < len(group):
            content = group[i]
            i += 1
            units: list[str] = []
            if i < len(group) and looks_like_units(group[i]):
                units = split_units(group[i])
                i += 1
            tasks.append(Task(row_number, area, title, content, units, "table"))
    return tasks


def find_task_tables(text: str) -> tuple[list[Task], list[tuple[int, int]]]:
    """Tasks of every task table and the character spans the tables cover."""
    scan = fold_width(text)
    lines = scan.split("\n")
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    tasks: list[Task] = []
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "\t" in line.strip():
            columns = [_column_of(c) for c in line.strip().split("\t")]
            if sum(c is not None for c in columns) >= 3:
                rows, j = [], index + 1
                while j < len(lines) and "\t" in lines[j]:
                    rows.append([c.strip() for c in lines[j].split("\t")])
                    j += 1
                tasks.extend(_tasks_from_tab_rows(rows, [c or "" for c in columns]))
                spans.append((offsets[index], offsets[j - 1] + len(lines[j - 1])))
                index = j
                continue
        if _column_of(line) in ("number", "area", "title"):
            header = _header_run(lines, index)
            if header is not None:
                columns, j = header
                cells, end = [], j
                while end < len(lines):
                    cell = lines[end].strip()
                    if cell and _column_of(cell) is None and len(cell) <= 6 and cell.endswith(":"):
                        break  # page furniture such as 分享:
                    if cell:
                        cells.append(cell)
                    end += 1
                tasks.extend(_tasks_from_cells(cells))
                spans.append((offsets[index], offsets[end - 1] + len(lines[end - 1])))
                index = end
                continue
        index += 1
    return tasks, spans


def find_section_tasks(text: str, *, skip_spans=()) -> list[Task]:
    """Numbered sections as tasks: a top-level heading is an area, the headings below it tasks.

    Review sections are left out. A section whose paragraphs open with a short lead
    phrase ("聚焦主业强协同。") yields one task per paragraph.
    """
    scan = fold_width(text)
    headings = [h for h in find_headings(scan) if not any(s <= h.start < e for s, e in skip_spans)]
    review = section_spans(scan, headings, REVIEW_RE) + section_spans(scan, headings, NON_TASK_RE)
    tasks: list[Task] = []
    parents: dict[int, str] = {}
    for index, heading in enumerate(headings):
        for deeper in [lv for lv in parents if lv >= heading.level]:
            del parents[deeper]
        area = next((parents[lv] for lv in sorted(parents, reverse=True)), "")
        parents[heading.level] = heading.title
        if heading.label.startswith("附") or any(s <= heading.start < e for s, e in review):
            continue
        next_start = headings[index + 1].start if index + 1 < len(headings) else len(text)
        next_start = min([next_start] + [s for s, _ in skip_spans if s > heading.start])
        body = text[heading.end : next_start].strip()
        if index + 1 < len(headings) and headings[index + 1].level > heading.level:
            continue  # a grouping heading: its children are the tasks
        units: list[str] = []
        for match in RESPONSIBLE_RE.finditer(body):
            units.extend(split_units(match.group(1)))
        body = RESPONSIBLE_RE.sub("", body).strip()
        paragraphs = [p.strip() for p in body.split("\n") if p.strip()]
        leads = [(p, _LEAD_PHRASE_RE.match(p)) for p in paragraphs]
        if len(paragraphs) >= 2 and sum(1 for _, m in leads if m) >= 2:
            for n, (paragraph, lead) in enumerate((p, m) for p, m in leads if m):
                tasks.append(
                    Task(
                        f"{heading.label}{n + 1}",
                        heading.title,
                        lead.group(1),
                        paragraph[lead.end() :].strip(),
                        units,
                    )
                )
            continue
        tasks.append(Task(heading.label, area or heading.title, heading.title, body, units))
    return tasks


def extract_tasks(text: str, *, skip_spans=()) -> list[Task]:
    """Task-table rows first (they carry responsible units), then numbered sections outside the tables.

    skip_spans are further regions (such as indicator tables) whose numbered lines are not tasks.
    """
    table_tasks, spans = find_task_tables(text)
    return table_tasks + find_section_tasks(text, skip_spans=[*spans, *skip_spans])
