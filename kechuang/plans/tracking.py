"""Actual values, history, target path and status of indicators, for many indicators at once.

`evaluate(indicators)` runs one `aggregates.compute` call for every computed indicator
(each source table read once into NumPy arrays, figures cached per table version) and one
query for the reports of the reported ones, then applies the pure rules of
kechuang/plans/status.py.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from kechuang.plans import aggregates
from kechuang.plans.models import Indicator, IndicatorKind, IndicatorReport, SourceKind
from kechuang.plans.status import (
    UNKNOWN,
    Path,
    classify,
    progress_share,
    year_end,
    year_fraction,
)


@dataclass(slots=True)
class Evaluation:
    """Where one indicator stands: actual vs the path, and its year-by-year history."""

    indicator: Indicator
    actual: float | None = None
    actual_at: datetime.date | None = None
    expected: float | None = None
    gap: float | None = None
    status: str = UNKNOWN
    progress: float = 0.0
    baseline: float | None = None
    baseline_year: int | None = None
    target: float = 0.0
    history: list[tuple[int, float | None]] = field(default_factory=list)
    path: list[tuple[int, float]] = field(default_factory=list)
    error: str = ""

    @property
    def progress_pct(self) -> int:
        return round(self.progress * 100)

    def to_dict(self) -> dict:
        return {
            "actual": self.actual,
            "actual_at": self.actual_at.isoformat() if self.actual_at else None,
            "expected": self.expected,
            "gap": self.gap,
            "status": self.status,
            "progress": round(self.progress, 4),
            "baseline": self.baseline,
            "baseline_year": self.baseline_year,
            "target": self.target,
            "history": [[y, v] for y, v in self.history],
            "path": [[y, round(v, 4)] for y, v in self.path],
            "error": self.error,
        }


def _f(value) -> float | None:
    return None if value is None else float(value)


def start_year(ind: Indicator) -> int:
    """First year of the indicator's period (the plan's start, else the year after its baseline)."""
    plan = ind.plan
    if plan.period_start and plan.period_start <= ind.target_year:
        return plan.period_start
    if ind.baseline_year and ind.baseline_year < ind.target_year:
        return ind.baseline_year + 1
    return ind.target_year


def history_years(ind: Indicator, today: datetime.date) -> list[int]:
    first = min(start_year(ind) - 1, ind.baseline_year or 9999)
    last = min(ind.target_year, today.year)
    return list(range(first, last + 1))


def point_date(year: int, today: datetime.date) -> datetime.date:
    """Year-end of a past year; today for the current year."""
    return today if year == today.year else year_end(year)


def _series_from_raw(ind, spec, years, raw, today, version_scale) -> list[tuple[int, float | None]]:
    values = {}
    for y in years:
        v = raw.get((aggregates.spec_key(spec), point_date(y, today)))
        values[y] = None if v is None else float(v) * version_scale
    if ind.kind != IndicatorKind.INCREMENT:
        return [(y, values[y]) for y in years]
    first = start_year(ind)
    out = []
    if aggregates.is_stock(spec):
        base = values.get(first - 1)
        for y in years:
            v = values[y]
            out.append((y, 0.0 if y < first else (None if v is None or base is None else v - base)))
    else:
        running = 0.0
        for y in years:
            if y < first:
                out.append((y, 0.0))
                continue
            if values[y] is None:
                out.append((y, None))
                continue
            running += values[y]
            out.append((y, running))
    return out


def _reported_series(ind, reports, years) -> list[tuple[int, float | None]]:
    by_year: dict[int, float] = {}
    for report in sorted(reports, key=lambda r: (r.period_end, r.pk)):
        by_year[report.period_end.year] = float(report.value)
    return [(y, by_year.get(y)) for y in years]


def evaluate(indicators, *, today: datetime.date | None = None) -> dict[int, Evaluation]:
    """Evaluate indicators (with their plan loaded) set-at-a-time."""
    today = today or timezone.localdate()
    indicators = list(indicators)
    specs: dict[int, dict] = {}
    errors: dict[int, str] = {}
    dates: set[datetime.date] = set()
    for ind in indicators:
        if ind.source_kind != SourceKind.COMPUTED or not ind.source:
            continue
        try:
            specs[ind.pk] = aggregates.validate_spec(ind.source)
        except aggregates.SpecError as exc:
            errors[ind.pk] = str(exc)
            continue
        dates.update(point_date(y, today) for y in history_years(ind, today))
    raw = aggregates.compute(list(specs.values()), sorted(dates), today=today) if specs else {}
    reported_ids = [i.pk for i in indicators if i.pk not in specs]
    reports: dict[int, list] = defaultdict(list)
    if reported_ids:
        for r in IndicatorReport.objects.filter(
            indicator_id__in=reported_ids, period_end__lte=today
        ):
            reports[r.indicator_id].append(r)

    out = {}
    for ind in indicators:
        years = history_years(ind, today)
        ev = Evaluation(indicator=ind, target=float(ind.target_value), error=errors.get(ind.pk, ""))
        if ind.pk in specs:
            spec = specs[ind.pk]
            scale = aggregates.default_scale(spec, ind.unit)
            ev.history = _series_from_raw(ind, spec, years, raw, today, scale)
        else:
            ev.history = _reported_series(ind, reports.get(ind.pk, []), years)
            latest = max(reports.get(ind.pk, []), key=lambda r: (r.period_end, r.pk), default=None)
            if latest is not None:
                ev.actual, ev.actual_at = float(latest.value), latest.period_end
        if ind.pk in specs:
            for y, v in reversed(ev.history):
                if v is not None and y >= start_year(ind) - 1:
                    ev.actual, ev.actual_at = v, point_date(y, today)
                    break
        _apply_path(ind, ev)
        out[ind.pk] = ev
    return out


def _apply_path(ind: Indicator, ev: Evaluation) -> None:
    first = start_year(ind)
    if ind.kind == IndicatorKind.INCREMENT:
        ev.baseline, ev.baseline_year = 0.0, first - 1
    elif ind.baseline_value is not None:
        ev.baseline = float(ind.baseline_value)
        ev.baseline_year = ind.baseline_year or first - 1
    else:
        # No stated baseline: the computed value at the end of the year before the period.
        known = dict(ev.history)
        if known.get(first - 1) is not None:
            ev.baseline, ev.baseline_year = known[first - 1], first - 1
    path = None
    if ev.baseline is not None and ev.baseline_year is not None:
        path = Path(
            baseline=ev.baseline,
            baseline_year=min(ev.baseline_year, ind.target_year),
            target=ev.target,
            target_year=ind.target_year,
            kind=ind.path_kind,
            points=ind.path_points or None,
        )
        ev.path = path.yearly()
    if ev.actual is None:
        return
    t = year_fraction(ev.actual_at)
    if path is not None:
        ev.expected = path.value_at(t)
        span = path.span
        ev.progress = progress_share(ev.actual, ev.baseline, ev.target)
    elif t >= ind.target_year + 1.0:
        ev.expected, span = ev.target, 0.0
        ev.progress = (
            1.0 if ev.actual >= ev.target else max(0.0, ev.actual / ev.target) if ev.target else 0.0
        )
    else:
        return
    ev.gap = ev.actual - ev.expected
    ev.status = classify(
        ev.actual, ev.expected, span=span, target=ev.target, direction=ind.direction
    )


def evaluate_one(indicator: Indicator, *, today=None) -> Evaluation:
    return evaluate([indicator], today=today)[indicator.pk]
