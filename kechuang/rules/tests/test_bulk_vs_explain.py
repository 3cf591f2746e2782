"""Bulk evaluation from the database agrees with explain, enterprise by enterprise."""

import pytest

from kechuang.core.services import system_actor
from kechuang.rules.evaluation import run_snapshot, versions_in_force
from kechuang.rules.explaining import explain_versions
from kechuang.rules.results import snapshot_table

from .conftest import ON, build_random_enterprises


@pytest.mark.django_db
def test_bulk_snapshot_agrees_with_explain_for_every_enterprise(library, town, other_town):
    ents = build_random_enterprises([town, other_town], 300)
    snapshot = run_snapshot(acting_user=system_actor("rules.evaluate"), on=ON)
    assert snapshot.error == ""
    versions = versions_in_force(ON)
    assert len(versions) >= 5
    stored = snapshot_table(snapshot)
    assert len(stored) == len(ents) * len(snapshot.positions)
    seen = {1: 0, 0: 0, -1: 0}
    for ent in ents:
        for res in explain_versions(ent.pk, versions, ON):
            expected = {"eligible": 1, "not_eligible": 0, "unknown": -1}[res.verdict.value]
            got, amount = stored[(ent.pk, res.version.pk)]
            assert got == expected, (ent.pk, res.version.rule.code, res.explanation.text())
            seen[got] += 1
            if got == 1 and res.amount is not None:
                assert amount == res.amount_value
    assert all(seen.values()), seen  # the random data exercises every verdict
