"""Background tasks for long imports (django-tasks; the database backend in production)."""

from __future__ import annotations

import contextlib

from django_tasks import task

from kechuang.core.audit import audit_via
from kechuang.core.imports import services
from kechuang.core.imports.workflows import move
from kechuang.core.models import ImportJob, ImportStatus


@task()
def dry_run_task(job_id: int, user_id: int) -> str:
    job = ImportJob.objects.get(pk=job_id)
    with audit_via("task"):
        services.run_dry_run(job, acting_user=services._user(user_id))
    return job.status


@task()
def apply_task(job_id: int, user_id: int, mode: str | None = None) -> str:
    job = ImportJob.objects.get(pk=job_id)
    if job.status == ImportStatus.APPLYING:
        # start_apply marked it applying so the page shows progress at once.
        move(job, ImportStatus.VALIDATED)
        ImportJob.objects.filter(pk=job_id).update(status=job.status)
    # A refusal's reason is stored on the job.
    with audit_via("task"), contextlib.suppress(services.ImportRefused):
        services.apply_import(job, acting_user=services._user(user_id), mode=mode)
    return job.status
