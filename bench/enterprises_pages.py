"""Figures for the enterprise register: list, profile and export at scale.

    .venv/bin/python bench/enterprises_pages.py [--enterprises 100000] [--runs 40]

Builds the demo district into its own database the first time (SQLite file under
KECHUANG_VAR_DIR, default /tmp/kechuang-bench; or PostgreSQL via DATABASE_URL),
then measures through Django's test Client as the commission officer and as a
town station user. Prints p50/p95 per page and the export time. Never a test.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("KECHUANG_VAR_DIR", "/tmp/kechuang-bench")
os.environ.setdefault(
    "SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEF"
)
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from kechuang.core.models import User  # noqa: E402
from kechuang.enterprises import versioning  # noqa: E402
from kechuang.enterprises.models import AnnualReport, Enterprise  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _cpu_ns() -> int:
    """CPU time of this process plus the PostgreSQL backend serving it (local server only).

    On a shared, busy machine wall-clock figures mostly measure the neighbours; CPU time
    (from /proc/<pid>/schedstat, ns resolution) is what a request costs on an idle one.
    Parallel query workers are not included.
    """
    total = time.process_time_ns()
    if BACKEND_PID:
        try:
            with open(f"/proc/{BACKEND_PID}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


BACKEND_PID = 0
CPU: dict[int, list[float]] = {}


def timed(client, url, params=None, runs=40):
    client.get(url, params or {})  # warm-up, not counted
    times, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), _cpu_ns()
        response = client.get(url, params or {})
        if hasattr(response, "streaming_content"):
            for _chunk in response.streaming_content:
                pass
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((_cpu_ns() - cpu_started) / 1e6)
        assert response.status_code == 200, (url, response.status_code)
    CPU[id(times)] = cpu
    return times


def report(label, times):
    cpu = CPU.get(id(times), [])
    print(
        f"  {label:<52} wall p50 {statistics.median(times):6.1f} p95 {pct(times, 95):6.1f}"
        + (f" | cpu p50 {statistics.median(cpu):6.1f} p95 {pct(cpu, 95):6.1f} ms" if cpu else "")
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument(
        "--count-modes",
        nargs="+",
        default=["computed", "cached"],
        choices=["computed", "cached"],
        help="computed: the count cache is off (first view of a filter); cached: repeat views",
    )
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    have = Enterprise.objects.count()
    if have < args.enterprises:
        started = time.perf_counter()
        call_command(
            "demo-data",
            enterprises=args.enterprises - have,
            years=args.years,
            only=["enterprises"],
            verbosity=1,
        )
        print(f"demo data built in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as c:
        # PostgreSQL: VACUUM as well as ANALYZE — right after a bulk load the visibility
        # map is empty and every "index-only" scan still visits the heap (autovacuum would
        # get there in its own time). SQLite: planner statistics (sqlite_stat1).
        c.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    n_e, n_r = Enterprise.objects.count(), AnnualReport.objects.count()
    print(f"database: {connection.vendor}, {n_e:,} enterprises, {n_r:,} annual reports")

    global BACKEND_PID
    connection.settings_dict["CONN_MAX_AGE"] = None  # one backend for the whole run
    if connection.vendor == "postgresql" and connection.settings_dict["HOST"] in (
        "127.0.0.1",
        "localhost",
        "",
    ):
        with connection.cursor() as c:
            c.execute("SELECT pg_backend_pid()")
            BACKEND_PID = c.fetchone()[0]
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    officer = Client()
    officer.force_login(User.objects.get(username="officer"))
    station = Client()
    station.force_login(User.objects.get(username="station"))
    runs = args.runs
    year = AnnualReport.objects.order_by("-year").values_list("year", flat=True).first()

    for mode in args.count_modes:
        versioning.COUNT_TTL = 120 if mode == "cached" else 0
        list_pages(officer, station, runs, year, mode)

    print("profile page (/enterprises/<id>/), random enterprises:")
    ids = list(Enterprise.objects.values_list("pk", flat=True)[:: max(1, n_e // 2000)])
    rng = random.Random(1)
    times = []
    cpu: list[float] = []
    for _ in range(runs * 2):
        one = timed(officer, f"/enterprises/{rng.choice(ids)}/", runs=1)
        times += one
        cpu += CPU.pop(id(one))
    CPU[id(times)] = cpu
    report("officer", times)

    if not args.skip_export:
        print("export (.xlsx, constant memory):")
        started = time.perf_counter()
        response = officer.get("/enterprises/export.xlsx")
        size = sum(len(chunk) for chunk in response.streaming_content)
        print(f"  all {n_e:,} rows: {time.perf_counter() - started:.1f} s, {size / 1e6:.1f} MB")
        started = time.perf_counter()
        response = officer.get("/enterprises/export.xlsx", {"qualification": "HTE"})
        size = sum(len(chunk) for chunk in response.streaming_content)
        print(f"  valid HTE only: {time.perf_counter() - started:.1f} s, {size / 1e6:.1f} MB")


def list_pages(officer, station, runs, year, mode):
    print(
        f"list page (/enterprises/), 50 rows, count shown — count {mode}"
        + (" (every request counts)" if mode == "computed" else " (repeat views)")
        + ":"
    )
    report("officer, no filter, sorted by name", timed(officer, "/enterprises/", runs=runs))
    report(
        "officer, page 200",
        timed(officer, "/enterprises/", {"page": 200}, runs=runs),
    )
    params = {
        "year": year,
        "revenue_min": 2000,
        "revenue_max": 5000,
        "rd_ratio_min": 5,
        "ordering": "name",
    }
    report(
        "officer, revenue 2000–5000万 & R&D ≥ 5 %, by name",
        timed(officer, "/enterprises/", params, runs),
    )
    params = {"qualification": "HTE", "ordering": "-registered_on"}
    report("officer, valid HTE today, newest first", timed(officer, "/enterprises/", params, runs))
    params = {"q": "芯", "sector": 2}
    report("officer, name contains 芯 & sector IC", timed(officer, "/enterprises/", params, runs))
    report("station (莘庄镇), no filter", timed(station, "/enterprises/", runs=runs))
    params = {"qualification": "HTE", "revenue_min": 1000, "year": year}
    report("station, valid HTE & revenue ≥ 1000万", timed(station, "/enterprises/", params, runs))


if __name__ == "__main__":
    main()
