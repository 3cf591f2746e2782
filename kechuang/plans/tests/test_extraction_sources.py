import io

import pytest

from kechuang.plans.extraction import SourceError, read_source

SAMPLE = "某区科委2024年工作要点\n全年新增高新技术企业300家。"


def test_text_in_utf8_with_and_without_bom_and_in_gbk(tmp_path):
    for name, data in {
        "a.txt": SAMPLE.encode("utf-8"),
        "b.txt": b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"),
        "c.txt": SAMPLE.encode("gbk"),
        "d.txt": SAMPLE.encode("gb18030"),
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert read_source(path) == SAMPLE


def test_bytes_with_filename_and_crlf():
    assert read_source(SAMPLE.replace("\n", "\r\n").encode("gbk"), "upload.txt") == SAMPLE


def test_docx_paragraphs_and_tables_in_document_order():
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("一、主要指标")
    table = document.add_table(rows=2, cols=3)
    for r, row in enumerate([("指标", "2020年", "2025年"), ("孵化器数量(家)", "18", "30")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("二、重点任务")
    buffer = io.BytesIO()
    document.save(buffer)
    text = read_source(buffer.getvalue(), "plan.docx")
    lines = [line for line in text.split("\n") if line]
    assert lines == [
        "一、主要指标",
        "指标\t2020年\t2025年",
        "孵化器数量(家)\t18\t30",
        "二、重点任务",
    ]


def test_pdf_without_text_layer_is_refused_clearly():
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(SourceError, match="no text layer"):
        read_source(buffer.getvalue(), "scan.pdf")


def test_unsupported_types_say_what_to_do():
    with pytest.raises(SourceError, match="docx"):
        read_source(b"\xd0\xcf\x11\xe0", "old.doc")
    with pytest.raises(SourceError, match="Unsupported"):
        read_source(b"x", "plan.xls")
