"""Baseline-and-target tables in the three layouts web and Word copies produce."""

from kechuang.plans.extraction import extract_targets
from kechuang.plans.extraction.tables import find_indicator_tables

TITLE = "某区科技创新“十四五”规划\n"


def test_row_per_line_table_with_tabs():
    text = TITLE + (
        "主要指标\n"
        "指标名称\t单位\t2020年基期值\t2025年目标值\n"
        "每万人口高价值发明专利拥有量\t件\t8.5\t15\n"
        "全社会研发经费支出占比\t%\t3.2\t4.0左右\n"
        "\n正文继续。"
    )
    [table] = find_indicator_tables(text)
    first, second = table.rows
    assert (first.indicator, first.unit, first.baseline, first.target) == (
        "每万人口高价值发明专利拥有量",
        "件",
        8.5,
        15,
    )
    assert (first.baseline_year, first.target_year) == (2020, 2025)
    assert (second.unit, second.target, second.target_qualifier) == ("%", 4.0, "左右")
    targets = extract_targets(text)
    assert {(t["value"], t["baseline"], t["baseline_year"], t["kind"]) for t in targets} == {
        (15, 8.5, 2020, "level"),
        (4, 3.2, 2020, "ratio"),
    }
    assert all(t["quote"] in text for t in targets)


def test_row_per_line_table_with_spaces_and_units_in_names():
    text = TITLE + (
        "指标    2020年    2025年\n"
        "1.科技型中小企业数量(家)    2100    3000\n"
        "2.技术合同成交额(亿元)    80    150\n"
    )
    rows = find_indicator_tables(text)[0].rows
    assert [(r.indicator, r.unit, r.baseline, r.target) for r in rows] == [
        ("科技型中小企业数量", "家", 2100, 3000),
        ("技术合同成交额", "亿元", 80, 150),
    ]


def test_column_block_table():
    text = TITLE + (
        "主要指标    2020年    2025年\n"
        "1.研发经费支出占比(%)\n"
        "2.高新技术企业数量(家)\n"
        "3.众创空间数量(个)    预计3.1\n"
        "\n"
        "1200\n"
        "25    保持3.5左右\n"
        "2000\n"
        "40\n"
        "\n  三、重点任务\n"
    )
    rows = find_indicator_tables(text)[0].rows
    assert [(r.indicator, r.baseline, r.target) for r in rows] == [
        ("研发经费支出占比", 3.1, 3.5),
        ("高新技术企业数量", 1200, 2000),
        ("众创空间数量", 25, 40),
    ]


def test_one_cell_per_line_table():
    text = (
        TITLE
        + "序号\n\n指标\n\n单位\n\n2020年\n\n2025年\n\n1\n\n孵化器数量\n\n家\n\n18\n\n30\n\n正文。"
    )
    rows = find_indicator_tables(text)[0].rows
    assert [(r.indicator, r.unit, r.baseline, r.target) for r in rows] == [
        ("孵化器数量", "家", 18, 30)
    ]


def test_table_gives_its_baseline_to_the_same_target_in_prose():
    text = TITLE + (
        "到2025年,高新技术企业数量达到2000家。\n"
        "指标名称\t单位\t2020年\t2025年\n"
        "高新技术企业数量\t家\t1200\t2000\n"
    )
    [target] = extract_targets(text)
    assert target["quote"] == "高新技术企业数量达到2000家"
    assert (target["baseline"], target["baseline_year"]) == (1200, 2020)


def test_text_without_a_table_has_none():
    assert find_indicator_tables("2025年,高新技术企业达到2000家。") == []
