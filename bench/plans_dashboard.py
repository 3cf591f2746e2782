"""Benchmark the plan dashboard: 40 computed indicators over 100,000 enterprises.

Run:  DEBUG=1 .venv/bin/python bench/plans_dashboard.py [--enterprises 100000]
Uses its own SQLite file (var/bench_plans.sqlite3) unless DATABASE_URL is set; builds the
data once (enterprises, qualifications, 3 years of annual reports) and reuses it.
PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/kechuang_bench_plans (the data
is built once and ANALYZEd). Prints milliseconds (median, best, p95) for the dashboard:
cold with nothing stored (first computation ever), cold with the closed years' figures
stored (cache flushed or process restarted: the issue's figure), after one data change of
each kind (warm cache, then the change, then the timed request; undone after), and warm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench_plans.sqlite3'}")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from kechuang.core.models import Jurisdiction, JurisdictionLevel, Role, User  # noqa: E402
from kechuang.enterprises.models import (  # noqa: E402
    AnnualReport,
    Enterprise,
    Qualification,
    QualificationType,
)
from kechuang.plans import dashboards  # noqa: E402
from kechuang.plans.aggregates import StoredFigure  # noqa: E402
from kechuang.plans.models import Indicator, Plan, SourceKind  # noqa: E402


def build_data(n: int) -> None:
    rng = random.Random(7)
    district, _ = Jurisdiction.objects.get_or_create(
        code="310199", defaults={"name": "申江区", "level": JurisdictionLevel.DISTRICT}
    )
    towns = []
    for i in range(12):
        town, _ = Jurisdiction.objects.get_or_create(
            code=f"3101991{i:02d}",
            defaults={"name": f"镇{i}", "level": JurisdictionLevel.TOWN, "parent": district},
        )
        towns.append(town)
    types = {t.code: t for t in QualificationType.objects.all()}
    have = Enterprise.objects.count()
    if have >= n:
        return
    print(f"building {n - have:,} enterprises …", flush=True)
    batch = 5000
    for start in range(have, n, batch):
        ents = [
            Enterprise(
                uscc=f"B{start + i:017d}",
                name=f"基准企业{start + i}",
                jurisdiction=towns[(start + i) % 12],
                registered_on=dt.date(2010 + (start + i) % 14, 1, 1),
            )
            for i in range(min(batch, n - start))
        ]
        Enterprise.objects.bulk_create(ents)
        ents = list(
            Enterprise.objects.filter(uscc__in=[e.uscc for e in ents]).values_list("id", flat=True)
        )
        quals, reports = [], []
        for pk in ents:
            if rng.random() < 0.3:
                issued = dt.date(rng.randint(2017, 2025), rng.randint(1, 12), 1)
                quals.append(
                    Qualification(
                        enterprise_id=pk,
                        type=types["HTE"],
                        issued_on=issued,
                        expires_on=issued.replace(year=issued.year + 3) - dt.timedelta(days=1),
                    )
                )
            if rng.random() < 0.4:
                issued = dt.date(rng.randint(2022, 2025), rng.randint(1, 12), 1)
                quals.append(
                    Qualification(
                        enterprise_id=pk,
                        type=types["TSME"],
                        issued_on=issued,
                        expires_on=issued.replace(year=issued.year + 1) - dt.timedelta(days=1),
                    )
                )
            if rng.random() < 0.03:
                quals.append(
                    Qualification(
                        enterprise_id=pk,
                        type=types["LITTLE_GIANT"],
                        issued_on=dt.date(rng.randint(2018, 2025), 6, 1),
                    )
                )
            for year in (2023, 2024, 2025):
                rev = int(rng.lognormvariate(17, 1))
                reports.append(
                    AnnualReport(
                        enterprise_id=pk,
                        year=year,
                        revenue=rev,
                        rd_expense=int(rev * 0.04),
                        staff=rng.randint(5, 500),
                        tech_staff=rng.randint(1, 100),
                    )
                )
        Qualification.objects.bulk_create(quals, batch_size=2000)
        AnnualReport.objects.bulk_create(reports, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print("data ready", flush=True)


def build_plan() -> Plan:
    Plan.objects.filter(title="基准规划(40项计算指标)").exclude(indicators__isnull=True).filter(
        indicators__order=39
    ).exists() or Plan.objects.filter(title="基准规划(40项计算指标)").delete()
    plan, created = Plan.objects.get_or_create(
        title="基准规划(40项计算指标)",
        defaults={"kind": "three_year", "period_start": 2023, "period_end": 2026},
    )
    if not created:
        return plan
    towns = list(
        Jurisdiction.objects.filter(level=JurisdictionLevel.TOWN).values_list("code", flat=True)
    )
    specs = []
    for code in ("HTE", "TSME", "LITTLE_GIANT"):
        specs.append(
            ("count_valid", {"aggregate": "count_valid", "qualification": [code]}, "level")
        )
        specs.append(
            ("count_issued", {"aggregate": "count_issued", "qualification": [code]}, "increment")
        )
    for metric in ("revenue", "rd_expense", "tech_staff", "staff"):
        specs.append(("sum", {"aggregate": "sum", "metric": metric}, "level"))
    specs.append(
        (
            "ratio",
            {
                "aggregate": "ratio",
                "numerator": {"aggregate": "sum", "metric": "rd_expense"},
                "denominator": {"aggregate": "sum", "metric": "revenue"},
            },
            "ratio",
        )
    )
    for town in towns:
        specs.append(
            (
                "town",
                {
                    "aggregate": "count_valid",
                    "qualification": ["HTE"],
                    "filter": {"jurisdiction": town},
                },
                "level",
            )
        )
        specs.append(
            (
                "town",
                {"aggregate": "sum", "metric": "rd_expense", "filter": {"jurisdiction": town}},
                "level",
            )
        )
    specs.append(
        (
            "holding",
            {"aggregate": "sum", "metric": "revenue", "filter": {"qualification": "HTE"}},
            "level",
        )
    )
    specs.append(("holding", {"aggregate": "count_enterprises"}, "level"))
    specs.append(
        (
            "holding",
            {
                "aggregate": "count_valid",
                "qualification": ["TSME"],
                "filter": {"qualification": "HTE"},
            },
            "level",
        )
    )
    specs.append(
        (
            "ratio",
            {
                "aggregate": "ratio",
                "numerator": {"aggregate": "sum", "metric": "tech_staff"},
                "denominator": {"aggregate": "sum", "metric": "staff"},
            },
            "ratio",
        )
    )
    specs.append(
        ("count", {"aggregate": "count_issued", "qualification": ["HTE", "TSME"]}, "increment")
    )
    specs = specs[:40]
    for i, (_label, spec, kind) in enumerate(specs):
        Indicator.objects.create(
            plan=plan,
            order=i,
            name=f"指标{i + 1}",
            unit="亿元" if spec.get("metric") in ("revenue", "rd_expense") else "家",
            kind=kind,
            target_value=1000,
            target_year=2026,
            baseline_value=None,
            source_kind=SourceKind.COMPUTED,
            source=spec,
        )
    return plan


def timed(fn, runs: int):
    times, queries = [], 0
    connection.queries_log.clear()
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        queries = len(ctx)
    return times, queries


def p95(times: list[float]) -> float:
    return sorted(times)[max(0, round(0.95 * len(times)) - 1)]


def line(label: str, times: list[float], queries: int | None = None, note: str = "") -> None:
    q = f", {queries} queries" if queries is not None else ""
    print(
        f"{label:<44} median {statistics.median(times):6.0f} ms, best {min(times):6.0f} ms,"
        f" p95 {p95(times):6.0f} ms{q}{note}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    build_data(args.enterprises)
    plan = build_plan()
    user, _ = User.objects.get_or_create(username="bench", defaults={"role": Role.COMMISSION})
    today = dt.date(2026, 11, 22)
    n_ind = plan.indicators.count()
    print(
        f"{dt.date.today()}; {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}"
    )
    print(
        f"{connection.vendor}; {Enterprise.objects.count():,} enterprises, {Qualification.objects.count():,} "
        f"qualifications, {AnnualReport.objects.count():,} annual reports; {n_ind} computed indicators;"
        f" today {today} (closed years ≤ {today.year - 1})"
    )

    def warm():
        dashboards.plan_dashboard(plan, user, today=today)

    def nothing_kept():
        cache.clear()
        StoredFigure.objects.all().delete()
        warm()

    def cold():
        cache.clear()
        warm()

    times, q = timed(nothing_kept, max(2, args.runs // 2))
    line("cold, nothing stored (first computation)", times, q)
    times, q = timed(cold, args.runs)
    line("cold (cache flushed / restart)", times, q, note=" ← the issue's figure")

    reporter = Enterprise.objects.order_by("-pk").first()
    past = AnnualReport.objects.filter(year=2024).order_by("pk").first()
    hte = QualificationType.objects.get(code="HTE")
    mover = Enterprise.objects.filter(park=None).order_by("pk").first()
    towns = list(Jurisdiction.objects.filter(level=JurisdictionLevel.TOWN).order_by("code"))

    def after(change, undo):
        times = []
        for _ in range(args.runs):
            warm()
            token = change()
            try:
                start = time.perf_counter()
                warm()
                times.append((time.perf_counter() - start) * 1000)
            finally:
                undo(token)
        return times

    def new_report():
        return AnnualReport.objects.create(enterprise=reporter, year=2026, revenue=1)

    def edit_past_report():
        past.revenue += 1
        past.save()

    def unedit_past_report(_):
        past.revenue -= 1
        past.save()

    def new_certificate():
        return Qualification.objects.create(
            enterprise=reporter,
            type=hte,
            issued_on=dt.date(2025, 6, 1),
            expires_on=dt.date(2028, 5, 31),
        )

    def move():
        old = mover.jurisdiction
        mover.jurisdiction = next(t for t in towns if t.pk != old.pk)
        mover.save()
        return old

    def move_back(old):
        mover.jurisdiction = old
        mover.save()

    line("after a new annual report for 2026 (open)", after(new_report, lambda r: r.delete()))
    line("after an edit of a 2024 annual report", after(edit_past_report, unedit_past_report))
    line("after a new certificate issued 2025-06-01", after(new_certificate, lambda r: r.delete()))
    line("after an enterprise moves to another town", after(move, move_back))
    warm()
    times, q = timed(warm, args.runs * 10)
    line("warm (cached, data versions checked)", times, q)


if __name__ == "__main__":
    main()
