"""Figures of closed years stored in the database: kept across cache flushes, revalidated by
the fingerprint of exactly the rows they depend on, identical to the brute-force count."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kechuang.enterprises.models import AnnualReport, Qualification
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
)
from kechuang.plans import aggregates
from kechuang.plans.models import StoredFigure
from kechuang.plans.tests import test_tracking_perf as perf
from kechuang.plans.tests.test_tracking_perf import DATES, LEAVES, _brute, _loads

world = perf.world  # the same ~40 enterprises

D = datetime.date
TODAY = D(2026, 3, 1)  # 2022–2025 are closed years
CLOSED = [D(2022, 12, 31), D(2023, 12, 31), D(2024, 12, 31), D(2025, 12, 31)]

HTE = {"aggregate": "count_valid", "qualification": ["HTE"]}
HTE_ISSUED = {"aggregate": "count_issued", "qualification": ["HTE"]}
TSME = {"aggregate": "count_valid", "qualification": ["TSME"]}
REVENUE = {"aggregate": "sum", "metric": "revenue"}
REVENUE_HTE = {"aggregate": "sum", "metric": "revenue", "filter": {"qualification": "HTE"}}
PLACED_HTE = {"aggregate": "count_valid", "qualification": ["HTE"], "filter": {"jurisdiction": ""}}


def _specs(town=None):
    specs = [HTE, HTE_ISSUED, TSME, REVENUE, REVENUE_HTE]
    if town is not None:
        specs.append({**PLACED_HTE, "filter": {"jurisdiction": town.code}})
    return [aggregates.validate_spec(s) for s in specs]


def _key(spec):
    return aggregates.spec_key(aggregates.validate_spec(spec))


def _stored() -> dict:
    return {(f.leaf, f.day): (f.value, f.fingerprint) for f in StoredFigure.objects.all()}


@pytest.fixture
def recorded(monkeypatch):
    """The (leaf key, date) pairs actually computed from the registers."""
    pairs = []
    real = aggregates.compute_pairs

    def spy(leaves, todo, res=None):
        todo = list(todo)
        pairs.extend(todo)
        return real(leaves, todo, res)

    monkeypatch.setattr(aggregates, "compute_pairs", spy)
    return pairs


def _check_against_brute(specs, dates, values):
    for spec in specs:
        for day in dates:
            assert values[(aggregates.spec_key(spec), day)] == _brute(spec, day), (spec, day)


def test_closed_years_are_stored_and_survive_a_cache_flush(world, recorded):
    specs = _specs(world["town"])
    dates = [*CLOSED, TODAY]
    first = aggregates.compute(specs, dates, today=TODAY)
    stored = _stored()
    # every leaf at every closed date, the open year's date never
    assert {d for _, d in stored} == set(CLOSED)
    assert len(stored) == len(specs) * len(CLOSED)
    cache.clear()  # a restart, or a flush
    recorded.clear()
    with CaptureQueriesContext(connection) as ctx:
        second = aggregates.compute(specs, dates, today=TODAY)
    assert second == first
    assert {d for _, d in recorded} == {TODAY}  # only the open year is computed again
    # no fingerprint scan when nothing changed: stored versions are current
    assert not any("GROUP BY" in q["sql"] for q in ctx.captured_queries)
    # with only closed dates asked, nothing is read from the registers at all
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        third = aggregates.compute(specs, CLOSED, today=TODAY)
    assert _loads(ctx) == []
    assert all(third[k] == first[k] for k in third)
    _check_against_brute(specs, dates, second)


def test_an_edit_of_a_past_annual_report_recomputes_exactly_that_years_report_figures(
    world, recorded
):
    specs = _specs(world["town"])
    aggregates.compute(specs, CLOSED, today=TODAY)
    before = _stored()
    report = AnnualReport.objects.filter(year=2024, revenue__isnull=False).first()
    report.revenue += 5
    report.save()
    cache.clear()
    recorded.clear()
    with CaptureQueriesContext(connection) as ctx:
        values = aggregates.compute(specs, CLOSED, today=TODAY)
    sums = {_key(REVENUE), _key(REVENUE_HTE)}
    assert set(recorded) == {(k, D(2024, 12, 31)) for k in sums}
    # 2024's reports, and the certificates held at the end of 2024 (the HTE filter)
    assert sorted(_loads(ctx)) == ["annualreport", "qualification"]
    report_reads = [
        q["sql"]
        for q in ctx.captured_queries
        if ("string_agg" in q["sql"] or "group_concat" in q["sql"])
        and AnnualReport._meta.db_table in q["sql"]
    ]
    assert len(report_reads) == 1
    assert "2024" in report_reads[0]
    assert "2023" not in report_reads[0] and "2025" not in report_reads[0]
    after = _stored()
    for pair, (value, fingerprint) in before.items():
        if pair in recorded:
            assert fingerprint != after[pair][1]
        else:
            assert after[pair] == (value, fingerprint)
    assert (
        after[(_key(REVENUE), D(2024, 12, 31))][0]
        == before[(_key(REVENUE), D(2024, 12, 31))][0] + 5
    )
    _check_against_brute(specs, CLOSED, values)


def test_a_change_to_a_past_certificate_recomputes_exactly_the_dates_it_counts_at(world, recorded):
    ent = EnterpriseFactory(jurisdiction=world["town"])
    cert = QualificationFactory(
        enterprise=ent,
        type=Qualification.objects.filter(type__code="HTE").first().type,
        issued_on=D(2023, 3, 1),
        expires_on=D(2026, 2, 28),
    )
    specs = _specs(world["town"])
    aggregates.compute(specs, CLOSED, today=TODAY)
    before = _stored()
    cert.revoked_on = D(2024, 6, 1)
    cert.save()
    cache.clear()
    recorded.clear()
    values = aggregates.compute(specs, CLOSED, today=TODAY)
    # The certificate can count at the end of 2023 (valid, issued that year), 2024 and 2025
    # (valid until revoked): HTE figures there; not at the end of 2022, not TSME figures,
    # not revenue (no report of this enterprise).
    hte = {
        _key(HTE),
        _key(HTE_ISSUED),
        _key({**PLACED_HTE, "filter": {"jurisdiction": world["town"].code}}),
    }
    expected = {(k, d) for k in hte for d in CLOSED[1:]}
    expected |= {(_key(REVENUE_HTE), d) for d in CLOSED[1:]}  # holding HTE filters revenue
    assert set(recorded) == expected
    after = _stored()
    assert after[(_key(HTE), D(2024, 12, 31))][0] == before[(_key(HTE), D(2024, 12, 31))][0] - 1
    assert after[(_key(HTE), D(2023, 12, 31))][0] == before[(_key(HTE), D(2023, 12, 31))][0]
    for pair in set(before) - expected:
        assert after[pair] == before[pair], pair
    _check_against_brute(specs, CLOSED, values)


def test_a_bulk_insert_without_signals_is_caught_by_the_fingerprint(world, recorded):
    specs = _specs()
    aggregates.compute(specs, CLOSED, today=TODAY)
    AnnualReport.objects.bulk_create(
        [AnnualReport(enterprise=EnterpriseFactory(), year=2023, revenue=11)]
    )
    cache.clear()
    recorded.clear()
    values = aggregates.compute(specs, CLOSED, today=TODAY)
    assert {d for _, d in recorded} == {D(2023, 12, 31)}
    _check_against_brute(specs, CLOSED, values)


def test_forget_drops_the_stored_figures(world):
    aggregates.compute(_specs(), CLOSED, today=TODAY)
    assert StoredFigure.objects.exists()
    aggregates.bump_data_version("report", forget=True)
    assert not StoredFigure.objects.exists()


def test_stored_and_cached_figures_match_the_brute_force_count_through_changes(world, town):
    """The numbers are those of compute_raw (hence of the brute force) whatever the path."""
    leaves = [aggregates.validate_spec(s) for s in LEAVES]
    leaves += [
        aggregates.validate_spec({**s, "filter": {"jurisdiction": town.code}})
        for s in (HTE, REVENUE)
    ]
    dates = [*DATES, D(2025, 12, 31)]
    today = D(2025, 6, 1)  # 2025-03-15 is in the open year, the rest closed
    for step in range(4):
        if step == 1:
            Qualification.objects.filter(type__code="TSME").first().delete()
        if step == 2:
            AnnualReportFactory(year=2024, revenue=3, rd_expense=None)
        if step == 3:
            ent = town.enterprises.filter(registered_on__gt=D(2023, 1, 1)).first()
            ent.registered_on = D(2019, 1, 1)  # now counted at every date
            ent.save()
        if step % 2:
            cache.clear()
        values = aggregates.compute(leaves, dates, today=today)
        assert values == aggregates.compute_raw(leaves, dates), step
    _check_against_brute(leaves, dates, values)
