"""The annual-report machine: an enterprise files (and re-files), staff in scope confirm."""

from django.utils.translation import gettext_lazy as _

from kechuang.core.models import Role
from kechuang.core.workflow import SYSTEM, Transition, Workflow, in_scope
from kechuang.enterprises.models import AnnualReport, ReportStatus


def own_enterprise(report, user) -> bool:
    """An enterprise user acts only for its own enterprise (staff pass by role and scope)."""
    return user.role != Role.ENTERPRISE or user.enterprise_id == report.enterprise_id


def enterprise_users(report):
    """Who hears that a report was confirmed: the enterprise's active users."""
    return report.enterprise.users.filter(is_active=True, role=Role.ENTERPRISE)


# A new report starts "submitted" when an enterprise files it and "confirmed" when staff
# (or an import of confirmed data) enter it; these are the steps after that.
ANNUAL_REPORT = Workflow(
    name="enterprises.annual_report",
    model=AnnualReport,
    field="status",
    states=ReportStatus,
    scope=in_scope,
    link=lambda report: report.enterprise.get_absolute_url(),
    transitions=[
        Transition(
            "submit", ReportStatus.SUBMITTED, ReportStatus.SUBMITTED, _("Submit"),
            roles=(Role.ENTERPRISE,), guard=own_enterprise, event="report_submitted",
        ),
        Transition(
            "confirm", ReportStatus.SUBMITTED, ReportStatus.CONFIRMED, _("Confirm"),
            roles=(Role.COMMISSION, Role.STATION, SYSTEM), event="report_confirmed",
            notify="report_confirmed", recipients=enterprise_users,
        ),
    ],
)  # fmt: skip
