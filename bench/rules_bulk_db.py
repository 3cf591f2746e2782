"""Bulk rule evaluation from the database: load + evaluate + store, N rules × M enterprises.

Usage (separate database; data from the enterprises demo):
    DEBUG=1 KECHUANG_VAR_DIR=/tmp/kc-bench .venv/bin/kechuang migrate
    DEBUG=1 KECHUANG_VAR_DIR=/tmp/kc-bench .venv/bin/kechuang demo-data --enterprises 100000 --only enterprises
    DEBUG=1 KECHUANG_VAR_DIR=/tmp/kc-bench .venv/bin/python bench/rules_bulk_db.py --rules 50
(or DATABASE_URL=postgres://… for PostgreSQL). Adds 50 bench rules (variants of the
library rules with shifted thresholds) once, then times full and incremental runs
(--changed enterprises marked changed before each incremental run). "rest" is the run's
bookkeeping outside load/evaluate/store (versions, compiled-rule cache check, snapshot row).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from kechuang.core.services import system_actor  # noqa: E402
from kechuang.enterprises.models import Enterprise  # noqa: E402
from kechuang.rules import compiling, evaluation, services  # noqa: E402
from kechuang.rules.models import Rule  # noqa: E402

TEMPLATES = [
    "# [reg] 注册年限\nyears_registered >= {a}\n# [rd] 研发占比\nrd_ratio >= {p}%\n# [staff] 科技人员占比\ntech_staff_ratio >= {q}%",
    '# [hte] 持高企\nhas_qualification("高新技术企业")\n# [rev] 营收\nrevenue >= {m}00万',
    '# [rev] 营收区间\nrevenue between {m}00万 and 4亿\n# [grow] 增长\nmetric("revenue", year=-1) > metric("revenue", year=-2)',
    "# [rd] 研发费用\nrd_expense >= {m}0万\n# [team] 科技人员\ntech_staff >= {a}0",
    "rd_ratio >= case when revenue <= 5000万 then {p}% when revenue <= 2亿 then 4% else 3% end and hightech_revenue_ratio >= {q}0%",
]


def ensure_rules(n: int) -> None:
    have = Rule.objects.count()
    i = 0
    while have < n:
        code = f"bench_{i:03d}"
        i += 1
        if Rule.objects.filter(code=code).exists():
            continue
        t = TEMPLATES[i % len(TEMPLATES)]
        services.create_rule(
            acting_user=system_actor("rules.library"), code=code, name=f"基准规则 {i}",
            expression=t.format(a=1 + i % 3, p=2 + i % 5, q=1 + i % 6, m=1 + i % 9),
            amount_formula="min(rd_expense * 10%, 50万)" if i % 2 else "",
            effective_from=dt.date(2020, 1, 1), publish=True,
        )  # fmt: skip
        have += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--changed", type=int, default=1000)
    args = parser.parse_args()
    compiling.clear_caches()
    services.load_library(acting_user=system_actor("rules.library"))
    ensure_rules(args.rules)
    n_ent = Enterprise.objects.count()
    versions = evaluation.versions_in_force(timezone.localdate())
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, {platform.python_version()}, "
          f"db={connection.vendor}, date={dt.date.today()}")  # fmt: skip
    print(f"{len(versions)} rules × {n_ent} enterprises")
    for run in range(args.repeat):
        report(
            f"full run {run + 1}",
            evaluation.run_snapshot,
            acting_user=system_actor("rules.evaluate"),
            notify=False,
        )
    for run in range(args.repeat):
        ids = list(Enterprise.objects.order_by("?").values_list("id", flat=True)[: args.changed])
        Enterprise.objects.filter(id__in=ids).update(data_changed_at=timezone.now())
        time.sleep(0.01)
        snap = report(
            f"incremental run {run + 1} ({args.changed:,} changed)",
            evaluation.run_snapshot, acting_user=system_actor("rules.evaluate"), incremental=True, notify=False,
        )  # fmt: skip
        assert snap.incremental and snap.evaluated_count == args.changed, snap.evaluated_count
    evaluation.prune_snapshots(2)


def report(label: str, fn, **kwargs):
    t0 = time.perf_counter()
    snap = fn(**kwargs)
    total = time.perf_counter() - t0
    t = snap.timings
    print(
        f"{label}: total {total:.2f} s = load {t['load']:.2f} + evaluate {t['evaluate']:.2f} "
        f"+ store {t['store']:.2f} (+ rest {total - t['load'] - t['evaluate'] - t['store']:.2f}); "
        f"{snap.evaluated_count:,} evaluated, {snap.verdict_rows:,} enterprise rows"
    )
    return snap


if __name__ == "__main__":
    main()
