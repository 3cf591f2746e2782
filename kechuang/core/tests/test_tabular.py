"""Tests for reading uploaded tables and writing exports."""

import codecs
import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from kechuang.core.tabular import (
    Column,
    TableError,
    column_letter,
    map_columns,
    normalize_header,
    read_table,
    write_csv,
    write_xlsx,
)

HEADERS = ["企业名称", "统一社会信用代码", "营业收入(万元)", "成立日期"]
ROWS = [
    ["华为技术有限公司", "914403001922038216", 1234.5, dt.date(1987, 9, 15)],
    ["小米科技有限责任公司", "91110108551385082Q", 3000, dt.date(2010, 3, 3)],
]


def xlsx_bytes(rows, *, merge=None, sheet_title="Sheet1", extra_sheets=()):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    for row in rows:
        sheet.append(row)
    for cell_range in merge or ():
        sheet.merge_cells(cell_range)
    for title in extra_sheets:
        workbook.create_sheet(title)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding):
    text = "\r\n".join(",".join("" if v is None else str(v) for v in row) for row in rows)
    return text.encode(encoding)


# --- reading xlsx ---------------------------------------------------------


def test_reads_xlsx_headers_rows_and_user_row_numbers():
    table = read_table(xlsx_bytes([HEADERS, *ROWS]), "企业.xlsx")
    assert table.kind == "xlsx"
    assert table.headers == HEADERS
    assert table.header_row == 1
    assert [row.number for row in table] == [2, 3]
    assert table.rows[0].values == ROWS[0]
    # Whole numbers come back as int, so "3000" is not "3000.0".
    assert table.rows[1].values[2] == 3000 and type(table.rows[1].values[2]) is int
    assert len(table) == 2


def test_detects_xlsx_by_content_not_extension():
    table = read_table(xlsx_bytes([HEADERS, *ROWS]), "导出数据.csv")
    assert table.kind == "xlsx"
    assert table.headers == HEADERS


def test_accepts_file_objects_and_uses_their_name():
    upload = io.BytesIO(xlsx_bytes([HEADERS, *ROWS]))
    upload.name = "名单.xlsx"
    upload.read(10)  # a half-read upload is rewound
    assert read_table(upload).headers == HEADERS


def test_skips_a_merged_title_row_above_the_header():
    data = xlsx_bytes([["2023年企业名单"], HEADERS, *ROWS], merge=["A1:D1"])
    table = read_table(data, "名单.xlsx")
    assert table.headers == HEADERS
    assert table.header_row == 2
    assert table.skipped_rows == [1]
    assert [row.number for row in table] == [3, 4]
    assert table.rows[1].values[:2] == ["小米科技有限责任公司", "91110108551385082Q"]


def test_skips_title_and_note_rows_and_blank_rows_keep_numbering():
    data = xlsx_bytes(
        [
            ["2023年企业名单"],
            [None],
            ["填报单位：某区科委", None, None, "日期：2023-05"],
            HEADERS,
            ROWS[0],
            [None, None, None, None],
            ROWS[1],
        ],
        merge=["A1:D1"],
    )
    table = read_table(data, "名单.xlsx")
    assert table.header_row == 4
    assert table.skipped_rows == [1, 3]
    assert [row.number for row in table] == [5, 7]


def test_refuses_a_two_row_header_with_merged_cells():
    data = xlsx_bytes(
        [
            ["企业名称", "营业收入(万元)", None],
            [None, "2022年", "2023年"],
            ["华为技术有限公司", 100, 200],
        ],
        merge=["A1:A2", "B1:C1"],
    )
    with pytest.raises(TableError) as info:
        read_table(data, "收入.xlsx")
    assert info.value.code == "merged_header"
    assert "合并单元格" in str(info.value) and "第1行" in str(info.value)


def test_blank_header_cell_is_reported_with_its_column_letter():
    data = xlsx_bytes([["企业名称", None, "成立日期"], ["华为技术有限公司", "x", "1987-09-15"]])
    with pytest.raises(TableError) as info:
        read_table(data, "名单.xlsx")
    assert info.value.code == "blank_header"
    assert "B 列是空的" in str(info.value)


def test_blank_header_in_two_row_header_without_merge_gets_a_hint():
    data = xlsx_bytes([["企业名称", "营业收入", None], [None, "2022年", "2023年"], ["华为", 1, 2]])
    with pytest.raises(TableError, match="C 列有内容.*两行"):
        read_table(data, "收入.xlsx")


def test_blank_header_over_an_empty_column_is_allowed():
    data = xlsx_bytes([["企业名称", None, "成立日期"], ["华为技术有限公司", None, "1987-09-15"]])
    table = read_table(data, "名单.xlsx")
    assert table.headers == ["企业名称", "", "成立日期"]


def test_data_right_of_the_header_is_refused():
    data = xlsx_bytes([HEADERS, [*ROWS[0], "备注"]])
    with pytest.raises(TableError, match="第2行的 E 列有内容，但这一列没有表头"):
        read_table(data, "名单.xlsx")


def test_duplicate_header_names_are_refused():
    data = xlsx_bytes([["企业名称", "信用代码", "企业名称"], ["a", "b", "c"]])
    with pytest.raises(TableError) as info:
        read_table(data, "名单.xlsx")
    assert info.value.code == "duplicate_header"
    assert "“企业名称”出现了两次（A 列和 C 列）" in str(info.value)


def test_empty_sheet_is_refused():
    with pytest.raises(TableError, match="是空的") as info:
        read_table(xlsx_bytes([]), "空.xlsx")
    assert info.value.code == "empty"


def test_first_visible_sheet_is_read_and_a_named_one_on_request():
    workbook = openpyxl.Workbook()
    hidden = workbook.active
    hidden.title = "说明"
    hidden.append(["这是隐藏的说明页"])
    hidden.sheet_state = "hidden"
    data_sheet = workbook.create_sheet("数据")
    for row in [HEADERS, *ROWS]:
        data_sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "a.xlsx")
    assert table.sheet_name == "数据" and table.headers == HEADERS
    assert read_table(buffer.getvalue(), "a.xlsx", sheet="说明").headers == ["这是隐藏的说明页"]
    with pytest.raises(TableError, match="没有工作表“汇总”；现有工作表：说明、数据"):
        read_table(buffer.getvalue(), "a.xlsx", sheet="汇总")


def test_too_many_rows_is_refused():
    data = xlsx_bytes([HEADERS, *ROWS, *ROWS])
    with pytest.raises(TableError, match="超过 3 行"):
        read_table(data, "a.xlsx", max_rows=3)


# --- refusing things that are not tables --------------------------------------


def test_png_renamed_to_xlsx_is_refused():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
    with pytest.raises(TableError) as info:
        read_table(png, "企业名单.xlsx")
    assert info.value.code == "not_table"
    assert "“企业名单.xlsx”的内容实际是PNG 图片，不是表格" in str(info.value)


def test_pdf_renamed_to_xlsx_is_refused():
    with pytest.raises(TableError, match="PDF 文档"):
        read_table(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "名单.xlsx")


def test_word_document_renamed_to_xlsx_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(TableError, match="Word 文档"):
        read_table(buffer.getvalue(), "名单.xlsx")


def test_truncated_xlsx_is_refused_as_corrupt():
    data = xlsx_bytes([HEADERS, *ROWS])
    with pytest.raises(TableError) as info:
        read_table(data[: len(data) // 2], "名单.xlsx")
    assert info.value.code == "corrupt"


def test_fake_ole_file_is_refused_as_unreadable_excel():
    with pytest.raises(TableError, match="无法作为 Excel 表格打开"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "旧.xls")


def test_encrypted_office_file_is_refused():
    data = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le")
    )
    with pytest.raises(TableError, match="设置了打开密码"):
        read_table(data, "加密.xlsx")


def test_html_disguised_as_xls_is_refused():
    html = "<html><body><table><tr><td>企业名称</td></tr></table></body></html>"
    with pytest.raises(TableError, match="网页") as info:
        read_table(html.encode("utf-8"), "导出.xls")
    assert info.value.code == "html"


@pytest.mark.parametrize("data", [b"", b"   \r\n  "])
def test_empty_file_is_refused(data):
    with pytest.raises(TableError, match="“空.csv”是空文件") as info:
        read_table(data, "空.csv")
    assert info.value.code == "empty"


def test_undecodable_text_is_refused():
    with pytest.raises(TableError, match="既不是 UTF-8 也不是 GBK"):
        read_table(b"\xff\xfe\xfa" * 0 + b"a,b\r\n\x81\x20\xff\xff", "x.csv")


# --- CSV ---------------------------------------------------------------------

CSV_ROWS = [
    ["企业名称", "统一社会信用代码", "营业收入(万元)"],
    ["华为技术有限公司", "914403001922038216", "1,234.5"],
    ["北京百度网讯科技有限公司", "91110000802100433B", "3000"],
]


def _quoted(rows):
    return [[f'"{cell}"' if "," in cell else cell for cell in row] for row in rows]


def test_reads_gbk_csv():
    table = read_table(csv_bytes(_quoted(CSV_ROWS), "gbk"), "名单.csv")
    assert table.kind == "csv" and table.encoding == "gbk"
    assert table.headers == CSV_ROWS[0]
    assert table.rows[0] == (2, CSV_ROWS[1])
    assert table.rows[1].values[0] == "北京百度网讯科技有限公司"


def test_reads_gb18030_only_characters():
    rows = [["企业名称"], ["𠮷野家（中国）"]]  # outside GBK, inside GB18030
    table = read_table(csv_bytes(rows, "gb18030"), "名单.csv")
    assert table.rows[0].values == ["𠮷野家（中国）"]


def test_reads_utf8_csv_with_and_without_bom():
    data = csv_bytes(_quoted(CSV_ROWS), "utf-8")
    with_bom = read_table(codecs.BOM_UTF8 + data, "名单.csv")
    assert with_bom.encoding == "utf-8-sig"
    assert with_bom.headers == CSV_ROWS[0]  # no "\ufeff" glued to the first header
    without_bom = read_table(data, "名单.csv")
    assert without_bom.encoding == "utf-8"
    assert [row.values for row in without_bom] == CSV_ROWS[1:]


def test_reads_utf16_tab_separated_text_from_excel():
    text = "\r\n".join("\t".join(row) for row in CSV_ROWS)
    table = read_table(text.encode("utf-16"), "名单.txt")
    assert table.encoding == "utf-16"
    assert table.headers == CSV_ROWS[0]
    assert table.rows[0].values[2] == "1,234.5"


def test_csv_title_line_blank_cells_and_quoted_newlines():
    text = (
        "2023年企业名单,,\r\n"
        "企业名称,统一社会信用代码,备注\r\n"
        '华为技术有限公司,914403001922038216,"第一行\n第二行"\r\n'
        ",,\r\n"
        "小米科技有限责任公司,91110108551385082Q,\r\n"
    )
    table = read_table(text.encode("gbk"), "名单.csv")
    assert table.header_row == 2 and table.skipped_rows == [1]
    assert table.rows[0] == (3, ["华为技术有限公司", "914403001922038216", "第一行\n第二行"])
    assert table.rows[1] == (5, ["小米科技有限责任公司", "91110108551385082Q", None])


def test_csv_without_data_rows_has_headers_only():
    table = read_table("企业名称,统一社会信用代码\n".encode(), "a.csv")
    assert table.headers == ["企业名称", "统一社会信用代码"]
    assert table.rows == []


# --- header mapping -------------------------------------------------------------

SPEC = [
    Column("name", "企业名称", ("单位名称", "Company Name")),
    Column("uscc", "统一社会信用代码", ("信用代码", "社会信用代码", "USCC")),
    Column("revenue", "营业收入", ("营收", "Revenue")),
    Column("founded", "成立日期", ("注册日期",), required=False),
]


def test_normalize_header():
    assert normalize_header("＊营业收入（万元）") == ("营业收入", "万元")
    assert normalize_header(" 统一社会 信用代码 ") == ("统一社会信用代码", None)
    assert normalize_header("Credit_Code") == ("creditcode", None)
    assert normalize_header("营业收入【单位：万元】") == ("营业收入", "单位:万元")


def test_map_columns_tolerates_aliases_width_spaces_and_units():
    headers = [" 单位名称 ", "USCC", "营业收入（万元）", "注册日期"]
    mapping = map_columns(headers, SPEC)
    assert mapping.ok
    assert mapping.indexes == {"name": 0, "uscc": 1, "revenue": 2, "founded": 3}
    assert mapping.units["revenue"] == "万元"
    assert mapping.units["name"] is None
    assert mapping.get(["华为", "914403001922038216", 1, None], "uscc") == "914403001922038216"


def test_map_columns_understands_unit_suffix_without_brackets():
    mapping = map_columns(["企业名称", "信用代码", "营业收入万元"], SPEC)
    assert mapping.indexes["revenue"] == 2
    assert mapping.units["revenue"] == "万元"


def test_map_columns_reports_missing_and_unknown_columns_by_name():
    mapping = map_columns(["企业名称", "营收", "联系人", "备注"], SPEC)
    assert [c.field for c in mapping.missing] == ["uscc"]
    assert mapping.unknown == [(2, "联系人"), (3, "备注")]
    assert mapping.errors == [
        "缺少必填列：“统一社会信用代码”（也可写作：信用代码、社会信用代码、USCC）。"
    ]
    assert mapping.unknown_message == "以下列无法识别：C列“联系人”、D列“备注”。"
    assert mapping.get(["a", "b", "c", "d"], "founded") is None
    with pytest.raises(TableError, match="缺少必填列"):
        mapping.raise_for_errors()


def test_map_columns_can_refuse_unknown_columns():
    mapping = map_columns(["企业名称", "信用代码", "营收", "联系人"], SPEC, allow_unknown=False)
    assert mapping.errors == ["以下列无法识别：D列“联系人”。"]


def test_map_columns_reports_a_field_given_twice():
    mapping = map_columns(["企业名称", "信用代码", "营业收入", "营业收入(万元)"], SPEC)
    assert not mapping.ok
    assert mapping.errors == [
        "“营业收入”对应了多列：C列“营业收入”、D列“营业收入(万元)”；请只保留一列。"
    ]


def test_map_columns_refuses_an_ambiguous_spec():
    with pytest.raises(ValueError, match="alias"):
        map_columns(["a"], [Column("a", "名称"), Column("b", "名称")])


def test_read_then_map_end_to_end():
    data = xlsx_bytes(
        [
            ["2023年企业名单"],
            ["*企业名称", "信用代码", "营收(亿元)"],
            ["华为", "914403001922038216", 8.5],
        ],
        merge=["A1:C1"],
    )
    table = read_table(data, "a.xlsx")
    mapping = map_columns(table.headers, SPEC)
    assert mapping.ok and mapping.units["revenue"] == "亿元"
    assert mapping.get(table.rows[0].values, "revenue") == 8.5


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


# --- writing ------------------------------------------------------------------


def test_write_xlsx_round_trips_types():
    rows = [
        [
            "华为技术有限公司",
            "914403001922038216",
            Decimal("12345000.50"),
            dt.date(1987, 9, 15),
            True,
        ],
        ['=HYPERLINK("http://x")', "00123", 42, dt.datetime(2023, 5, 1, 8, 30), None],
        ["大数", Decimal("12345678901234567.89"), 10**16, None, False],
    ]
    buffer = io.BytesIO()
    count = write_xlsx(
        buffer, ["名称", "代码", "金额(元)", "日期", "是否高企"], rows, sheet_name="企业/名单"
    )
    assert count == 3
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue()))
    assert workbook.sheet_names == ["企业_名单"]
    grid = workbook.get_sheet_by_index(0).to_python()
    assert grid[0] == ["名称", "代码", "金额(元)", "日期", "是否高企"]
    assert grid[1] == [
        "华为技术有限公司",
        "914403001922038216",
        12345000.5,
        dt.date(1987, 9, 15),
        "是",
    ]
    # Text stays text: no formula, no lost leading zero.
    assert grid[2][:4] == ['=HYPERLINK("http://x")', "00123", 42.0, dt.datetime(2023, 5, 1, 8, 30)]
    # Numbers Excel cannot hold exactly are written as text rather than rounded.
    assert grid[3][:3] == ["大数", "12345678901234567.89", "10000000000000000"]
    assert grid[3][4] == "否"
    # The header row is frozen and filterable.
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E4"


def test_write_xlsx_then_read_table_gives_the_same_rows(tmp_path):
    path = tmp_path / "export.xlsx"
    rows = [[f"企业{i}", i, dt.date(2023, 1, 1) + dt.timedelta(days=i)] for i in range(500)]
    assert write_xlsx(str(path), ["名称", "序号", "日期"], rows) == 500
    table = read_table(path.read_bytes(), "export.xlsx")
    assert table.headers == ["名称", "序号", "日期"]
    assert [row.values for row in table] == rows
    assert table.rows[-1].number == 501


def test_write_csv_has_bom_and_opens_as_utf8():
    buffer = io.BytesIO()
    rows = [
        ["华为技术有限公司", "914403001922038216", Decimal("1234.50"), dt.date(2023, 5, 1), True],
        ["=1+1", "-5", 0.1 + 0.2, dt.datetime(2023, 5, 1, 8, 30), None],
        ["@SUM(A1)", "+86 138", -3, None, False],
    ]
    assert write_csv(buffer, ["名称", "代码", "金额", "日期", "高企"], rows) == 3
    data = buffer.getvalue()
    assert data.startswith(codecs.BOM_UTF8)
    lines = data[3:].decode("utf-8").split("\r\n")
    assert lines[0] == "名称,代码,金额,日期,高企"
    assert lines[1] == "华为技术有限公司,914403001922038216,1234.50,2023-05-01,是"
    assert lines[2] == "'=1+1,-5,0.3,2023-05-01 08:30:00,"
    assert lines[3] == "'@SUM(A1),'+86 138,-3,,否"
    # And our own reader takes it back.
    table = read_table(data, "export.csv")
    assert table.encoding == "utf-8-sig"
    assert table.rows[0].values[1] == "914403001922038216"


def test_long_columns_are_normalized_like_short_ones():
    # Past the first rows, cells are normalized a column at a time; mixed columns too.
    rows = [[f" 名称{i} ", float(i), 2.5 if i % 7 else "", "" if i % 3 else "x"] for i in range(60)]
    buffer = io.BytesIO()
    write_xlsx(buffer, ["名称", "数量", "比例", "备注"], rows)
    table = read_table(buffer.getvalue(), "long.xlsx")
    assert len(table.rows) == 60
    for i, row in enumerate(table.rows):
        assert row.values[0] == f"名称{i}"
        assert row.values[1] == i and type(row.values[1]) is int
        assert row.values[2] == (2.5 if i % 7 else None)
        assert row.values[3] == (None if i % 3 else "x")
