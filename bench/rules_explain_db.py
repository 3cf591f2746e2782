"""Explain one enterprise against every rule in force, straight from the database.

Run after bench/rules_bulk_db.py (same database). Prints the median and p95 over
enterprises picked at random.
"""

from __future__ import annotations

import os
import random
import statistics
import time

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from kechuang.enterprises.models import Enterprise  # noqa: E402
from kechuang.rules.evaluation import versions_in_force  # noqa: E402
from kechuang.rules.explaining import explain_versions  # noqa: E402


def main() -> None:
    on = timezone.localdate()
    versions = versions_in_force(on)
    ids = list(Enterprise.objects.values_list("id", flat=True))
    rng = random.Random(1)
    explain_versions(ids[0], versions, on)  # warm the compiled-rule cache
    times = []
    for ent in rng.sample(ids, min(200, len(ids))):
        t0 = time.perf_counter()
        explain_versions(ent, versions, on)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(f"db={connection.vendor}: explain 1 enterprise × {len(versions)} rules: "
          f"median {statistics.median(times):.1f} ms, p95 {times[int(len(times) * 0.95) - 1]:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
