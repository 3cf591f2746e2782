"""Exact parsing of the values officers type or paste into forms and spreadsheets.

Every ``parse_*`` function accepts what a spreadsheet cell or a form field can hold
(``str``, ``int``, ``float``, ``Decimal``, ``bool``, ``date``/``datetime``), returns
``None`` for a blank value (``None``, ``""`` or only whitespace) so that the caller
decides whether the column is required, and raises :class:`ParseError` (a
``ValueError``) whose message says what was wrong and why.

Money is returned as ``Decimal`` yuan (元) with at most two decimal places (分);
never a float. Dates are in :mod:`kechuang.core.dates`. Spreadsheet numbers arrive as binary floats; they are read the way
Excel displays them (15 significant digits), so the cell ``1234.5`` becomes
``Decimal("1234.5")`` and ``=0.1+0.2`` becomes ``Decimal("0.3")``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Literal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

__all__ = [
    "AMOUNT_UNITS",
    "ParseError",
    "cell_to_decimal",
    "parse_amount",
    "parse_bool",
    "parse_chinese_number",
    "parse_int",
    "parse_ratio",
]


class ParseError(ValueError):
    """A value could not be read; ``str(error)`` is the user-facing message."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# Multipliers to yuan. Longer names first so "万元" wins over "元". A bare 千 is
# deliberately not a unit: "3千" is a number and takes the column's default unit,
# exactly like "三千" or "3000".
AMOUNT_UNITS: dict[str, Decimal] = {
    "万亿元": Decimal("1000000000000"),
    "万亿": Decimal("1000000000000"),
    "亿元": Decimal("100000000"),
    "亿": Decimal("100000000"),
    "千万元": Decimal("10000000"),
    "千万": Decimal("10000000"),
    "百万元": Decimal("1000000"),
    "百万": Decimal("1000000"),
    "十万元": Decimal("100000"),
    "十万": Decimal("100000"),
    "万元": Decimal("10000"),
    "万": Decimal("10000"),
    "千元": Decimal("1000"),
    "元": Decimal("1"),
    "圆": Decimal("1"),
}

_FEN = Decimal("0.01")
_WS = re.compile(r"\s+")


def _join(items: list[str]) -> str:
    """Join items into a list for a message ("、" in Chinese)."""
    return pgettext("list separator", ", ").join(items)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _clean_text(value: str) -> str:
    """Half-width (NFKC), no whitespace; U+2212 minus and the ideographic full stop fixed."""
    text = unicodedata.normalize("NFKC", value)
    text = text.replace("\u2212", "-").replace("\u2014", "-").replace("\u3002", ".")
    return _WS.sub("", text)


def cell_to_decimal(value: float | int | Decimal) -> Decimal:
    """Convert a spreadsheet number to ``Decimal`` without binary-float noise.

    Floats are rounded to the 15 significant digits that Excel itself keeps and shows.
    """
    if isinstance(value, bool):
        raise ParseError(_("“%(value)s” is a yes/no value, not a number.") % {"value": value})
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ParseError(_("“%(value)s” is not a valid number.") % {"value": value})
        return value
    if isinstance(value, int):
        return Decimal(value)
    if not math.isfinite(value):
        raise ParseError(_("“%(value)s” is not a valid number.") % {"value": value})
    result = Decimal(format(value, ".15g"))
    # Drop the exponent form that ".15g" uses for large values (1e+20 -> 100000000000000000000).
    if result == result.to_integral_value():
        return result.quantize(Decimal(1))
    return result


# ---------------------------------------------------------------------------
# Plain and Chinese numerals
# ---------------------------------------------------------------------------

_CN_DIGITS = {
    "零": 0, "〇": 0, "○": 0, "O": 0,
    "一": 1, "壹": 1, "幺": 1,
    "二": 2, "贰": 2, "貳": 2, "两": 2, "兩": 2,
    "三": 3, "叁": 3, "參": 3,
    "四": 4, "肆": 4,
    "五": 5, "伍": 5,
    "六": 6, "陆": 6, "陸": 6,
    "七": 7, "柒": 7,
    "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}  # fmt: skip
_CN_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG_UNITS = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
_CN_POINT = {"点", "點"}
_ARABIC = re.compile(r"\d+(?:\.\d+)?")


def _tokenize_chinese(text: str) -> list[tuple[str, Decimal]]:
    """Split into ('num', value), ('small', unit) and ('big', unit) tokens."""
    tokens: list[tuple[str, Decimal]] = []
    i = 0
    while i < len(text):
        char = text[i]
        match = _ARABIC.match(text, i)
        if match:
            tokens.append(("num", Decimal(match.group())))
            i = match.end()
        elif char in _CN_DIGITS:
            digits = str(_CN_DIGITS[char])
            i += 1
            if i < len(text) and text[i] in _CN_POINT:
                fraction = ""
                i += 1
                while i < len(text) and text[i] in _CN_DIGITS:
                    fraction += str(_CN_DIGITS[text[i]])
                    i += 1
                if not fraction:
                    raise ParseError(_("A digit is missing after the decimal point."))
                digits += "." + fraction
            tokens.append(("zero" if digits == "0" else "num", Decimal(digits)))
        elif char in _CN_SMALL_UNITS:
            tokens.append(("small", Decimal(_CN_SMALL_UNITS[char])))
            i += 1
        elif char in _CN_BIG_UNITS:
            tokens.append(("big", Decimal(_CN_BIG_UNITS[char])))
            i += 1
        else:
            raise ParseError(
                _("“%(char)s” is neither a digit nor a unit of quantity.") % {"char": char}
            )
    return tokens


def parse_chinese_number(text: str) -> Decimal:
    """Read a number written with Chinese numerals, possibly mixed with Arabic digits.

    Handles 一百零五, 壹佰万, 三千万, 一亿二千万, 十二万五千, 一点五亿, 1亿2000万,
    3千万, and the spoken short forms 一万五 (15000) and 三千五 (3500).
    """
    text = _clean_text(text)
    if not text:
        raise ParseError(_("There is no number."))
    tokens = _tokenize_chinese(text)
    high = Decimal(0)  # everything already multiplied by 亿
    wan = Decimal(0)  # the part already multiplied by 万 (below 亿)
    section = Decimal(0)  # below 万
    number: Decimal | None = None
    previous = ""
    last_unit = Decimal(0)
    for kind, value in tokens:
        if kind in ("num", "zero"):
            if previous in ("num",):
                raise ParseError(
                    _(
                        "“%(text)s” has two numbers next to each other without a unit between "
                        "them, so its value is unclear."
                    )
                    % {"text": text}
                )
            number = value
        elif kind == "small":
            if previous == "small" or previous == "zero":
                raise ParseError(
                    _("The units of quantity in “%(text)s” are in the wrong place.")
                    % {"text": text}
                )
            section += (number if number is not None else Decimal(1)) * value
            number = None
            last_unit = value
        else:  # big unit
            part = section + (number or 0)
            if part == 0 and previous != "num" and not (value == 10**8 and previous == "big"):
                raise ParseError(
                    _("A number is missing before the ten-thousand or hundred-million unit.")
                )
            if value == 10**8:
                high = (high + wan + part) * value
                wan = Decimal(0)
            else:
                wan = (wan + part) * value
            section = Decimal(0)
            number = None
            last_unit = value
        previous = "num" if kind == "num" else kind
    if number is not None and previous == "num" and last_unit and len(tokens) >= 2:
        # 一万五 / 三千五: a trailing bare digit right after a unit counts one unit lower.
        before = tokens[-2][0]
        if before in ("small", "big") and number < 10 and number == number.to_integral_value():
            number *= last_unit / 10
    return high + wan + section + (number or 0)


def _parse_plain_number(text: str) -> Decimal | None:
    """Parse ``-1,234.5`` style text (already cleaned); None when it is not that form."""
    if not re.fullmatch(r"[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?", text) or text in ("", "+", "-"):
        if re.fullmatch(r"[+-]?[\d,]+(\.\d+)?", text) and "," in text:
            raise ParseError(
                _(
                    "The thousands separators in “%(text)s” are in the wrong place (one comma "
                    "every three digits, as in 1,234,567)."
                )
                % {"text": text}
            )
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex above already guards it
        return None


def _parse_number_text(text: str) -> Decimal:
    """Arabic (with thousands separators) or Chinese numerals; sign handled by the caller."""
    plain = _parse_plain_number(text)
    if plain is not None:
        return plain
    if any(c.isdigit() for c in text) and not any(
        c in _CN_DIGITS or c in _CN_SMALL_UNITS or c in _CN_BIG_UNITS for c in text
    ):
        raise ParseError(_("“%(text)s” is not a valid number.") % {"text": text})
    return parse_chinese_number(text)


# ---------------------------------------------------------------------------
# Amounts
# ---------------------------------------------------------------------------

_CURRENCY_MARKS = ("人民币", "RMB", "CNY", "¥", "￥")
_YUAN_JIAO_FEN = re.compile(
    r"^(?P<yuan>.*?)[元圆](?:(?P<jiao>[^角分]+)角)?(?:(?P<fen>[^角分]+)分)?$"
)


def parse_amount(value: object, *, default_unit: str = "元") -> Decimal | None:
    """Parse a money amount and return ``Decimal`` yuan, exact to the fen (分).

    ``default_unit`` is the unit of a bare number, usually taken from the column
    header (营业收入(万元) -> "万元"); an explicit unit in the value wins.
    Accepts "1,234.5万元", "1.2亿元", "¥3,000", "-3000", "壹佰万元整", "三千万",
    "叁仟元伍角", full-width digits and spaces, and spreadsheet numbers.
    """
    if default_unit not in AMOUNT_UNITS:
        raise ValueError(f"unknown default_unit {default_unit!r}; use one of {list(AMOUNT_UNITS)}")
    if _is_blank(value):
        return None
    multiplier = AMOUNT_UNITS[default_unit]
    if isinstance(value, bool):
        raise ParseError(_("An amount cannot be a yes/no value."), code="amount")
    if isinstance(value, int | float | Decimal):
        number = cell_to_decimal(value)
        return _to_yuan(number * multiplier, str(value))
    if not isinstance(value, str):
        raise ParseError(_("“%(value)s” is not an amount.") % {"value": value}, code="amount")

    original = value.strip()
    text = _clean_text(value)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]  # accounting style (1,234)
    for mark in _CURRENCY_MARKS:
        text = text.replace(mark, "")
    if text.startswith(("-", "负")):
        negative, text = not negative, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    text = text.removesuffix("整").removesuffix("正")
    if not text:
        raise ParseError(
            _("“%(value)s” contains no number for the amount.") % {"value": original}, code="amount"
        )

    try:
        amount = _parse_amount_body(text, multiplier)
    except ParseError as exc:
        raise ParseError(
            _("Cannot read the amount “%(value)s”: %(reason)s")
            % {"value": original, "reason": exc.message},
            code="amount",
        ) from None
    return _to_yuan(-amount if negative else amount, original)


def _parse_amount_body(text: str, default_multiplier: Decimal) -> Decimal:
    # 叁仟元伍角贰分: yuan followed by jiao/fen.
    match = _YUAN_JIAO_FEN.match(text)
    if match and (match.group("jiao") or match.group("fen")):
        yuan = _parse_amount_body(match.group("yuan") + "元", default_multiplier)
        jiao = _parse_number_text(match.group("jiao")) if match.group("jiao") else Decimal(0)
        fen = _parse_number_text(match.group("fen")) if match.group("fen") else Decimal(0)
        return yuan + jiao / 10 + fen / 100
    for unit, unit_multiplier in AMOUNT_UNITS.items():
        if text.endswith(unit):
            body = text[: -len(unit)]
            plain = _parse_plain_number(body) if body else None
            if plain is not None:
                return plain * unit_multiplier
            # Written-out numbers (壹佰万元, 1亿2000万) carry their own 万/亿 and are yuan.
            return _parse_number_text(text.removesuffix("元").removesuffix("圆"))
    plain = _parse_plain_number(text)
    if plain is not None:
        return plain * default_multiplier
    if any(c in _CN_DIGITS or c in _CN_SMALL_UNITS or c in _CN_BIG_UNITS for c in text):
        # Without 万/亿/元 (三千, 3千) the number is in the column's unit, like "3000".
        return parse_chinese_number(text) * default_multiplier
    raise ParseError(
        _("It is not a number with a unit that can be read (for example %(examples)s).")
        % {"examples": _join(["1,234.5万元", "3000元", "壹佰万元"])}
    )


# Beyond any plausible amount (validators.AMOUNT_MAX is 10^13) and inside a 64-bit
# column; checked before quantize, which would raise InvalidOperation past 28 digits.
_AMOUNT_LIMIT = Decimal(10**18)


def _to_yuan(amount: Decimal, original: str) -> Decimal:
    if abs(amount) >= _AMOUNT_LIMIT:
        raise ParseError(
            _("The amount “%(value)s” is far too large to be a real amount; check the digits.")
            % {"value": original},
            code="amount_range",
        )
    if amount != amount.quantize(_FEN):
        raise ParseError(
            _(
                "The amount “%(value)s” comes to %(yuan)s yuan, which is more precise than a "
                "fen (0.01 yuan)."
            )
            % {"value": original, "yuan": amount},
            code="amount_precision",
        )
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount.quantize(_FEN)


# ---------------------------------------------------------------------------
# Integers, ratios, booleans
# ---------------------------------------------------------------------------


def parse_int(value: object) -> int | None:
    """Parse an integer: "1,234", Excel's 1234.0, "1.2万", "三千"; rejects 1234.5."""
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        raise ParseError(_("“%(value)s” is a yes/no value, not a whole number.") % {"value": value})
    original = value.strip() if isinstance(value, str) else str(value)
    if isinstance(value, int | float | Decimal):
        number = cell_to_decimal(value)
    elif isinstance(value, str):
        text = _clean_text(value)
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        try:
            number = sign * _parse_number_text(text)
        except ParseError as exc:
            raise ParseError(
                _("Cannot read the whole number “%(value)s”: %(reason)s")
                % {"value": original, "reason": exc.message},
                code="int",
            ) from None
    else:
        raise ParseError(_("“%(value)s” is not a whole number.") % {"value": value}, code="int")
    if number != number.to_integral_value():
        raise ParseError(
            _("“%(value)s” has decimals; only a whole number is allowed here.")
            % {"value": original},
            code="int",
        )
    return int(number)


def parse_ratio(value: object, *, bare: Literal["percent", "fraction"]) -> Decimal | None:
    """Parse a percentage or ratio and return it as a fraction (5% -> Decimal("0.05")).

    "5%", "5‰" and "百分之五" are unambiguous. A bare number is read according to
    the column: ``bare="percent"`` (the header says 比例(%): "5" means 5%) or
    ``bare="fraction"`` (a ratio column, or an Excel cell formatted as percent,
    which stores 0.05).
    """
    if bare not in ("percent", "fraction"):
        raise ValueError(f"bare must be 'percent' or 'fraction', not {bare!r}")
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        raise ParseError(_("“%(value)s” is a yes/no value, not a ratio.") % {"value": value})
    if isinstance(value, int | float | Decimal):
        number = cell_to_decimal(value)
        return number / 100 if bare == "percent" else number
    if not isinstance(value, str):
        raise ParseError(_("“%(value)s” is not a ratio.") % {"value": value}, code="ratio")
    original = value.strip()
    text = _clean_text(value)
    divisor = Decimal(100) if bare == "percent" else Decimal(1)
    if text.endswith("%"):
        text, divisor = text[:-1], Decimal(100)
    elif text.endswith("‰"):
        text, divisor = text[:-1], Decimal(1000)
    elif text.startswith("百分之"):
        text, divisor = text[3:], Decimal(100)
    elif text.startswith("千分之"):
        text, divisor = text[3:], Decimal(1000)
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    try:
        number = _parse_number_text(text)
    except ParseError as exc:
        raise ParseError(
            _("Cannot read the ratio “%(value)s”: %(reason)s")
            % {"value": original, "reason": exc.message},
            code="ratio",
        ) from None
    return sign * number / divisor


_TRUE = frozenset({"是", "有", "对", "Y", "YES", "TRUE", "T", "1", "√", "✓", "✔"})
_FALSE = frozenset({"否", "无", "没有", "不是", "错", "N", "NO", "FALSE", "F", "0", "×", "✗", "✘"})


def parse_bool(value: object) -> bool | None:
    """Parse 是/否, 有/无, Y/N, yes/no, true/false, 1/0, √/×."""
    if _is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return bool(value)
    text = _clean_text(str(value)).upper()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ParseError(
        _("“%(value)s” is not “%(yes)s/%(no)s” (%(others)s are also accepted).")
        % {
            "value": str(value).strip(),
            "yes": "是",
            "no": "否",
            "others": _join(["Y/N", "有/无", "1/0", "TRUE/FALSE"]),
        },
        code="bool",
    )
