"""Background tasks for long imports (django-tasks; the database backend in production).

Each task first fails the jobs whose earlier worker died (``fail_stale_jobs``), and
retries its run a few times when SQLite reports "database is locked" (the busy
timeout ran out while the web process wrote); after the last attempt the job is
marked failed with the reason instead of being left running.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from django.utils.translation import gettext as _
from django_tasks import task

from kechuang.core.audit import audit_via
from kechuang.core.imports import services
from kechuang.core.imports.workflows import move
from kechuang.core.models import ImportJob, ImportStatus
from kechuang.core.services import system_actor

logger = logging.getLogger(__name__)

LOCKED_ATTEMPTS = 4
LOCKED_BACKOFF_SECONDS = 2.0


def _retry_locked(job_id: int, run: Callable[[ImportJob, bool], None]) -> str:
    """Run ``run(job)``; on "database is locked" wait and run again, then fail the job cleanly."""
    for attempt in range(LOCKED_ATTEMPTS):
        try:
            with contextlib.suppress(Exception):
                services.fail_stale_jobs(
                    ImportJob.objects.exclude(pk=job_id), acting_user=system_actor("imports")
                )
            job = ImportJob.objects.get(pk=job_id)
            run(job, attempt > 0)
            return job.status
        except Exception as exc:
            if not services.is_locked(exc):
                raise
            logger.warning("Import %s met a locked database (attempt %d)", job_id, attempt + 1)
            if attempt < LOCKED_ATTEMPTS - 1:
                time.sleep(LOCKED_BACKOFF_SECONDS * 2**attempt)
    job = ImportJob(pk=job_id)
    services.record_failure(
        job,
        _(
            "The database stayed busy (locked by another writer) and the import could not run; "
            "nothing was written. Try again in a few minutes."
        ),  # fmt: skip
        acting_user=system_actor("imports"),
    )
    return job.status


@task()
def dry_run_task(job_id: int, user_id: int) -> str:
    def run(job: ImportJob, _again: bool) -> None:
        with audit_via("task"):
            services.run_dry_run(job, acting_user=services._user(user_id))

    return _retry_locked(job_id, run)


@task()
def apply_task(job_id: int, user_id: int, mode: str | None = None) -> str:
    def run(job: ImportJob, again: bool) -> None:
        # start_apply marked it applying so the page shows progress at once ("refuse" step back
        # to checked); an attempt that met a locked database was rolled back ("retry" step).
        if job.status == ImportStatus.APPLYING or (again and job.status == ImportStatus.FAILED):
            move(job, ImportStatus.VALIDATED)
            ImportJob.objects.filter(pk=job.pk).update(status=job.status)
        # A refusal's reason is stored on the job.
        with audit_via("task"), contextlib.suppress(services.ImportRefused):
            services.apply_import(job, acting_user=services._user(user_id), mode=mode)

    return _retry_locked(job_id, run)
