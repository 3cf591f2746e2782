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
tech_staff …); when kechuang.rules exposes its bulk DB loader, `_sum_group` can read
the same columns through it instead of its own grouped query.

`compute(specs, dates)` answers every (spec, date) pair with one grouped query per
source table and filter signature, not one query per indicator. Results are cached per
(spec, date) under a data version (see `data_version`); docs/plans.md explains the
invalidation.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, Sum

from kechuang.core.models import Jurisdiction
from kechuang.enterprises.models import (
    ANNUAL_METRICS,
    AnnualReport,
    Enterprise,
    Qualification,
    QualificationType,
)

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
# Data version: the cache key part that changes when the registers change
# ---------------------------------------------------------------------------

_COUNTER_KEY = "plans:data-counter"


def bump_data_version() -> None:
    """Invalidate every cached aggregate (called by signals and by bulk writers)."""
    try:
        cache.incr(_COUNTER_KEY)
    except ValueError:
        cache.set(_COUNTER_KEY, 1, None)


def data_version() -> str:
    """Counter bumped on every save/delete, plus a cheap fingerprint of the three tables.

    The fingerprint (row counts, highest ids, latest Enterprise.data_changed_at) catches
    bulk_create and deletes that bypass signals, and changes made by another process
    whose cache is not shared.
    """
    counter = cache.get(_COUNTER_KEY) or 0
    ent = Enterprise._meta.db_table
    qual = Qualification._meta.db_table
    rep = AnnualReport._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {ent}), (SELECT MAX(data_changed_at) FROM {ent}),"  # noqa: S608
            f" (SELECT COUNT(*) FROM {qual}), (SELECT MAX(id) FROM {qual}),"
            f" (SELECT COUNT(*) FROM {rep}), (SELECT MAX(id) FROM {rep})"
        )
        row = cursor.fetchone()
    raw = f"{counter}|" + "|".join(str(v) for v in row)
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:12]


# ---------------------------------------------------------------------------
# Set-at-a-time computation
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


def valid_q(day: datetime.date, prefix: str = "") -> Q:
    """Qualification.objects.valid_on as a Q, usable inside aggregate filters."""
    return (
        Q(**{f"{prefix}issued_on__lte": day})
        & (Q(**{f"{prefix}expires_on__isnull": True}) | Q(**{f"{prefix}expires_on__gte": day}))
        & (Q(**{f"{prefix}revoked_on__isnull": True}) | Q(**{f"{prefix}revoked_on__gt": day}))
    )


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


def _holding_q(flt: dict, res: _Resolver, day: datetime.date, field: str) -> Q:
    """Enterprises holding the filter's qualification on `day` (date-dependent part)."""
    if "qualification" not in flt:
        return Q()
    ids = Qualification.objects.filter(
        valid_q(day), type_id__in=res.type_ids([flt["qualification"]])
    ).values("enterprise_id")
    return Q(**{f"{field}__in": ids})


def _place_groups(flt_leaves, res) -> tuple[dict, bool]:
    """Jurisdiction filters are answered from one query grouped by (town, park), not one per place."""
    paths = {}
    for leaf in flt_leaves:
        code = leaf.get("filter", {}).get("jurisdiction")
        if code:
            paths[code] = res.paths.get(code, "/nonexistent/")
    return paths, bool(paths)


def _place_ids(paths: dict) -> dict[str, set[int]]:
    if not paths:
        return {}
    nodes = list(Jurisdiction.objects.values_list("id", "path"))
    return {code: {pk for pk, p in nodes if p.startswith(path)} for code, path in paths.items()}


def _fold(rows, leaves, key_of, places, value_of, dates, *, additive=True) -> dict:
    """Sum grouped rows into each leaf's figure, keeping rows inside the leaf's jurisdiction."""
    out = {}
    for leaf in leaves:
        code = leaf.get("filter", {}).get("jurisdiction")
        inside = places.get(code) if code else None
        for j, day in enumerate(dates):
            total, seen = 0, False
            for row in rows:
                if inside is not None and not (row["j"] in inside or row["p"] in inside):
                    continue
                value = value_of(row, leaf, j, day)
                if value is not None:
                    total += value
                    seen = True
            out[(key_of(leaf), day)] = total if seen else None
    return out


def _alias(i: int, j: int) -> str:
    return f"a{i}_{j}"


def _qual_group(leaves, flt, dates, res) -> dict:
    """count_valid / count_issued leaves sharing a filter (jurisdiction aside): one grouped query."""
    paths, by_place = _place_groups(leaves, res)
    flt = {k: v for k, v in flt.items() if k != "jurisdiction"}
    kinds = {}
    for leaf in leaves:
        kinds[(leaf["aggregate"], tuple(leaf["qualification"]))] = leaf
    variants = list(kinds)
    annotations = {}
    for i, (agg, codes) in enumerate(variants):
        type_q = Q(type_id__in=res.type_ids(list(codes)))
        for j, day in enumerate(dates):
            if agg == "count_valid":
                when = valid_q(day)
            else:
                when = Q(issued_on__gte=datetime.date(day.year, 1, 1), issued_on__lte=day)
            when &= type_q & _holding_q(flt, res, day, "enterprise_id")
            annotations[_alias(i, j)] = Count("enterprise_id", distinct=True, filter=when)
    all_types = sorted({t for _, codes in variants for t in res.type_ids(list(codes))})
    qs = Qualification.objects.filter(
        _enterprise_filter(flt, res, "enterprise__"), type_id__in=all_types
    )
    if by_place:
        # Each enterprise sits in exactly one (town, park) pair, so distinct counts add up.
        rows = list(
            qs.values(j=F("enterprise__jurisdiction_id"), p=F("enterprise__park_id")).annotate(
                **annotations
            )
        )
    else:
        rows = [qs.aggregate(**annotations)] if annotations else []
        for row in rows:
            row["j"] = row["p"] = None
    index = {v: i for i, v in enumerate(variants)}
    places = _place_ids(paths)

    def value_of(row, leaf, j, day):
        return row.get(_alias(index[(leaf["aggregate"], tuple(leaf["qualification"]))], j)) or 0

    return _fold(rows, leaves, spec_key, places, value_of, dates)


def _sum_group(leaves, flt, dates, res) -> dict:
    """sum leaves sharing a filter (jurisdiction aside): one query grouped by year (and place)."""
    paths, by_place = _place_groups(leaves, res)
    flt = {k: v for k, v in flt.items() if k != "jurisdiction"}
    years = sorted({d.year for d in dates})
    metrics = sorted({leaf["metric"] for leaf in leaves})
    base = AnnualReport.objects.filter(_enterprise_filter(flt, res, "enterprise__"), year__in=years)
    group = (
        {"j": F("enterprise__jurisdiction_id"), "p": F("enterprise__park_id")} if by_place else {}
    )
    if "qualification" in flt:
        # The holding condition depends on the date, so each year gets its own columns.
        annotations = {}
        for y in years:
            when = Q(year=y) & _holding_q(flt, res, datetime.date(y, 12, 31), "enterprise_id")
            annotations[f"n_{y}"] = Count("id", filter=when)
            for m in metrics:
                annotations[f"{m}_{y}"] = Sum(m, filter=when)
        raw = (
            list(base.values(**group).annotate(**annotations))
            if group
            else [base.aggregate(**annotations)]
        )
        rows = []
        for r in raw:
            for y in years:
                rows.append(
                    {
                        "j": r.get("j"),
                        "p": r.get("p"),
                        "year": y,
                        "n": r[f"n_{y}"],
                        **{m: r[f"{m}_{y}"] for m in metrics},
                    }
                )
    else:
        rows = list(
            base.values("year", **group).annotate(n=Count("id"), **{m: Sum(m) for m in metrics})
        )
        for r in rows:
            r.setdefault("j", None)
            r.setdefault("p", None)
    places = _place_ids(paths)

    def value_of(row, leaf, j, day):
        if row["year"] != day.year or not row["n"]:
            return None
        return row.get(leaf["metric"])

    return _fold(rows, leaves, spec_key, places, value_of, dates)


def _enterprise_group(leaves, flt, dates, res) -> dict:
    paths, by_place = _place_groups(leaves, res)
    flt = {k: v for k, v in flt.items() if k != "jurisdiction"}
    annotations = {}
    for j, day in enumerate(dates):
        when = (Q(registered_on__isnull=True) | Q(registered_on__lte=day)) & _holding_q(
            flt, res, day, "id"
        )
        annotations[f"d{j}"] = Count("id", filter=when, distinct="sector" in flt)
    qs = Enterprise.objects.filter(_enterprise_filter(flt, res, ""))
    if by_place:
        rows = list(qs.values(j=F("jurisdiction_id"), p=F("park_id")).annotate(**annotations))
    else:
        rows = [qs.aggregate(**annotations) | {"j": None, "p": None}]
    places = _place_ids(paths)
    return _fold(rows, leaves, spec_key, places, lambda row, leaf, j, day: row[f"d{j}"] or 0, dates)


_TABLE = {
    "count_valid": ("qual", _qual_group),
    "count_issued": ("qual", _qual_group),
    "sum": ("report", _sum_group),
    "count_enterprises": ("enterprise", _enterprise_group),
}


def compute_raw(specs: list[dict], dates: list[datetime.date]) -> dict:
    """{(spec_key, date): raw value} for every spec and date, uncached, set-at-a-time."""
    res = _Resolver(specs)
    groups: dict = defaultdict(dict)
    for spec in specs:
        for leaf in _leaves(spec):
            table, _fn = _TABLE[leaf["aggregate"]]
            # Leaves differing only by jurisdiction share one query grouped by place.
            rest = {k: v for k, v in leaf.get("filter", {}).items() if k != "jurisdiction"}
            sig = (table, json.dumps(rest, sort_keys=True))
            groups[sig][spec_key(leaf)] = leaf
    leaf_values: dict = {}
    for (table, sig), leaves in groups.items():
        fn = {"qual": _qual_group, "report": _sum_group, "enterprise": _enterprise_group}[table]
        leaf_values.update(fn(list(leaves.values()), json.loads(sig), dates, res))
    out = {}
    for spec in specs:
        key = spec_key(spec)
        for day in dates:
            if spec["aggregate"] == "ratio":
                num = leaf_values.get((spec_key(spec["numerator"]), day))
                den = leaf_values.get((spec_key(spec["denominator"]), day))
                out[(key, day)] = (num / den) if num is not None and den else None
            else:
                out[(key, day)] = leaf_values.get((key, day))
    return out


def compute(specs: list[dict], dates: list[datetime.date], *, version: str | None = None) -> dict:
    """Cached `compute_raw`: only the (spec, date) pairs missing from the cache are computed."""
    specs = list({spec_key(s): s for s in specs}.values())
    dates = sorted(set(dates))
    if not specs or not dates:
        return {}
    version = version or data_version()
    keys = {
        (spec_key(s), d): f"plans:agg:{version}:{spec_key(s)}:{d.isoformat()}"
        for s in specs
        for d in dates
    }
    cached = cache.get_many(list(keys.values()))
    out, missing_specs, missing_dates = {}, {}, set()
    for spec in specs:
        for day in dates:
            ck = keys[(spec_key(spec), day)]
            if ck in cached:
                value = cached[ck]
                out[(spec_key(spec), day)] = None if value == _MISSING else value
            else:
                missing_specs[spec_key(spec)] = spec
                missing_dates.add(day)
    if missing_specs:
        fresh = compute_raw(list(missing_specs.values()), sorted(missing_dates))
        to_cache = {}
        for pair, value in fresh.items():
            if pair in out:
                continue
            out[pair] = value
            to_cache[keys[pair]] = _MISSING if value is None else value
        cache.set_many(to_cache, CACHE_TIMEOUT)
    return out
