from kechuang.plans.extraction.metadata import (
    KIND_ANNUAL,
    KIND_FIVE_YEAR,
    KIND_OTHER,
    KIND_REPORT,
    KIND_THREE_YEAR,
    classify_kind,
    extract_metadata,
)


def test_notice_header_fields():
    text = (
        "当前位置:\n"
        "关于印发《某区科委2024年工作要点》的通知\n"
        "来源:某市某区科学技术委员会  发布时间:2024年3月5日\n\n"
        "某科委〔2024〕7号\n\n各有关单位:\n"
    )
    meta = extract_metadata(text)
    assert meta.title == "某区科委2024年工作要点"
    assert meta.kind == KIND_ANNUAL
    assert meta.issuer == "某市某区科学技术委员会"
    assert meta.doc_number == "某科委〔2024〕7号"
    assert meta.published == "2024-03-05"
    assert (meta.period_start, meta.period_end) == (2024, 2024)


def test_labelled_public_information_fields():
    text = (
        "某区科学技术委员会文件\n关于印发《2015年某区科技工作要点》的通知\n"
        "发布机构: 区科委 发文日期: 2015-02-10\n文 号: 某科[2015]2号 公开类型: 主动公开\n"
    )
    meta = extract_metadata(text)
    assert meta.issuer == "某区科学技术委员会"
    assert meta.doc_number == "某科[2015]2号"
    assert meta.published == "2015-02-10"


def test_cited_document_numbers_are_not_the_plan_number():
    text = "某区三年行动计划(2024-2026年)\n根据《若干意见》(某府发〔2023〕9号),制定本计划。"
    meta = extract_metadata(text)
    assert meta.doc_number is None
    assert (meta.period_start, meta.period_end) == (2024, 2026)
    assert meta.kind == KIND_THREE_YEAR


def test_five_year_plan_period_from_its_name():
    meta = extract_metadata("某区科技创新“十四五”规划\n正文")
    assert meta.kind == KIND_FIVE_YEAR
    assert (meta.period_start, meta.period_end) == (2021, 2025)


def test_annual_plan_after_a_review_is_the_later_year():
    meta = extract_metadata("某区科委2022年工作总结和2023年工作要点\n正文")
    assert (meta.kind, meta.period_end) == (KIND_ANNUAL, 2023)


def test_kinds():
    assert classify_kind("关于某区科技创新工作情况的报告") == KIND_REPORT
    assert classify_kind("某区关于支持企业创新的若干意见") == KIND_OTHER
    assert classify_kind(None) == KIND_OTHER
