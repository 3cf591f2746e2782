"""Target paths and indicator status; pure functions (no database), documented in docs/plans.md.

Time is measured in fractional years: the end of year Y is Y + 1.0, so a baseline "2015"
sits at 2016.0 and a target "2020" at 2021.0.

Status of an indicator at time t with actual value A and path value P(t):
- direction up:   gap = A − P(t);   direction down: gap = P(t) − A (shown with the sign of A − P(t))
- tolerance = AT_RISK_SHARE × |target − baseline| (or × |target| when the span is 0)
- on track  when gap ≥ 0
- at risk   when −tolerance ≤ gap < 0
- off track when gap < −tolerance
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

AT_RISK_SHARE = 0.10

ON_TRACK = "on_track"
AT_RISK = "at_risk"
OFF_TRACK = "off_track"
UNKNOWN = "unknown"


def year_fraction(day: datetime.date) -> float:
    """2025-12-31 → 2026.0; 2025-07-02 → ~2025.5."""
    start = datetime.date(day.year, 1, 1)
    length = (datetime.date(day.year + 1, 1, 1) - start).days
    return day.year + ((day - start).days + 1) / length


def year_end(year: int) -> datetime.date:
    return datetime.date(year, 12, 31)


@dataclass(slots=True)
class Path:
    """The expected trajectory from (baseline_year, baseline) to (target_year, target)."""

    baseline: float
    baseline_year: int
    target: float
    target_year: int
    kind: str = "linear"  # linear / front_loaded / back_loaded / custom
    points: dict | None = None  # {year: expected value at that year's end} for custom

    def value_at(self, t: float) -> float:
        x0, x1 = self.baseline_year + 1.0, self.target_year + 1.0
        if x1 <= x0:
            return self.target
        if self.kind == "custom" and self.points:
            knots = {x0: self.baseline, x1: self.target}
            for year, value in self.points.items():
                try:
                    knots[int(year) + 1.0] = float(value)
                except (TypeError, ValueError):
                    continue
            xs = sorted(knots)
            if t <= xs[0]:
                return knots[xs[0]]
            for a, b in zip(xs, xs[1:], strict=False):
                if t <= b:
                    return knots[a] + (knots[b] - knots[a]) * (t - a) / (b - a)
            return knots[xs[-1]]
        f = min(1.0, max(0.0, (t - x0) / (x1 - x0)))
        if self.kind == "front_loaded":
            f = 1 - (1 - f) ** 2
        elif self.kind == "back_loaded":
            f = f**2
        return self.baseline + (self.target - self.baseline) * f

    @property
    def span(self) -> float:
        return abs(self.target - self.baseline)

    def yearly(self) -> list[tuple[int, float]]:
        return [
            (y, self.value_at(y + 1.0)) for y in range(self.baseline_year, self.target_year + 1)
        ]


def classify(
    actual: float, expected: float, *, span: float, target: float, direction: str = "up"
) -> str:
    """on_track / at_risk / off_track for one observation (see the module docstring)."""
    tolerance = AT_RISK_SHARE * (span if span > 0 else abs(target))
    gap = actual - expected if direction != "down" else expected - actual
    if gap >= 0:
        return ON_TRACK
    if gap >= -tolerance:
        return AT_RISK
    return OFF_TRACK


def progress_share(actual: float, baseline: float, target: float) -> float:
    """How far from baseline to target the actual value is, 0..1 (for progress bars)."""
    if target == baseline:
        return 1.0 if actual == target else 0.0
    return max(0.0, min(1.0, (actual - baseline) / (target - baseline)))
