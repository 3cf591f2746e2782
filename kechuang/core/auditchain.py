"""Tamper evidence for the audit log: a SHA-256 hash chain over entries, and its verification.

Each entry stores its chain position (`seq`), the previous entry's hash and its own hash
over a canonical JSON of its fields plus that previous hash. Positions are handed out
under a lock on the one-row chain head, which also keeps the last position, hash and
count, so a deleted last entry is found too (docs/decisions/0007-audit-hash-chain.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from kechuang.core.models import AuditChainHead, AuditEntry

GENESIS = "0" * 64
# The fields that go into an entry's hash, in this order (content type by natural key so
# that a restore onto a database with other content-type ids still verifies).
HASHED = (
    "at",
    "actor_id",
    "actor_name",
    "via",
    "content_type_id",
    "object_id",
    "object_repr",
    "action",
    "event",
    "changes",
)


def _ct_label(ct_id: int, cache: dict[int, str], using: str = "default") -> str:
    label = cache.get(ct_id)
    if label is None:
        ct = ContentType.objects.db_manager(using).get_for_id(ct_id)
        label = cache[ct_id] = f"{ct.app_label}.{ct.model}"
    return label


# One encoder for every entry (json.dumps with options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
# Bulk writes stamp every entry with the same time; the pair is swapped whole (threads).
_last_at: tuple = (None, "")


def _at(value) -> str:
    global _last_at
    cached = _last_at
    if value is cached[0]:
        return cached[1]
    original = value
    if isinstance(value, str):  # SQLite raw rows
        value = dt.datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    text = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _last_at = (original, text)
    return text


def _changes(value):
    return json.loads(value) if isinstance(value, str) else value


def digest(seq: int, prev_hash: str, values: Sequence, cache: dict[int, str]) -> str:
    """The hash of one entry: SHA-256 of its canonical JSON (fields in HASHED order)."""
    at, actor_id, actor_name, via, ct_id, object_id, object_repr, action, event, changes = values
    doc = [
        seq,
        prev_hash,
        _at(at),
        actor_id,
        actor_name,
        via,
        _ct_label(ct_id, cache),
        object_id,
        object_repr,
        action,
        event,
        _changes(changes),
    ]
    return hashlib.sha256(_ENCODER.encode(doc).encode()).hexdigest()


def _lock_head() -> tuple[int, str]:
    """The chain head (position, hash), write-locked until the caller's transaction ends."""
    # An UPDATE first: on PostgreSQL it row-locks the head, on SQLite it takes the write
    # lock, so two transactions never read the same head and fork the chain.
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET updated_at = %s WHERE id = 1 RETURNING seq, entry_hash",  # noqa: S608
            [timezone.now()],
        )
        row = cursor.fetchone()
    if row is None:
        AuditChainHead.objects.create(pk=1)
        return 0, GENESIS
    return row[0], row[1]


def link_values(rows: Sequence[Sequence]) -> list[tuple[int, str, str]]:
    """Chain positions for rows of HASHED values: (seq, prev_hash, entry_hash) each.

    Must run inside the transaction that inserts the rows; the head stays locked to it.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Audit entries are chained inside the writing transaction.")
    seq, prev = _lock_head()
    cache: dict[int, str] = {}
    out = []
    for values in rows:
        seq += 1
        entry_hash = digest(seq, prev, values, cache)
        out.append((seq, prev, entry_hash))
        prev = entry_hash
    AuditChainHead.objects.filter(pk=1).update(
        seq=seq, entry_hash=prev, count=F("count") + len(out)
    )
    return out


def link(entries: Sequence[AuditEntry]) -> None:
    """Give unsaved entries their chain position and hashes (in list order)."""
    rows = [[getattr(e, name) for name in HASHED] for e in entries]
    for entry, (seq, prev, entry_hash) in zip(entries, link_values(rows), strict=True):
        entry.seq, entry.prev_hash, entry.entry_hash = seq, prev, entry_hash


# ---------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------


@dataclass
class Problem:
    entry_id: int | None
    seq: int | None
    kind: str  # changed, deleted, inserted, head
    message: str


@dataclass
class Verification:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def _rows(using: str, batch: int = 5000) -> Iterator[tuple]:
    qs = (
        AuditEntry.objects.using(using)
        .order_by("seq", "id")
        .values_list("id", "seq", "prev_hash", "entry_hash", *HASHED)
    )
    # Plain keyset pages (not a server-side cursor), the same on every backend.
    last = None
    while True:
        page = qs.filter(seq__gt=last) if last is not None else qs.filter(seq__isnull=False)
        chunk = list(page[:batch])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1][1]


def verify(limit: int = 20, using: str = "default") -> Verification:
    """Re-compute the chain in position order; report changed, deleted and inserted entries."""
    result = Verification()
    unchained = list(
        AuditEntry.objects.using(using)
        .filter(seq__isnull=True)
        .values_list("id", flat=True)[:limit]
    )
    for entry_id in unchained:
        result.problems.append(
            Problem(
                entry_id, None, "inserted", f"entry #{entry_id} is not in the chain (no position)"
            )
        )
    # Content-type labels of the database being verified (ids may differ from this one's).
    cache = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.using(using).all()}
    expected_seq, prev = 1, GENESIS
    for entry_id, seq, prev_hash, entry_hash, *values in _rows(using):
        result.checked += 1
        if seq != expected_seq:
            first, last = expected_seq, seq - 1
            span = f"position {first}" if first == last else f"positions {first}–{last}"
            result.problems.append(
                Problem(entry_id, seq, "deleted", f"{span} missing before entry #{entry_id}")
            )
        elif prev_hash != prev:
            result.problems.append(
                Problem(
                    entry_id,
                    seq,
                    "broken",
                    f"entry #{entry_id} (position {seq}) does not follow the entry before it "
                    "(that entry was changed and re-hashed, or this one was put in its place)",
                )
            )
        if digest(seq, prev_hash, values, cache) != entry_hash:
            result.problems.append(
                Problem(entry_id, seq, "changed", f"entry #{entry_id} (position {seq}) was changed")
            )
        expected_seq, prev = seq + 1, entry_hash
        if len(result.problems) >= limit:
            break
    result.head_seq, result.head_hash = expected_seq - 1, prev
    if len(result.problems) < limit:
        head = AuditChainHead.objects.using(using).filter(pk=1).first()
        head_seq, head_hash, head_count = (
            (head.seq, head.entry_hash, head.count) if head else (0, GENESIS, 0)
        )
        if (head_seq, head_hash) != (result.head_seq, prev) or head_count != result.checked:
            result.problems.append(
                Problem(
                    None,
                    head_seq,
                    "deleted" if head_seq > result.head_seq else "head",
                    f"the chain ends at position {result.head_seq} with {result.checked} entries, "
                    f"but the head records position {head_seq} with {head_count}",
                )
            )
    return result


def rebuild_all(
    rows: Iterable[tuple], cache: dict[int, str] | None = None
) -> Iterator[tuple[int, int, str, str]]:
    """(id, seq, prev_hash, entry_hash) for rows (id, *HASHED) in id order (the migration)."""
    cache = {} if cache is None else cache
    prev = GENESIS
    for seq, (entry_id, *values) in enumerate(rows, start=1):
        entry_hash = digest(seq, prev, values, cache)
        yield entry_id, seq, prev, entry_hash
        prev = entry_hash
