"""Records in a given state for the table-driven workflow tests (core/tests/test_workflows_table.py)."""

import itertools

from kechuang.enterprises.tests.factories import AnnualReportFactory

_years = itertools.count(2000)


def report_in(state, personas):
    """A report of `enterprise` (in `town`); in scope: commission, that town, its own user."""
    report = AnnualReportFactory(
        enterprise=personas["enterprise_user"].enterprise, year=next(_years), status=state
    )
    return report, {"officer", "town_officer", "enterprise_user"}


BUILDERS = {"enterprises.annual_report": report_in}
