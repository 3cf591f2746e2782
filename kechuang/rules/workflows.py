"""The rule-version machine: a draft is published once and never edited after."""

from django.utils.translation import gettext_lazy as _

from kechuang.core.models import Role
from kechuang.core.workflow import SYSTEM, Transition, Workflow, in_scope
from kechuang.rules.models import RuleVersion, VersionStatus

# Loading the shipped rule library (acting_user None) publishes as the system.
# "retired" has no step into it yet; discarding a draft deletes it (not a state).
RULE_VERSION = Workflow(
    name="rules.rule_version",
    model=RuleVersion,
    field="status",
    states=VersionStatus,
    scope=in_scope,
    transitions=[
        Transition(
            "publish", VersionStatus.DRAFT, VersionStatus.PUBLISHED, _("Publish"),
            roles=(Role.COMMISSION, SYSTEM), event="version_published",
        ),
    ],
)  # fmt: skip
