"""Reading stored snapshots: one enterprise's verdicts, one rule's eligible enterprises.

The packed layout is described in docs/decisions/0004-verdict-snapshot-storage.md.
Callers scope: an enterprise id set from here is always intersected with
`Enterprise.objects.visible_to(user)` (see `ids_q`) before anything is shown.
"""

from __future__ import annotations

import json

import numpy as np
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from kechuang.rules.models import (
    NULL_AMOUNT,
    RuleSnapshot,
    SnapshotEnterprise,
    SnapshotRule,
)


def rule_row(snapshot: RuleSnapshot | None, rule_id: int | None) -> SnapshotRule | None:
    """The snapshot's row for the version of `rule_id` it evaluated (None if not in it)."""
    if snapshot is None or rule_id is None:
        return None
    return (
        SnapshotRule.objects.filter(snapshot=snapshot, rule_version__rule_id=rule_id)
        .select_related("rule_version")
        .first()
    )


def ids_q(ids, field: str = "id") -> Q:
    """`field IN <ids>` for any number of ids, as one parameter (a JSON or array value).

    SQLite limits bound parameters and PostgreSQL plans long IN lists poorly; this
    passes the set as one value the database unpacks.
    """
    values = [int(i) for i in np.asarray(ids, dtype=np.int64).tolist()]
    if not values:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        sql, param = "SELECT unnest(%s::bigint[])", values
    else:
        sql, param = "SELECT value FROM json_each(%s)", json.dumps(values)
    # Fixed SQL text; the ids travel as a parameter.
    return Q(**{f"{field}__in": RawSQL(sql, [param])})  # noqa: S611


def amounts_for(row: SnapshotRule | None, ids) -> dict[int, int | None]:
    """Amount per enterprise id among `ids` eligible in `row` (None: not computable)."""
    if row is None:
        return {}
    elig = row.ids()
    wanted = np.asarray(list(ids), dtype=np.int64)
    pos = np.searchsorted(elig, wanted)
    ok = pos < len(elig)
    ok[ok] = elig[pos[ok]] == wanted[ok]
    amounts = row.amounts()
    out: dict[int, int | None] = {}
    for e, p in zip(wanted[ok].tolist(), pos[ok].tolist(), strict=True):
        a = None if amounts is None else int(amounts[p])
        out[e] = None if a == NULL_AMOUNT else a
    return out


def total_for(row: SnapshotRule | None, ids=None) -> int:
    """Sum of known amounts of the eligible enterprises (those among `ids` if given)."""
    if row is None or row.amounts() is None:
        return 0
    if ids is None:
        return int(row.total_amount)
    return sum(a for a in amounts_for(row, ids).values() if a is not None)


def enterprise_verdicts(
    snapshot: RuleSnapshot | None, enterprise_id: int
) -> dict[int, tuple[int, int | None]]:
    """{rule version id: (verdict 1/0/-1, amount or None)} of one enterprise (one query)."""
    if snapshot is None:
        return {}
    row = SnapshotEnterprise.objects.filter(snapshot=snapshot, enterprise_id=enterprise_id).first()
    return row.decoded(snapshot) if row is not None else {}


def snapshot_table(snapshot: RuleSnapshot) -> dict[tuple[int, int], tuple[int, int | None]]:
    """Every (enterprise id, rule version id) → (verdict, amount): for checks and tests."""
    out = {}
    for row in SnapshotEnterprise.objects.filter(snapshot=snapshot).iterator(chunk_size=5000):
        for vid, value in row.decoded(snapshot).items():
            out[(row.enterprise_id, vid)] = value
    return out
