"""Background tasks of the rules app (django-tasks)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from kechuang.core.audit import audit_via
from kechuang.core.models import User


@task()
def evaluate_rules_task(
    on: str | None = None, incremental: bool = False, user_id: int | None = None
) -> dict:
    """Run a bulk evaluation snapshot; returns a summary for the task result."""
    from kechuang.core.services import system_actor
    from kechuang.rules.evaluation import run_snapshot

    # Started by an officer: acts as that officer; started by a schedule: the evaluation job.
    user = User.objects.get(pk=user_id) if user_id else system_actor("rules.evaluate")
    with audit_via("task"):
        snapshot = run_snapshot(
            acting_user=user,
            on=dt.date.fromisoformat(on) if on else None,
            incremental=incremental,
        )
    return {"snapshot": snapshot.pk, "rows": snapshot.verdict_rows, "seconds": snapshot.seconds}
