"""Bounded parsing of request parameters: query strings, URL parts and filter values.

Every id, number, year, period and date a page or the API reads from a request goes
through one of these functions. They accept ASCII digits (and full-width digits, which
Chinese input methods produce, normalised to ASCII) and nothing else that Python's
``int()`` or ``str.isdigit()`` would let through (``²``, Arabic-Indic digits …); every
integer is kept inside its column's range (64-bit signed at most) and every year and
date inside :mod:`kechuang.core.validators`' plausible range. A bad value raises
:class:`ParamError`: a ``ParseError`` (so forms show its message) and a Django
``BadRequest`` (so a page answers 400 and the API its JSON error body, never a 500).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import BadRequest
from django.utils.translation import gettext as _

from kechuang.core import validators as limits
from kechuang.core.parsing import ParseError

__all__ = [
    "INT64_MAX",
    "ParamError",
    "parse_date_param",
    "parse_decimal_param",
    "parse_id",
    "parse_int_param",
    "parse_period",
    "parse_year",
]

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
# Longer than any value of the ranges below: refuse before any conversion work.
_MAX_LENGTH = 40

# Full-width digits and signs (U+FF10-FF19, U+FF0B, U+FF0D, U+FF0E) -> ASCII; nothing else.
_FULL_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "＋": "+", "－": "-", "．": "."}
)
_INT = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_PERIOD = re.compile(r"([0-9]{4})(?:[Qq]([1-4])|[Hh]([12])|-([0-9]{2}))?")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class ParamError(ParseError, BadRequest):
    """A request parameter that cannot be read; ``name`` is the parameter, if known."""

    def __init__(self, message: str, *, name: str = "", code: str = "invalid") -> None:
        super().__init__(message, code=code)
        self.name = name


def _text(value: object, name: str) -> str:
    text = str(value).strip().translate(_FULL_WIDTH)
    if len(text) > _MAX_LENGTH:
        raise ParamError(
            _("“%(name)s” is too long to be a valid value.") % {"name": name}, name=name
        )
    return text


def parse_int_param(
    value: object, *, name: str = "", min_value: int = INT64_MIN, max_value: int = INT64_MAX
) -> int:
    """A whole number in [min_value, max_value], written with ASCII or full-width digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = _text(value, name)
        if not _INT.fullmatch(text):
            raise ParamError(
                _("“%(value)s” is not a whole number (use the digits 0-9).") % {"value": text},
                name=name,
            )
        number = int(text)
    if not min_value <= number <= max_value:
        raise ParamError(
            _("%(value)s is outside the allowed range %(min)s to %(max)s.")
            % {"value": number, "min": min_value, "max": max_value},
            name=name,
            code="out_of_range",
        )
    return number


def parse_id(value: object, *, name: str = "id") -> int:
    """A record id: a positive 64-bit integer."""
    return parse_int_param(value, name=name, min_value=1, max_value=INT64_MAX)


def parse_year(
    value: object,
    *,
    name: str = "year",
    min_value: int = limits.YEAR_MIN,
    max_value: int | None = None,
) -> int:
    """A calendar year within the plausible range (validators.YEAR_MIN .. YEAR_MAX)."""
    return parse_int_param(
        value,
        name=name,
        min_value=min_value,
        max_value=limits.YEAR_MAX if max_value is None else max_value,
    )


def parse_decimal_param(
    value: object,
    *,
    name: str = "",
    max_digits: int = 18,
    decimal_places: int = 2,
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
) -> Decimal:
    """A decimal number with at most ``max_digits`` digits, ``decimal_places`` after the point."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        number = Decimal(value)
        text = str(value)
    else:
        text = _text(value, name)
        if not _DECIMAL.fullmatch(text):
            raise ParamError(
                _("“%(value)s” is not a number (use the digits 0-9 and a decimal point).")
                % {"value": text},
                name=name,
            )
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern above guards it
            raise ParamError(
                _("“%(value)s” is not a number.") % {"value": text}, name=name
            ) from None
    if not number.is_finite():
        raise ParamError(_("“%(value)s” is not a number.") % {"value": text}, name=name)
    sign, digits, exponent = number.normalize().as_tuple()
    places = max(0, -int(exponent))
    whole = max(0, len(digits) + int(exponent))
    if places > decimal_places or whole > max_digits - decimal_places:
        raise ParamError(
            _(
                "“%(value)s” has too many digits: at most %(whole)d before the decimal point and "
                "%(places)d after it."
            )
            % {"value": text, "whole": max_digits - decimal_places, "places": decimal_places},
            name=name,
            code="out_of_range",
        )
    if (min_value is not None and number < min_value) or (
        max_value is not None and number > max_value
    ):
        raise ParamError(
            _("%(value)s is outside the allowed range %(min)s to %(max)s.")
            % {"value": text, "min": min_value, "max": max_value},
            name=name,
            code="out_of_range",
        )
    return number


def parse_date_param(
    value: object,
    *,
    name: str = "",
    min_value: dt.date | None = None,
    max_value: dt.date | None = None,
) -> dt.date:
    """An ISO date (2025-03-01) within the plausible range (validators.DATE_MIN .. DATE_MAX)."""
    low = limits.DATE_MIN if min_value is None else min_value
    high = limits.DATE_MAX if max_value is None else max_value
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = _text(value, name)
        match = _ISO_DATE.fullmatch(text)
        try:
            day = dt.date(*map(int, match.groups())) if match else None
        except ValueError:
            day = None
        if day is None:
            raise ParamError(
                _("“%(value)s” is not a date; write it as YYYY-MM-DD, e.g. 2025-03-01.")
                % {"value": text},
                name=name,
                code="date",
            )
    if not low <= day <= high:
        raise ParamError(
            _("The date %(value)s is outside the allowed range %(min)s to %(max)s.")
            % {"value": day.isoformat(), "min": low.isoformat(), "max": high.isoformat()},
            name=name,
            code="out_of_range",
        )
    return day


def parse_period(value: object, *, name: str = "period") -> tuple[str, dt.date]:
    """A reporting period: 2025, 2025Q1, 2025H1 or 2025-03 -> (frequency, its first day).

    The frequency is "yearly", "quarterly", "half_year" or "monthly"; the year must lie
    within validators.YEAR_MIN .. YEAR_MAX, so 0000Q1 is refused rather than crashing.
    """
    text = _text(value, name)
    match = _PERIOD.fullmatch(text)
    if not match:
        raise ParamError(
            _("Write the period as 2025, 2025Q1, 2025H1 or 2025-03 (not “%(value)s”).")
            % {"value": text},
            name=name,
            code="period",
        )
    year = parse_year(match.group(1), name=name)
    quarter, half, month = match.group(2), match.group(3), match.group(4)
    if quarter:
        return "quarterly", dt.date(year, int(quarter) * 3 - 2, 1)
    if half:
        return "half_year", dt.date(year, 1 if half == "1" else 7, 1)
    if month:
        number = int(month)
        if not 1 <= number <= 12:
            raise ParamError(
                _("The month in the period “%(value)s” must be 01 to 12.") % {"value": text},
                name=name,
                code="period",
            )
        return "monthly", dt.date(year, number, 1)
    return "yearly", dt.date(year, 1, 1)


def query_param(query, name: str, parse, default=None, **kwargs):
    """``parse(query[name], name=name, **kwargs)``, or ``default`` when absent or blank.

    ``query`` is ``request.GET`` or DRF's ``request.query_params``.
    """
    raw = query.get(name, "")
    if raw is None or not str(raw).strip():
        return default
    return parse(raw, name=name, **kwargs)
