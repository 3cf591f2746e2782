from pathlib import Path

import pytest

from kechuang.plans.extraction import evaluate_directory, score_document
from kechuang.plans.extraction.evaluate import targets_match

PLAN_DOCS = Path("/work/shared/plan-docs")
DOC = "某区科委2024年工作要点。全年技术合同成交额达150亿元,新增孵化器8家。"


def _target(value, unit, quote, year=2024):
    return {"indicator": "x", "value": value, "unit": unit, "year": year, "quote": quote}


def test_match_needs_value_unit_year_and_overlapping_quotes():
    label = _target(150, "亿元", "全年技术合同成交额达150亿元")
    assert targets_match(_target(150, "亿元", "技术合同成交额达150亿元"), label, DOC)
    assert targets_match(_target(150, "亿", "技术合同成交额达150亿元"), label, DOC)
    assert targets_match(_target(1.5e10, "元", "技术合同成交额达150亿元"), label, DOC)
    assert not targets_match(_target(150, "家", "技术合同成交额达150亿元"), label, DOC)
    assert not targets_match(_target(150, "亿元", "技术合同成交额达150亿元", 2025), label, DOC)
    assert not targets_match(_target(150, "亿元", "新增孵化器8家"), label, DOC)
    assert targets_match(_target(150, "亿元", "技术合同成交额达150亿元", None), label, DOC)


def test_scores_count_each_label_once():
    labels = [_target(8, "家", "新增孵化器8家")]
    extracted = [_target(8, "家", "孵化器8家"), _target(8, "家", "新增孵化器8家")]
    score = score_document("doc", extracted, labels, DOC)
    assert (score.matched, score.precision, score.recall) == (1, 0.5, 1.0)
    assert len(score.spurious) == 1


def test_empty_document_with_nothing_found_is_perfect():
    score = score_document("doc", [], [], DOC)
    assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)


@pytest.mark.skipif(not PLAN_DOCS.is_dir(), reason="development set not available")
def test_development_set_f1_at_least_090():
    report = evaluate_directory(PLAN_DOCS)
    assert len(report.documents) >= 5
    assert report.overall.f1 >= 0.9
