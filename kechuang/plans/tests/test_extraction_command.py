import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

PLAN = (
    "某区科委2024年工作要点\n一、主要目标\n全年新增高新技术企业300家,技术合同成交额达到80亿元。\n"
)


def test_extract_prints_targets_as_json(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="gbk")
    out = StringIO()
    call_command("plans", "extract", str(path), "--format", "json", stdout=out)
    targets = json.loads(out.getvalue())
    assert [(t["value"], t["unit"], t["year"]) for t in targets] == [
        (300, "家", 2024),
        (80, "亿元", 2024),
    ]
    assert "新增高新技术企业" in out.getvalue()  # ensure_ascii=False


def test_extract_text_format_is_a_table(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="utf-8")
    out = StringIO()
    call_command("plans", "extract", str(path), "--format", "text", stdout=out)
    assert "年度工作要点" in out.getvalue()
    assert "2 targets" in out.getvalue()


def test_evaluate_extraction_prints_scores(tmp_path):
    labels = tmp_path / "labels"
    seeds = tmp_path / "seeds"
    labels.mkdir()
    seeds.mkdir()
    (seeds / "a.txt").write_text(PLAN, encoding="utf-8")
    label = {
        "indicator": "新增高新技术企业",
        "value": 300,
        "unit": "家",
        "year": 2024,
        "kind": "increment",
        "baseline": None,
        "baseline_year": None,
        "quote": "全年新增高新技术企业300家",
    }
    (labels / "a.targets.json").write_text(
        json.dumps([label], ensure_ascii=False), encoding="utf-8"
    )
    out = StringIO()
    call_command("plans", "evaluate-extraction", str(labels), stdout=out)
    overall = [line for line in out.getvalue().splitlines() if line.startswith("overall")][0]
    assert overall.split()[1:4] == ["1", "2", "1"]
    assert overall.split()[-1] == "0.667"


@pytest.mark.skipif(
    not Path("/work/shared/plan-docs").is_dir(), reason="development set not available"
)
def test_evaluate_extraction_on_the_development_set():
    out = StringIO()
    call_command("plans", "evaluate-extraction", "/work/shared/plan-docs", stdout=out)
    overall = [line for line in out.getvalue().splitlines() if line.startswith("overall")][0]
    assert float(overall.split()[-1]) >= 0.9
