"""Filters checked against an independent count; the export has exactly the filtered rows;
the list and profile pages run a bounded number of queries."""

import datetime
import io
import random

import openpyxl
import pytest
from django.urls import reverse

from kechuang.enterprises import services
from kechuang.enterprises.models import Enterprise, Sector, WatchList
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
    VisitIssueFactory,
    qtype,
)

pytestmark = pytest.mark.django_db
YEAR = datetime.date.today().year - 1


@pytest.fixture
def population(town, other_town, park):
    """40 enterprises with random metrics and HTE certificates; returns the python-side truth."""
    rng = random.Random(7)
    truth = []
    for i in range(40):
        e = EnterpriseFactory(
            jurisdiction=town if i % 3 else other_town,
            park=park if i % 6 == 1 else None,
            name=f"上海{'芯' if i % 4 == 0 else '瑞'}测科技有限公司{i}",
        )
        revenue = rng.randint(5, 80) * 1_000_000
        rd = int(revenue * rng.choice([0.02, 0.049, 0.05, 0.08]))
        AnnualReportFactory(
            enterprise=e, year=YEAR, revenue=revenue, rd_expense=rd, staff=rng.randint(5, 200)
        )
        issued = datetime.date(2023, rng.randint(1, 12), 1) if i % 2 else None
        if issued:
            QualificationFactory(
                enterprise=e,
                issued_on=issued,
                expires_on=issued.replace(year=2026) - datetime.timedelta(days=1),
            )
        truth.append({"e": e, "revenue": revenue, "rd": rd, "hte_issued": issued})
    return truth


def _usccs(response):
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(min_row=2, values_only=True))
    return sorted(r[0] for r in rows)


def test_metric_range_and_rd_ratio_match_independent_count(client_for, officer, population):
    params = {"year": YEAR, "revenue_min": 2000, "revenue_max": 5000, "rd_ratio_min": 5}
    expected = sorted(
        t["e"].uscc for t in population
        if 20_000_000 <= t["revenue"] <= 50_000_000 and t["rd"] * 100 >= 5 * t["revenue"]
    )  # fmt: skip
    assert expected  # the fixture really exercises the filter
    client = client_for(officer)
    response = client.get(reverse("enterprises:list"), params)
    assert response.context["page"].paginator.count == len(expected)
    assert _usccs(client.get(reverse("enterprises:export"), params)) == expected
    api = client.get("/api/enterprises/", params | {"page_size": 1000})
    assert sorted(r["uscc"] for r in api.json()["results"]) == expected


@pytest.mark.parametrize("day", ["2025-12-31", "2023-06-30", "2026-01-01"])
def test_qualification_valid_at_date(client_for, officer, population, day):
    d = datetime.date.fromisoformat(day)
    expected = sorted(
        t["e"].uscc for t in population
        if t["hte_issued"]
        and t["hte_issued"] <= d <= t["hte_issued"].replace(year=2026) - datetime.timedelta(days=1)
    )  # fmt: skip
    client = client_for(officer)
    params = {"qualification": "HTE", "valid_on": day}
    assert client.get(reverse("enterprises:list"), params).context["page"].paginator.count == len(
        expected
    )
    assert _usccs(client.get(reverse("enterprises:export"), params)) == expected


def test_jurisdiction_subtree_includes_park_and_name_search(client_for, officer, population, town):
    client = client_for(officer)
    expected = sorted(t["e"].uscc for t in population if t["e"].jurisdiction_id == town.pk)
    assert _usccs(client.get(reverse("enterprises:export"), {"jurisdiction": town.pk})) == expected
    expected = sorted(t["e"].uscc for t in population if "芯测" in t["e"].name)
    assert _usccs(client.get(reverse("enterprises:export"), {"q": "芯测"})) == expected
    one = population[5]["e"]
    assert _usccs(client.get(reverse("enterprises:export"), {"q": one.uscc.lower()})) == [one.uscc]


def test_sector_stage_and_watch_list_filters(client_for, officer, population):
    ai = Sector.objects.get(code="AI")
    tagged = [t["e"] for t in population[:5]]
    for e in tagged:
        e.sectors.add(ai)
    ipo = WatchList.objects.get(code="IPO_RESERVE")
    member = population[7]["e"]
    services.add_to_watch_list(ipo, member, reason="股改", acting_user=officer)
    client = client_for(officer)
    assert _usccs(client.get(reverse("enterprises:export"), {"sector": ai.pk})) == sorted(
        e.uscc for e in tagged
    )
    assert _usccs(client.get(reverse("enterprises:export"), {"watch_list": "IPO_RESERVE"})) == [
        member.uscc
    ]
    Enterprise.objects.filter(pk=member.pk).update(ladder_stage="leader")
    assert _usccs(client.get(reverse("enterprises:export"), {"stage": "leader"})) == [member.uscc]


def test_invalid_filter_shows_message_not_500(client_for, officer, population):
    response = client_for(officer).get(reverse("enterprises:list"), {"revenue_min": "abc"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0


def test_htmx_request_gets_results_fragment(client_for, officer, population):
    response = client_for(officer).get(
        reverse("enterprises:list"), {"q": "芯测"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="match-count"' in response.text


def test_list_page_query_count(client_for, officer, population, django_assert_max_num_queries):
    client = client_for(officer)
    client.get(reverse("enterprises:list"))  # warm session/content types
    params = {"qualification": "HTE", "revenue_min": 1, "ordering": "-name"}
    # First view of a filter: the register version (1 query) and the count.
    with django_assert_max_num_queries(16):
        response = client.get(reverse("enterprises:list"), params)
    assert response.status_code == 200
    # Repeat view: the count comes from the cache; the page, facts and filters only.
    with django_assert_max_num_queries(15):
        response = client.get(reverse("enterprises:list"), params | {"page": 1})
    assert response.status_code == 200


def test_profile_page_query_count(client_for, officer, enterprise, django_assert_max_num_queries):
    for year in range(2020, 2026):
        AnnualReportFactory(enterprise=enterprise, year=year)
    for code in ("HTE", "TSME", "SRDI"):
        QualificationFactory(enterprise=enterprise, type=qtype(code))
    for _ in range(5):
        VisitIssueFactory(visit__enterprise=enterprise)
    enterprise.sectors.add(*Sector.objects.all()[:3])
    client = client_for(officer)
    client.get(reverse("enterprises:detail", args=[enterprise.pk]))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("enterprises:detail", args=[enterprise.pk]))
    assert response.status_code == 200
    assert "metrics-data" in response.text
