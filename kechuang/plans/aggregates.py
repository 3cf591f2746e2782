"""Computed indicators: aggregates over the enterprise registers, set-at-a-time and cached.

A computed indicator's `source` is a small JSON spec:

    {"aggregate": "count_valid",  "qualification": ["HTE"], "filter": {...}}
        distinct enterprises holding a valid qualification of these types on the date
        (Qualification.objects.valid_on semantics)
    {"aggregate": "count_issued", "qualification": ["LITTLE_GIANT"], "filter": {...}}
        distinct enterprises issued such a qualification in the date's year, up to the date
    {"aggregate": "count_enterprises", "filter": {...}}
        enterprises registered on or before the date
    {"aggregate": "sum", "metric": "rd_expense", "filter": {...}}
        sum of an annual-report metric for the date's year (None when nobody reported)
    {"aggregate": "ratio", "numerator": <spec>, "denominator": <spec>}

`filter` narrows the enterprises: {"jurisdiction": "<code>"} (that node's subtree, by
town or park), {"sector": "<code>"}, {"qualification": "<code>"} (holding a valid one on
the date). Metric names are the rules library's variable codes (revenue, rd_expense,
tech_staff …).

`compute(specs, dates)` answers every (spec, date) pair by reading each source table it
needs once (only the needed qualification types, metrics and years; see columnar.py) into
NumPy arrays and counting/summing with vectorised masks, not one query per indicator.
Figures are cached per (leaf spec, date) under the versions of the tables the leaf reads
(see `data_versions`, `leaf_tables`); docs/plans.md explains the invalidation.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable

import numpy as np
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from kechuang.core.models import Jurisdiction
from kechuang.enterprises.models import (
    ANNUAL_METRICS,
    AnnualReport,
    DataVersion,
    Enterprise,
    Qualification,
    QualificationType,
)
from kechuang.enterprises.validity import valid_on_mask, valid_on_sql
from kechuang.enterprises.versioning import data_changed, local_suffix
from kechuang.plans import columnar
from kechuang.plans.models import StoredFigure

AGGREGATES = ("count_valid", "count_issued", "count_enterprises", "sum", "ratio")
STOCK_AGGREGATES = ("count_valid", "count_enterprises")
FLOW_AGGREGATES = ("count_issued", "sum")
FILTER_KEYS = ("jurisdiction", "sector", "qualification")
CACHE_TIMEOUT = 24 * 3600
_MISSING = "__none__"  # cached "no data" (None cannot be told apart from a cache miss)

# Yuan metrics shown in the indicator's unit.
MONEY_SCALE = {"元": 1, "万元": 1e-4, "百万元": 1e-6, "亿元": 1e-8, "亿": 1e-8, "万": 1e-4}


class SpecError(ValueError):
    """The computation spec is not valid; the message names the field and the reason."""


def _codes(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value or []]


def validate_spec(spec: dict) -> dict:
    """Check a spec and return it normalised (lists of codes, known keys only)."""
    if not isinstance(spec, dict):
        raise SpecError("The computation must be a JSON object.")
    agg = spec.get("aggregate")
    if agg not in AGGREGATES:
        raise SpecError(f"aggregate must be one of {', '.join(AGGREGATES)} (got {agg!r}).")
    out: dict = {"aggregate": agg}
    if agg == "ratio":
        for part in ("numerator", "denominator"):
            if part not in spec:
                raise SpecError(f"A ratio needs a {part}.")
            out[part] = validate_spec(spec[part])
            if out[part]["aggregate"] == "ratio":
                raise SpecError(f"The {part} of a ratio cannot itself be a ratio.")
    if agg in ("count_valid", "count_issued"):
        out["qualification"] = _codes(spec.get("qualification"))
        if not out["qualification"]:
            raise SpecError(f"{agg} needs a qualification type code.")
    if agg == "sum":
        metric = spec.get("metric")
        if metric not in ANNUAL_METRICS:
            raise SpecError(f"metric must be one of {', '.join(ANNUAL_METRICS)} (got {metric!r}).")
        out["metric"] = metric
    flt = spec.get("filter") or {}
    unknown = set(flt) - set(FILTER_KEYS)
    if unknown:
        raise SpecError(f"Unknown filter keys: {', '.join(sorted(unknown))}.")
    flt = {k: str(v) for k, v in flt.items() if v}
    if flt:
        out["filter"] = flt
    if "scale" in spec and spec["scale"] not in (None, ""):
        try:
            out["scale"] = float(spec["scale"])
        except (TypeError, ValueError):
            raise SpecError("scale must be a number.") from None
    return out


def spec_key(spec: dict) -> str:
    return hashlib.sha1(
        json.dumps(spec, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()[:16]


def is_stock(spec: dict) -> bool:
    """A stock is read at a date (valid certificates); a flow accumulates over a year."""
    if spec["aggregate"] == "ratio":
        return is_stock(spec["numerator"])
    return spec["aggregate"] in STOCK_AGGREGATES


def default_scale(spec: dict, unit: str) -> float:
    """Multiplier from the raw aggregate to the indicator's unit (yuan → 亿元, share → %)."""
    if spec.get("scale") is not None:
        return spec["scale"]
    unit = (unit or "").strip()
    if spec["aggregate"] == "ratio":
        return 100.0 if unit in ("%", "％") else 1.0
    if spec["aggregate"] == "sum" and ANNUAL_METRICS.get(spec["metric"]) == "yuan":
        return MONEY_SCALE.get(unit, 1.0)
    return 1.0


# ---------------------------------------------------------------------------
# Data versions, one per source table
# ---------------------------------------------------------------------------

TABLES = ("enterprise", "qual", "report")


def _table_of(table) -> list[str]:
    if table is None:
        return list(TABLES)
    if isinstance(table, str):
        return [table]
    name = getattr(table, "_meta", None) and table._meta.model_name
    mapping = {"enterprise": "enterprise", "qualification": "qual", "annualreport": "report"}
    return [mapping.get(name, "enterprise")]  # sectors' through model → enterprise


def bump_data_version(table=None, *, forget: bool = False) -> None:
    """Invalidate cached figures read from `table` ("enterprise", "qual", "report" or a model
    class); None bumps all three. For bulk writers that fire no signals (saves and deletes
    bump through the signals of EnterprisesConfig). The register's one mechanism,
    `enterprises.versioning.data_changed`: the counters move when the write commits.

    forget=True also drops the stored figures of closed years: for a bulk write that changes
    rows without stamping their `updated_at` (the stored figures' fingerprints read it)."""
    data_changed(*_table_of(table))
    if forget:
        StoredFigure.objects.all().delete()


def data_versions() -> dict[str, str]:
    """{table: version}: the table's counter (enterprises.versioning: bumped when a write to
    it commits) plus a cheap fingerprint.

    One query: the three counters; row count and highest id of qualifications and of annual
    reports, the enterprise count; and the latest `Enterprise.data_changed_at` (indexed), which
    the enterprise services and importers bump on every change of an enterprise's data, its
    qualifications and reports included, so it is part of every table's version. The
    fingerprint catches bulk creates, deletes and imported updates that fire no signals.
    """
    ent = Enterprise._meta.db_table
    qual = Qualification._meta.db_table
    rep = AnnualReport._meta.db_table
    dv = DataVersion._meta.db_table
    counters = ", ".join(f"(SELECT value FROM {dv} WHERE name = '{t}')" for t in TABLES)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(data_changed_at) FROM {ent}), (SELECT COUNT(*) FROM {ent}),"  # noqa: S608
            f" (SELECT MAX(id) FROM {ent}),"
            f" (SELECT COUNT(*) FROM {qual}), (SELECT MAX(id) FROM {qual}),"
            f" (SELECT COUNT(*) FROM {rep}), (SELECT MAX(id) FROM {rep}), {counters}"
        )
        row = cursor.fetchone()
    out = {}
    for i, table in enumerate(TABLES):
        raw = f"{row[7 + i]}{local_suffix(table)}|{row[0]}|{row[1 + 2 * i]}|{row[2 + 2 * i]}"
        out[table] = hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:10]
    return out


def data_version() -> str:
    """One version over all three tables (changes when any of them does)."""
    return "-".join(data_versions()[t] for t in TABLES)


def leaf_tables(leaf: dict) -> tuple[str, ...]:
    """The tables a (non-ratio) spec reads, hence whose versions its cached figures carry."""
    flt = leaf.get("filter", {})
    tables = {
        "count_valid": {"qual"},
        "count_issued": {"qual"},
        "sum": {"report"},
        "count_enterprises": {"enterprise"},
    }[leaf["aggregate"]]
    if "jurisdiction" in flt or "sector" in flt:
        tables.add("enterprise")
    if "qualification" in flt:
        tables.add("qual")
    return tuple(t for t in TABLES if t in tables)


# ---------------------------------------------------------------------------
# Set-at-a-time computation over NumPy arrays
# ---------------------------------------------------------------------------


def _leaves(spec: dict) -> list[dict]:
    if spec["aggregate"] == "ratio":
        return [spec["numerator"], spec["denominator"]]
    return [spec]


class _Resolver:
    """Looks up type ids and jurisdiction paths once per computation."""

    def __init__(self, specs: Iterable[dict]):
        codes, places = set(), set()
        for spec in specs:
            for leaf in _leaves(spec):
                codes.update(leaf.get("qualification", []))
                flt = leaf.get("filter", {})
                if "qualification" in flt:
                    codes.add(flt["qualification"])
                if "jurisdiction" in flt:
                    places.add(flt["jurisdiction"])
        self.types = (
            dict(QualificationType.objects.filter(code__in=codes).values_list("code", "id"))
            if codes
            else {}
        )
        self.paths = (
            dict(Jurisdiction.objects.filter(code__in=places).values_list("code", "path"))
            if places
            else {}
        )

    def type_ids(self, codes: list[str]) -> list[int]:
        return [self.types[c] for c in codes if c in self.types]


def _enterprise_filter(flt: dict, res: _Resolver, prefix: str) -> Q:
    """The date-independent part of a filter, as a Q over `prefix` (path to Enterprise)."""
    q = Q()
    if "jurisdiction" in flt:
        path = res.paths.get(flt["jurisdiction"], "/nonexistent/")
        q &= Q(**{f"{prefix}jurisdiction__path__startswith": path}) | Q(
            **{f"{prefix}park__path__startswith": path}
        )
    if "sector" in flt:
        q &= Q(**{f"{prefix}sectors__code": flt["sector"]})
    return q


def holding_day(leaf: dict, day: datetime.date) -> datetime.date:
    """The date a `qualification` filter is judged at: the figure's date, for a sum the end of
    the report's year."""
    return datetime.date(day.year, 12, 31) if leaf["aggregate"] == "sum" else day


def _sql_dates(*days: datetime.date) -> list:
    return [connection.ops.adapt_datefield_value(d) for d in days]


_NEVER = 2**40  # an expiry / revocation day that never comes (NULL)


class _Registers:
    """The columns the leaves need, each source table read once (see columnar.py).

    Everything is brought to one axis, the enterprise: a qualification type held on a date, a
    year's metric, a filter, are each a vector over enterprises, and a figure is a masked
    count or sum of such a vector. An enterprise sits in one town and at most one park, so a
    jurisdiction filter is a mask too.
    """

    def __init__(self, pairs: list[tuple[dict, datetime.date]], res: _Resolver):
        """`pairs`: the (leaf, date) figures wanted; only the rows they depend on are read."""
        self.res = res
        codes: set[str] = set()
        self.metrics: set[str] = set()
        qual_days: set[datetime.date] = set()  # dates at which certificates are looked at
        years: set[int] = set()
        need_ent = need_registered = False
        for leaf, day in pairs:
            flt = leaf.get("filter", {})
            codes.update(leaf.get("qualification", []))
            if leaf.get("qualification"):
                qual_days.add(day)
            if "qualification" in flt:
                codes.add(flt["qualification"])
                qual_days.add(holding_day(leaf, day))
            if leaf["aggregate"] == "sum":
                self.metrics.add(leaf["metric"])
                years.add(day.year)
            need_registered |= leaf["aggregate"] == "count_enterprises"
            need_ent |= "jurisdiction" in flt or "sector" in flt
        type_ids = sorted(set(res.type_ids(sorted(codes))))
        row_ents = []
        self.qual = None
        if type_ids and qual_days:
            # Only certificates that can count on one of the dates: issued by the last one,
            # and issued since 1 January of the first one's year or still running on it.
            first, last = min(qual_days), max(qual_days)
            slice_sql, slice_params = _in_slice(first, last)
            self.qual = columnar.load(
                Qualification._meta.db_table,
                {
                    "enterprise_id": "id",
                    "type_id": "id",
                    "issued_on": "date",
                    "expires_on": "date",
                    "revoked_on": "date",
                },
                where=f"type_id IN ({', '.join(['%s'] * len(type_ids))}) AND {slice_sql}",
                params=[*type_ids, *slice_params],
            )
            for col in ("expires_on", "revoked_on"):
                arr = self.qual[col]
                arr[arr < 0] = _NEVER
            row_ents.append(self.qual["enterprise_id"])
        self.report = None
        if self.metrics and years:
            years_ = sorted(years)
            self.report = columnar.load(
                AnnualReport._meta.db_table,
                {
                    "enterprise_id": "id",
                    "year": "id",
                    **dict.fromkeys(sorted(self.metrics), "int"),
                },
                # "+year": SQLite would otherwise walk the (year, …) index and fetch most rows
                # one by one, 4× slower than scanning the table.
                where=f"{'+' if connection.vendor == 'sqlite' else ''}year"
                f" IN ({', '.join(['%s'] * len(years_))})",
                params=years_,
            )
            row_ents.append(self.report["enterprise_id"])
        if need_ent or need_registered:
            self.ent = columnar.load(
                Enterprise._meta.db_table,
                {"id": "id", "jurisdiction_id": "id", "park_id": "id"}
                | ({"registered_on": "date"} if need_registered else {}),
            )
            order = np.argsort(self.ent["id"], kind="stable")
            self.ent = {k: v[order] for k, v in self.ent.items()}
            self.ids = self.ent["id"]
        else:
            self.ent = None
            self.ids = np.unique(np.concatenate(row_ents)) if row_ents else np.empty(0, np.int64)
        self.n = len(self.ids)
        # Row → enterprise position; rows of an enterprise not in the universe are dropped.
        for rows in (self.qual, self.report):
            if rows is None:
                continue
            pos = np.searchsorted(self.ids, rows["enterprise_id"])
            pos[pos >= self.n] = 0
            found = self.ids[pos] == rows["enterprise_id"] if self.n else pos < 0
            for k in list(rows):
                rows[k] = rows[k][found]
            rows["e"] = pos[found]
        self._memo: dict = {}

    def _memoised(self, key, fn):
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    # --- vectors over enterprises -------------------------------------------------------

    def _scatter(self, row_mask: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        out[self.qual["e"][row_mask]] = True
        return out

    def held(self, codes: tuple[str, ...], day: datetime.date) -> np.ndarray:
        """Enterprises holding a valid certificate of one of these types on `day`."""

        def fn():
            ids = self.res.type_ids(list(codes))
            if not ids or self.qual is None:
                return np.zeros(self.n, dtype=bool)
            d, q = columnar.day_number(day), self.qual
            mask = np.isin(q["type_id"], ids) & valid_on_mask(
                q["issued_on"], q["expires_on"], q["revoked_on"], d
            )
            return self._scatter(mask)

        return self._memoised(("held", codes, day), fn)

    def issued(self, codes: tuple[str, ...], day: datetime.date) -> np.ndarray:
        """Enterprises issued a certificate of one of these types from 1 January to `day`."""

        def fn():
            ids = self.res.type_ids(list(codes))
            if not ids or self.qual is None:
                return np.zeros(self.n, dtype=bool)
            q = self.qual
            mask = (
                np.isin(q["type_id"], ids)
                & (q["issued_on"] >= columnar.day_number(datetime.date(day.year, 1, 1)))
                & (q["issued_on"] <= columnar.day_number(day))
            )
            return self._scatter(mask)

        return self._memoised(("issued", codes, day), fn)

    def registered(self, day: datetime.date) -> np.ndarray:
        reg = self.ent["registered_on"]
        return (reg < 0) | (reg <= columnar.day_number(day))

    def metric(self, name: str, year: int) -> tuple[np.ndarray, np.ndarray]:
        """(values, reported) over enterprises for one year; reported = a non-NULL value."""

        def fn():
            r = self.report
            rows = self._memoised(("year", year), lambda: np.flatnonzero(r["year"] == year))
            col, ents = r[name][rows], r["e"][rows]
            mask = col != columnar.NULL
            values = np.zeros(self.n, dtype=np.int64)
            values[ents[mask]] = col[mask]  # one report per enterprise and year (unique)
            reported = np.zeros(self.n, dtype=bool)
            reported[ents[mask]] = True
            return values, reported

        return self._memoised(("metric", name, year), fn)

    def place(self, code: str) -> np.ndarray:
        def fn():
            path = self.res.paths.get(code)
            tree = self._memoised(
                "tree", lambda: list(Jurisdiction.objects.values_list("id", "path"))
            )
            nodes = [pk for pk, p in tree if path and p.startswith(path)]
            return np.isin(self.ent["jurisdiction_id"], nodes) | np.isin(self.ent["park_id"], nodes)

        return self._memoised(("place", code), fn)

    def sector(self, code: str) -> np.ndarray:
        def fn():
            through = Enterprise.sectors.through
            ids = list(
                through.objects.filter(sector__code=code).values_list("enterprise_id", flat=True)
            )
            return np.isin(self.ids, ids)

        return self._memoised(("sector", code), fn)

    def where(self, flt: dict, holding_day: datetime.date) -> np.ndarray | None:
        """The filter as a mask over enterprises (None: no filter)."""
        mask = None
        if "jurisdiction" in flt:
            mask = self.place(flt["jurisdiction"])
        if "sector" in flt:
            m = self.sector(flt["sector"])
            mask = m if mask is None else mask & m
        if "qualification" in flt:
            m = self.held((flt["qualification"],), holding_day)
            mask = m if mask is None else mask & m
        return mask

    # --- figures ------------------------------------------------------------------------

    def value(self, leaf: dict, day: datetime.date):
        agg, flt = leaf["aggregate"], leaf.get("filter", {})
        if agg == "sum":
            # Holding a qualification is judged at the end of the report's year.
            mask = self.where(flt, holding_day(leaf, day))
            values, reported = self.metric(leaf["metric"], day.year)
            if mask is not None:
                reported = reported & mask
            return int(values[reported].sum()) if reported.any() else None
        if agg == "count_enterprises":
            counted = self.registered(day)
        elif agg == "count_valid":
            counted = self.held(tuple(leaf["qualification"]), day)
        else:
            counted = self.issued(tuple(leaf["qualification"]), day)
        mask = self.where(flt, day)
        return int(np.count_nonzero(counted if mask is None else counted & mask))


def compute_pairs(leaves: dict[str, dict], pairs, res=None) -> dict:
    """{(spec_key, date): raw value} for the wanted (leaf key, date) pairs of non-ratio leaves:
    each table read once (only the rows those pairs depend on), then NumPy."""
    pairs = list(pairs)
    if not pairs:
        return {}
    regs = _Registers([(leaves[k], d) for k, d in pairs], res or _Resolver(leaves.values()))
    return {(k, d): regs.value(leaves[k], d) for k, d in pairs}


def compute_leaves(leaves: list[dict], dates: list[datetime.date], res=None) -> dict:
    """{(spec_key, date): raw value} for non-ratio specs at every date."""
    by_key = {spec_key(leaf): leaf for leaf in leaves}
    return compute_pairs(by_key, [(k, d) for k in by_key for d in dates], res)


def _combine(spec: dict, day: datetime.date, leaf_values: dict):
    if spec["aggregate"] != "ratio":
        return leaf_values.get((spec_key(spec), day))
    num = leaf_values.get((spec_key(spec["numerator"]), day))
    den = leaf_values.get((spec_key(spec["denominator"]), day))
    return (num / den) if num is not None and den else None


def _unique_leaves(specs: list[dict]) -> dict[str, dict]:
    return {spec_key(leaf): leaf for spec in specs for leaf in _leaves(spec)}


def compute_raw(specs: list[dict], dates: list[datetime.date]) -> dict:
    """{(spec_key, date): raw value} for every spec and date, uncached, set-at-a-time."""
    leaves = list(_unique_leaves(specs).values())
    leaf_values = compute_leaves(leaves, dates, _Resolver(specs))
    return {(spec_key(s), d): _combine(s, d, leaf_values) for s in specs for d in dates}


# ---------------------------------------------------------------------------
# Fingerprints of the rows a figure depends on (stored figures of closed years)
# ---------------------------------------------------------------------------

_MOD = 1_000_000_007


def _mod(expr: str) -> str:
    """SQL: `expr` modulo _MOD, without a "%" (the query carries %s parameters)."""
    return f"(({expr}) - (({expr}) / {_MOD}) * {_MOD})"


def _row_stamp(column: str) -> str:
    """SQL: an integer that changes whenever `column` (a save's auto_now `updated_at`) does,
    small enough that its sum over a table fits in an int64."""
    col = connection.ops.quote_name(column)
    if connection.vendor == "postgresql":
        return _mod(f"(date_part('epoch', {col}) * 1000000)::bigint") + "::int"
    if connection.vendor == "sqlite":  # julianday: ~40 µs resolution; "%%" for the parameters
        return f"(CAST((julianday({col}) - 2440587.5) * 86400000000 AS INTEGER) %% {_MOD})"
    return "0"  # pragma: no cover


def _in_slice(first: datetime.date, last: datetime.date | None = None) -> tuple[str, list]:
    """(SQL, params): the certificate can count at a date from `first` to `last` (default:
    `first`) — issued by `last`, and either issued since 1 January of `first`'s year
    (count_issued) or valid on `first` (count_valid, the `qualification` filter)."""
    valid_sql, valid_params = valid_on_sql(first)
    sql = f"issued_on <= %s AND (issued_on >= %s OR {valid_sql})"
    return sql, [*_sql_dates(last or first, datetime.date(first.year, 1, 1)), *valid_params]


def _fingerprints(leaves: dict[str, dict], pairs, res: _Resolver) -> dict:
    """{(leaf key, date): fingerprint of exactly the rows the figure depends on}.

    Parts, each (row count, Σ stamp of `updated_at`) — a save changes `updated_at`, an insert or
    delete the count and the sum — read in at most four queries, one scan per table:
    - annual reports of the date's year (sums);
    - certificates of each of the leaf's types that can count at the date (`_in_slice`), and of
      the `qualification` filter's type at its holding date;
    - all enterprises (placed, sector-filtered and enterprise counts read their town, park,
      registration date), the sector memberships (sector filters), the resolved node path.
    A change elsewhere — another year's reports, certificates that ended before the date or
    were issued after it, another type — leaves the fingerprint, hence the figure, as it is.
    """
    years: set[int] = set()
    slices: set[tuple[int, datetime.date]] = set()
    need_ent = need_sector = False
    for key, day in pairs:
        leaf = leaves[key]
        flt = leaf.get("filter", {})
        if leaf["aggregate"] == "sum":
            years.add(day.year)
        for tid in res.type_ids(leaf.get("qualification", [])):
            slices.add((tid, day))
        if "qualification" in flt:
            for tid in res.type_ids([flt["qualification"]]):
                slices.add((tid, holding_day(leaf, day)))
        need_ent |= "enterprise" in leaf_tables(leaf)
        need_sector |= "sector" in flt
    stamp = _row_stamp("updated_at")
    parts: dict = {}
    with connection.cursor() as cursor:
        if years:
            rep = AnnualReport._meta.db_table
            ys = sorted(years)
            cursor.execute(
                f"SELECT year, COUNT(*), SUM({stamp}) FROM {rep}"  # noqa: S608
                f" WHERE year IN ({', '.join(['%s'] * len(ys))}) GROUP BY year",
                ys,
            )
            for year, count, total in cursor.fetchall():
                parts[("report", year)] = f"{count},{total}"
        if slices:
            qual = Qualification._meta.db_table
            days = sorted({d for _, d in slices})
            tids = sorted({t for t, _ in slices})
            cols, params = [], []
            for day in days:
                slice_sql, slice_params = _in_slice(day)
                cols.append(f"SUM(CASE WHEN {slice_sql} THEN 1 ELSE 0 END)")
                cols.append(f"SUM(CASE WHEN {slice_sql} THEN {stamp} ELSE 0 END)")
                params += slice_params * 2
            cursor.execute(
                f"SELECT type_id, {', '.join(cols)} FROM {qual}"  # noqa: S608
                f" WHERE type_id IN ({', '.join(['%s'] * len(tids))}) GROUP BY type_id",
                params + tids,
            )
            for row in cursor.fetchall():
                for i, day in enumerate(days):
                    parts[("qual", row[0], day)] = f"{row[1 + 2 * i]},{row[2 + 2 * i]}"
        if need_ent:
            cursor.execute(
                f"SELECT COUNT(*), SUM({stamp}) FROM {Enterprise._meta.db_table}",  # noqa: S608
                [],  # with parameters (none), so "%%" is read as "%" on every backend
            )
            parts["enterprise"] = "{},{}".format(*cursor.fetchone())
        if need_sector:
            through = Enterprise.sectors.through._meta.db_table
            cursor.execute(f"SELECT COUNT(*), SUM({_mod('id')}) FROM {through}", [])  # noqa: S608
            parts["sector"] = "{},{}".format(*cursor.fetchone())
    out = {}
    for key, day in pairs:
        leaf = leaves[key]
        flt = leaf.get("filter", {})
        bits = [key]
        if leaf["aggregate"] == "sum":
            bits.append(parts.get(("report", day.year), "0"))
        for tid in res.type_ids(leaf.get("qualification", [])):
            bits.append(f"{tid}:{parts.get(('qual', tid, day), '0')}")
        if "qualification" in flt:
            for tid in res.type_ids([flt["qualification"]]):
                bits.append(f"h{tid}:{parts.get(('qual', tid, holding_day(leaf, day)), '0')}")
        if "enterprise" in leaf_tables(leaf):
            bits.append(parts["enterprise"])
        if "sector" in flt:
            bits.append(parts["sector"])
        if "jurisdiction" in flt:
            bits.append(res.paths.get(flt["jurisdiction"], "-"))
        raw = "|".join(bits)
        out[(key, day)] = hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:20]
    return out


def _stored_or_computed(leaves: dict[str, dict], pairs, stamps: dict, closed_before) -> dict:
    """Values of the (leaf key, date) pairs missing from the cache: figures of closed years
    from `StoredFigure` when still current, everything else computed (and closed years'
    figures stored)."""
    res = _Resolver(leaves[k] for k, _ in pairs)
    closed = [p for p in pairs if p[1] < closed_before]
    values: dict = {}
    store: dict = {}  # pair → fingerprint, for the rows to (re)write
    if closed:
        stored = {
            (leaf, day): (value, version, fingerprint)
            for leaf, day, value, version, fingerprint in StoredFigure.objects.filter(
                leaf__in={k for k, _ in closed}, day__in={d for _, d in closed}
            ).values_list("leaf", "day", "value", "version", "fingerprint")
        }
        unsure = []
        for pair in closed:
            row = stored.get(pair)
            if row is not None and row[1] == stamps[pair[0]]:
                values[pair] = row[0]
            else:
                unsure.append(pair)
        if unsure:
            # Fingerprints first, data second: a write in between makes the stored
            # fingerprint an old one (a needless recomputation later), never a wrong figure.
            prints = _fingerprints(leaves, unsure, res)
            for pair in unsure:
                row = stored.get(pair)
                if row is not None and row[2] == prints[pair]:
                    values[pair] = row[0]
                store[pair] = prints[pair]
    values.update(compute_pairs(leaves, [p for p in pairs if p not in values], res))
    if store:
        StoredFigure.objects.bulk_create(
            [
                StoredFigure(leaf=k, day=d, value=values[(k, d)], version=stamps[k], fingerprint=fp)
                for (k, d), fp in store.items()
            ],
            update_conflicts=True,
            unique_fields=["leaf", "day"],
            update_fields=["value", "version", "fingerprint"],
        )
    return values


def compute(
    specs: list[dict],
    dates: list[datetime.date],
    *,
    versions: dict[str, str] | None = None,
    today: datetime.date | None = None,
) -> dict:
    """Cached `compute_raw`: figures are cached per (leaf, date) under the versions of the
    tables the leaf reads; only the (leaf, date) pairs missing from the cache are looked at.
    Of those, figures of years before `today`'s (closed years) come from `StoredFigure` when
    still current; the rest are computed, reading only the rows they depend on."""
    specs = list({spec_key(s): s for s in specs}.values())
    dates = sorted(set(dates))
    if not specs or not dates:
        return {}
    versions = versions or data_versions()
    today = today or timezone.localdate()
    leaves = _unique_leaves(specs)
    stamps = {key: ".".join(versions[t] for t in leaf_tables(leaf)) for key, leaf in leaves.items()}
    keys = {
        (key, day): f"plans:agg:{stamps[key]}:{key}:{day.isoformat()}"
        for key in leaves
        for day in dates
    }
    cached = cache.get_many(list(keys.values()))
    leaf_values, missing = {}, []
    for pair, ck in keys.items():
        if ck in cached:
            leaf_values[pair] = None if cached[ck] == _MISSING else cached[ck]
        else:
            missing.append(pair)
    if missing:
        fresh = _stored_or_computed(
            leaves, missing, stamps, closed_before=datetime.date(today.year, 1, 1)
        )
        leaf_values.update(fresh)
        cache.set_many(
            {keys[pair]: _MISSING if v is None else v for pair, v in fresh.items()}, CACHE_TIMEOUT
        )
    return {(spec_key(s), d): _combine(s, d, leaf_values) for s in specs for d in dates}
