"""Data versions of the register's tables, and the list-count cache keyed by them.

One mechanism for every cache of figures computed from the register (the list's exact
counts here, the computed plan indicators in `plans.aggregates`): a counter per table in
`DataVersion`, which a writer bumps *after it commits* (`transaction.on_commit`), with one
atomic `UPDATE … SET value = value + 1` in its own short transaction. A writer therefore never
holds a version row for the length of its transaction, and writers do not queue behind each
other (an import of 100,000 rows leaves every other edit free to proceed).

Why this is still never stale:

* another connection reads the counter only after the data it keys is committed, or before
  — then it may cache a new figure under the old counter, which the bump just after commit
  retires; it never caches an old figure under the new counter;
* the writing connection itself, until it commits, reads its tables under a version private
  to its open transaction (`counter+token.n`), so it never reuses a figure cached before its
  own change (and tests, which run inside one transaction, see every change at once).

Signals (apps.py) call `data_changed` for every save/delete of enterprises, their sectors,
qualifications, annual reports, watch-list memberships, industries and jurisdictions; bulk
paths call it themselves. Bulk imports, which fire no signals, stamp
`Enterprise.data_changed_at`, which is part of the register version too.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F

from kechuang.enterprises.models import DataVersion, Enterprise

log = logging.getLogger(__name__)

# enterprise (and its sectors), qual(ifications), (annual) report, watch(-list members),
# reference (industries, jurisdictions).
TABLES = ("enterprise", "qual", "report", "watch", "reference")
COUNT_TTL = 120  # seconds


@dataclass
class _Pending:
    """Tables changed by a connection's open transaction, and the callback that bumps them."""

    callback: object
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    tables: set[str] = field(default_factory=set)
    writes: int = 0


def _pending(conn) -> _Pending | None:
    """This connection's pending changes, if its transaction is still open."""
    state = getattr(conn, "_kechuang_pending_versions", None)
    if state is None:
        return None
    # Gone from the hooks: the transaction (or the savepoint that registered it) rolled back.
    if not conn.in_atomic_block or not any(h[1] is state.callback for h in conn.run_on_commit):
        conn._kechuang_pending_versions = None
        return None
    return state


def _bump(tables, using: str) -> None:
    """Raise the counters by one, each in one short autocommitted statement."""
    for name in sorted(tables):
        if not DataVersion.objects.using(using).filter(name=name).update(value=F("value") + 1):
            DataVersion.objects.using(using).bulk_create(
                [DataVersion(name=name, value=1)], ignore_conflicts=True
            )


def data_changed(*tables: str, using: str = DEFAULT_DB_ALIAS) -> None:
    """Record that `tables` (default: all) changed; their versions move when the change
    commits (at once outside a transaction). Never blocks the caller on a lock."""
    names = set(tables or TABLES)
    unknown = names - set(TABLES)
    if unknown:
        raise ValueError(f"Unknown data-version tables: {', '.join(sorted(unknown))}.")
    conn = connections[using]
    if not conn.in_atomic_block:
        _bump(names, using)
        return
    state = _pending(conn)
    if state is None:

        def after_commit():
            conn._kechuang_pending_versions = None
            try:
                _bump(state.tables, using)
            except Exception:  # the write is committed; a missed bump only costs the TTL
                log.exception("Could not bump data versions %s", sorted(state.tables))

        state = _Pending(callback=after_commit)
        transaction.on_commit(after_commit, using=using)
        conn._kechuang_pending_versions = state
    state.tables |= names
    state.writes += 1


def register_changed() -> None:
    """Every table of the register changed (bulk writers that fire no signals)."""
    data_changed()


def local_suffix(table: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """What this connection adds to `table`'s committed version: a version private to its
    open transaction when that transaction changed the table, else nothing."""
    state = _pending(connections[using])
    if state is None or table not in state.tables:
        return ""
    return f"+{state.token}.{state.writes}"


def table_versions(tables=TABLES, using: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """{table: version} as this connection should key its caches (one query)."""
    rows = dict(
        DataVersion.objects.using(using).filter(name__in=tables).values_list("name", "value")
    )
    return {t: f"{rows.get(t, 0)}{local_suffix(t, using)}" for t in tables}


def register_version(using: str = DEFAULT_DB_ALIAS) -> str:
    """The version every cached count is keyed by (one indexed query)."""
    version = DataVersion._meta.db_table
    enterprise = Enterprise._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT name, value, (SELECT MAX(data_changed_at) FROM {enterprise})"  # noqa: S608
            f" FROM {version} ORDER BY name"
        )
        rows = cursor.fetchall()
        if rows:
            stamp = rows[0][2]
        else:  # no counter yet (a fresh or flushed database)
            cursor.execute(f"SELECT MAX(data_changed_at) FROM {enterprise}")  # noqa: S608
            stamp = cursor.fetchone()[0]
    counters = {name: value for name, value, _ in rows}
    parts = [f"{t}={counters.get(t, 0)}{local_suffix(t, using)}" for t in TABLES]
    return "|".join([*parts, str(stamp)])


def cached_count(queryset) -> int:
    """`queryset.count()`, cached under the query's SQL and the register version."""
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # e.g. .none(): nothing to count
        return 0
    raw = f"{queryset.db}|{sql}|{params!r}|{register_version(queryset.db)}"
    key = "enterprises:count:" + hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, COUNT_TTL)
    return count
