"""Demo: load the shipped rule library and run one bulk evaluation so pages show numbers."""

from __future__ import annotations

from kechuang.core.demo import DemoContext
from kechuang.core.services import system_actor
from kechuang.rules import compiling, evaluation, services


def build(ctx: DemoContext) -> None:
    compiling.clear_caches()
    result = services.load_library(acting_user=system_actor("demo"))
    ctx.log(
        f"rules: {result['total']} variables ({result['created']} new), "
        f"{result['rules_created']} library rules"
    )
    snapshot = evaluation.run_snapshot(acting_user=system_actor("demo"), notify=False)
    ctx.log(
        f"rules: snapshot #{snapshot.pk} on {snapshot.data_date}: {snapshot.evaluated_count} "
        f"enterprises, {snapshot.verdict_rows} enterprise rows, {snapshot.seconds:.2f} s"
    )
