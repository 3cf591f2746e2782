"""Read a few columns of a large table into NumPy arrays, fast.

`load(table, {column: kind})` returns {column: int64 array}, kind "int", "id" or "date":
dates come back as days since 1970-01-01 (`day_number`), NULL as `NULL` for ints and as -1 for
ids and dates (short, so cheap to transfer; neither is ever negative).

The rows are packed into text by the database and parsed by `numpy.fromstring`: a handful of
values cross the driver instead of rows × columns Python objects. That is what took reading
300,000 annual reports from ~0.6 s (`fetchall`) to ~0.15 s.
- SQLite: one `group_concat` per column. SQLite feeds every aggregate of a query the same rows
  in the same order (no parallelism), and one concatenation per row is 3× slower.
- PostgreSQL: one `string_agg` of "a,b,c" per row, which keeps a row's columns together
  whatever the plan (parallel aggregation included). Faster than COPY (one Python chunk per
  row) and than `array_send(array_agg(…))`.
Other databases fall back to `fetchall`.
"""

from __future__ import annotations

import datetime

import numpy as np
from django.db import connection

NULL = -(2**62)  # SQL NULL in an "int" column (a metric may be negative, never this)
EPOCH = datetime.date(1970, 1, 1)


def day_number(day: datetime.date) -> int:
    return (day - EPOCH).days


def _expr(column: str, kind: str, vendor: str) -> str:
    col = connection.ops.quote_name(column)
    if kind == "date":
        if vendor == "sqlite":  # stored as 'YYYY-MM-DD' text → YYYYMMDD, made days below
            col = f"CAST(REPLACE({col}, '-', '') AS INTEGER)"
        elif vendor == "postgresql":
            col = f"({col} - DATE '1970-01-01')"
    return f"COALESCE({col}, {NULL if kind == 'int' else -1})"


def _yyyymmdd_to_days(v: np.ndarray) -> np.ndarray:
    null = v < 0
    y, m, d = v // 10000, v // 100 % 100, v % 100
    months = (y - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (m - 1)
    out = (months.astype("datetime64[D]") + (d - 1)).astype(np.int64)
    out[null] = -1
    return out


def _parse(packed: str | None, table: str) -> np.ndarray:
    if not packed:
        return np.empty(0, np.int64)
    try:
        return np.fromstring(packed, dtype=np.int64, sep=",")  # raises on malformed input
    except ValueError as exc:
        raise ValueError(f"Could not read the columns of {table}: {exc}") from None


def load(
    table: str, columns: dict[str, str], *, where: str = "", params: tuple | list = ()
) -> dict[str, np.ndarray]:
    """{column: int64 array} for `columns` ({name: "int" | "id" | "date"}) of `table`'s rows
    matching `where` (SQL with %s placeholders for `params`)."""
    names = list(columns)
    vendor = connection.vendor
    clause = f" WHERE {where}" if where else ""
    qtable = connection.ops.quote_name(table)
    if vendor == "sqlite":
        aggs = ", ".join(f"group_concat({_expr(c, columns[c], vendor)}, ',')" for c in names)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {aggs} FROM {qtable}{clause}", params)  # noqa: S608
            packed = cursor.fetchone()
        out = {c: _parse(p, table) for c, p in zip(names, packed, strict=True)}
        for c in names:
            if columns[c] == "date":
                out[c] = _yyyymmdd_to_days(out[c])
        return out
    if vendor == "postgresql":
        row = " || ',' || ".join(f"({_expr(c, columns[c], vendor)})::text" for c in names)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT string_agg({row}, ',') FROM {qtable}{clause}", params)  # noqa: S608
            flat = _parse(cursor.fetchone()[0], table).reshape(-1, len(names))
        return {c: np.ascontiguousarray(flat[:, i]) for i, c in enumerate(names)}
    cols = ", ".join(connection.ops.quote_name(c) for c in names)  # pragma: no cover
    with connection.cursor() as cursor:  # pragma: no cover
        cursor.execute(f"SELECT {cols} FROM {qtable}{clause}", params)  # noqa: S608
        rows = cursor.fetchall()

    def conv(v, kind):  # pragma: no cover
        if v is None:
            return NULL if kind == "int" else -1
        if kind == "date":
            v = datetime.date.fromisoformat(v) if isinstance(v, str) else v
            return day_number(v)
        return int(v)

    return {  # pragma: no cover
        c: np.array([conv(r[i], columns[c]) for r in rows], dtype=np.int64)
        for i, c in enumerate(names)
    }
