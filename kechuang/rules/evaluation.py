"""Bulk evaluation: every published rule for every enterprise, stored as a snapshot.

One run = load (two raw queries, NumPy columns) → evaluate (NumPy, shared formula
results) → store compactly (docs/decisions/0004-verdict-snapshot-storage.md):

* one `SnapshotEnterprise` row per enterprise: its verdict vector (int8 per rule
  position) and the amounts of its eligible positions, packed;
* one `SnapshotRule` row per rule version: counts and the eligible enterprise ids
  with their amounts, packed (staff lists, export, push).

Rows are written with COPY on PostgreSQL and executemany on SQLite. An incremental
run copies its base's rows of unchanged enterprises in one INSERT … SELECT, evaluates
only the changed ones and patches the per-rule arrays with NumPy.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from kechuang.core.models import Notification, OutboxEmail, Role, User
from kechuang.core.permissions import has_role
from kechuang.enterprises.models import Enterprise
from kechuang.rules import compiling
from kechuang.rules.engine.bulk import BulkEvaluator
from kechuang.rules.engine.errors import RuleError
from kechuang.rules.loader import load_columns
from kechuang.rules.models import (
    AMOUNT_DTYPE,
    NULL_AMOUNT,
    VERDICT_DTYPE,
    EligibilityNotice,
    RuleSnapshot,
    RuleVersion,
    SnapshotEnterprise,
    SnapshotRule,
    SnapshotStatus,
    encode_amounts,
    encode_ids,
)

log = logging.getLogger(__name__)
# Above this many changed enterprises, load everyone and select in memory rather
# than sending a huge IN list.
SUBSET_QUERY_LIMIT = 2000
MAX_AMOUNT = 2**62


@dataclass
class PreparedRule:
    version: RuleVersion
    condition: object
    amount: object | None


@dataclass
class RunResult:
    ids: np.ndarray
    verdicts: dict[int, np.ndarray] = field(default_factory=dict)  # version id -> int8
    amounts: dict[int, np.ndarray] = field(default_factory=dict)  # version id -> float64 (NaN)
    errors: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def versions_in_force(on: dt.date) -> list[RuleVersion]:
    """One published version per rule, the one effective on `on`."""
    seen, out = set(), []
    for version in RuleVersion.objects.effective_on(on).select_related("rule"):
        if version.rule_id not in seen:
            seen.add(version.rule_id)
            out.append(version)
    return out


def prepare(versions: list[RuleVersion], errors: list[str]) -> list[PreparedRule]:
    schema = compiling.current_schema()
    prepared = []
    for version in versions:
        try:
            cond = compiling.compiled_for(version, schema)
            amount = compiling.compiled_amount_for(version, schema)
        except RuleError as exc:
            # A variable change broke a published rule: skip it loudly, keep the run.
            errors.append(f"{version}: {exc}")
            continue
        prepared.append(PreparedRule(version, cond, amount))
    return prepared


def evaluate_arrays(
    prepared: list[PreparedRule],
    on: dt.date,
    *,
    enterprise_ids=None,
) -> RunResult:
    """Load the data for all (or some) enterprises and evaluate every rule over it."""
    t0 = time.perf_counter()
    reqs = set()
    for p in prepared:
        reqs |= p.condition.requirements
        if p.amount is not None:
            reqs |= p.amount.requirements
    subset = None
    if enterprise_ids is not None and len(enterprise_ids) <= SUBSET_QUERY_LIMIT:
        ids, columns = load_columns(reqs, on, enterprise_ids=enterprise_ids)
    else:
        ids, columns = load_columns(reqs, on)
        if enterprise_ids is not None:
            subset = np.isin(ids, np.asarray(list(enterprise_ids), dtype=np.int64))
            ids = ids[subset]
            columns = {k: v[subset] for k, v in columns.items()}
    t1 = time.perf_counter()
    result = RunResult(ids)
    evaluator = BulkEvaluator(columns, len(ids), on=on)
    for p in prepared:
        vid = p.version.pk
        result.verdicts[vid] = evaluator.verdicts(p.condition)
        if p.amount is not None:
            values, _known = evaluator.values(p.amount)
            result.amounts[vid] = values
    result.timings = {"load": t1 - t0, "evaluate": time.perf_counter() - t1}
    return result


# ---------------------------------------------------------------------------
# Packing and storing
# ---------------------------------------------------------------------------


@dataclass
class Packed:
    """A run's results as matrices: verdicts (n × positions) and amounts (n × amount positions)."""

    ids: np.ndarray
    verdicts: np.ndarray  # int8, n × P
    amounts: np.ndarray  # int64, n × len(amount_positions), NULL_AMOUNT where unknown
    amount_positions: list[int]


def _amount_ints(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), NULL_AMOUNT, dtype=np.int64)
    known = ~np.isnan(values)
    out[known] = np.clip(np.round(values[known]), -MAX_AMOUNT, MAX_AMOUNT).astype(np.int64)
    return out


def pack(result: RunResult, positions: list[int], amount_positions: list[int]) -> Packed:
    n = len(result.ids)
    verdicts = np.empty((n, len(positions)), dtype=VERDICT_DTYPE)
    for p, vid in enumerate(positions):
        verdicts[:, p] = result.verdicts[vid]
    amounts = np.empty((n, len(amount_positions)), dtype=np.int64)
    for k, p in enumerate(amount_positions):
        amounts[:, k] = _amount_ints(result.amounts[positions[p]])
    return Packed(result.ids, verdicts, amounts, amount_positions)


def _row_bytes(packed: Packed) -> tuple[list[bytes], list[bytes]]:
    """Per enterprise: its verdict vector and its eligible positions' amounts, as bytes."""
    n, width = packed.verdicts.shape
    vbuf = packed.verdicts.tobytes()
    vrows = [vbuf[i : i + width] for i in range(0, n * width, width)] if width else [b""] * n
    if not packed.amount_positions or not n:
        return vrows, [b""] * n
    eligible = packed.verdicts[:, packed.amount_positions] == 1
    flat = packed.amounts[eligible].astype(AMOUNT_DTYPE).tobytes()  # row-major: per row in order
    ends = (np.cumsum(eligible.sum(axis=1)) * 8).tolist()
    starts = [0, *ends[:-1]]
    return vrows, [flat[a:b] for a, b in zip(starts, ends, strict=True)]


_ROW_COLUMNS = "(snapshot_id, enterprise_id, verdicts, amounts, computed_in)"


def store_enterprise_rows(snapshot_id: int, packed: Packed) -> int:
    """Write one row per enterprise; returns how many."""
    n = len(packed.ids)
    if not n:
        return 0
    vrows, arows = _row_bytes(packed)
    ids = packed.ids.tolist()
    table = SnapshotEnterprise._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {table} {_ROW_COLUMNS} FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int8", "int8", "bytea", "bytea", "int4"])
                write = copy.write_row
                for ent, v, a in zip(ids, vrows, arows, strict=True):
                    write((snapshot_id, ent, v, a, snapshot_id))
        return n
    # Table and column names are ours (model metadata), never user input.
    sql = f"INSERT INTO {table} {_ROW_COLUMNS} VALUES (%s, %s, %s, %s, %s)"  # noqa: S608
    rows = [
        (snapshot_id, ent, v, a, snapshot_id) for ent, v, a in zip(ids, vrows, arows, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return n


@dataclass
class RuleArrays:
    """One position's results: eligible ids (sorted), their amounts, the unknown count."""

    ids: np.ndarray
    amounts: np.ndarray | None
    unknown: int


def rule_arrays(packed: Packed, p: int) -> RuleArrays:
    col = packed.verdicts[:, p]
    eligible = col == 1
    amounts = None
    if p in packed.amount_positions:
        amounts = packed.amounts[eligible, packed.amount_positions.index(p)]
    return RuleArrays(packed.ids[eligible], amounts, int((col == -1).sum()))


def store_rule_rows(
    snapshot: RuleSnapshot, prepared: list[PreparedRule], arrays: list[RuleArrays], total: int
) -> list[SnapshotRule]:
    rows = []
    for p, (prep, arr) in enumerate(zip(prepared, arrays, strict=True)):
        amounts = arr.amounts
        known = amounts[amounts != NULL_AMOUNT] if amounts is not None else np.zeros(0, np.int64)
        rows.append(
            SnapshotRule(
                snapshot=snapshot,
                rule_version=prep.version,
                position=p,
                eligible=len(arr.ids),
                unknown=arr.unknown,
                not_eligible=max(total - len(arr.ids) - arr.unknown, 0),
                total_amount=int(known.sum()),
                has_amount=amounts is not None,
                eligible_ids=encode_ids(arr.ids),
                eligible_amounts=b"" if amounts is None else encode_amounts(amounts),
            )
        )
    if connection.vendor == "postgresql":
        _copy_rule_rows(rows)
    else:
        SnapshotRule.objects.bulk_create(rows)
    return rows


_RULE_FIELDS = [
    ("snapshot_id", "int8"), ("rule_version_id", "int8"), ("position", "int2"),
    ("eligible", "int4"), ("not_eligible", "int4"), ("unknown", "int4"),
    ("total_amount", "int8"), ("has_amount", "bool"), ("eligible_ids", "bytea"),
    ("eligible_amounts", "bytea"),
]  # fmt: skip


def _copy_rule_rows(rows: list[SnapshotRule]) -> None:
    """Binary COPY: the packed arrays go over the wire as they are (no hex escaping)."""
    table = SnapshotRule._meta.db_table
    names = ", ".join(name for name, _ in _RULE_FIELDS)
    sql = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        copy.set_types([t for _, t in _RULE_FIELDS])
        for row in rows:
            copy.write_row([getattr(row, name) for name, _ in _RULE_FIELDS])


def _copy_unchanged(snapshot: RuleSnapshot, base: RuleSnapshot, cutoff) -> int:
    """Copy the base snapshot's rows of enterprises unchanged since `cutoff` (one statement)."""
    table = SnapshotEnterprise._meta.db_table
    ent = Enterprise._meta.db_table
    # Table names come from model metadata, values are parameters.
    sql = (
        f"INSERT INTO {table} {_ROW_COLUMNS} "  # noqa: S608
        f"SELECT %s, v.enterprise_id, v.verdicts, v.amounts, v.computed_in FROM {table} v "
        f"JOIN {ent} e ON e.id = v.enterprise_id "
        f"WHERE v.snapshot_id = %s AND (e.data_changed_at IS NULL OR e.data_changed_at <= %s) "
        f"AND e.created_at <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [snapshot.pk, base.pk, cutoff, cutoff])
        return cursor.rowcount


def _dropped_rows(snapshot: RuleSnapshot, base: RuleSnapshot, width: int, changed, copied: int):
    """Base rows not carried over (changed or deleted enterprises): ids and verdict matrix."""
    table = SnapshotEnterprise._meta.db_table
    expected = base.verdict_rows - max(copied, 0)
    rows = None
    if len(changed) <= SUBSET_QUERY_LIMIT:
        # Usually just the changed enterprises: an index lookup each.
        ids = [int(i) for i in changed] or [0]
        sql = (
            f"SELECT enterprise_id, verdicts FROM {table} WHERE snapshot_id = %s "  # noqa: S608
            f"AND enterprise_id IN ({', '.join(['%s'] * len(ids))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [base.pk, *ids])
            rows = cursor.fetchall()
        if len(rows) != expected:
            rows = None  # some enterprises were deleted too
    if rows is None:
        sql = (
            f"SELECT b.enterprise_id, b.verdicts FROM {table} b WHERE b.snapshot_id = %s "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {table} c WHERE c.snapshot_id = %s "
            "AND c.enterprise_id = b.enterprise_id)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [base.pk, snapshot.pk])
            rows = cursor.fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    matrix = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=VERDICT_DTYPE)
    return ids, matrix.reshape(len(rows), width)


def _patched_arrays(base: RuleSnapshot, dropped_ids, dropped, packed: Packed) -> list[RuleArrays]:
    """Per position: the base's arrays minus dropped enterprises plus the re-evaluated ones."""
    out = []
    base_rows = {r.position: r for r in SnapshotRule.objects.filter(snapshot=base)}
    for p in range(packed.verdicts.shape[1]):
        row = base_rows[p]
        old_ids = row.ids()
        keep = ~np.isin(old_ids, dropped_ids, assume_unique=True)
        fresh = rule_arrays(packed, p)
        ids = np.concatenate([old_ids[keep], fresh.ids])
        order = np.argsort(ids, kind="stable")
        amounts = None
        old_amounts = row.amounts()
        if fresh.amounts is not None and old_amounts is not None:
            amounts = np.concatenate([old_amounts[keep], fresh.amounts])[order]
        unknown = row.unknown - int((dropped[:, p] == -1).sum()) + fresh.unknown
        out.append(RuleArrays(ids[order], amounts, unknown))
    return out


def changed_since(cutoff) -> list[int]:
    return list(
        Enterprise.objects.filter(Q(data_changed_at__gt=cutoff) | Q(created_at__gt=cutoff))
        .order_by("id")
        .values_list("id", flat=True)
    )


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def run_snapshot(
    *,
    acting_user: User,
    on: dt.date | None = None,
    incremental: bool = False,
    notify: bool = True,
) -> RuleSnapshot:
    """Evaluate every rule in force on `on` for every enterprise and store a snapshot."""
    if not has_role(acting_user, Role.COMMISSION):
        raise PermissionDenied("Only commission staff (or the evaluation job) may run a snapshot.")
    on = on or timezone.localdate()
    started = timezone.now()
    t0 = time.perf_counter()
    errors: list[str] = []
    versions = versions_in_force(on)
    prepared = prepare(versions, errors)
    positions = [p.version.pk for p in prepared]
    amount_positions = [i for i, p in enumerate(prepared) if p.amount is not None]
    previous = RuleSnapshot.latest()
    base = None
    if (
        incremental
        and previous is not None
        and previous.data_date == on
        and previous.positions == positions
        and previous.amount_positions == amount_positions
    ):
        base = previous  # same rules, same date: only changed enterprises need a look

    snapshot = RuleSnapshot.objects.create(
        started_at=started,
        data_date=on,
        incremental=base is not None,
        base=base,
        positions=positions,
        amount_positions=amount_positions,
        created_by=acting_user,
    )
    snapshot.rule_versions.set([p.version for p in prepared])
    try:
        with transaction.atomic():
            if base is not None:
                changed = changed_since(base.started_at)
                result = evaluate_arrays(prepared, on, enterprise_ids=changed)
                t_store = time.perf_counter()
                copied = _copy_unchanged(snapshot, base, base.started_at)
                dropped_ids, dropped = _dropped_rows(
                    snapshot, base, len(positions), changed, copied
                )
                packed = pack(result, positions, amount_positions)
                written = store_enterprise_rows(snapshot.pk, packed)
                arrays = _patched_arrays(base, dropped_ids, dropped, packed)
            else:
                copied = 0
                result = evaluate_arrays(prepared, on)
                t_store = time.perf_counter()
                packed = pack(result, positions, amount_positions)
                written = store_enterprise_rows(snapshot.pk, packed)
                arrays = [rule_arrays(packed, p) for p in range(len(positions))]
            total = written + max(copied, 0)
            store_rule_rows(snapshot, prepared, arrays, total)
            result.timings["store"] = time.perf_counter() - t_store
            snapshot.enterprise_count = total
            snapshot.evaluated_count = len(result.ids)
            snapshot.verdict_rows = total
            snapshot.status = SnapshotStatus.DONE
            snapshot.finished_at = timezone.now()
            snapshot.seconds = time.perf_counter() - t0
            snapshot.error = "\n".join(errors)
            snapshot.save()
            if notify and previous is not None:
                _notify_newly_eligible(snapshot, previous, prepared, arrays)
    except Exception as exc:
        log.exception("rule snapshot %s failed", snapshot.pk)
        RuleSnapshot.objects.filter(pk=snapshot.pk).update(
            status=SnapshotStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    snapshot.timings = result.timings
    return snapshot


def _notify_newly_eligible(
    snapshot: RuleSnapshot,
    previous: RuleSnapshot,
    prepared: list[PreparedRule],
    arrays: list[RuleArrays],
) -> int:
    """Tell enterprise users once when a run finds them newly eligible for a rule."""
    if previous.enterprise_count <= 0:
        return 0
    before = {
        row.rule_version.rule_id: row.ids()
        for row in SnapshotRule.objects.filter(snapshot=previous).select_related("rule_version")
    }
    new_pairs = []
    for prep, arr in zip(prepared, arrays, strict=True):
        rule = prep.version.rule
        fresh = np.setdiff1d(arr.ids, before.get(rule.pk, np.zeros(0, np.int64)))
        new_pairs.extend((ent_id, rule) for ent_id in fresh.tolist())
    if not new_pairs:
        return 0
    already = set(
        EligibilityNotice.objects.filter(
            enterprise_id__in={e for e, _ in new_pairs}, rule_id__in={r.pk for _, r in new_pairs}
        ).values_list("enterprise_id", "rule_id")
    )
    new_pairs = [(e, r) for e, r in new_pairs if (e, r.pk) not in already]
    if not new_pairs:
        return 0
    users_by_ent: dict[int, list[User]] = {}
    for user in User.objects.filter(
        enterprise_id__in={e for e, _ in new_pairs}, role=Role.ENTERPRISE, is_active=True
    ):
        users_by_ent.setdefault(user.enterprise_id, []).append(user)
    now = timezone.now()
    notices, notes, mails = [], [], []
    for ent_id, rule in new_pairs:
        users = users_by_ent.get(ent_id, [])
        notices.append(
            EligibilityNotice(
                enterprise_id=ent_id,
                rule=rule,
                snapshot=snapshot,
                notified_at=now,
                recipients=len(users),
            )
        )
        link = reverse("rules:explain", args=[ent_id, rule.pk])
        title = f"贵企业新符合「{rule.name}」的条件"
        body = (
            f"根据 {snapshot.data_date:%Y-%m-%d} 的数据，贵企业已符合「{rule.name}」的"
            "自动判断条件；部分条件仍需工作人员核实。详情请登录平台查看。"
        )
        for user in users:
            notes.append(
                Notification(recipient=user, title=title, body=body, link=link, kind="eligibility")
            )
            if user.email:
                mails.append(OutboxEmail(to=user.email, subject=title, body=body))
    EligibilityNotice.objects.bulk_create(notices, ignore_conflicts=True, batch_size=2000)

    def send():
        Notification.objects.bulk_create(notes, batch_size=2000)
        OutboxEmail.objects.bulk_create(mails, batch_size=2000)

    transaction.on_commit(send)
    return len(notices)


def delete_snapshot(snapshot: RuleSnapshot) -> None:
    with transaction.atomic():
        SnapshotEnterprise.objects.filter(snapshot=snapshot)._raw_delete(
            SnapshotEnterprise.objects.db
        )
        snapshot.delete()


def prune_snapshots(keep: int = 5) -> int:
    """Drop all but the newest `keep` finished snapshots (their rows go with them)."""
    old = list(RuleSnapshot.objects.order_by("-started_at", "-id")[keep:])
    for snapshot in old:
        delete_snapshot(snapshot)
    return len(old)
