"""Import actions: upload, dry run, apply. Views, tasks, commands and tests call these.

* ``create_import_job`` keeps the uploaded file (MEDIA_ROOT/imports/…) in an ImportJob.
* ``run_dry_run`` reads and checks every row and stores the report on the job.
* ``apply_import`` re-checks against the register inside one transaction and writes
  all valid rows, or nothing when the mode is "all or nothing" and a row is rejected.
  Any exception rolls the whole import back; the job records why.
* ``dry_run_and_apply`` does both on one parsed file (the file is read once).
* Files above ``IMPORT_INLINE_MAX_BYTES`` run as background tasks (django-tasks).

Progress: the checking phase (most of the time) runs outside the write
transaction and stores ``ImportJob.progress`` every few thousand rows, so a
polling page sees it; the write phase runs inside one transaction and is shown
as "Writing …" until it commits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import time
import traceback

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kechuang.core import audit
from kechuang.core.imports.base import Importer, Prepared
from kechuang.core.imports.workflows import IMPORT_JOB, move
from kechuang.core.models import ImportJob, ImportMode, ImportStatus, User
from kechuang.core.tablebase import clip, shorten_message
from kechuang.core.workflow import InvalidTransition

logger = logging.getLogger(__name__)

# Keep at most this many problems on the job (report page, rejected-rows workbook);
# the others are counted in ``problems_omitted``.
MAX_STORED_PROBLEMS = getattr(settings, "IMPORT_MAX_STORED_PROBLEMS", 1000)
INLINE_MAX_BYTES = getattr(settings, "IMPORT_INLINE_MAX_BYTES", 512 * 1024)
STALE_AFTER = dt.timedelta(seconds=getattr(settings, "IMPORT_STALE_AFTER_SECONDS", 15 * 60))
MAX_ERROR_CHARS = 5000
RUNNING = IMPORT_JOB.get("fail").source  # the states a job is being worked on in


class ImportRefused(Exception):
    """Apply refused as a whole (all-or-nothing with rejected rows, wrong state)."""


@contextlib.contextmanager
def _quiet_gc():
    """No cyclic garbage collection while an import holds ~1M small objects.

    The rows are plain dicts and tuples without cycles; left on, the collector
    re-scans them all every few thousand allocations and triples the run time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- kinds ----------------------------------------------------------------------


def importer_classes() -> dict[str, type[Importer]]:
    """The import kinds, from settings.IMPORT_KINDS (kind -> dotted path), in order."""
    kinds = getattr(settings, "IMPORT_KINDS", {})
    return {kind: import_string(path) for kind, path in kinds.items()}


def importer_class(kind: str) -> type[Importer]:
    try:
        return importer_classes()[kind]
    except KeyError:
        raise ImportRefused(_("Unknown import kind “%(kind)s”.") % {"kind": kind}) from None


def can_import(user) -> bool:
    """Commission staff import anything, station staff rows of their subtree, others nothing."""
    return user is not None and user.is_authenticated and (user.is_commission or user.is_station)


def _require(user) -> None:
    if not can_import(user):
        raise PermissionDenied(_("Only commission or service-station staff can import data."))


# -- actions --------------------------------------------------------------------


def create_import_job(
    kind: str, upload: UploadedFile, *, mode: str = ImportMode.VALID_ROWS, acting_user
) -> ImportJob:
    """Keep an uploaded file as a new ImportJob (nothing is read yet)."""
    _require(acting_user)
    importer_class(kind)
    job = ImportJob(
        kind=kind,
        mode=mode,
        original_name=(getattr(upload, "name", "") or "upload")[:255],
        created_by=acting_user,
        jurisdiction=acting_user.jurisdiction if not acting_user.is_commission else None,
    )
    job.file.save(job.original_name, upload, save=False)
    with transaction.atomic():
        job.save()
        audit.record_event(
            job,
            "import_uploaded",
            {"kind": kind, "file": job.original_name, "mode": mode},
            actor=acting_user,
        )
    return job


def _progress_saver(job: ImportJob, start: int, end: int):
    """A progress callback that maps a phase's done/total to start..end percent."""

    def save(done: int, total: int, note: str) -> None:
        percent = start + (end - start) * done // total if total else start
        job.progress, job.progress_note, job.heartbeat_at = percent, note[:200], timezone.now()
        ImportJob.objects.filter(pk=job.pk).update(
            progress=percent, progress_note=note[:200], heartbeat_at=job.heartbeat_at
        )

    return save


def _importer(job: ImportJob, user, start: int = 0, end: int = 100) -> Importer:
    return importer_class(job.kind)(acting_user=user, progress=_progress_saver(job, start, end))


def _read(job: ImportJob, importer: Importer) -> Prepared:
    with job.file.open("rb") as handle:
        return importer.prepare(handle.read(), job.original_name)


def _store_report(job: ImportJob, prepared: Prepared) -> None:
    counts = prepared.counts()
    job.total_rows = len(prepared.rows)
    job.error_rows = counts["reject"]
    job.valid_rows = job.total_rows - job.error_rows
    job.warning_rows = counts["warning"]
    job.planned = {k: counts[k] for k in ("create", "update", "unchanged")}
    problems, omitted = [], 0
    for number, column, severity, message in prepared.problems():
        if len(problems) >= MAX_STORED_PROBLEMS:
            omitted += 1
            continue
        problems.append([number, clip(column), severity, shorten_message(message)])
    if prepared.unknown_columns:
        job.planned["ignored_columns"] = [clip(c) for c in prepared.unknown_columns[:50]]
    job.problems = problems
    job.problems_omitted, job.problems_truncated = omitted, bool(omitted)
    job.error = _bounded_error("\n".join(shorten_message(e) for e in prepared.file_errors))


def _bounded_error(text: str) -> str:
    return clip(text, MAX_ERROR_CHARS)


def run_dry_run(job: ImportJob, *, acting_user, prepared: Prepared | None = None) -> Prepared:
    """Read and check the job's file and store the report; writes no business data."""
    _require(acting_user)
    with _quiet_gc():
        return _dry_run(job, acting_user, prepared)


def _dry_run(job: ImportJob, acting_user, prepared: Prepared | None) -> Prepared:
    move(job, ImportStatus.VALIDATING)
    job.progress, job.error = 0, ""
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["status", "progress", "error", "heartbeat_at"])
    try:
        importer = _importer(job, acting_user, 0, 90)
        if prepared is None:
            prepared = _read(job, importer)
        if prepared.ok:
            importer.plan(prepared)
        _store_report(job, prepared)
        move(job, ImportStatus.VALIDATED if prepared.ok else ImportStatus.FAILED)
    except Exception as exc:  # never leave a job "checking" forever
        logger.exception("Dry run of import %s failed", job.pk)
        reason = _bounded_error(_("The check stopped: %(error)s") % {"error": exc})
        record_failure(job, reason, acting_user=acting_user)
        if is_locked(exc):
            raise  # the worker retries a run that met a locked database
        return prepared or Prepared(importer=None, file_errors=[reason])
    job.progress, job.progress_note, job.validated_at = 100, "", timezone.now()
    job.save()
    return prepared


def _check_can_apply(job: ImportJob) -> None:
    try:
        IMPORT_JOB.step(job.status, "apply")
    except InvalidTransition:
        raise ImportRefused(_("This import cannot be applied now (status: %(status)s).")
                            % {"status": job.get_status_display()}) from None  # fmt: skip


def is_locked(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" (another writer held it too long)."""
    return isinstance(exc, OperationalError) and "locked" in str(exc)


def record_failure(job: ImportJob, reason: str, *, acting_user, attempts: int = 5) -> None:
    """Mark the job failed with ``reason``, retrying while the database is locked; audited."""
    now = timezone.now()
    fields = {"status": ImportStatus.FAILED, "error": _bounded_error(reason), "progress": 100,
              "progress_note": "", "heartbeat_at": now}  # fmt: skip
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                ImportJob.objects.filter(pk=job.pk).update(**fields)
                audit.record_event(
                    job, "import_failed", {"reason": fields["error"]}, actor=acting_user
                )
            break
        except OperationalError as exc:
            if not is_locked(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.5 * 2**attempt)
    for name, value in fields.items():
        setattr(job, name, value)


def fail_stale_jobs(jobs=None, *, acting_user) -> int:
    """Mark running jobs that stopped giving signs of life as failed; return how many.

    A job whose worker or reader died (killed, out of memory, machine restarted) would
    otherwise show "checking" forever. Called where jobs are listed or opened and by
    the worker before each task.
    """
    queryset = ImportJob.objects.all() if jobs is None else jobs
    limit = timezone.now() - STALE_AFTER
    stale = queryset.filter(status__in=RUNNING).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, created_at__lt=limit)
    )
    reason = _(
        "The import stopped without finishing: nothing was heard from it for %(minutes)d "
        "minutes (the background worker or the file reader stopped). Nothing was written; "
        "check the file again."
    ) % {"minutes": STALE_AFTER.total_seconds() // 60}
    with transaction.atomic():
        # Locked by id: the caller's queryset may join (select_related), which FOR UPDATE refuses.
        failed = list(
            ImportJob.objects.select_for_update().filter(
                pk__in=list(stale.values_list("pk", flat=True)), status__in=RUNNING
            )
        )
        for job in failed:
            job.status, job.error, job.progress, job.progress_note = (
                ImportStatus.FAILED,
                reason,
                100,
                "",
            )
            job.save(update_fields=["status", "error", "progress", "progress_note"])
            audit.record_event(job, "import_failed", {"reason": reason}, actor=acting_user)
    return len(failed)


def apply_import(
    job: ImportJob, *, acting_user, mode: str | None = None, prepared: Prepared | None = None
) -> dict[str, int]:
    """Apply the job in one transaction; raise ImportRefused (nothing written) when it may not."""
    _require(acting_user)
    _check_can_apply(job)
    with _quiet_gc():
        return _apply(job, acting_user, mode, prepared)


def _apply(job: ImportJob, acting_user, mode: str | None, prepared: Prepared | None):
    if mode:
        job.mode = mode
    move(job, ImportStatus.APPLYING)
    job.progress, job.error = 0, ""
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["status", "progress", "error", "mode", "heartbeat_at"])
    importer = _importer(job, acting_user, 0, 80)
    try:
        if prepared is None:
            prepared = _read(job, importer)
        else:
            prepared.importer = importer
            importer.progress = _progress_saver(job, 0, 80)
        if not prepared.ok:
            raise ImportRefused("\n".join(prepared.file_errors))
        _progress_saver(job, 80, 100)(0, 1, _("Writing to the register"))
        with transaction.atomic():
            importer.lock()  # nobody else changes the table between this plan and the writes
            importer.plan(prepared)
            counts = prepared.counts()
            if job.mode == ImportMode.ALL_OR_NOTHING and counts["reject"]:
                raise ImportRefused(
                    _("Nothing was imported: %(count)d rows are rejected and the mode is "
                      "“nothing unless every row is valid”. Fix them or choose “all valid rows”.")
                    % {"count": counts["reject"]}
                )  # fmt: skip
            outcome = importer.write(prepared, job=job)
            _store_report(job, prepared)
            job.outcome = outcome
            move(job, ImportStatus.APPLIED)
            job.applied_at, job.applied_by = timezone.now(), acting_user
            job.progress, job.progress_note = 100, ""
            job.save()
            audit.record_event(job, "import_applied", {"mode": job.mode, **outcome},
                               actor=acting_user)  # fmt: skip
        return outcome
    except ImportRefused as exc:
        job.refresh_from_db()
        job.error, job.progress = str(exc), 100
        if prepared is not None and prepared.ok:
            move(job, ImportStatus.VALIDATED)
            _store_report(job, prepared)
            job.error = str(exc)
        else:
            move(job, ImportStatus.FAILED)
        job.save()
        raise
    except Exception as exc:
        logger.exception("Apply of import %s failed; rolled back", job.pk)
        record_failure(job, _("The import stopped and nothing was written (all changes were "
                              "rolled back): %(error)s") % {"error": exc},
                       acting_user=acting_user)  # fmt: skip
        note = traceback.format_exception_only(exc)[-1][:200]
        with contextlib.suppress(OperationalError):
            ImportJob.objects.filter(pk=job.pk).update(progress_note=note)
        job.progress_note = note
        raise


def dry_run_and_apply(job: ImportJob, *, acting_user, mode: str | None = None) -> dict[str, int]:
    """Check and apply in one go, reading and converting the file only once."""
    prepared = run_dry_run(job, acting_user=acting_user)
    return apply_import(job, acting_user=acting_user, mode=mode, prepared=prepared)


# -- background -----------------------------------------------------------------


def _user(user_id: int | None):
    return User.objects.filter(pk=user_id).select_related("jurisdiction").first()


def start_dry_run(job: ImportJob, *, acting_user) -> None:
    """Check now for small files; queue a background task for large ones."""
    _require(acting_user)
    if job.file.size <= INLINE_MAX_BYTES:
        run_dry_run(job, acting_user=acting_user)
        return
    from kechuang.core.imports.tasks import dry_run_task

    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    result = dry_run_task.enqueue(job.pk, acting_user.pk)
    ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])


def start_apply(job: ImportJob, *, acting_user, mode: str | None = None) -> None:
    """Apply now for small files; queue a background task for large ones."""
    _require(acting_user)
    if job.file.size <= INLINE_MAX_BYTES:
        apply_import(job, acting_user=acting_user, mode=mode)
        return
    _check_can_apply(job)
    ImportJob.objects.filter(pk=job.pk).update(
        status=IMPORT_JOB.step(job.status, "apply").target,
        progress=0,
        error="",
        mode=mode or job.mode,
        heartbeat_at=timezone.now(),
    )
    from kechuang.core.imports.tasks import apply_task

    result = apply_task.enqueue(job.pk, acting_user.pk, mode)
    ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])
