"""Ladder stages from qualifications, awards and the 新锐/领军 criteria."""

import datetime

import pytest

from kechuang.enterprises import services
from kechuang.enterprises.models import LadderCriteria, LadderStageChange
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
    qtype,
)

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 6, 30)


def stage(e, on=DAY):
    return services.compute_stages([e.pk], on)[e.pk][0]


def test_nothing_means_no_stage(enterprise):
    assert stage(enterprise) == ""


def test_contest_award(enterprise):
    QualificationFactory(
        enterprise=enterprise,
        type=qtype("CONTEST_AWARD"),
        issued_on=datetime.date(2025, 9, 1),
        expires_on=None,
    )
    assert stage(enterprise) == "contest"
    assert stage(enterprise, datetime.date(2025, 8, 31)) == ""


def test_rising_by_criteria(enterprise):
    # default criteria: growth ≥ 20 % and R&D ratio ≥ 5 %
    AnnualReportFactory(enterprise=enterprise, year=2024, revenue=10_000_000, rd_expense=500_000)
    AnnualReportFactory(enterprise=enterprise, year=2025, revenue=12_000_000, rd_expense=600_000)
    assert stage(enterprise) == "rising"


def test_rising_fails_just_below_threshold(enterprise):
    AnnualReportFactory(enterprise=enterprise, year=2024, revenue=10_000_000, rd_expense=500_000)
    AnnualReportFactory(enterprise=enterprise, year=2025, revenue=11_999_999, rd_expense=600_000)
    assert stage(enterprise) == ""


def test_unconfirmed_report_does_not_count(enterprise):
    AnnualReportFactory(enterprise=enterprise, year=2024, revenue=10_000_000, rd_expense=500_000)
    AnnualReportFactory(
        enterprise=enterprise,
        year=2025,
        revenue=20_000_000,
        rd_expense=2_000_000,
        status="submitted",
    )
    assert stage(enterprise) == ""


def test_hte_beats_rising_and_expires(enterprise):
    QualificationFactory(enterprise=enterprise)  # HTE 2023-11-01 … 2026-10-31
    assert stage(enterprise) == "hte"
    assert stage(enterprise, datetime.date(2026, 11, 1)) == ""


def test_little_giant_beats_hte(enterprise):
    QualificationFactory(enterprise=enterprise)
    QualificationFactory(
        enterprise=enterprise,
        type=qtype("LITTLE_GIANT_CULTIVATION"),
        issued_on=datetime.date(2025, 1, 1),
        expires_on=None,
    )
    assert stage(enterprise) == "little_giant"


def test_leader_needs_hte_and_thresholds(enterprise):
    AnnualReportFactory(
        enterprise=enterprise, year=2025, revenue=600_000_000, rd_expense=30_000_000
    )
    assert stage(enterprise) == ""  # requires a valid HTE
    QualificationFactory(enterprise=enterprise)
    assert stage(enterprise) == "leader"


def test_undefined_criteria_never_match(enterprise):
    LadderCriteria.objects.filter(stage="rising").update(min_revenue_growth=None, min_rd_ratio=None)
    AnnualReportFactory(enterprise=enterprise, year=2025)
    assert stage(enterprise) == ""


def test_recompute_writes_history_only_on_change(officer, enterprise):
    QualificationFactory(enterprise=enterprise)
    assert services.recompute_ladder([enterprise.pk], acting_user=officer, on=DAY) == 1
    assert services.recompute_ladder([enterprise.pk], acting_user=officer, on=DAY) == 0
    change = LadderStageChange.objects.get()
    assert (change.from_stage, change.to_stage, change.reason) == ("", "hte", "HTE")


def test_changing_criteria_recomputes_everyone(officer, town):
    a, b = EnterpriseFactory(jurisdiction=town), EnterpriseFactory(jurisdiction=town)
    year = datetime.date.today().year - 1
    for e, revenue in ((a, 50_000_000), (b, 5_000_000)):
        AnnualReportFactory(enterprise=e, year=year, revenue=revenue, rd_expense=revenue // 10)
    criteria = LadderCriteria.objects.get(stage="rising")
    moved = services.update_ladder_criteria(
        criteria, {"min_revenue_growth": None, "min_revenue": 10_000_000}, acting_user=officer
    )
    assert moved == 1
    a.refresh_from_db(), b.refresh_from_db()
    assert (a.ladder_stage, b.ladder_stage) == ("rising", "")


def test_station_cannot_change_criteria(town_officer):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.update_ladder_criteria(
            LadderCriteria.objects.get(stage="rising"), {"min_revenue": 1}, acting_user=town_officer
        )


def test_stage_counts_by_year_from_history(officer, town):
    from kechuang.enterprises.models import Enterprise

    e = EnterpriseFactory(jurisdiction=town)
    tz = datetime.UTC
    LadderStageChange.objects.create(
        enterprise=e, changed_at=datetime.datetime(2023, 5, 1, tzinfo=tz), to_stage="contest"
    )
    LadderStageChange.objects.create(
        enterprise=e,
        changed_at=datetime.datetime(2024, 12, 1, tzinfo=tz),
        from_stage="contest",
        to_stage="hte",
    )
    counts = services.stage_counts_by_year(Enterprise.objects.all(), [2022, 2023, 2024])
    assert counts[2022]["contest"] == 0 and counts[2023]["contest"] == 1
    assert counts[2024]["hte"] == 1 and counts[2024]["contest"] == 0


def test_recompute_is_set_at_a_time(officer, town, django_assert_max_num_queries):
    enterprises = [EnterpriseFactory(jurisdiction=town) for _ in range(30)]
    for e in enterprises[::2]:
        QualificationFactory(enterprise=e)
    # 12, plus 2 for the audit hash chain (lock and advance its head once for the batch).
    with django_assert_max_num_queries(14):
        moved = services.recompute_ladder(acting_user=officer, on=DAY)
    assert moved == 15
    assert LadderStageChange.objects.count() == 15
