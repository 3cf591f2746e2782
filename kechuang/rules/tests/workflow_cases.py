"""Records in a given state for the table-driven workflow tests (core/tests/test_workflows_table.py)."""

import datetime
import itertools

from kechuang.rules.models import Rule, RuleVersion

_codes = itertools.count(1)


def version_in(state, personas):
    """Version 1 of a fresh rule; only commission staff may change rules."""
    rule = Rule.objects.create(code=f"wf_rule_{next(_codes)}", name="示例规则")
    version = RuleVersion.objects.create(
        rule=rule,
        number=1,
        expression="revenue >= 1000万",
        effective_from=datetime.date(2024, 1, 1),
        status=state,
    )
    return version, {"officer"}


BUILDERS = {"rules.rule_version": version_in}
