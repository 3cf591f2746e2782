"""Benchmark the enterprise import: 100,000 rows from .xlsx, dry run + apply.

Run:  .venv/bin/python bench/import_enterprises.py [--rows 100000]
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/kechuang_bench .venv/bin/python bench/import_enterprises.py

Builds a fresh database (SQLite in a temp dir, or the given PostgreSQL database,
dropped and re-created), writes an .xlsx of N new enterprises, then, --repeat times
(the register emptied in between): read+check (dry run), apply (lock, plan, writes,
audit: one entry and an id -> file row map for the creates, commit) on the same
parsed rows; then a re-import of the same file (idempotent: nothing written). Prints each run, the median and the best, in rows/s,
and the load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault(
    "SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-XYZ"
)
_tmp = tempfile.mkdtemp(prefix="kechuang-bench-")
os.environ.setdefault("KECHUANG_VAR_DIR", _tmp)
os.environ["MEDIA_ROOT"] = str(Path(_tmp) / "media")
os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

TOWNS = ["莘庄镇", "七宝镇", "颛桥镇", "华漕镇", "虹桥镇", "梅陇镇", "吴泾镇", "马桥镇", "浦锦街道",
         "江川路街道", "古美路街道", "新虹街道", "浦江镇", "虹梅街道"]  # fmt: skip


def setup_db() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    try:
        call_command("migrate", verbosity=0, interactive=False)
    except Exception as exc:  # noqa: BLE001 - migrations being edited: build from the models
        from django.conf import settings

        print(f"migrate failed ({exc.__class__.__name__}); creating tables from the models")
        settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        else:
            connection.close()
            Path(connection.settings_dict["NAME"]).unlink(missing_ok=True)
        call_command("migrate", verbosity=0, interactive=False, run_syncdb=True)


def build_file(rows: int) -> bytes:
    from kechuang.core.imports.testing import xlsx_bytes
    from kechuang.core.validators import uscc_check_char

    rng = random.Random(20260101)
    headers = ["统一社会信用代码", "企业名称", "所属街镇", "法定代表人", "成立日期", "注册资本(万元)",
               "注册地址", "行业代码", "上市状态", "联系人", "联系电话"]  # fmt: skip
    data = []
    seen = set()
    while len(data) < rows:
        body = "".join(rng.choice("0123456789") for _ in range(8))
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        check = 11 - sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
        head = "91310112" + body + {10: "X", 11: "0"}.get(check, str(check))
        code = head + uscc_check_char(head)
        if code in seen:
            continue
        seen.add(code)
        n = len(data)
        data.append([
            code, f"上海测试{n}科技有限公司", rng.choice(TOWNS), "张三",
            f"20{rng.randint(0, 23):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            rng.randint(10, 10000), f"申江区测试路{n}号", rng.choice(["I65", "C39", "M73", "C35"]),
            "未上市", "李四", f"138{n:08d}",
        ])  # fmt: skip
    return xlsx_bytes(headers, data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from kechuang.core.imports import services
    from kechuang.core.imports.testing import upload
    from kechuang.core.models import Jurisdiction, JurisdictionLevel, Role, User
    from kechuang.enterprises.models import Enterprise

    setup_db()
    district = Jurisdiction.objects.create(
        code="310112", name="申江区", level=JurisdictionLevel.DISTRICT
    )
    for i, name in enumerate(TOWNS):
        Jurisdiction.objects.create(code=f"310112{i:03d}", name=name, level=JurisdictionLevel.TOWN,
                                    parent=district)  # fmt: skip
    officer = User.objects.create(username="bench", role=Role.COMMISSION, jurisdiction=district)

    t = time.perf_counter()
    data = build_file(args.rows)
    print(
        f"built {args.rows:,} rows xlsx ({len(data) / 1e6:.1f} MB) in {time.perf_counter() - t:.1f}s"
    )
    print(f"database: {connection.vendor}; load average before: {_load()}")

    n = args.rows
    runs = []
    for attempt in range(args.repeat):
        if attempt:
            _empty_register()
        job = services.create_import_job(
            "enterprises", upload("bench.xlsx", data), acting_user=officer
        )
        c0, t0 = _cpu(), time.perf_counter()
        prepared = services.run_dry_run(job, acting_user=officer)
        t1 = time.perf_counter()
        outcome = services.apply_import(job, acting_user=officer, prepared=prepared)
        t2, c2 = time.perf_counter(), _cpu()
        assert outcome["created"] == n, outcome
        assert Enterprise.objects.count() == n
        runs.append((t1 - t0, t2 - t1, t2 - t0, c2 - c0))
        del prepared  # every run starts from the same memory state
        gc.collect()
        dry, apply, total, cpu = runs[-1]
        print(
            f"run {attempt + 1}: dry run {n / dry:8,.0f}  apply {n / apply:8,.0f}  "
            f"end to end {n / total:8,.0f} rows/s  ({total:.2f}s wall, {cpu:.2f}s CPU)  "
            f"load {_load()}"
        )
    for label, index in (("dry run (read + check + plan)", 0), ("apply (lock, plan, write, "
                         "audit, commit)", 1), ("end to end (one read)", 2),
                         ("end to end per CPU second (ours + DB's)", 3)):  # fmt: skip
        times = [r[index] for r in runs]
        print(
            f"{label:40s} median {n / statistics.median(times):9,.0f} rows/s   "
            f"best {n / min(times):9,.0f} rows/s"
        )

    t3 = time.perf_counter()
    again = services.dry_run_and_apply(job, acting_user=officer)
    t4 = time.perf_counter()
    assert again["unchanged"] == n and again["created"] == again["updated"] == 0, again
    print(f"re-import same file (no-op):   {t4 - t3:6.2f}s  {n / (t4 - t3):9,.0f} rows/s")
    print(f"load average after: {_load()}")


def _cpu() -> float:
    """CPU seconds of this process, its children and the PostgreSQL backend serving it.

    On a shared machine the wall clock includes waiting for a core; the CPU time is
    what the import itself costs. The file is read in a child process
    (kechuang.core.tableguard), whose time counts once it has exited.
    """
    times = os.times()
    total = times.user + times.system + times.children_user + times.children_system
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:  # the server runs elsewhere
            pass
    return total


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _empty_register() -> None:
    from kechuang.core.imports.models import ImportedRecords
    from kechuang.core.models import AuditEntry, ImportJob
    from kechuang.enterprises.models import Enterprise

    with connection.cursor() as cursor:
        for model in (ImportedRecords, Enterprise, AuditEntry):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - a model's table name
    ImportJob.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


if __name__ == "__main__":
    main()
