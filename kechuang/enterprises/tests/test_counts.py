"""The list's count cache is never stale after a change; the query shapes behind the fast
list pages return exactly what the plain definitions do; the demo generator's ladder agrees
with the service."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kechuang.core.demo import DemoContext
from kechuang.core.demo import build as build_core
from kechuang.enterprises import demo, services
from kechuang.enterprises.models import (
    Enterprise,
    LadderStageChange,
    Qualification,
    Sector,
    WatchList,
)
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
    make_uscc,
    qtype,
)
from kechuang.enterprises.versioning import register_changed, register_version

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
YEAR = TODAY.year - 1


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def hte_population(town):
    """12 enterprises, 5 of them valid high-tech enterprises today."""
    ents = [
        EnterpriseFactory(jurisdiction=town, name=f"上海计数科技有限公司{i}") for i in range(12)
    ]
    for e in ents[:5]:
        QualificationFactory(
            enterprise=e,
            issued_on=TODAY - datetime.timedelta(days=100),
            expires_on=TODAY + datetime.timedelta(days=900),
        )
    for e in ents:
        AnnualReportFactory(enterprise=e, year=YEAR, revenue=30_000_000)
    return ents


def _count(client, params):
    return client.get(reverse("enterprises:list"), params).context["page"].paginator.count


def _count_queries(client, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("enterprises:list"), params)
    return sum(1 for q in ctx.captured_queries if "COUNT(" in q["sql"].upper())


def test_repeat_view_reuses_the_count(client_for, officer, hte_population):
    client = client_for(officer)
    params = {"qualification": "HTE"}
    assert _count_queries(client, params) == 1
    assert _count_queries(client, params) == 0  # served from the cache
    # Another sort of the same filter is the same count.
    assert _count_queries(client, params | {"ordering": "-registered_on"}) == 0
    assert _count(client, params) == 5


def test_count_follows_every_kind_of_change(client_for, officer, hte_population, town):
    client = client_for(officer)
    hte = {"qualification": "HTE"}
    assert _count(client, hte) == 5
    # A qualification added through the service.
    services.add_qualification(
        hte_population[6],
        {"type": qtype("HTE"), "issued_on": TODAY - datetime.timedelta(days=3)},
        acting_user=officer,
    )
    assert _count(client, hte) == 6
    # Revoked.
    q = Qualification.objects.get(enterprise=hte_population[0])
    services.revoke_qualification(q, TODAY, acting_user=officer)
    assert _count(client, hte) == 5
    # An annual report changes a metric filter's answer.
    big = {"year": YEAR, "revenue_min": 5000}
    assert _count(client, big) == 0
    services.save_annual_report(
        hte_population[1], YEAR, {"revenue": 80_000_000}, acting_user=officer
    )
    assert _count(client, big) == 1
    # Watch-list membership.
    ipo = WatchList.objects.get(code="IPO_RESERVE")
    on_list = {"watch_list": "IPO_RESERVE"}
    assert _count(client, on_list) == 0
    services.add_to_watch_list(ipo, hte_population[2], acting_user=officer)
    assert _count(client, on_list) == 1
    # Sectors (an m2m change).
    sector = Sector.objects.order_by("pk").first()
    by_sector = {"sector": sector.pk}
    assert _count(client, by_sector) == 0
    services.update_enterprise(hte_population[3], {"sectors": [sector]}, acting_user=officer)
    assert _count(client, by_sector) == 1
    # A new enterprise, then a deletion.
    everyone = {}
    assert _count(client, everyone) == 12
    services.create_enterprise(
        {"uscc": make_uscc(990_001), "name": "上海新登记科技有限公司", "jurisdiction": town},
        acting_user=officer,
    )
    assert _count(client, everyone) == 13
    services.delete_enterprise(hte_population[11], acting_user=officer)
    assert _count(client, everyone) == 12


def test_bulk_write_without_signals_is_seen_through_data_changed_at(
    client_for, officer, hte_population
):
    """Imports write with COPY/bulk_create and fire no signals, but stamp data_changed_at."""
    client = client_for(officer)
    hte = {"qualification": "HTE"}
    assert _count(client, hte) == 5
    Qualification.objects.bulk_create(
        [
            Qualification(
                enterprise=e,
                type=qtype("HTE"),
                issued_on=TODAY,
                expires_on=TODAY.replace(year=TODAY.year + 3),
            )
            for e in hte_population[7:9]
        ]
    )
    services.touch([e.pk for e in hte_population[7:9]])
    assert _count(client, hte) == 7


def test_ladder_recompute_moves_the_stage_count(client_for, officer, hte_population):
    """recompute_ladder writes with bulk_update (no signals) and still bumps the version."""
    Enterprise.objects.update(ladder_stage="")
    client = client_for(officer)
    assert _count(client, {"stage": "hte"}) == 0
    services.recompute_ladder(acting_user=officer)
    assert _count(client, {"stage": "hte"}) == 5


def test_version_changes_with_the_writing_transaction(hte_population):
    before = register_version()
    register_changed()
    assert register_version() != before


def test_station_scope_is_part_of_the_key(
    client_for, officer, town_officer, hte_population, other_town
):
    EnterpriseFactory.create_batch(3, jurisdiction=other_town)
    assert _count(client_for(officer), {}) == 15
    assert _count(client_for(town_officer), {}) == 12


def test_sorted_pages_neither_overlap_nor_skip(client_for, officer, town):
    # 130 enterprises sharing 3 registration dates: ties everywhere.
    for i in range(130):
        EnterpriseFactory(jurisdiction=town, registered_on=datetime.date(2020, 1, 1 + i % 3))
    client = client_for(officer)
    seen = []
    for page in (1, 2, 3):
        response = client.get(
            reverse("enterprises:list"), {"ordering": "-registered_on", "page": page}
        )
        seen += [e.pk for e in response.context["rows"]]
    assert sorted(seen) == sorted(Enterprise.objects.values_list("pk", flat=True))
    assert len(seen) == 130


def test_demo_generator_ladder_matches_the_service():
    ctx = DemoContext(seed=3, enterprises=400, years=5)
    build_core(ctx)
    demo.build(ctx)
    assert Enterprise.objects.count() == 400
    assert Qualification.objects.count() > 100
    computed = services.compute_stages()
    stored = dict(Enterprise.objects.values_list("pk", "ladder_stage"))
    assert {pk: str(stage) for pk, (stage, _r) in computed.items()} == stored
    assert any(stored.values())
    # The history ends where the enterprise stands.
    last = {}
    for change in LadderStageChange.objects.order_by("changed_at", "id"):
        last[change.enterprise_id] = change.to_stage
    assert all(stored[pk] == stage for pk, stage in last.items())
    assert {pk for pk, s in stored.items() if s} <= set(last)
