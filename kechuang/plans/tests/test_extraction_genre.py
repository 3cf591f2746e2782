"""Phrasings of the genre handled beyond the development set, each on invented sentences."""

from kechuang.plans.extraction import extract_metadata, extract_targets
from kechuang.plans.extraction.numbers import find_quantities, fold_width
from kechuang.plans.extraction.tables import find_indicator_tables

ANNUAL = "某县科技局2025年工作要点\n一、主要目标\n"
PLAN = "某区科技创新“十四五”规划\n"


def _found(text, **kwargs):
    return {(t["value"], t["unit"]): t for t in extract_targets(text, **kwargs)}


def test_respectively_shares_values_out_to_the_listed_subjects():
    text = "某区创新主体倍增方案(2024—2028年)\n到2028年,全区孵化器和众创空间在2023年基础上翻番,分别达到16家和40家。"
    found = _found(text)
    assert found[(16, "家")]["indicator"] == "孵化器"
    assert found[(40, "家")]["indicator"] == "众创空间"
    assert {t["year"] for t in found.values()} == {2028}


def test_from_baseline_to_target_keeps_the_baseline():
    [target] = extract_targets(PLAN + "到2025年,规上企业研发机构由2020年的90家增加到180家。")
    assert (target["value"], target["baseline"], target["baseline_year"]) == (180, 90, 2020)
    assert target["indicator"] == "规上企业研发机构"


def test_rankings_and_ordinals_are_not_quantities():
    scan = fold_width("综合排名跃居全省前15位,居全市第3位,进入全国前十名。")
    assert find_quantities(scan) == []


def test_tenths_are_percentages_after_a_verb_of_amount():
    found = _found(ANNUAL + "企业研发机构覆盖率达到六成以上,科技贷款规模增长两成。")
    assert set(found) == {(60, "%"), (20, "%")}
    assert found[(60, "%")]["kind"] == "ratio"
    assert extract_targets(ANNUAL + "建成三个孵化器。") != []  # 建成 is not 三成
    assert _found(ANNUAL + "建成三个孵化器。").keys() == {(3, "个")}


def test_new_units_person_years_firm_visits_and_sessions():
    found = _found(
        ANNUAL + "研发人员全时当量达到1800人年,上门服务企业600家次,举办技术经理人培训12期。"
    )
    assert set(found) == {(1800, "人年"), (600, "家次"), (12, "期")}
    assert _found(ANNUAL + "建设产业园二期。") == {}


def test_unitless_index_level():
    [target] = extract_targets(ANNUAL + "区域综合科技创新指数达到75以上。")
    assert (target["value"], target["unit"], target["kind"]) == (75, "", "level")
    assert target["indicator"] == "区域综合科技创新指数"


def test_list_items_after_a_creation_verb_are_all_targets():
    text = (
        ANNUAL
        + "引进培育领军人才12名、青年科技人才40名;新建省级工程技术研究中心4家、院士工作站3—4家。"
    )
    found = _found(text)
    assert set(found) == {(12, "名"), (40, "名"), (4, "家")} | {(3, "家")}
    assert all(t["kind"] == "increment" for t in found.values())


def test_creation_verb_right_before_the_number():
    [target] = extract_targets(ANNUAL + "支持骨干企业联合高校组建6个产业创新联合体。")
    assert (target["value"], target["kind"]) == (6, "increment")
    assert target["indicator"] == "组建产业创新联合体"


def test_elliptical_subject_takes_the_indicator_before():
    text = "某区成果转化行动计划(2024—2026年)\n分年度目标:2024年,技术交易额达到40亿元;2025年,达到46亿元。"
    years = {t["value"]: (t["year"], t["indicator"]) for t in extract_targets(text)}
    assert years == {40: (2024, "技术交易额"), 46: (2025, "技术交易额")}


def test_growth_rate_after_a_level_is_named_after_it():
    found = _found(PLAN + "到2025年,科技服务业营业收入达到90亿元,年均增长9%左右。")
    assert found[(9, "%")]["indicator"] == "科技服务业营业收入年均增长"


def test_colon_labelled_indicator_list():
    found = _found(ANNUAL + "2.技术合同成交额:18亿元。\n3.高新技术企业:力争达到130家。")
    assert found[(18, "亿元")]["indicator"] == "技术合同成交额"
    assert found[(130, "家")]["indicator"] == "高新技术企业"


def test_year_on_year_growth_in_an_indicator_section():
    [target] = extract_targets(ANNUAL + "科技型中小企业入库数较上年增长15%以上。")
    assert (target["value"], target["unit"], target["kind"]) == (15, "%", "ratio")


def test_meeting_frequencies_are_not_targets():
    assert extract_targets(ANNUAL + "建立工作专班,每月调度2次。") == []


def test_paragraph_opening_with_an_earlier_period_is_review():
    text = (
        PLAN
        + "“十三五”期间,全区创新能力持续提升。研发投入强度提高至2.8%,高新技术企业增加到300家。\n"
        "到2025年,研发投入强度达到3.5%。"
    )
    assert [t["value"] for t in extract_targets(text)] == [3.5]


def test_heading_naming_an_earlier_year_is_review():
    text = (
        "某区科技局2023年工作总结和2024年工作思路\n一、2023年度主要工作\n"
        "全区实现技术交易额33亿元。\n二、2024年工作思路\n全年技术交易额达到38亿元。"
    )
    assert extract_metadata(text).kind == "年度工作要点"
    assert [t["value"] for t in extract_targets(text)] == [38]


def test_target_year_holds_to_the_end_of_its_paragraph():
    text = "为加快创新集群建设,制定本方案。\n到2027年,新增上市企业20家。数字经济核心产业增加值占比20%以上。"
    assert {t["year"] for t in extract_targets(text)} == {2027}


def test_new_counts_named_with_a_level_verb_are_increments():
    [target] = extract_targets(ANNUAL + "新认定技术先进型服务企业不少于15家。")
    assert target["kind"] == "increment"


def test_table_year_columns_inside_the_period_are_milestones():
    text = (
        "某区行动计划(2024—2026年)\n主要指标\n"
        "指标\t2023年(基期)\t2024年\t2025年\t2026年\n"
        "众创空间(家)\t20\t24\t28\t32\n"
    )
    [table] = find_indicator_tables(text)
    [row] = table.rows
    assert row.milestones == [(24, 2024, ""), (28, 2025, "")]
    found = {(t["value"], t["year"]): t for t in extract_targets(text)}
    assert set(found) == {(24, 2024), (28, 2025), (32, 2026)}
    assert found[(32, 2026)]["baseline"] == 20


def test_page_furniture_tables_are_not_titles():
    text = "[ 主题分类 ] | 科技、教育 | [ 体裁分类 ] | 规划 |\n某区“十四五”科技创新规划\n"
    meta = extract_metadata(text)
    assert meta.title == "某区“十四五”科技创新规划"
    assert (meta.period_start, meta.period_end) == (2021, 2025)


def test_dash_bullets_are_not_part_of_the_name():
    found = _found(ANNUAL + "——新增科技型中小企业120家;\n——技术合同成交额突破20亿元。")
    assert found[(120, "家")]["indicator"] == "新增科技型中小企业"
    assert found[(120, "家")]["kind"] == "increment"
    assert found[(20, "亿元")]["indicator"] == "技术合同成交额"
