"""Computed indicators against an independent count, the forecast on a hand-computed case."""

import datetime

import pytest

from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
    QualificationTypeFactory,
)
from kechuang.plans import aggregates, tracking
from kechuang.plans.forecast import (
    QualRow,
    forecast_from_rows,
    forecast_indicator,
    visible_lapsing,
)
from kechuang.plans.models import IndicatorKind, SourceKind
from kechuang.plans.status import OFF_TRACK, ON_TRACK
from kechuang.plans.tests.factories import IndicatorFactory, PlanFactory

D = datetime.date


@pytest.fixture
def hte_world(town, other_town):
    hte = QualificationTypeFactory(code="HTE", name="高新技术企业", validity_years=3)
    giant = QualificationTypeFactory(
        code="LITTLE_GIANT", name="科技小巨人企业", validity_years=None
    )
    rows = [
        # (town?, issued, expires, revoked)
        (town, D(2021, 11, 1), D(2024, 10, 31), None),
        (town, D(2022, 12, 1), D(2025, 11, 30), None),
        (town, D(2023, 3, 1), D(2026, 2, 28), D(2024, 6, 1)),  # revoked mid-2024
        (other_town, D(2024, 5, 1), D(2027, 4, 30), None),
        (other_town, D(2020, 1, 1), D(2022, 12, 31), None),
    ]
    quals = []
    for place, issued, expires, revoked in rows:
        ent = EnterpriseFactory(jurisdiction=place)
        quals.append(
            QualificationFactory(
                enterprise=ent, type=hte, issued_on=issued, expires_on=expires, revoked_on=revoked
            )
        )
    # one enterprise holding two overlapping HTE certificates counts once
    twice = EnterpriseFactory(jurisdiction=town)
    quals.append(
        QualificationFactory(
            enterprise=twice, type=hte, issued_on=D(2021, 12, 1), expires_on=D(2024, 11, 30)
        )
    )
    quals.append(
        QualificationFactory(
            enterprise=twice, type=hte, issued_on=D(2024, 11, 1), expires_on=D(2027, 10, 31)
        )
    )
    QualificationFactory(enterprise=twice, type=giant, issued_on=D(2024, 3, 1), expires_on=None)
    QualificationFactory(type=giant, issued_on=D(2023, 3, 1), expires_on=None)
    return quals


def _hand_count(quals, day, code="HTE", place=None):
    return len(
        {
            q.enterprise_id
            for q in quals
            if q.type.code == code
            and q.issued_on <= day
            and (q.expires_on is None or q.expires_on >= day)
            and (q.revoked_on is None or q.revoked_on > day)
            and (place is None or q.enterprise.jurisdiction_id == place.pk)
        }
    )


def test_count_valid_matches_an_independent_count(hte_world, town, django_assert_max_num_queries):
    spec = aggregates.validate_spec({"aggregate": "count_valid", "qualification": "HTE"})
    town_spec = aggregates.validate_spec(
        {"aggregate": "count_valid", "qualification": "HTE", "filter": {"jurisdiction": town.code}}
    )
    days = [D(y, 12, 31) for y in (2021, 2022, 2023, 2024, 2025)]
    with django_assert_max_num_queries(5):
        values = aggregates.compute_raw([spec, town_spec], days)
    for day in days:
        assert values[(aggregates.spec_key(spec), day)] == _hand_count(hte_world, day), day
        assert values[(aggregates.spec_key(town_spec), day)] == _hand_count(
            hte_world, day, place=town
        ), day
    assert values[(aggregates.spec_key(spec), D(2024, 12, 31))] == 3  # 2nd, 4th, `twice`


def test_count_issued_and_sum_and_ratio(hte_world):
    ent = EnterpriseFactory()
    AnnualReportFactory(enterprise=ent, year=2024, revenue=100_000_000, rd_expense=5_000_000)
    AnnualReportFactory(year=2024, revenue=300_000_000, rd_expense=7_000_000)
    issued = aggregates.validate_spec({"aggregate": "count_issued", "qualification": ["HTE"]})
    rd = aggregates.validate_spec({"aggregate": "sum", "metric": "rd_expense"})
    ratio = aggregates.validate_spec(
        {
            "aggregate": "ratio",
            "numerator": rd,
            "denominator": {"aggregate": "sum", "metric": "revenue"},
        }
    )
    day = D(2024, 12, 31)
    values = aggregates.compute_raw([issued, rd, ratio], [day, D(2023, 12, 31)])
    assert values[(aggregates.spec_key(issued), day)] == 2  # issued 2024-05-01 and 2024-11-01
    assert values[(aggregates.spec_key(rd), day)] == 12_000_000
    assert values[(aggregates.spec_key(ratio), day)] == pytest.approx(0.03)
    assert values[(aggregates.spec_key(rd), D(2023, 12, 31))] is None  # nobody reported 2023


def test_indicator_history_status_and_cache(hte_world, django_assert_max_num_queries):
    plan = PlanFactory(period_start=2023, period_end=2025)
    ind = IndicatorFactory(
        plan=plan,
        name="有效期内高新技术企业",
        baseline_value=2,
        baseline_year=2022,
        target_value=6,
        target_year=2025,
        source_kind=SourceKind.COMPUTED,
        source={"aggregate": "count_valid", "qualification": ["HTE"]},
    )
    today = D(2025, 12, 31)
    ev = tracking.evaluate([ind], today=today)[ind.pk]
    assert dict(ev.history)[2024] == 3
    assert ev.actual == _hand_count(hte_world, today) == 2
    assert ev.expected == 6 and ev.gap == -4 and ev.status == OFF_TRACK
    with django_assert_max_num_queries(2):  # data version + cache: no aggregate query
        again = tracking.evaluate([ind], today=today)[ind.pk]
    assert again.actual == 2
    # a new certificate bumps the data version: the cached figure is not served
    QualificationFactory(
        type=hte_world[0].type, issued_on=D(2025, 1, 1), expires_on=D(2027, 12, 31)
    )
    assert tracking.evaluate([ind], today=today)[ind.pk].actual == 3


def test_increment_indicator_accumulates_issued_over_the_period(hte_world):
    plan = PlanFactory(period_start=2024, period_end=2025)
    ind = IndicatorFactory(
        plan=plan,
        name="新增科技小巨人企业",
        kind=IndicatorKind.INCREMENT,
        target_value=2,
        target_year=2025,
        source_kind=SourceKind.COMPUTED,
        source={"aggregate": "count_issued", "qualification": ["LITTLE_GIANT"]},
    )
    ev = tracking.evaluate([ind], today=D(2025, 12, 31))[ind.pk]
    assert dict(ev.history) == {2023: 0.0, 2024: 1.0, 2025: 1.0}
    assert ev.baseline == 0 and ev.actual == 1


def test_forecast_hand_computed_case():
    today, target = D(2025, 1, 1), D(2026, 12, 31)
    rows = [
        # enterprise 1: valid, expires after target → secure
        QualRow(1, 1, D(2024, 1, 1), D(2027, 1, 1)),
        # enterprise 2: valid, expires before target → lapsing
        QualRow(2, 2, D(2023, 6, 1), D(2026, 5, 31), certificate_no="GR2"),
        # enterprise 3: valid, expires 2025-03-31 → lapsing
        QualRow(3, 3, D(2022, 4, 1), D(2025, 3, 31), certificate_no="GR3"),
        # history: enterprise 4 expired 2023-06-30 and renewed 2023-07-15 → renewed; its new one is secure? expires 2026-07-14 → lapsing
        QualRow(4, 4, D(2020, 7, 1), D(2023, 6, 30)),
        QualRow(5, 4, D(2023, 7, 15), D(2026, 7, 14), certificate_no="GR4"),
        # enterprise 5 expired 2023-12-31 and did not renew
        QualRow(6, 5, D(2021, 1, 1), D(2023, 12, 31)),
    ]
    fc = forecast_from_rows(rows, today=today, target_date=target, window_months=6, history_years=3)
    assert fc.current == 4
    assert fc.secure == 1
    assert [lapse.enterprise_id for lapse in fc.lapsing] == [3, 2, 4]
    assert (fc.renewed, fc.renewal_sample) == (1, 2)  # cert 4 renewed, cert 6 not
    assert fc.renewal_rate == 0.5
    # first certificates in 2022, 2023, 2024: ent 3 (2022), ent 2 (2023), ent 1 (2024) → 3 / 3 years
    assert fc.new_by_year == {2022: 1, 2023: 1, 2024: 1}
    assert fc.new_rate == 1.0
    assert fc.years_ahead == pytest.approx(729 / 365.25)
    assert fc.projected == pytest.approx(1 + 0.5 * 3 + 1.0 * 729 / 365.25)


def test_forecast_of_an_indicator_lists_lapsing_enterprises(hte_world, officer):
    ind = IndicatorFactory(
        target_year=2026,
        source_kind=SourceKind.COMPUTED,
        source={"aggregate": "count_valid", "qualification": ["HTE"]},
    )
    fc = forecast_indicator(ind, today=D(2025, 6, 30))
    # valid on 2025-06-30: 2nd (to 2025-11-30, lapses), 4th (2027), twice (2027) → 1 lapsing
    assert fc.current == 3 and fc.secure == 2
    assert [lapse.expires_on for lapse in fc.lapsing] == [D(2025, 11, 30)]
    assert visible_lapsing(fc, officer)[0].enterprise is not None


def test_lapsing_list_is_scoped_to_the_station_town(hte_world, town_officer, other_town_officer):
    ind = IndicatorFactory(
        target_year=2026,
        source_kind=SourceKind.COMPUTED,
        source={"aggregate": "count_valid", "qualification": ["HTE"]},
    )
    fc = forecast_indicator(ind, today=D(2025, 6, 30))
    assert len(fc.lapsing) == 1  # the district-wide count is unchanged
    assert [lapse.expires_on for lapse in visible_lapsing(fc, town_officer)] == [D(2025, 11, 30)]
    assert visible_lapsing(fc, other_town_officer) == []


def test_station_staff_never_see_other_towns_lapsing_enterprises(
    client_for, town, other_town, town_officer
):
    import io

    from openpyxl import load_workbook

    today = datetime.date.today()
    hte = QualificationTypeFactory(code="HTE", name="高新技术企业", validity_years=3)
    mine = EnterpriseFactory(jurisdiction=town, name="本镇到期企业")
    foreign = EnterpriseFactory(jurisdiction=other_town, name="外镇到期企业")
    for ent in (mine, foreign):
        QualificationFactory(
            enterprise=ent, type=hte, issued_on=today - datetime.timedelta(days=900),
            expires_on=today + datetime.timedelta(days=30),
        )  # fmt: skip
    ind = IndicatorFactory(
        target_year=today.year + 2,
        source_kind=SourceKind.COMPUTED,
        source={"aggregate": "count_valid", "qualification": ["HTE"]},
    )
    client = client_for(town_officer)
    page = client.get(f"/plans/indicators/{ind.pk}/").content.decode()
    assert mine.name in page and foreign.name not in page and foreign.uscc not in page
    response = client.get(f"/plans/indicators/{ind.pk}/lapsing.xlsx")
    rows = list(
        load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True)
    )
    assert [r[1] for r in rows] == [mine.uscc]


def test_on_track_when_the_target_is_reached(hte_world):
    ind = IndicatorFactory(
        baseline_value=1,
        baseline_year=2022,
        target_value=2,
        target_year=2025,
        source_kind=SourceKind.COMPUTED,
        source={"aggregate": "count_valid", "qualification": ["HTE"]},
    )
    assert tracking.evaluate([ind], today=D(2025, 12, 31))[ind.pk].status == ON_TRACK
