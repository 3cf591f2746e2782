"""Tests for exact parsing of amounts, dates, integers, ratios and booleans."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kechuang.core.dates import excel_serial_to_date, parse_date
from kechuang.core.parsing import (
    ParseError,
    cell_to_decimal,
    parse_amount,
    parse_bool,
    parse_chinese_number,
    parse_int,
    parse_ratio,
)


@pytest.mark.parametrize(
    ("text", "default_unit", "yuan"),
    [
        ("1,234.5万元", "元", "12345000"),
        ("1.2亿元", "元", "120000000"),
        ("1.2 亿", "元", "120000000"),
        ("3000元", "元", "3000"),
        ("3000元", "万元", "3000"),  # an explicit unit beats the column's unit
        ("¥3,000", "元", "3000"),
        ("￥3,000.50", "元", "3000.50"),
        ("人民币3000元", "元", "3000"),
        ("3000", "万元", "30000000"),
        ("3000", "元", "3000"),
        ("12.5", "亿元", "1250000000"),
        ("壹佰万元", "元", "1000000"),
        ("壹佰万元整", "万元", "1000000"),
        ("三千万", "元", "30000000"),
        ("3千万", "元", "30000000"),
        ("三千", "万元", "30000000"),
        ("一亿二千万", "元", "120000000"),
        ("1亿2000万", "元", "120000000"),
        ("十二万五千", "元", "125000"),
        ("一万五", "元", "15000"),
        ("一点五亿", "元", "150000000"),
        ("两千元", "元", "2000"),
        ("一百零五元", "元", "105"),
        ("壹拾贰万叁仟肆佰伍拾陆元柒角捌分", "元", "123456.78"),
        ("-1,234.5万元", "元", "-12345000"),
        ("−500元", "元", "-500"),
        ("负三千万", "元", "-30000000"),
        ("(1,234)", "元", "-1234"),
        ("１２３４.５万元", "元", "12345000"),
        ("１，２３４元", "元", "1234"),
        ("0.01", "元", "0.01"),
    ],
)
def test_amount_text_is_parsed_to_exact_yuan(text, default_unit, yuan):
    result = parse_amount(text, default_unit=default_unit)
    assert isinstance(result, Decimal)
    assert result == Decimal(yuan)


@pytest.mark.parametrize(
    ("cell", "default_unit", "yuan"),
    [
        (1234.5, "元", Decimal("1234.5")),
        (1234.5, "万元", Decimal("12345000")),
        (0.1 + 0.2, "元", Decimal("0.3")),  # Excel shows 0.3, so do we
        (3000, "万元", Decimal("30000000")),
        (Decimal("1.23"), "元", Decimal("1.23")),
        (1e15, "元", Decimal("1000000000000000")),
    ],
)
def test_spreadsheet_numbers_never_go_through_float_arithmetic(cell, default_unit, yuan):
    result = parse_amount(cell, default_unit=default_unit)
    assert isinstance(result, Decimal)
    assert result == yuan


def test_amount_string_forms_are_canonical():
    assert str(parse_amount(1234.5)) == "1234.50"
    assert str(parse_amount("1.2亿元")) == "120000000"


@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000"])
def test_blank_amount_is_none(blank):
    assert parse_amount(blank) is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("abc", "不是可识别的数字和单位"),
        ("1.2.3", "不是可识别"),
        ("1,23", "千分位逗号"),
        ("万元", "前面缺少数字"),
        ("一二三", "两个数字连在一起"),
        ("0.001", "精度超过了分"),
        ("¥", "没有金额数字"),
        ("12元abc", "不是"),
    ],
)
def test_garbage_amounts_are_refused_with_reason(text, fragment):
    with pytest.raises(ParseError) as info:
        parse_amount(text)
    assert fragment in str(info.value)
    assert info.value.code.startswith("amount")


def test_amount_refuses_booleans_nan_and_unknown_unit():
    with pytest.raises(ParseError):
        parse_amount(True)
    with pytest.raises(ParseError):
        parse_amount(float("nan"))
    with pytest.raises(ValueError, match="default_unit"):
        parse_amount("1", default_unit="美元")


@given(st.decimals(min_value=-(10**11), max_value=10**11, places=2, allow_nan=False))
def test_amount_round_trips_any_two_place_decimal(value):
    assert parse_amount(f"{value:,}元") == value
    assert parse_amount(float(value)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("一百零五", 105),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("三万亿", 3 * 10**12),
        ("壹仟零贰拾", 1020),
    ],
)
def test_chinese_numbers(text, value):
    assert parse_chinese_number(text) == value


def test_cell_to_decimal_uses_excel_precision():
    assert cell_to_decimal(1234.5) == Decimal("1234.5")
    assert cell_to_decimal(0.1 + 0.2) == Decimal("0.3")
    assert cell_to_decimal(3.0) == Decimal(3)


@pytest.mark.parametrize(
    "value",
    [
        "2023年5月1日",
        "2023年05月01日",
        "2023年5月1号",
        "2023/5/1",
        "2023/05/01",
        "2023-05-01",
        "2023.5.1",
        "20230501",
        "2023-05-01 00:00:00",
        "2023-05-01T08:30:00",
        "2023/5/1 0:00",
        "２０２３年５月１日",
        " 2023-05-01 ",
        45047,
        45047.0,
        45047.99,
        "45047",
        dt.date(2023, 5, 1),
        dt.datetime(2023, 5, 1, 12, 0),
    ],
)
def test_dates_in_all_common_forms(value):
    assert parse_date(value) == dt.date(2023, 5, 1)


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, dt.date(1900, 1, 1)),
        (59, dt.date(1900, 2, 28)),
        (61, dt.date(1900, 3, 1)),
        (36526, dt.date(2000, 1, 1)),
        (44927, dt.date(2023, 1, 1)),
    ],
)
def test_excel_serial_dates_follow_the_1900_system(serial, expected):
    assert excel_serial_to_date(serial) == expected
    assert parse_date(serial) == expected


def test_excel_serial_of_an_implausible_year_is_refused():
    assert excel_serial_to_date(2958465) == dt.date(9999, 12, 31)
    with pytest.raises(ParseError, match="9999"):
        parse_date(2958465)


@pytest.mark.parametrize(
    "value", ["9999-12-31", "1899-12-31", dt.date(9999, 12, 31), "2101年1月1日", "21010101"]
)
def test_dates_outside_1900_to_2100_are_refused(value):
    with pytest.raises(ParseError):
        parse_date(value)


@pytest.mark.parametrize("text", ["1" * 23, "1" * 23 + "万元", "-" + "9" * 30 + "亿"])
def test_absurdly_large_amounts_are_refused_not_crashing(text):
    with pytest.raises(ParseError) as info:
        parse_amount(text, default_unit="万元")
    assert info.value.code == "amount_range"


@pytest.mark.parametrize(
    ("serial", "fragment"), [(60, "1900年2月29日"), (0, "超出范围"), (-5, "超出范围")]
)
def test_impossible_excel_serials_are_refused(serial, fragment):
    with pytest.raises(ParseError, match=fragment):
        parse_date(serial)


def test_month_precision_only_when_allowed():
    with pytest.raises(ParseError, match="缺少“日”"):
        parse_date("2023年5月")
    assert parse_date("2023年5月", allow_month=True) == dt.date(2023, 5, 1)
    assert parse_date("2023-05", allow_month=True) == dt.date(2023, 5, 1)
    assert parse_date("2023-05-20", allow_month=True) == dt.date(2023, 5, 20)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2023-02-30", "2023年2月没有30日"),
        ("2023-02-29", "2023年2月没有29日"),
        ("2023-13-01", "月份 13 不存在"),
        ("23/5/1", "4位"),
        ("2023", "只有年份"),
        ("0023-05-01", "太早"),
        ("garbage", "无法识别日期"),
        ("2023-5/1", "无法识别日期"),
        ("01/05/2023", "无法识别日期"),
        (True, "逻辑值"),
    ],
)
def test_invalid_dates_are_refused_with_reason(value, fragment):
    with pytest.raises(ParseError, match=fragment):
        parse_date(value)


def test_leap_day_is_valid_in_leap_years():
    assert parse_date("2024-02-29") == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,234", 1234),
        ("1234", 1234),
        ("1234.0", 1234),
        (1234.0, 1234),
        (1234, 1234),
        ("-12", -12),
        ("1.2万", 12000),
        ("三千", 3000),
        (" ５６ ", 56),
        ("", None),
    ],
)
def test_integers(value, expected):
    assert parse_int(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("1234.5", "小数"), (12.5, "小数"), ("x", "无法识别整数"), (True, "逻辑值")],
)
def test_bad_integers(value, fragment):
    with pytest.raises(ParseError, match=fragment):
        parse_int(value)


@pytest.mark.parametrize(
    ("value", "bare", "expected"),
    [
        ("5%", "fraction", "0.05"),
        ("5%", "percent", "0.05"),
        ("5", "percent", "0.05"),
        ("0.05", "fraction", "0.05"),
        (0.05, "fraction", "0.05"),  # an Excel cell formatted as percent
        (5, "percent", "0.05"),
        ("12.5 %", "fraction", "0.125"),
        ("５％", "fraction", "0.05"),
        ("-3.5%", "fraction", "-0.035"),
        ("百分之五", "fraction", "0.05"),
        ("5‰", "fraction", "0.005"),
    ],
)
def test_ratios(value, bare, expected):
    assert parse_ratio(value, bare=bare) == Decimal(expected)


def test_ratio_refuses_garbage_and_needs_a_column_hint():
    with pytest.raises(ParseError, match="无法识别比例"):
        parse_ratio("abc%", bare="percent")
    with pytest.raises(ValueError, match="bare"):
        parse_ratio("5", bare="auto")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("是", True), ("否", False), ("Y", True), ("n", False), ("yes", True), ("No", False),
        ("true", True), ("FALSE", False), ("1", True), ("0", False), (1, True), (0.0, False),
        ("有", True), ("无", False), ("√", True), ("×", False), ("Ｙ", True), (True, True),
        ("", None), (None, None),
    ],
)  # fmt: skip
def test_booleans(value, expected):
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", ["maybe", "2", 2, "是的吧"])
def test_bad_booleans(value):
    with pytest.raises(ParseError, match="不是“是/否”"):
        parse_bool(value)
