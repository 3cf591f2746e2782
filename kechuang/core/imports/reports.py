"""Workbooks an import hands out: the blank template and the rejected rows with reasons."""

from __future__ import annotations

import io
from collections import defaultdict

import xlsxwriter
from django.utils.translation import gettext as _

from kechuang.core.imports.base import ERROR, Importer
from kechuang.core.models import ImportJob
from kechuang.core.tabular import TableError, read_table, write_xlsx


def template_xlsx(importer: type[Importer]) -> bytes:
    """Sheet 1: the Chinese headers, ready to fill; sheet 2: what each column accepts."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    required = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    text = book.add_format({"num_format": "@"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet = book.add_worksheet("数据")
    notes = book.add_worksheet("填写说明")
    for col, f in enumerate(importer.fields):
        # Text format everywhere: a credit code or a phone number must not become a number.
        sheet.set_column(col, col, f.width, text)
        sheet.write_string(0, col, f.header(), required if f.required else head)
    sheet.freeze_panes(1, 0)
    notes.set_column(0, 0, 24)
    notes.set_column(1, 1, 8)
    notes.set_column(2, 2, 40)
    notes.set_column(3, 3, 70, wrap)
    notes.set_column(4, 4, 24)
    for col, title in enumerate(["列名", "必填", "也可写作", "填写说明", "示例"]):
        notes.write_string(0, col, title, head)
    for row, f in enumerate(importer.fields, start=1):
        notes.write_string(row, 0, f.header())
        notes.write_string(row, 1, "是" if f.required else "")
        notes.write_string(row, 2, "、".join(f.aliases))
        notes.write_string(row, 3, f.note)
        notes.write_string(row, 4, "" if f.example is None else str(f.example))
    last = len(importer.fields) + 2
    general = [
        "第一行是表头，每列一个名称；表头上方可以有标题行，不要用合并单元格做两行表头。",
        "数据从第2行开始填写；本说明页不会被导入。",
        "支持 .xlsx、.xls 和 CSV（UTF-8、带 BOM 的 UTF-8 或 GBK 编码）。",
        "空单元格表示“不修改”：已在库中的记录保留原值。",
        "金额列以表头括号中的单位为准（元、万元、亿元），没有写单位时按万元；单元格里写了单位的以单元格为准。",
        "上传后先“检查”（试导入），确认问题清单后再“导入”；同一文件重复导入不会产生重复数据。",
    ]
    for offset, line in enumerate(general):
        notes.write_string(last + offset, 0, "说明" if offset == 0 else "")
        notes.merge_range(last + offset, 1, last + offset, 4, line, wrap)
    book.close()
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
