"""Benchmark the audit hash chain on the import path: 100,000 update entries, with and without it.

Run:  .venv/bin/python bench/audit_chain.py [--rows 100000]
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/kechuang_bench .venv/bin/python bench/audit_chain.py

Builds a fresh database (SQLite in a temp dir, or the given PostgreSQL database, its
public schema re-created), prepares the rows an import of N changed enterprises writes
to the audit log (one before -> after diff each), then times, each in its own rolled-back
transaction: the plain insert (COPY / executemany), and chaining (hashing in one pass,
head lock) plus the insert with the three chain columns; then `audit verify` over N
committed entries. Prints seconds and the load average (the machine may be shared).
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

    def plain():  # the same columns, left empty: what the import wrote before the chain
        writers.insert_rows(
            AuditEntry,
            [*NAMES, "seq", "prev_hash", "entry_hash"],
            [(*r, None, "", "") for r in data],
        )

    def chained():
        links = auditchain.link_values(data)
        writers.insert_rows(
            AuditEntry,
            [*NAMES, "seq", "prev_hash", "entry_hash"],
            [row + link for row, link in zip(data, links, strict=True)],
        )

    def hash_only():
        auditchain.link_values(data)

    base = timed("insert without chain", plain)
    hashed = timed("chain only (hash + head lock)", hash_only)
    both = timed("chain + insert with chain columns", chained)
    print(f"{'overhead of the chain':<44} {both - base:7.2f} s ({(both - base) / base:.0%})")
    print(f"{'  of which hashing':<44} {hashed:7.2f} s")
    timed("chain + insert, committed", chained, keep=True)
    t0 = time.perf_counter()
    result = auditchain.verify()
    print(
        f"{'audit verify':<44} {time.perf_counter() - t0:7.2f} s ({result.checked:,}, ok={result.ok})"
    )
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
