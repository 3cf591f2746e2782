"""Dates as officers write them or spreadsheets store them (split from ``core.parsing``).

Same contract as ``core.parsing``: blank -> None, otherwise a ``datetime.date`` within
the plausible range of :mod:`kechuang.core.validators` (1900 .. 2100), or a
:class:`ParseError` whose message says what was wrong.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal

from django.utils.translation import gettext as _

from kechuang.core.parsing import ParseError, _is_blank
from kechuang.core.validators import YEAR_MAX, YEAR_MIN

__all__ = ["check_date_year", "excel_serial_to_date", "parse_date"]

_WS = re.compile(r"\s+")


# Excel's 1900 date system: serial 1 is 1900-01-01 and serial 60 is the
# non-existent 1900-02-29 kept for Lotus 1-2-3 compatibility.
_EXCEL_EPOCH_BEFORE_LEAP_BUG = dt.date(1899, 12, 31)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31

_DATE_PATTERNS = (
    # 2023年5月1日 / 2023年05月01号
    re.compile(r"(?P<y>\d{2,4})年(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})[日号]?)?"),
    # 2023-05-01, 2023/5/1, 2023.5.1 (the same separator twice), or 2023-05 / 2023.5
    re.compile(r"(?P<y>\d{2,4})(?P<sep>[-/.])(?P<m>\d{1,2})(?:(?P=sep)(?P<d>\d{1,2}))?"),
    # 20230501
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)
_TIME_SUFFIX = re.compile(r"(?:T|\s+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_EXCEL_SERIAL_TEXT = re.compile(r"\d{1,5}(?:\.\d+)?")


def excel_serial_to_date(serial: float | int | Decimal) -> dt.date:
    """Convert an Excel 1900-system serial number to a date (the time part is dropped)."""
    if isinstance(serial, bool) or not math.isfinite(float(serial)):
        raise ParseError(_("“%(value)s” is not an Excel date serial number.") % {"value": serial})
    days = math.floor(serial)
    if days == 60:
        raise ParseError(
            _(
                "Excel date serial number 60 stands for 29 February 1900, a day that does not "
                "exist (a long-standing Excel bug)."
            ),
            code="date",
        )
    if not 1 <= days <= _EXCEL_MAX_SERIAL:
        raise ParseError(
            _("Excel date serial number %(value)s is out of range (it must be from 1 to %(max)d).")
            % {"value": serial, "max": _EXCEL_MAX_SERIAL},
            code="date",
        )
    epoch = _EXCEL_EPOCH_BEFORE_LEAP_BUG if days < 60 else _EXCEL_EPOCH
    return epoch + dt.timedelta(days=days)


def check_date_year(year: int, original: object) -> None:
    """Refuse a date whose year is outside validators.YEAR_MIN .. YEAR_MAX (1900 .. 2100)."""
    if year < YEAR_MIN:
        raise ParseError(
            _("The year %(year)d in the date “%(value)s” is too early; check for a typing mistake.")
            % {"value": original, "year": year},
            code="date",
        )
    if year > YEAR_MAX:
        raise ParseError(
            _("The year %(year)d in the date “%(value)s” is too late; check for a typing mistake.")
            % {"value": original, "year": year},
            code="date",
        )


def parse_date(value: object, *, allow_month: bool = False) -> dt.date | None:
    """Parse a date as officers write it, or as a spreadsheet stores it.

    Accepts 2023年5月1日, 2023-05-01, 2023/5/1, 2023.5.1, 20230501, "2023-05-01 00:00:00",
    ``date``/``datetime`` objects and Excel serial numbers (number cells, or text of at most
    5 digits such as "45047"). With ``allow_month=True``, 2023年5月 / 2023-05 are accepted
    and return the first day of that month.
    """
    if _is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        check_date_year(value.year, value.isoformat())
        return value
    if isinstance(value, bool):
        raise ParseError(_("“%(value)s” is a yes/no value, not a date.") % {"value": value})
    if isinstance(value, int | float | Decimal):
        day = excel_serial_to_date(value)
        check_date_year(day.year, value)
        return day
    if not isinstance(value, str):
        raise ParseError(_("“%(value)s” is not a date.") % {"value": value}, code="date")

    original = value.strip()
    text = unicodedata.normalize("NFKC", original).strip()
    text = _TIME_SUFFIX.sub("", text)
    text = _WS.sub("", text)
    if _EXCEL_SERIAL_TEXT.fullmatch(text):
        # Five digits is every serial from 1927 to 2173; shorter would be a bare year.
        if len(text.split(".")[0]) == 5:
            day = excel_serial_to_date(Decimal(text))
            check_date_year(day.year, original)
            return day
        if len(text) == 4:
            raise ParseError(
                _("The date “%(value)s” has only a year; the month and day are missing.")
                % {"value": original},
                code="date",
            )
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            break
    else:
        raise ParseError(
            _("Cannot read the date “%(value)s”; write it like 2023-05-01.") % {"value": original},
            code="date",
        )
    year_text, month, day_text = match.group("y"), int(match.group("m")), match.group("d")
    if len(year_text) != 4:
        raise ParseError(
            _("The year in the date “%(value)s” must have all 4 digits (for example 2023).")
            % {"value": original},
            code="date",
        )
    year = int(year_text)
    if day_text is None and not allow_month:
        raise ParseError(
            _("The date “%(value)s” has no day; a full date, including the day, is needed here.")
            % {"value": original},
            code="date_month_only",
        )
    if not 1 <= month <= 12:
        raise ParseError(
            _("The date “%(value)s” has month %(month)d, which does not exist.")
            % {"value": original, "month": month},
            code="date",
        )
    check_date_year(year, original)
    day = int(day_text) if day_text is not None else 1
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ParseError(
            _(
                "The date “%(value)s” does not exist: month %(month)d of %(year)d has no day %(day)d."
            )
            % {"value": original, "year": year, "month": month, "day": day},
            code="date",
        ) from None
