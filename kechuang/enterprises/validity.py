"""When a qualification is valid on a date: the one definition, in the three forms callers need.

A certificate is valid on day D when it was issued on or before D, expires on or after D (or
never), and was not revoked on or before D (revoked on D: no longer valid that day).

* `valid_on_q(day)`: the ORM condition (querysets, `Qualification.objects.valid_on`);
* `valid_on_sql(day)`: the same condition compiled to SQL by the ORM, for the raw bulk
  queries of the rules loader and the indicator aggregates;
* `valid_on_mask(issued, expires, revoked, day)`: the same rule over NumPy columns (or plain
  values), for the columnar paths; `is_valid_on` applies it to one certificate.

`tests/test_validity.py` checks that the forms agree on the edge dates.
"""

from __future__ import annotations

import datetime

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Q

NEVER = datetime.date.max  # the expiry / revocation day of a certificate that has none


def valid_on_q(day: datetime.date, prefix: str = "") -> Q:
    """Q for qualifications in force on `day`; `prefix` reaches them through a relation."""
    return (
        Q(**{f"{prefix}issued_on__lte": day})
        & (Q(**{f"{prefix}expires_on__isnull": True}) | Q(**{f"{prefix}expires_on__gte": day}))
        & (Q(**{f"{prefix}revoked_on__isnull": True}) | Q(**{f"{prefix}revoked_on__gt": day}))
    )


def valid_on_sql(day: datetime.date, using: str = DEFAULT_DB_ALIAS) -> tuple[str, list]:
    """(SQL, params): `valid_on_q(day)` compiled over the qualification table's own columns
    (table-qualified, so it fits any query that reads the table without an alias)."""
    from kechuang.enterprises.models import Qualification

    connection = connections[using]
    query = Qualification.objects.filter(valid_on_q(day)).query
    sql, params = query.where.as_sql(query.get_compiler(connection=connection), connection)
    return f"({sql})", list(params)


def valid_on_mask(issued, expires, revoked, day):
    """The rule over columns (NumPy arrays, or single values): missing expiry and revocation
    must be given as a value later than any day asked about (NEVER, or a large day number)."""
    return (issued <= day) & (expires >= day) & (revoked > day)


def is_valid_on(
    issued: datetime.date,
    expires: datetime.date | None,
    revoked: datetime.date | None,
    day: datetime.date,
) -> bool:
    """One certificate, with None for "never expires" / "not revoked"."""
    return bool(valid_on_mask(issued, expires or NEVER, revoked or NEVER, day))
