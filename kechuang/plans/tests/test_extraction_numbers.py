from kechuang.plans.extraction.numbers import (
    find_quantities,
    five_year_plan_period,
    fold_width,
    parse_cn_int,
    parse_number,
)


def _one(text):
    found = find_quantities(fold_width(text))
    assert len(found) == 1, found
    return found[0]


def test_chinese_integers_cover_common_plan_forms():
    assert parse_cn_int("三千") == 3000
    assert parse_cn_int("十五") == 15
    assert parse_cn_int("两") == 2
    assert parse_cn_int("一百二十") == 120
    assert parse_cn_int("两百零五") == 205
    assert parse_cn_int("一万二千") == 12000
    assert parse_cn_int("二〇二五") == 2025


def test_malformed_chinese_numeral_is_rejected():
    assert parse_cn_int("三三千") is None
    assert parse_number("") is None


def test_numbers_with_decimals_and_separators():
    assert parse_number("1,200.5") == 1200.5
    assert parse_number("三点五") == 3.5
    assert parse_number("１２") == 12


def test_money_unit_keeps_magnitude_in_unit():
    q = _one("产业规模达到230亿元")
    assert (q.value, q.unit) == (230, "亿元")


def test_count_with_qualifier_above():
    q = _one("龙头企业达到1000亿元以上")
    assert (q.value, q.unit, q.qualifier) == (1000, "亿元", "以上")


def test_percent_forms():
    q = _one("覆盖率达到百分之十")
    assert (q.value, q.unit) == (10, "%")
    q = _one("投入强度保持在4.5%左右")
    assert (q.value, q.unit, q.qualifier) == (4.5, "%", "左右")
    q = _one("占比提高到６０％")
    assert (q.value, q.unit) == (60, "%")


def test_range_keeps_lower_bound_and_upper():
    for text in ("新建充电桩3000-4000个", "新建充电桩3000至4000个", "新建充电桩3000~4000个"):
        q = _one(text)
        assert (q.value, q.upper, q.unit) == (3000, 4000, "个")


def test_chinese_numerals_with_units():
    assert _one("培育企业三千家").value == 3000
    assert _one("建设两个平台").value == 2
    assert _one("年产值超百亿").unit == "亿"
    assert _one("引进人才一千二百万元").unit == "万元"


def test_ten_thousand_prefix_of_a_population_is_not_a_number():
    found = find_quantities(fold_width("万名从业人员中大专以上学历人员数达到3200人"))
    assert [(q.value, q.unit) for q in found] == [(3200, "人")]
    found = find_quantities(fold_width("每万人口发明专利拥有量达到25件"))
    assert [(q.value, q.unit) for q in found] == [(25, "件")]


def test_names_ordinals_and_vague_amounts_are_not_quantities():
    assert find_quantities(fold_width("推进5G网络和4G基站建设")) == []
    assert find_quantities(fold_width("第三家企业")) == []
    assert find_quantities(fold_width("服务数十家企业")) == []
    assert find_quantities(fold_width("惠及千家万户")) == []
    assert find_quantities(fold_width("形成一个核心")) == []
    assert find_quantities(fold_width("2025年底前完成")) == []


def test_five_year_plan_ordinals():
    assert five_year_plan_period("三") == (2016, 2020)
    assert five_year_plan_period("四") == (2021, 2025)
    assert five_year_plan_period("五") == (2026, 2030)


def test_fold_width_keeps_offsets():
    text = "达到\u3000５０％，\xa0共计"
    assert len(fold_width(text)) == len(text)
    assert fold_width(text) == "达到 50%, 共计"
