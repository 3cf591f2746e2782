"""政策沙盘: what a draft version would change before it is published.

Evaluates the draft and the version in force side by side over every enterprise
(one load, shared columns) and reports counts, the enterprises whose verdict
changes, and the total cost under the draft's amount formula.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from kechuang.rules import compiling, services
from kechuang.rules.engine.bulk import BulkEvaluator
from kechuang.rules.loader import load_columns
from kechuang.rules.models import Rule, RuleVersion


@dataclass
class SandboxResult:
    on: dt.date
    draft: RuleVersion
    published: RuleVersion | None
    ids: np.ndarray
    before: np.ndarray  # int8 verdicts of the version in force (all 0 if none)
    after: np.ndarray
    cost_before: int
    cost_after: int
    amounts_after: np.ndarray | None

    def count(self, which: str, value: int) -> int:
        return int((getattr(self, which) == value).sum())

    @property
    def changed_mask(self) -> np.ndarray:
        return self.before != self.after

    @property
    def changed_ids(self) -> list[int]:
        return self.ids[self.changed_mask].tolist()

    @property
    def gained(self) -> int:
        return int(((self.after == 1) & (self.before != 1)).sum())

    @property
    def lost(self) -> int:
        return int(((self.before == 1) & (self.after != 1)).sum())


def _cost(ev: BulkEvaluator, compiled, verdicts: np.ndarray) -> tuple[int, np.ndarray | None]:
    if compiled is None:
        return 0, None
    values, known = ev.values(compiled)
    use = (verdicts == 1) & known
    return int(np.round(values[use]).sum()), values


def compare(rule: Rule, draft: RuleVersion, on: dt.date) -> SandboxResult:
    """Evaluate draft vs the version in force on `on` for all enterprises.

    The draft must pass the checks publishing applies (units included): a draft saved
    before unit checks, such as ``revenue > 5000``, raises ValidationError with the
    position instead of silently reporting that nothing changes.
    """
    services.validate_version_text(draft.expression, draft.amount_formula)
    schema = compiling.current_schema()
    published = rule.version_on(on)
    if published is not None and published.pk == draft.pk:
        published = None
    d_cond = compiling.compiled_for(draft, schema)
    d_amount = compiling.compiled_amount_for(draft, schema)
    reqs = set(d_cond.requirements) | (d_amount.requirements if d_amount else set())
    p_cond = p_amount = None
    if published is not None:
        p_cond = compiling.compiled_for(published, schema)
        p_amount = compiling.compiled_amount_for(published, schema)
        reqs |= p_cond.requirements | (p_amount.requirements if p_amount else set())
    ids, columns = load_columns(reqs, on)
    ev = BulkEvaluator(columns, len(ids), on=on)
    after = ev.verdicts(d_cond)
    before = ev.verdicts(p_cond) if p_cond is not None else np.zeros(len(ids), dtype=np.int8)
    cost_after, amounts_after = _cost(ev, d_amount, after)
    cost_before, _ = _cost(ev, p_amount, before) if p_cond is not None else (0, None)
    return SandboxResult(
        on, draft, published, ids, before, after, cost_before, cost_after, amounts_after
    )
