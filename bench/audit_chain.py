"""Benchmark audit tamper evidence on the import path: 100,000 update entries, MAC and seal.

Run:  .venv/bin/python bench/audit_chain.py [--rows 100000]
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/kechuang_bench .venv/bin/python bench/audit_chain.py

Builds a fresh database (SQLite in a temp dir, or the given PostgreSQL database, its
public schema re-created), prepares the rows an import of N changed enterprises writes
to the audit log (one before -> after diff each), then times, each in its own rolled-back
transaction: the plain insert (COPY / executemany) with an empty MAC column, and MACs
(one pass, no lock) plus the insert; then commits N entries with MACs and times
`seal_pending()` (after commit, its own short transactions) and `audit verify`.
Prints seconds and the load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
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

import django  # noqa: E402

django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from kechuang.core import auditchain  # noqa: E402
from kechuang.core.imports import writers  # noqa: E402
from kechuang.core.models import AuditEntry  # noqa: E402
from kechuang.core.services import system_actor  # noqa: E402
from kechuang.enterprises.models import Enterprise  # noqa: E402

NAMES = ["at", "actor_id", "actor_name", "via", "content_type_id", "object_id", "object_repr",
         "action", "event", "changes"]  # fmt: skip


class Rollback(Exception):
    pass


def rows(n: int) -> list[tuple]:
    actor = system_actor("imports")
    ct = ContentType.objects.get_for_model(Enterprise).pk
    now = timezone.now()
    return [
        (now, actor.pk, str(actor), "import", ct, str(i), f"上海示例科技有限公司{i}", "update",
         "import:1", {"registered_capital": [1000000 + i, 2000000 + i], "staff": [10, 12]})
        for i in range(1, n + 1)
    ]  # fmt: skip


def timed(label: str, fn, keep: bool = False) -> float:
    t0 = time.perf_counter()
    try:
        with transaction.atomic():
            fn()
            if not keep:
                raise Rollback
    except Rollback:
        pass
    seconds = time.perf_counter() - t0
    print(f"{label:<44} {seconds:7.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0, interactive=False)
    data = rows(args.rows)
    print(f"db={connection.vendor}, {args.rows:,} audit entries, load {os.getloadavg()}")

    def plain():  # the same columns, MAC left empty: what the import wrote before MACs
        writers.insert_rows(AuditEntry, [*NAMES, "mac"], [(*r, "") for r in data])

    def signed():
        macs = auditchain.macs(data)
        writers.insert_rows(
            AuditEntry, [*NAMES, "mac"], [(*r, m) for r, m in zip(data, macs, strict=True)]
        )

    def mac_only():
        auditchain.macs(data)

    base = timed("insert without MAC", plain)
    hashed = timed("MAC only (one pass, no lock)", mac_only)
    both = timed("MAC + insert", signed)
    print(f"{'overhead of the MAC':<44} {both - base:7.2f} s ({(both - base) / base:.0%})")
    print(f"{'  of which MAC computation':<44} {hashed:7.2f} s")
    timed("MAC + insert, committed", signed, keep=True)
    t0 = time.perf_counter()
    sealed = auditchain.seal_pending()
    print(f"{'seal_pending (after commit)':<44} {time.perf_counter() - t0:7.2f} s ({sealed:,})")
    t0 = time.perf_counter()
    again = auditchain.seal_pending()
    print(f"{'seal_pending, nothing pending':<44} {time.perf_counter() - t0:7.2f} s ({again})")
    t0 = time.perf_counter()
    result = auditchain.verify()
    print(
        f"{'audit verify':<44} {time.perf_counter() - t0:7.2f} s "
        f"({result.checked:,} entries, {result.sealed:,} seals, ok={result.ok})"
    )
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
