"""The held-out set: plans of the genre that the rules were not written from (see data/heldout/README.md)."""

import json
from pathlib import Path

from kechuang.plans.extraction import evaluate_directory

HELDOUT = Path(__file__).parent / "data" / "heldout"


def test_heldout_set_is_complete_and_quotes_are_exact():
    labels = sorted(HELDOUT.glob("*.targets.json"))
    assert len(labels) >= 6
    for path in labels:
        text = path.with_name(path.name.removesuffix(".targets.json") + ".txt").read_text(
            encoding="utf-8"
        )
        for label in json.loads(path.read_text(encoding="utf-8")):
            assert label["quote"] in text, (path.name, label["quote"])
            assert label["kind"] in ("level", "increment", "ratio")


def test_heldout_f1_at_least_090():
    report = evaluate_directory(HELDOUT, seeds_dir=HELDOUT)
    overall = report.overall
    assert overall.labelled >= 100
    assert overall.f1 >= 0.9, [(d.name, round(d.f1, 3)) for d in report.documents]
    # No single document collapses: a rule that only helps on average is not enough.
    assert min(d.f1 for d in report.documents) >= 0.7
