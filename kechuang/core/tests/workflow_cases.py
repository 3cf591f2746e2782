"""Records in a given state for the table-driven workflow tests (core/tests/test_workflows_table.py)."""

from kechuang.core.models import ImportJob


def import_job_in(state, personas):
    """A job uploaded by `town_officer`; in scope: commission staff and that town's staff."""
    uploader = personas["town_officer"]
    job = ImportJob.objects.create(
        kind="enterprises",
        original_name="企业.xlsx",
        file="imports/企业.xlsx",
        created_by=uploader,
        jurisdiction=uploader.jurisdiction,
        status=state,
    )
    return job, {"officer", "town_officer"}


BUILDERS = {"core.import_job": import_job_in}
