"""Targets from invented sentences in the style of district S&T plans."""

from kechuang.plans.extraction import extract_targets


def _by_value(targets):
    return {(t["value"], t["unit"]): t for t in targets}


ANNUAL = "某区科学技术委员会2024年工作要点\n一、工作目标\n"


def test_annual_plan_targets_take_the_plan_year():
    text = ANNUAL + "全年技术合同成交额达150亿元,新增科技小巨人企业25家。"
    targets = _by_value(extract_targets(text))
    assert targets[(150, "亿元")]["year"] == 2024
    assert targets[(150, "亿元")]["kind"] == "level"
    assert targets[(150, "亿元")]["indicator"] == "技术合同成交额"
    assert targets[(25, "家")]["kind"] == "increment"
    assert targets[(25, "家")]["indicator"] == "新增科技小巨人企业"


def test_quote_is_an_exact_substring_of_the_document():
    text = ANNUAL + "推动研发投入,全社会研发经费支出占比保持在５％左右。"
    [target] = extract_targets(text)
    assert target["quote"] in text
    assert target["value"] == 5 and target["unit"] == "%" and target["kind"] == "ratio"


def test_plan_year_argument_overrides_a_missing_title_year():
    [target] = extract_targets("一、目标\n力争专利授权量超2000件。", plan_year=2026)
    assert target["year"] == 2026


def test_explicit_target_year_wins_over_the_plan_period():
    text = "某区科技创新“十四五”规划\n到2023年,众创空间达到40家;到2025年,众创空间达到60家。"
    years = {t["value"]: t["year"] for t in extract_targets(text)}
    assert years == {40: 2023, 60: 2025}


def test_five_year_plan_names_give_the_end_year():
    text = "某区科技创新规划\n“十四五”期间新培育科技型企业500家左右。"
    [target] = extract_targets(text)
    assert target["year"] == 2025 and target["kind"] == "increment"


def test_three_year_action_plan_targets_default_to_the_end_year():
    text = "某区人工智能产业三年行动计划(2024-2026年)\n二、目标\n人工智能核心产业规模达到300亿元。"
    [target] = extract_targets(text)
    assert target["year"] == 2026


def test_chinese_numerals_and_percent_words():
    text = (
        ANNUAL + "力争研发投入强度达到百分之四点五,新认定高新技术企业三百家,建设两个以上创新平台。"
    )
    found = {(t["value"], t["unit"]) for t in extract_targets(text)}
    assert found == {(4.5, "%"), (300, "家"), (2, "个")}


def test_range_target_takes_the_lower_bound():
    text = ANNUAL + "新建充电桩3000-4000个,集聚人工智能企业400至500家。"
    found = {(t["value"], t["unit"]) for t in extract_targets(text)}
    assert found == {(3000, "个"), (400, "家")}


def test_population_denominator_is_part_of_the_indicator():
    text = ANNUAL + "万名从业人员中研发人员数达到450人。"
    [target] = extract_targets(text)
    assert (target["value"], target["unit"]) == (450, "人")
    assert target["indicator"].startswith("万名从业人员")


def test_doubling_with_stated_value_keeps_the_value_and_the_indicator():
    text = "某区三年行动计划(2023-2025年)\n力争到2025年,孵化器数量翻一番,达到36家。"
    [target] = extract_targets(text)
    assert (target["value"], target["kind"]) == (36, "level")
    assert target["indicator"] == "孵化器数量"


def test_doubling_from_a_stated_baseline_computes_the_target():
    text = "某区科技创新“十四五”规划\n到2025年,高新技术企业数量从2020年的1500家翻一番。"
    [target] = extract_targets(text)
    assert (target["value"], target["unit"], target["year"]) == (3000, "家", 2025)
    assert (target["baseline"], target["baseline_year"]) == (1500, 2020)


def test_review_section_numbers_are_not_targets():
    text = (
        "某区科技创新“十四五”规划\n"
        "一、“十三五”发展回顾\n"
        "“十三五”期间,全区新增高新技术企业800家,技术合同成交额达到120亿元。\n"
        "二、发展目标\n"
        "到2025年,技术合同成交额达到200亿元。\n"
    )
    assert [t["value"] for t in extract_targets(text)] == [200]


def test_past_years_and_current_state_are_not_targets():
    text = (
        "某区科委2023年工作要点\n"
        "截至2022年底,全区已建成院士专家工作站38家。目前全区拥有众创空间45家。"
        "2022年全区新增高新技术企业300家。2023年,新建院士专家工作站5家。"
    )
    assert [(t["value"], t["unit"]) for t in extract_targets(text)] == [(5, "家")]


def test_year_on_year_comparisons_outside_goals_are_not_targets():
    text = (
        "某区科学技术委员会2024年工作要点\n二、重点工作\n"
        "企业研发投入较上年增长15%,发放科技信贷不少于5亿元。"
    )
    assert [(t["value"], t["unit"]) for t in extract_targets(text)] == [(5, "亿元")]


def test_year_on_year_growth_in_a_goal_list_is_a_target():
    # In the goals of a plan, 较上年增长 X% is what the year commits to.
    text = ANNUAL + "推动企业研发投入较上年增长15%,全年发放科技信贷不少于5亿元。"
    found = {(t["value"], t["unit"]): t for t in extract_targets(text)}
    assert set(found) == {(15, "%"), (5, "亿元")}
    assert found[(15, "%")]["kind"] == "ratio"
    assert "较上年" not in found[(15, "%")]["indicator"]


def test_report_numbers_count_only_with_a_forward_looking_word():
    text = (
        "关于某区2023年科技创新工作情况的报告\n"
        "2023年,全区新增高新技术企业210家,技术合同成交额达到95亿元。"
        "2024年,力争新增高新技术企业230家。"
    )
    assert [t["value"] for t in extract_targets(text)] == [230]


def test_numbers_inside_quotes_and_document_numbers_are_ignored():
    text = ANNUAL + "落实“百家企业”行动和《三年行动计划》(某府发〔2023〕12号),新增孵化器6家。"
    assert [t["value"] for t in extract_targets(text)] == [6]


def test_numbers_that_do_not_close_a_commitment_are_ignored():
    text = ANNUAL + "充分发挥10亿元产业引导基金作用,形成包含15家载体的培育清单。"
    assert extract_targets(text) == []


def test_repeated_target_is_reported_once_at_first_mention():
    text = (
        ANNUAL + "有效期内高新技术企业达到3000家。\n"
        "二、重点任务\n"
        "完善梯度培育,力争全区有效期内高新技术企业数量达到3000家。"
    )
    [target] = extract_targets(text)
    assert target["quote"].startswith("有效期内高新技术企业达到")


def test_two_indicators_with_the_same_value_are_both_kept():
    text = ANNUAL + "集成电路产业规模达到500亿元;生物医药产业规模突破500亿元。"
    assert len(extract_targets(text)) == 2


def test_verbless_indicator_in_a_goal_sentence():
    text = "某区三年行动计划(2023-2025年)\n力争至2025年末,每万人新增注册商标数380件,其中发明专利25件以上。"
    found = {(t["value"], t["unit"]) for t in extract_targets(text)}
    assert found == {(380, "件"), (25, "件")}


def test_number_before_its_indicator_after_a_creation_verb():
    [target] = extract_targets(ANNUAL + "培育、新增15家企业技术中心。")
    assert target["indicator"] == "培育、新增企业技术中心"
    assert target["quote"] == "培育、新增15家企业技术中心"
