"""The register's data version and the list-count cache keyed by it.

A filtered list shows an exact count; at 10⁵–10⁶ enterprises that count costs more than
the page itself, and officers re-open the same filters all day. The count is therefore
cached for a short while under

    hash(the count query's SQL and parameters) + the register version

The SQL carries everything that decides the result — the filters, the user's scope, the
resolved "valid on today" date and metric year — so no two different questions share a key.
The version is one cheap query over

* `RegisterVersion`: a counter bumped *in the same transaction* as every save/delete of
  enterprises, their sectors, qualifications, annual reports and watch-list memberships
  (signals, see apps.py) and by the bulk paths of this app (ladder recompute, `touch`,
  demo data). Committed together with the change, so no process — whatever its cache —
  can read new data under the old version;
* MAX(Enterprise.data_changed_at) (indexed): the stamp every writer of enterprise data
  sets, bulk imports included, which fire no signals.

So the count a user sees after a change they made is never the old one. A bulk writer that
does neither (raw SQL elsewhere) is seen at most COUNT_TTL seconds late.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F
from django.utils import timezone

from kechuang.enterprises.models import Enterprise, RegisterVersion

COUNT_TTL = 120  # seconds


def register_changed() -> None:
    """Bump the register version (call inside the writing transaction)."""
    now = timezone.now()
    if not RegisterVersion.objects.filter(pk=1).update(value=F("value") + 1, changed_at=now):
        RegisterVersion.objects.update_or_create(pk=1, defaults={"value": 1, "changed_at": now})


def register_version(using: str = DEFAULT_DB_ALIAS) -> str:
    """The version every cached count is keyed by (one indexed query)."""
    version = RegisterVersion._meta.db_table
    enterprise = Enterprise._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT value FROM {version} WHERE id = 1),"  # noqa: S608
            f" (SELECT changed_at FROM {version} WHERE id = 1),"
            f" (SELECT MAX(data_changed_at) FROM {enterprise})"
        )
        row = cursor.fetchone()
    return "|".join(str(v) for v in row)


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
