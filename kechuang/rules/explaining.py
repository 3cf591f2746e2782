"""Explain verdicts for one enterprise straight from the database (no snapshot needed).

One facts load (two queries) serves every rule asked about; compiled rules are cached
per rule version in the process, checked fresh with one query, so the whole page for
one enterprise and all rules costs three queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from kechuang.rules import compiling
from kechuang.rules.engine.errors import RuleError
from kechuang.rules.engine.explain import (
    AmountExplanation,
    Clause,
    Explanation,
    Verdict,
    explain,
    explain_amount,
)
from kechuang.rules.loader import load_facts
from kechuang.rules.models import RuleVersion

STATUS_ELIGIBLE = "eligible"
STATUS_PENDING = "pending_check"  # machine conditions met, manual ones still to check
STATUS_NOT = "not_eligible"
STATUS_UNKNOWN = "unknown"


@dataclass
class ClauseRow:
    depth: int
    text: str
    result: bool | None
    decisive: bool
    notes: list[str]
    missing: list[str]
    leaf: bool


@dataclass
class RuleExplanation:
    """A rule's verdict for one enterprise, with everything a person needs to act on it."""

    version: RuleVersion
    explanation: Explanation | None
    amount: AmountExplanation | None
    manual_conditions: list[str]
    error: str = ""
    rows: list[ClauseRow] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict | None:
        return self.explanation.verdict if self.explanation else None

    @property
    def status(self) -> str:
        """Never "eligible" while a manual condition is unchecked: staff must confirm it."""
        v = self.verdict
        if v is Verdict.ELIGIBLE:
            return STATUS_PENDING if self.manual_conditions else STATUS_ELIGIBLE
        if v is Verdict.NOT_ELIGIBLE:
            return STATUS_NOT
        return STATUS_UNKNOWN

    @property
    def failing(self) -> list[Clause]:
        if self.explanation is None or self.verdict is not Verdict.NOT_ELIGIBLE:
            return []
        return [c for c in self.explanation.decided_by if c.result is False]

    @property
    def is_near_miss(self) -> bool:
        """Exactly one failing clause and nothing unknown: one step from eligible."""
        if self.verdict is not Verdict.NOT_ELIGIBLE or len(self.failing) != 1:
            return False
        tree = self.explanation.tree
        return not any(c.result is None for c in tree.children) and tree.result is False

    @property
    def missing_labels(self) -> list[str]:
        if self.explanation is None:
            return []
        return [m.label for m in self.explanation.missing]

    @property
    def amount_value(self) -> int | None:
        if self.amount is None or self.amount.value is None:
            return None
        return int(round(self.amount.value))


def flatten(tree: Clause) -> list[ClauseRow]:
    rows, stack = [], [(tree, 0)]
    while stack:
        clause, depth = stack.pop()
        rows.append(
            ClauseRow(
                depth=depth,
                text=clause.text,
                result=clause.result,
                decisive=clause.decisive,
                notes=list(clause.notes),
                missing=[m.label for m in clause.missing] if not clause.children else [],
                leaf=not clause.children,
            )
        )
        stack.extend((c, depth + 1) for c in reversed(clause.children))
    return rows


def explain_versions(
    enterprise_id: int, versions: list[RuleVersion], on: dt.date | None = None
) -> list[RuleExplanation]:
    """Explain each version for one enterprise, loading its facts once."""
    on = on or timezone.localdate()
    schema, variables, quals = compiling.current_context()
    compiled = []
    reqs: set = set()
    out: list[RuleExplanation] = []
    for version in versions:
        try:
            cond = compiling.compiled_for(version, schema)
            amount = compiling.compiled_amount_for(version, schema)
        except RuleError as exc:
            compiled.append((version, None, None, str(exc)))
            continue
        reqs |= cond.requirements
        if amount is not None:
            reqs |= amount.requirements
        compiled.append((version, cond, amount, ""))
    facts = load_facts(enterprise_id, reqs, on, variables=variables, quals=quals) if reqs else {}
    for version, cond, amount, error in compiled:
        manual = list(version.manual_conditions or [])
        if cond is None:
            out.append(RuleExplanation(version, None, None, manual, error=error))
            continue
        exp = explain(cond, facts, on=on)
        amt = explain_amount(amount, facts, on=on) if amount is not None else None
        out.append(RuleExplanation(version, exp, amt, manual, rows=flatten(exp.tree)))
    return out


def explain_version(enterprise_id: int, version: RuleVersion, on: dt.date | None = None):
    return explain_versions(enterprise_id, [version], on)[0]
