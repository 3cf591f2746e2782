"""Load the data rules need, set-at-a-time: raw SQL, NumPy columns out, no model instances.

`load_columns(requirements, on)` returns the enterprise id array (sorted) and a mapping
from engine requirement key to an array aligned with it:

* ("field", code)                 -> enterprise attribute (numbers float64/NaN, dates
                                     float days since 1970/NaN, bools int8 1/0/-1, text
                                     object/None)
* ("metric", code, offset)        -> annual report of year on.year + offset (float64/NaN)
* ("qualification", ref, spec)    -> int8 1/0: a qualification of the type `ref` names
                                     (by name, code or normalised name; see
                                     kechuang.rules.qualifications) valid on the date the
                                     spec names

Two queries whatever the rule set: enterprises LEFT JOIN one annual report per needed
year (one row per enterprise, already aligned), and one UNION ALL over the qualification
references with validity decided in SQL (the covering index `qual_valid_on_idx` answers
it). `load_facts(enterprise_id, …)` is the same for one enterprise, as the dict the
engine's explain() reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np
from django.core.exceptions import FieldDoesNotExist
from django.db import connection

from kechuang.enterprises.models import ANNUAL_METRICS, AnnualReport, Enterprise, Qualification
from kechuang.enterprises.validity import is_valid_on, valid_on_sql
from kechuang.rules.engine.ir import resolve_date_spec
from kechuang.rules.engine.types import NUMERIC_TYPES
from kechuang.rules.models import Variable
from kechuang.rules.qualifications import QualificationIndex

NUMERIC = {t.value for t in NUMERIC_TYPES}


class LoaderError(Exception):
    """A requirement the database cannot supply (unknown variable or field)."""


def _enterprise_field(var: Variable):
    """The concrete Enterprise field a field variable reads, or None if it is not on it."""
    path = var.db_field or var.code
    if "__" in path:
        return None
    try:
        field = Enterprise._meta.get_field(path)
    except FieldDoesNotExist:
        return None
    return field if field.concrete and not field.many_to_many else None


def _days_sql(column: str, internal_type: str) -> str:
    """SQL for a date column as days since 1970-01-01 (NULL stays NULL)."""
    if connection.vendor == "postgresql":
        cast = f"{column}::date" if internal_type == "DateTimeField" else column
        return f"({cast} - DATE '1970-01-01')"
    return f"(julianday(date({column})) - 2440587.5)"


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _plan(reqs: set, on: dt.date, variables: dict[str, Variable]):
    fields: dict[tuple, tuple[object, str]] = {}  # key -> (Enterprise field, type)
    metrics: dict[tuple, tuple[str, int, str]] = {}  # key -> (report field, year, type)
    quals: dict[tuple, tuple[str, dt.date]] = {}
    for key in reqs:
        kind = key[0]
        if kind == "field":
            var = variables.get(key[1])
            if var is None:
                raise LoaderError(f"unknown variable {key[1]!r}")
            field = _enterprise_field(var)
            if field is not None:
                fields[key] = (field, var.type)
            elif (var.db_field or var.code) in ANNUAL_METRICS:
                # A yearly figure declared as a field: read the report of its default year.
                metrics[key] = (var.db_field or var.code, on.year + var.year, var.type)
            else:
                raise LoaderError(f"variable {key[1]!r} has no enterprise field to read")
        elif kind == "metric":
            var = variables.get(key[1])
            field = (var.db_field or var.code) if var is not None else key[1]
            if field not in ANNUAL_METRICS:
                raise LoaderError(f"{key[1]!r} is not an annual-report metric")
            metrics[key] = (field, on.year + int(key[2]), var.type if var else "number")
        elif kind == "qualification":
            quals[key] = (key[1], resolve_date_spec(key[2], on))
        else:
            raise LoaderError(f"unknown requirement {key!r}")
    return fields, metrics, quals


def _id_filter(column: str, enterprise_ids: Sequence[int] | None) -> tuple[str, list]:
    if enterprise_ids is None:
        return "", []
    ids = [int(i) for i in enterprise_ids]
    if not ids:
        return " WHERE 1 = 0", []
    return f" WHERE {column} IN ({', '.join(['%s'] * len(ids))})", ids


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _to_float(values) -> np.ndarray:
    """None -> NaN; numbers (int, Decimal, float) -> float64."""
    try:
        return np.array(values, dtype=np.float64)
    except TypeError:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _bool_column(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), -1, dtype=np.int8)
    known = ~np.isnan(values)
    out[known] = (values[known] != 0).astype(np.int8)
    return out


def load_columns(
    requirements: Iterable[tuple],
    on: dt.date,
    *,
    enterprise_ids: Sequence[int] | None = None,
    variables: dict[str, Variable] | None = None,
    quals: QualificationIndex | None = None,
) -> tuple[np.ndarray, dict[tuple, np.ndarray]]:
    """Enterprise ids (sorted) and one column per requirement; two queries in all."""
    reqs = set(requirements)
    if variables is None or quals is None:
        from kechuang.rules.compiling import current_context

        _schema, ctx_vars, ctx_quals = current_context()
        variables = ctx_vars if variables is None else variables
        quals = ctx_quals if quals is None else quals
    fields, metrics, qual_reqs = _plan(reqs, on, variables)

    # 1. enterprises, with one LEFT JOIN per report year: one row per enterprise
    ent = Enterprise._meta.db_table
    rep = AnnualReport._meta.db_table
    numeric_sql: list[str] = []  # every numeric/date/bool column, read into one float matrix
    text_sql: list[str] = []
    where: dict[tuple, tuple[str, int]] = {}  # key -> ("num"|"text", column index)
    for key, (field, vtype) in sorted(fields.items()):
        col = f"e.{connection.ops.quote_name(field.column)}"
        if vtype == "date":
            where[key] = ("num", len(numeric_sql))
            numeric_sql.append(_days_sql(col, field.get_internal_type()))
        elif vtype in NUMERIC or vtype == "bool":
            where[key] = ("num", len(numeric_sql))
            numeric_sql.append(col)
        else:
            where[key] = ("text", len(text_sql))
            text_sql.append(col)
    years = sorted({y for _, y, _ in metrics.values()})
    alias = {y: f"r{i}" for i, y in enumerate(years)}
    joins, join_params = [], []
    for y in years:
        a = alias[y]
        joins.append(f" LEFT JOIN {rep} {a} ON {a}.enterprise_id = e.id AND {a}.year = %s")
        join_params.append(y)
    for key, (report_field, year, _) in sorted(metrics.items()):
        column = AnnualReport._meta.get_field(report_field).column
        where[key] = ("num", len(numeric_sql))
        numeric_sql.append(f"{alias[year]}.{connection.ops.quote_name(column)}")
    filter_sql, filter_params = _id_filter("e.id", enterprise_ids)
    select = ", ".join(["e.id", *numeric_sql, *text_sql])
    # Table and column names come from model metadata; values are parameters.
    rows = _fetch(
        f"SELECT {select} FROM {ent} e{''.join(joins)}{filter_sql} ORDER BY e.id",  # noqa: S608
        join_params + filter_params,
    )
    n = len(rows)
    width = 1 + len(numeric_sql)
    if text_sql:
        numeric_rows = [r[:width] for r in rows]
        text_cols = list(zip(*[r[width:] for r in rows], strict=True)) if rows else []
    else:
        numeric_rows = rows
        text_cols = []
    mat = _to_float(numeric_rows).reshape(n, width) if n else np.zeros((0, width))
    ids = mat[:, 0].astype(np.int64)
    columns: dict[tuple, np.ndarray] = {}
    for key, (kind, idx) in where.items():
        vtype = fields[key][1] if key in fields else metrics[key][2]
        if kind == "text":
            values = text_cols[idx] if text_cols else ()
            columns[key] = np.array(
                [None if v is None else str(v) for v in values], dtype=object
            ).reshape(n)
            continue
        col = np.ascontiguousarray(mat[:, 1 + idx])
        columns[key] = _bool_column(col) if vtype == "bool" else col

    # 2. qualifications: one query, validity decided by the database
    if qual_reqs:
        for key in qual_reqs:
            columns[key] = np.zeros(n, dtype=np.int8)
        if n:
            _load_qualifications(columns, qual_reqs, ids, quals, enterprise_ids)
    return ids, columns


def _load_qualifications(columns, qual_reqs, ids, quals, enterprise_ids) -> None:
    keys = sorted(qual_reqs)
    resolved = {key: quals.resolve(qual_reqs[key][0]) for key in keys}
    # Unresolved references: nobody holds them (the rule page warns).
    keys = [key for key in keys if resolved[key] is not None]
    if not keys:
        return
    q = Qualification._meta.db_table
    n = len(ids)
    if enterprise_ids is not None:
        # A few enterprises: their qualifications by the enterprise index, decided here.
        id_sql, id_params = _id_filter("enterprise_id", enterprise_ids)
        type_ids = sorted({resolved[k] for k in keys})
        rows = _fetch(
            f"SELECT enterprise_id, type_id, issued_on, expires_on, revoked_on FROM {q}"  # noqa: S608
            f"{id_sql} AND type_id IN ({', '.join(['%s'] * len(type_ids))})",
            id_params + type_ids,
        )
        index = {int(e): i for i, e in enumerate(ids.tolist())}
        for ent, type_id, issued, expires, revoked in rows:
            i = index.get(int(ent))
            if i is None:
                continue
            issued = _as_date(issued)
            expires = None if expires is None else _as_date(expires)
            revoked = None if revoked is None else _as_date(revoked)
            for key in keys:
                if resolved[key] == type_id and is_valid_on(
                    issued, expires, revoked, qual_reqs[key][1]
                ):
                    columns[key][i] = 1
        return
    # Everyone: one UNION ALL over the references, answered by the covering index
    # (type, issued_on, expires_on, revoked_on, enterprise).
    parts, params = [], []
    for i, key in enumerate(keys):
        valid_sql, valid_params = valid_on_sql(qual_reqs[key][1])
        parts.append(f"SELECT {i}, enterprise_id FROM {q} WHERE type_id = %s AND {valid_sql}")  # noqa: S608
        params += [resolved[key], *valid_params]
    rows = _fetch(" UNION ALL ".join(parts), params)
    if not rows:
        return
    pairs = np.array(rows, dtype=np.int64).reshape(len(rows), 2)
    pos = np.searchsorted(ids, pairs[:, 1])
    ok = pos < n
    ok[ok] = ids[pos[ok]] == pairs[ok, 1]
    for i, key in enumerate(keys):
        sel = ok & (pairs[:, 0] == i)
        columns[key][pos[sel]] = 1


def load_facts(
    enterprise_id: int,
    requirements: Iterable[tuple],
    on: dt.date,
    *,
    variables: dict[str, Variable] | None = None,
    quals: QualificationIndex | None = None,
) -> dict[tuple, object]:
    """The facts of one enterprise, keyed like the engine's requirements (for explain)."""
    ids, columns = load_columns(
        requirements, on, enterprise_ids=[enterprise_id], variables=variables, quals=quals
    )
    if not len(ids):
        return {}
    return {key: col[0] for key, col in columns.items()}


def variable_map() -> dict[str, Variable]:
    """All variables by code (cached with the schema)."""
    from kechuang.rules.compiling import current_context

    return current_context()[1]
