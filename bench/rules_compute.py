"""Benchmark the rule engine alone: 50 rules over 100k and 1M synthetic enterprises,
and explain() for one enterprise x 50 rules. Prints figures; not a test.

Run: .venv/bin/python bench/rules_compute.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rules_common import ON, fifty_rules, synthetic_columns  # noqa: E402

from kechuang.rules.engine import BulkEvaluator, compile_rule, explain, facts_from_columns  # noqa: E402
from kechuang.rules.engine.policy import load_schema  # noqa: E402


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    schema = load_schema()
    start = time.perf_counter()
    rules = [compile_rule(text, schema) for text in fifty_rules()]
    print(f"compile 50 rules: {(time.perf_counter() - start) * 1000:.1f} ms")

    for n in (100_000, 1_000_000):
        columns = synthetic_columns(n)

        def shared(columns=columns, n=n):
            evaluator = BulkEvaluator(columns, n, on=ON)
            return [evaluator.verdicts(rule) for rule in rules]

        def separate(columns=columns, n=n):
            return [BulkEvaluator(columns, n, on=ON).verdicts(rule) for rule in rules]

        best, median = best_of(shared, 5 if n < 1_000_000 else 3)
        print(
            f"bulk 50 rules x {n:>9,}: best {best * 1000:8.1f} ms  median {median * 1000:8.1f} ms"
            f"  ({best / 50 * 1000:.2f} ms/rule, shared formulas)"
        )
        best, median = best_of(separate, 3 if n < 1_000_000 else 2)
        print(
            f"bulk 50 rules x {n:>9,}: best {best * 1000:8.1f} ms  median {median * 1000:8.1f} ms"
            f"  (one evaluator per rule)"
        )

    columns = synthetic_columns(10)
    facts = facts_from_columns(columns, 3)

    def explain_all():
        return [explain(rule, facts, on=ON) for rule in rules]

    explain_all()
    best, median = best_of(explain_all, 20)
    print(
        f"explain 1 enterprise x 50 rules: best {best * 1000:.2f} ms  median {median * 1000:.2f} ms"
        " (target <= 20 ms)"
    )


if __name__ == "__main__":
    main()
