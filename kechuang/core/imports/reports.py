"""Workbooks an import hands out: the blank template and the rejected rows with reasons."""

from __future__ import annotations

import io
from collections import defaultdict

from django.utils.translation import gettext as _

from kechuang.core.export import Sheet, write_workbook
from kechuang.core.imports.base import ERROR, Importer
from kechuang.core.models import ImportJob
from kechuang.core.tabular import TableError, read_table, write_xlsx
from kechuang.core.xlsx import STYLE_HEADER, STYLE_HEADER_REQUIRED, STYLE_TEXT, STYLE_WRAP


def template_xlsx(importer: type[Importer]) -> bytes:
    """Sheet 1: the Chinese headers, ready to fill; sheet 2: what each column accepts."""
    fields = importer.fields
    general = [
        "第一行是表头，每列一个名称；表头上方可以有标题行，不要用合并单元格做两行表头。",
        "数据从第2行开始填写；本说明页不会被导入。",
        "支持 .xlsx、.xls 和 CSV（UTF-8、带 BOM 的 UTF-8 或 GBK 编码）。",
        "空单元格表示“不修改”：已在库中的记录保留原值。",
        "金额列以表头括号中的单位为准（元、万元、亿元），没有写单位时按万元；单元格里写了单位的以单元格为准。",
        "上传后先“检查”（试导入），确认问题清单后再“导入”；同一文件重复导入不会产生重复数据。",
    ]
    notes: list[list[str | None]] = [
        [f.header(), "是" if f.required else "", "、".join(f.aliases), f.note,
         "" if f.example is None else str(f.example)]
        for f in fields
    ]  # fmt: skip
    notes.append([None] * 5)
    first_general = len(notes) + 2  # the sheet row of the first general line (header is 1)
    notes += [["说明" if i == 0 else "", line, None, None, None] for i, line in enumerate(general)]
    data = Sheet(
        "数据",
        [f.header() for f in fields],
        [],
        column_widths=[f.width for f in fields],
        header_styles=[STYLE_HEADER_REQUIRED if f.required else STYLE_HEADER for f in fields],
        # Text format everywhere: a credit code or a phone number must not become a number.
        column_styles=[STYLE_TEXT] * len(fields),
        autofilter=False,
    )
    explanations = Sheet(
        "填写说明",
        ["列名", "必填", "也可写作", "填写说明", "示例"],
        notes,
        column_widths=[24, 8, 40, 70, 24],
        column_styles=[0, 0, 0, STYLE_WRAP, 0],
        merged=[f"B{row}:E{row}" for row in range(first_general, first_general + len(general))],
        autofilter=False,
    )
    buffer = io.BytesIO()
    write_workbook(buffer, [data, explanations])
    return buffer.getvalue()


def rejected_rows_xlsx(job: ImportJob) -> bytes:
    """The rejected rows of the job's file as uploaded, with 行号 and 错误原因 columns.

    Rebuilt from the stored file and the problems kept on the job (capped, with their
    values clipped), so its size is bounded by the upload's; when problems were
    omitted, a last row says how many.
    """
    reasons: dict[int, list[str]] = defaultdict(list)
    for number, column, severity, message in job.problems:
        if severity == ERROR:
            reasons[number].append(f"{column}：{message}" if column else message)
    buffer = io.BytesIO()
    headers: list[str] = []
    rows: list[list] = []
    try:
        with job.file.open("rb") as handle:
            table = read_table(handle.read(), job.original_name)
        headers = list(table.headers)
        rows = [
            [number, "；".join(reasons[number]), *values]
            for number, values in table.rows
            if number in reasons
        ]
    except (TableError, OSError) as exc:
        rows = [[None, getattr(exc, "message", str(exc))]]
    if job.problems_omitted:
        rows.append(
            [None, _("%(count)d more problems were found but not kept; fix the rows above and "
                     "check the file again.") % {"count": job.problems_omitted}]
        )  # fmt: skip
    write_xlsx(
        buffer,
        [_("Row"), _("Reason"), *headers],
        rows,
        sheet_name=_("Rejected rows"),
        column_widths=[8, 60, *([16] * len(headers))],
    )
    return buffer.getvalue()
