"""Reporting periods of a plan (monthly / quarterly / half-yearly) and when each report is due.

The report for a period is due GRACE_DAYS after the period ends; a reminder ("due") is
sent from REMIND_BEFORE_DAYS before the period ends until the due date, and an "overdue"
notice after it, for the most recent ended period without a report.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

GRACE_DAYS = 10
REMIND_BEFORE_DAYS = 7

_MONTHS = {"monthly": 1, "quarterly": 3, "half_year": 6}


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: datetime.date
    end: datetime.date

    @property
    def due_on(self) -> datetime.date:
        return self.end + datetime.timedelta(days=GRACE_DAYS)


def _month_end(year: int, month: int) -> datetime.date:
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)


def period_containing(day: datetime.date, frequency: str) -> Period:
    step = _MONTHS.get(frequency, 3)
    first_month = (day.month - 1) // step * step + 1
    last_month = first_month + step - 1
    if step == 1:
        label = f"{day.year}-{day.month:02d}"
    elif step == 3:
        label = f"{day.year}Q{(first_month - 1) // 3 + 1}"
    else:
        label = f"{day.year}H{1 if first_month == 1 else 2}"
    return Period(label, datetime.date(day.year, first_month, 1), _month_end(day.year, last_month))


def previous_period(period: Period, frequency: str) -> Period:
    return period_containing(period.start - datetime.timedelta(days=1), frequency)


def periods_between(start: datetime.date, end: datetime.date, frequency: str) -> list[Period]:
    out = []
    period = period_containing(start, frequency)
    while period.start <= end:
        out.append(period)
        period = period_containing(period.end + datetime.timedelta(days=1), frequency)
    return out
