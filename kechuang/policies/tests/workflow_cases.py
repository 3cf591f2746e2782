"""Records in a given state for the table-driven workflow tests (core/tests/test_workflows_table.py)."""

from kechuang.policies.models import Policy


def policy_in(state, personas):
    """A policy; only commission staff may change policies."""
    return Policy.objects.create(title="示例政策", issuer="区科委", status=state), {"officer"}


BUILDERS = {"policies.policy": policy_in}
