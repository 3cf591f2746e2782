"""Forecast of a "valid qualifications" indicator at its target date, and who lapses before it.

Method (docs/plans.md, "Forecast"):
- secure: enterprises holding a valid certificate today whose latest certificate
  expires on or after the target date (or never expires);
- lapsing: enterprises holding one today whose every certificate expires before the
  target date — the list to remind to re-apply;
- renewal rate r: of the certificates that expired in the last HISTORY_YEARS years
  (and at least WINDOW_MONTHS ago, so their renewal window is over), the share whose
  enterprise was issued a new certificate of the same type between 12 months before and
  WINDOW_MONTHS after the expiry;
- new-entry rate n: enterprises per year receiving their first certificate of the type,
  averaged over the last HISTORY_YEARS complete years;
- projection = secure + r × lapsing + n × years until the target date.
New entrants are assumed to stay valid until the target date (true whenever the
validity period is longer than the horizon, as for 高新技术企业 with three years).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from kechuang.enterprises.models import Enterprise, Qualification
from kechuang.enterprises.validity import is_valid_on
from kechuang.plans import aggregates
from kechuang.plans.status import year_end

WINDOW_MONTHS = 6
HISTORY_YEARS = 3


@dataclass(slots=True)
class QualRow:
    id: int
    enterprise_id: int
    issued_on: datetime.date
    expires_on: datetime.date | None
    revoked_on: datetime.date | None = None
    certificate_no: str = ""

    def valid_on(self, day: datetime.date) -> bool:
        return is_valid_on(self.issued_on, self.expires_on, self.revoked_on, day)


@dataclass(slots=True)
class Lapse:
    enterprise_id: int
    expires_on: datetime.date
    certificate_no: str
    enterprise: Enterprise | None = None


@dataclass(slots=True)
class Forecast:
    today: datetime.date
    target_date: datetime.date
    current: int
    secure: int
    lapsing: list[Lapse] = field(default_factory=list)
    renewal_rate: float = 0.0
    renewal_sample: int = 0
    renewed: int = 0
    new_rate: float = 0.0
    new_by_year: dict[int, int] = field(default_factory=dict)
    years_ahead: float = 0.0
    window_months: int = WINDOW_MONTHS

    @property
    def expected_renewals(self) -> float:
        return self.renewal_rate * len(self.lapsing)

    @property
    def expected_new(self) -> float:
        return self.new_rate * self.years_ahead

    @property
    def projected(self) -> float:
        return self.secure + self.expected_renewals + self.expected_new


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def forecast_from_rows(
    rows: list[QualRow],
    *,
    today: datetime.date,
    target_date: datetime.date,
    window_months: int = WINDOW_MONTHS,
    history_years: int = HISTORY_YEARS,
) -> Forecast:
    """The forecast from the certificate history of one qualification type (pure)."""
    by_ent: dict[int, list[QualRow]] = {}
    for r in rows:
        by_ent.setdefault(r.enterprise_id, []).append(r)
    secure, lapsing, current = 0, [], 0
    for ent_id, certs in by_ent.items():
        live = [c for c in certs if c.valid_on(today)]
        if not live:
            continue
        current += 1
        later = [c for c in certs if c.revoked_on is None and c.issued_on <= target_date]
        if any(c.expires_on is None or c.expires_on >= target_date for c in later):
            secure += 1
            continue
        last = max(live, key=lambda c: c.expires_on)
        lapsing.append(Lapse(ent_id, last.expires_on, last.certificate_no))
    lapsing.sort(key=lambda x: (x.expires_on, x.enterprise_id))

    # Renewal rate from certificates whose renewal window has closed.
    window_closed = _add_months(today, -window_months)
    history_start = datetime.date(today.year - history_years, today.month, min(today.day, 28))
    sample = renewed = 0
    for certs in by_ent.values():
        for c in certs:
            if c.expires_on is None or c.revoked_on is not None:
                continue
            if not (history_start <= c.expires_on <= window_closed):
                continue
            sample += 1
            lo, hi = _add_months(c.expires_on, -12), _add_months(c.expires_on, window_months)
            if any(o.id != c.id and lo <= o.issued_on <= hi for o in certs):
                renewed += 1

    first_issue = {ent: min(c.issued_on for c in certs) for ent, certs in by_ent.items()}
    years = list(range(today.year - history_years, today.year))
    new_by_year = dict.fromkeys(years, 0)
    for day in first_issue.values():
        if day.year in new_by_year:
            new_by_year[day.year] += 1
    return Forecast(
        today=today,
        target_date=target_date,
        current=current,
        secure=secure,
        lapsing=lapsing,
        renewal_rate=(renewed / sample) if sample else 0.0,
        renewal_sample=sample,
        renewed=renewed,
        new_rate=(sum(new_by_year.values()) / len(years)) if years else 0.0,
        new_by_year=new_by_year,
        years_ahead=max(0.0, (target_date - today).days / 365.25),
        window_months=window_months,
    )


def can_forecast(indicator) -> bool:
    spec = indicator.source or {}
    return indicator.is_computed and spec.get("aggregate") == "count_valid"


def forecast_indicator(indicator, *, today: datetime.date | None = None) -> Forecast:
    """Forecast a computed count_valid indicator at the end of its target year."""
    today = today or timezone.localdate()
    spec = aggregates.validate_spec(indicator.source)
    res = aggregates._Resolver([spec])
    flt = spec.get("filter", {})
    qs = Qualification.objects.filter(
        aggregates._enterprise_filter(flt, res, "enterprise__"),
        type_id__in=res.type_ids(spec["qualification"]),
    )
    rows = [
        QualRow(*values)
        for values in qs.values_list(
            "id", "enterprise_id", "issued_on", "expires_on", "revoked_on", "certificate_no"
        )
    ]
    return forecast_from_rows(rows, today=today, target_date=year_end(indicator.target_year))


def visible_lapsing(fc: Forecast, user) -> list[Lapse]:
    """The lapsing certificates of the enterprises `user` may see, each with its enterprise.

    The forecast counts the whole district; the list of names is scoped like every
    other list, so station staff never see (or export) another town's enterprises.
    """
    ents = (
        Enterprise.objects.visible_to(user)
        .select_related("jurisdiction")
        .in_bulk([lapse.enterprise_id for lapse in fc.lapsing])
    )
    out = []
    for lapse in fc.lapsing:
        ent = ents.get(lapse.enterprise_id)
        if ent is not None:
            lapse.enterprise = ent
            out.append(lapse)
    return out
