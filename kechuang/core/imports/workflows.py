"""The import-job machine: uploaded → checking → checked → applying → applied, or failed.

The import services move a job with :func:`move` (the table decides, the service saves the
job together with its report); they write their own audit events (uploaded, applied) with
the counts, so these bookkeeping steps write none.
"""

from django.utils.translation import gettext_lazy as _

from kechuang.core.models import ImportJob, ImportStatus, Role
from kechuang.core.workflow import SYSTEM, Transition, Workflow, in_scope

S = ImportStatus
# Staff start checks and applies; the background worker finishes them (as the uploader, or
# as the system when that user is gone).
WHO = (Role.COMMISSION, Role.STATION, SYSTEM)

IMPORT_JOB = Workflow(
    name="core.import_job",
    model=ImportJob,
    field="status",
    states=ImportStatus,
    scope=in_scope,
    transitions=[
        Transition("check", (S.PENDING, S.VALIDATED, S.APPLIED, S.FAILED), S.VALIDATING,
                   _("Check"), roles=WHO),
        Transition("pass_check", S.VALIDATING, S.VALIDATED, _("Checked"), roles=WHO),
        Transition("apply", (S.VALIDATED, S.APPLIED), S.APPLYING, _("Apply"), roles=WHO),
        Transition("finish", S.APPLYING, S.APPLIED, _("Applied"), roles=WHO),
        # Apply refused as a whole (nothing written): back to the checked report.
        Transition("refuse", S.APPLYING, S.VALIDATED, _("Refused"), roles=WHO),
        # The worker runs an apply again after an attempt that met a locked database (rolled
        # back, nothing written) and was marked failed.
        Transition("retry", S.FAILED, S.VALIDATED, _("Retried"), roles=WHO),
        # A check or apply that stopped, or a job nobody is running any more.
        Transition("fail", (S.PENDING, S.VALIDATING, S.APPLYING), S.FAILED, _("Failed"),
                   roles=WHO),
    ],
)  # fmt: skip


def move(job: ImportJob, target: str) -> None:
    """Set the job's next status if the table allows it from the current one (not saved)."""
    job.status = IMPORT_JOB.step(job.status, target).target
