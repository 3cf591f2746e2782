"""The policy publication machine: draft → published → expired, withdrawn back to draft."""

from django.utils.translation import gettext_lazy as _

from kechuang.core.models import Role
from kechuang.core.workflow import SYSTEM, Transition, Workflow, in_scope
from kechuang.policies.models import Policy, PolicyStatus

S = PolicyStatus

POLICY = Workflow(
    name="policies.policy",
    model=Policy,
    field="status",
    states=PolicyStatus,
    scope=in_scope,
    transitions=[
        Transition(
            "publish", S.DRAFT, S.PUBLISHED, _("Publish"),
            roles=(Role.COMMISSION,), event="policy_published",
        ),
        Transition(
            "withdraw", S.PUBLISHED, S.DRAFT, _("Withdraw to draft"),
            roles=(Role.COMMISSION,), event="policy_withdrawn",
        ),
        # The daily expiry run (acting_user None) takes this step past the end date.
        Transition(
            "expire", S.PUBLISHED, S.EXPIRED, _("Mark expired"),
            roles=(Role.COMMISSION, SYSTEM), event="policy_expired",
        ),
        Transition(
            "reinstate", S.EXPIRED, S.PUBLISHED, _("Reinstate"),
            roles=(Role.COMMISSION,), event="policy_reinstated",
        ),
    ],
)  # fmt: skip
