"""The array computation against a brute-force count, its query budget, per-table invalidation."""

import datetime
import random

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kechuang.enterprises.models import AnnualReport, Enterprise, Qualification, Sector
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
    QualificationTypeFactory,
)
from kechuang.plans import aggregates, columnar

D = datetime.date
DATES = [D(2022, 12, 31), D(2023, 12, 31), D(2024, 6, 30), D(2024, 12, 31), D(2025, 3, 15)]


@pytest.fixture
def world(town, other_town, park):
    """~40 enterprises with random certificates and reports, parks, sectors and NULLs."""
    rng = random.Random(11)
    types = [
        QualificationTypeFactory(code="HTE", name="高新技术企业"),
        QualificationTypeFactory(code="TSME", name="科技型中小企业", validity_years=1),
        QualificationTypeFactory(code="LITTLE_GIANT", name="科技小巨人企业", validity_years=None),
    ]
    chip, _ = Sector.objects.get_or_create(code="IC", defaults={"name": "集成电路"})
    for i in range(40):
        ent = EnterpriseFactory(
            jurisdiction=rng.choice([town, other_town]),
            park=park if i % 7 == 0 else None,
            registered_on=None if i % 9 == 0 else D(rng.randint(2018, 2025), rng.randint(1, 12), 1),
        )
        if i % 3 == 0:
            ent.sectors.add(chip)
        for _ in range(rng.randint(0, 3)):
            issued = D(rng.randint(2020, 2025), rng.randint(1, 12), rng.randint(1, 28))
            kind = rng.choice(types)
            expires = None if kind.validity_years is None else issued.replace(year=issued.year + 2)
            revoked = issued.replace(year=issued.year + 1) if rng.random() < 0.2 else None
            QualificationFactory(
                enterprise=ent, type=kind, issued_on=issued, expires_on=expires, revoked_on=revoked
            )
        for year in (2023, 2024, 2025):
            if rng.random() < 0.7:
                AnnualReportFactory(
                    enterprise=ent,
                    year=year,
                    revenue=rng.randint(0, 10**9),
                    rd_expense=None if rng.random() < 0.2 else rng.randint(0, 10**7),
                    profit=rng.randint(-(10**6), 10**6),
                )
    return {"town": town, "other_town": other_town, "park": park}


def _brute(leaf: dict, day: datetime.date):
    """The meaning of a leaf spec (docs/plans.md), row by row through the ORM."""
    flt = leaf.get("filter", {})

    def holds(ent, codes, on):
        return any(q.type.code in codes and q.is_valid_on(on) for q in ent.qualifications.all())

    def passes(ent, on):
        if "jurisdiction" in flt:
            code = flt["jurisdiction"]
            nodes = {ent.jurisdiction, ent.park} - {None}
            if not any(f"/{code}/" in n.path for n in nodes):
                return False
        if "sector" in flt and not ent.sectors.filter(code=flt["sector"]).exists():
            return False
        return "qualification" not in flt or holds(ent, [flt["qualification"]], on)

    ents = Enterprise.objects.select_related("jurisdiction", "park").prefetch_related(
        "qualifications__type"
    )
    agg = leaf["aggregate"]
    if agg == "sum":
        values = [
            getattr(r, leaf["metric"])
            for r in AnnualReport.objects.filter(year=day.year)
            if passes(
                ents.get(pk=r.enterprise_id), D(day.year, 12, 31)
            )  # holding judged at year end
            and getattr(r, leaf["metric"]) is not None
        ]
        return sum(values) if values else None
    count = 0
    for ent in ents:
        if not passes(ent, day):
            continue
        if agg == "count_enterprises":
            count += ent.registered_on is None or ent.registered_on <= day
        elif agg == "count_valid":
            count += holds(ent, leaf["qualification"], day)
        else:
            count += any(
                q.type.code in leaf["qualification"] and D(day.year, 1, 1) <= q.issued_on <= day
                for q in ent.qualifications.all()
            )
    return count


LEAVES = [
    {"aggregate": "count_valid", "qualification": ["HTE"]},
    {"aggregate": "count_valid", "qualification": ["HTE", "TSME"]},
    {"aggregate": "count_valid", "qualification": ["LITTLE_GIANT"], "filter": {"sector": "IC"}},
    {"aggregate": "count_valid", "qualification": ["TSME"], "filter": {"qualification": "HTE"}},
    {"aggregate": "count_issued", "qualification": ["HTE", "TSME"]},
    {"aggregate": "count_enterprises"},
    {"aggregate": "count_enterprises", "filter": {"qualification": "TSME"}},
    {"aggregate": "sum", "metric": "revenue"},
    {"aggregate": "sum", "metric": "rd_expense", "filter": {"qualification": "HTE"}},
    {"aggregate": "sum", "metric": "profit", "filter": {"sector": "IC"}},
    {"aggregate": "count_valid", "qualification": ["XX"]},  # unknown type
]
PLACED = [
    {"aggregate": "count_valid", "qualification": ["HTE"]},
    {"aggregate": "count_issued", "qualification": ["TSME"]},
    {"aggregate": "count_enterprises"},
    {"aggregate": "sum", "metric": "rd_expense"},
    {"aggregate": "sum", "metric": "revenue", "filter": {"qualification": "HTE"}},
]


def test_array_computation_matches_a_brute_force_count(world):
    leaves = [aggregates.validate_spec(s) for s in LEAVES]
    for place in ("310199", "310199105", "310199106", "310199105P1", "999"):
        for s in PLACED:
            flt = {**s.get("filter", {}), "jurisdiction": place}
            leaves.append(aggregates.validate_spec({**s, "filter": flt}))
    values = aggregates.compute_raw(leaves, DATES)
    checked = 0
    for leaf in leaves:
        for day in DATES:
            assert values[(aggregates.spec_key(leaf), day)] == _brute(leaf, day), (leaf, day)
            checked += 1
    assert checked == len(leaves) * len(DATES)
    # the data is not degenerate: something is counted and a sum is missing somewhere
    assert values[(aggregates.spec_key(leaves[0]), D(2024, 12, 31))] > 0
    assert values[(aggregates.spec_key(leaves[7]), D(2022, 12, 31))] is None


def test_each_table_is_read_once_whatever_the_number_of_indicators(
    world, django_assert_max_num_queries
):
    specs = [aggregates.validate_spec(s) for s in LEAVES]
    specs += [
        aggregates.validate_spec({**s, "filter": {"jurisdiction": place}})
        for s in PLACED
        for place in ("310199105", "310199106")
    ]
    # types, jurisdictions, qualifications, reports, enterprises, jurisdiction tree, sector
    with django_assert_max_num_queries(7):
        aggregates.compute_raw(specs, DATES)


def _loads(ctx) -> list[str]:
    """The tables read by array loads in the captured queries."""
    out = []
    for q in ctx.captured_queries:
        sql = q["sql"]
        if "group_concat" in sql or "string_agg" in sql:
            for model in (Enterprise, Qualification, AnnualReport):
                if f'FROM "{model._meta.db_table}"' in sql:
                    out.append(model._meta.model_name)
    return out


def test_a_new_annual_report_keeps_the_cached_qualification_figures(world):
    cache.clear()
    hte = aggregates.validate_spec({"aggregate": "count_valid", "qualification": ["HTE"]})
    rev = aggregates.validate_spec({"aggregate": "sum", "metric": "revenue"})
    day = D(2024, 12, 31)
    first = aggregates.compute([hte, rev], [day])
    AnnualReportFactory(year=2024, revenue=1_000)
    with CaptureQueriesContext(connection) as ctx:
        second = aggregates.compute([hte, rev], [day])
    assert _loads(ctx) == ["annualreport"]  # qualifications come from the cache
    assert second[(aggregates.spec_key(hte), day)] == first[(aggregates.spec_key(hte), day)]
    assert second[(aggregates.spec_key(rev), day)] == first[(aggregates.spec_key(rev), day)] + 1_000
    # a new certificate is seen at once, reports stay cached
    QualificationFactory(
        type=world_type("HTE"), issued_on=D(2024, 1, 1), expires_on=D(2026, 12, 31)
    )
    with CaptureQueriesContext(connection) as ctx:
        third = aggregates.compute([hte, rev], [day])
    assert _loads(ctx) == ["qualification"]
    assert third[(aggregates.spec_key(hte), day)] == first[(aggregates.spec_key(hte), day)] + 1


def world_type(code):
    return QualificationTypeFactory(code=code)


def test_bulk_writes_that_bypass_signals_are_seen_through_the_fingerprint(world):
    cache.clear()
    rev = aggregates.validate_spec({"aggregate": "sum", "metric": "revenue"})
    day = D(2025, 12, 31)
    before = aggregates.compute([rev], [day])[(aggregates.spec_key(rev), day)]
    AnnualReport.objects.bulk_create(
        [AnnualReport(enterprise=EnterpriseFactory(), year=2025, revenue=7)]
    )
    assert aggregates.compute([rev], [day])[(aggregates.spec_key(rev), day)] == (before or 0) + 7


def test_placed_figures_follow_a_move_of_the_enterprise(world, town, other_town):
    cache.clear()
    spec = aggregates.validate_spec(
        {"aggregate": "count_enterprises", "filter": {"jurisdiction": other_town.code}}
    )
    day = D(2025, 12, 31)
    before = aggregates.compute([spec], [day])[(aggregates.spec_key(spec), day)]
    ent = Enterprise.objects.filter(jurisdiction=town, park=None).first()
    ent.jurisdiction = other_town
    ent.save()
    assert aggregates.compute([spec], [day])[(aggregates.spec_key(spec), day)] == before + 1


def test_columnar_load_round_trips_dates_nulls_and_negative_values(db):
    ent = EnterpriseFactory(registered_on=None)
    EnterpriseFactory(registered_on=D(1999, 12, 31))
    AnnualReportFactory(enterprise=ent, year=2024, revenue=None, profit=-42)
    cols = columnar.load(
        Enterprise._meta.db_table, {"id": "id", "park_id": "id", "registered_on": "date"}
    )
    order = np.argsort(cols["id"])
    assert list(cols["park_id"][order]) == [-1, -1]
    assert list(cols["registered_on"][order]) == [-1, columnar.day_number(D(1999, 12, 31))]
    assert columnar.day_number(D(1999, 12, 31)) == (D(1999, 12, 31) - D(1970, 1, 1)).days
    rep = columnar.load(
        AnnualReport._meta.db_table,
        {"year": "id", "revenue": "int", "profit": "int"},
        where="year = %s",
        params=[2024],
    )
    assert (list(rep["revenue"]), list(rep["profit"])) == ([columnar.NULL], [-42])
    empty = columnar.load(
        AnnualReport._meta.db_table, {"year": "id"}, where="year = %s", params=[1]
    )
    assert empty["year"].size == 0
