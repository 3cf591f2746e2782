"""Tamper evidence for the audit log: a keyed MAC per entry, a seal chain after commit, verify.

Writers compute each entry's HMAC-SHA256 (key AUDIT_KEY, kept outside the database) in
Python and take no lock. After commit, `seal_pending()` appends one seal per committed
entry to an append-only chain (hash = SHA-256 of position, previous hash, entry id, MAC)
under a one-row head that only sealers lock, without waiting for one another.
`verify()` finds changed, forged, deleted and unsealed entries and broken seals
(docs/decisions/0007-audit-hash-chain.md).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from kechuang.core.models import AuditEntry, AuditSeal, AuditSealHead

log = logging.getLogger(__name__)

GENESIS = "0" * 64
SEAL_BATCH = 20_000
# An entry committed but unsealed for longer than this is reported (sealer not running,
# or the entry was written outside the application).
GRACE = dt.timedelta(minutes=10)
# The fields that go into an entry's MAC, in this order (content type by natural key so
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


def keyed(key: str | None = None):
    """An HMAC-SHA256 state for the audit key, to be copied per entry (cheaper than new)."""
    key = settings.AUDIT_KEY if key is None else key
    if not key:
        raise ImproperlyConfigured(
            "Set SECRET_KEY (or AUDIT_KEY): audit entries are signed with a key derived from it, "
            "and this command writes or checks the audit log."
        )
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def mac(values: Sequence, cache: dict[int, str], state=None) -> str:
    """The MAC of one entry: HMAC-SHA256 of its canonical JSON (fields in HASHED order)."""
    at, actor_id, actor_name, via, ct_id, object_id, object_repr, action, event, changes = values
    doc = [
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
    h = (state or keyed()).copy()
    h.update(_ENCODER.encode(doc).encode())
    return h.hexdigest()


def macs(rows: Iterable[Sequence]) -> list[str]:
    """MACs for rows of HASHED values, in one pass (bulk paths)."""
    state, cache = keyed(), {}
    return [mac(values, cache, state) for values in rows]


def mac_of(entry: AuditEntry) -> str:
    """The MAC of an unsaved entry."""
    return mac([getattr(entry, name) for name in HASHED], {})


def seal_hash(seq: int, prev_hash: str, entry_id: int, entry_mac: str) -> str:
    """The hash of one seal, linking it to the one before."""
    return hashlib.sha256(f"{seq}|{prev_hash}|{entry_id}|{entry_mac}".encode()).hexdigest()


# ---------------------------------------------------------------------------
# Sealing
# ---------------------------------------------------------------------------


def _seal_callback(from_id: int | None, using: str) -> None:
    seal_pending(from_id=from_id, using=using)


def seal_after_commit(from_id: int | None, using: str = "default") -> None:
    """Seal this transaction's entries (ids >= from_id) after it commits; once per transaction."""
    conn = connections[using]
    if conn.in_atomic_block:
        for _sids, func, *_ in conn.run_on_commit:
            if getattr(func, "func", None) is _seal_callback:
                return  # ids grow within a transaction: the first hint covers the rest
    transaction.on_commit(
        functools.partial(_seal_callback, from_id, using), using=using, robust=True
    )


def _lock_head(using: str) -> tuple[int, str, int] | None:
    """The seal head (seq, hash, count) locked for this transaction, or None if a sealer has it."""
    conn = connections[using]
    table = conn.ops.quote_name(AuditSealHead._meta.db_table)
    skip = " FOR UPDATE SKIP LOCKED" if conn.vendor == "postgresql" else ""
    with conn.cursor() as cursor:
        for _ in range(2):
            cursor.execute(f"SELECT seq, hash, count FROM {table} WHERE id = 1{skip}")  # noqa: S608
            row = cursor.fetchone()
            if row is not None:
                return row
            # Skipped (another sealer has it: a plain read does not wait) or not there yet.
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = 1")  # noqa: S608
            if cursor.fetchone() is not None:
                return None
            cursor.execute(
                f"INSERT INTO {table} (id, seq, hash, count, updated_at) "  # noqa: S608
                "VALUES (1, 0, %s, 0, %s) ON CONFLICT (id) DO NOTHING",
                [GENESIS, timezone.now()],
            )
    return None  # the row exists but another sealer holds it


def _unsealed(using: str, after_id: int, limit: int) -> list[tuple]:
    conn = connections[using]
    q = conn.ops.quote_name
    entries, seals = q(AuditEntry._meta.db_table), q(AuditSeal._meta.db_table)
    columns = ", ".join(f"e.{q(AuditEntry._meta.get_field(n).column)}" for n in HASHED)
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.mac, {columns} FROM {entries} e "  # noqa: S608
            f"WHERE e.id > %s AND NOT EXISTS (SELECT 1 FROM {seals} s WHERE s.entry_id = e.id) "
            "ORDER BY e.id LIMIT %s",
            [after_id, limit],
        )
        return cursor.fetchall()


def _insert_seals(using: str, seals: list[tuple]) -> None:
    conn = connections[using]
    table = conn.ops.quote_name(AuditSeal._meta.db_table)
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (seq, entry_id, mac, prev_hash, hash, sealed_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s)",
            seals,
        )


def seal_pending(
    *, from_id: int | None = None, batch: int = SEAL_BATCH, using: str = "default"
) -> int:
    """Seal committed, unsealed entries with a valid MAC (ids >= from_id); returns how many.

    Call it after commit (it sees committed entries only): each batch is its own short
    transaction. If another sealer holds the head, return at once: that sealer, or the next
    run, picks the entries up. Entries whose MAC fails are left unsealed (verify reports them).
    """
    after = (from_id or 1) - 1
    state, cache, total = keyed(), {}, 0
    while True:
        try:
            with transaction.atomic(using=using):
                head = _lock_head(using)
                if head is None:
                    return total
                seq, prev, count = head
                rows = _unsealed(using, after, batch)
                if not rows:
                    return total
                seals, now = [], timezone.now()
                for entry_id, entry_mac, *values in rows:
                    if entry_mac and hmac.compare_digest(entry_mac, mac(values, cache, state)):
                        seq += 1
                        prev_hash, prev = prev, seal_hash(seq, prev, entry_id, entry_mac)
                        seals.append((seq, entry_id, entry_mac, prev_hash, prev, now))
                _insert_seals(using, seals)
                AuditSealHead.objects.using(using).filter(pk=1).update(
                    seq=seq, hash=prev, count=count + len(seals), updated_at=timezone.now()
                )
        except DatabaseError as exc:  # the head is busy (SQLite) or the chain clashed
            log.warning("audit sealing postponed: %s", exc)
            return total
        total += len(seals)
        after = rows[-1][0]
        if len(rows) < batch:
            return total


# ---------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------


@dataclass
class Problem:
    entry_id: int | None
    seq: int | None
    kind: str  # changed, forged, deleted, unsealed, seal, head
    message: str


@dataclass
class Verification:
    checked: int = 0
    sealed: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def _pages(qs, key: str, batch: int = 5000) -> Iterator[tuple]:
    """Rows of a values_list whose first column is `key`, in keyset pages."""
    last = None
    while True:
        page = qs.filter(**{f"{key}__gt": last}) if last is not None else qs
        chunk = list(page.order_by(key)[:batch])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1][0]


def _check_seals(result: Verification, using: str, limit: int) -> None:
    """Walk the seal chain in order; each seal's entry must exist with the sealed MAC."""
    problems = result.problems
    expected, prev = 1, GENESIS
    seals = AuditSeal.objects.using(using).values_list(
        "seq", "entry_id", "mac", "prev_hash", "hash"
    )
    page: list[tuple] = []

    def flush():
        ids = [s[1] for s in page]
        present = dict(AuditEntry.objects.using(using).filter(pk__in=ids).values_list("id", "mac"))
        for seq, entry_id, sealed_mac, _p, _h in page:
            if entry_id not in present:
                problems.append(
                    Problem(
                        entry_id, seq, "deleted",
                        f"entry #{entry_id} (sealed at position {seq}) is missing",
                    )
                )  # fmt: skip
            elif present[entry_id] != sealed_mac:
                problems.append(
                    Problem(
                        entry_id, seq, "changed",
                        f"entry #{entry_id} has another MAC than when it was sealed "
                        f"(position {seq}): changed and re-signed",
                    )
                )  # fmt: skip
        page.clear()

    for row in _pages(seals, "seq"):
        seq, entry_id, sealed_mac, prev_hash, seal = row
        result.sealed += 1
        if seq != expected:
            span = (
                f"position {expected}" if expected == seq - 1 else f"positions {expected}–{seq - 1}"
            )
            problems.append(
                Problem(
                    entry_id,
                    seq,
                    "seal",
                    f"seal {span} removed (before the seal of entry #{entry_id})",
                )
            )
        elif prev_hash != prev:
            problems.append(
                Problem(
                    entry_id, seq, "seal",
                    f"seal {seq} (entry #{entry_id}) does not follow the seal before it",
                )
            )  # fmt: skip
        if seal_hash(seq, prev_hash, entry_id, sealed_mac) != seal:
            problems.append(
                Problem(entry_id, seq, "seal", f"seal {seq} (entry #{entry_id}) was changed")
            )
        expected, prev = seq + 1, seal
        page.append(row)
        if len(page) >= 5000:
            flush()
        if len(problems) >= limit:
            break
    flush()
    result.head_seq, result.head_hash = expected - 1, prev


def _check_entries(result: Verification, using: str, limit: int, now) -> None:
    problems = result.problems
    cache = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.using(using).all()}
    state = keyed()
    entries = AuditEntry.objects.using(using).values_list("id", "mac", *HASHED)
    page: list[tuple] = []

    def flush():
        lo, hi = page[0][0], page[-1][0]
        sealed = set(
            AuditSeal.objects.using(using)
            .filter(entry_id__gte=lo, entry_id__lte=hi)
            .values_list("entry_id", flat=True)
        )
        for entry_id, entry_mac, *values in page:
            if not entry_mac:
                problems.append(
                    Problem(
                        entry_id,
                        None,
                        "forged",
                        f"entry #{entry_id} has no MAC (written outside the application)",
                    )
                )
            elif not hmac.compare_digest(entry_mac, mac(values, cache, state)):
                problems.append(
                    Problem(
                        entry_id, None, "changed",
                        f"entry #{entry_id} fails its MAC (changed, or written without the key)",
                    )
                )  # fmt: skip
            elif entry_id not in sealed and values[0] < now - GRACE:
                problems.append(
                    Problem(
                        entry_id, None, "unsealed",
                        f"entry #{entry_id} has not been sealed for more than {GRACE} "
                        "(is `kechuang audit seal` running?)",
                    )
                )  # fmt: skip
        page.clear()

    for row in _pages(entries, "id"):
        result.checked += 1
        page.append(row)
        if len(page) >= 5000:
            flush()
        if len(problems) >= limit:
            break
    if page:
        flush()


def verify(limit: int = 20, using: str = "default") -> Verification:
    """Check every entry's MAC and the whole seal chain; seal nothing (a forgery is never blessed)."""
    result = Verification()
    now = timezone.now()
    _check_seals(result, using, limit)
    if len(result.problems) < limit:
        _check_entries(result, using, limit, now)
    if len(result.problems) < limit:
        head = AuditSealHead.objects.using(using).filter(pk=1).first()
        h_seq, h_hash, h_count = (head.seq, head.hash, head.count) if head else (0, GENESIS, 0)
        if (h_seq, h_hash) != (result.head_seq, result.head_hash) or h_count != result.sealed:
            problems = result.problems
            problems.append(
                Problem(
                    None, h_seq, "deleted" if h_seq > result.head_seq else "head",
                    f"the seals end at position {result.head_seq} with {result.sealed} seals, "
                    f"but the head records position {h_seq} with {h_count}",
                )
            )  # fmt: skip
    del result.problems[limit:]
    return result
