"""Validators for identifiers officers type into forms and spreadsheets.

* Unified social credit code (统一社会信用代码), GB 32100-2015, whose characters
  9-17 are the organisation code of GB 11714-1997 with its own check digit.
* Mainland Chinese mobile numbers.
* Plausible ranges of amounts, counts, years and dates: one definition that model
  fields (hence forms and serializers), request parameters and imports all use.

Each ``normalize_*`` function returns the canonical form that should be stored;
each ``validate_*`` function normalises first, raises
:class:`django.core.exceptions.ValidationError` with a message that names the
position and the reason, and returns the canonical form (Django ignores the
return value when the function is used as a field validator).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext as _

__all__ = [
    "USCC_CHARSET",
    "normalize_uscc",
    "validate_uscc",
    "uscc_check_char",
    "is_valid_uscc",
    "normalize_mobile",
    "validate_mobile",
    "AMOUNT_MAX",
    "COUNT_MAX",
    "DATE_MAX",
    "DATE_MIN",
    "REPORT_YEAR_MIN",
    "YEAR_MAX",
    "YEAR_MIN",
    "amount_validators",
    "count_validators",
    "date_validators",
    "year_validators",
    "validate_report_year",
]

# --- plausible ranges (docs/decisions/0009-plausible-ranges-and-bounded-parameters.md) ---------------------------
# Money is stored in whole yuan. 10 万亿元 (10^13 yuan) is above the registered capital,
# revenue or assets of any company in China, and far inside a 64-bit column (9.2 × 10^18),
# so no plausible amount can overflow and no typo of a few extra digits is stored.
AMOUNT_MAX = 10**13
# Head counts, patents, IP items: the largest employers have a few million staff.
COUNT_MAX = 10**7
# Years of plans, indicators and periods; dates of registrations, certificates, visits.
YEAR_MIN = 1900
YEAR_MAX = 2100
DATE_MIN = dt.date(YEAR_MIN, 1, 1)
DATE_MAX = dt.date(YEAR_MAX, 12, 31)
# Annual reports: the register holds the reform era's enterprises; never a future year.
REPORT_YEAR_MIN = 1990


def amount_validators(*, signed: bool = False) -> list:
    """Money in yuan: 0 .. AMOUNT_MAX, or ±AMOUNT_MAX where a loss is meaningful (profit)."""
    return [MinValueValidator(-AMOUNT_MAX if signed else 0), MaxValueValidator(AMOUNT_MAX)]


def count_validators() -> list:
    """Head counts and numbers of patents or IP items: 0 .. COUNT_MAX."""
    return [MinValueValidator(0), MaxValueValidator(COUNT_MAX)]


def year_validators() -> list:
    """A calendar year: YEAR_MIN .. YEAR_MAX."""
    return [MinValueValidator(YEAR_MIN), MaxValueValidator(YEAR_MAX)]


def date_validators() -> list:
    """A date: DATE_MIN .. DATE_MAX (1900-01-01 .. 2100-12-31)."""
    return [MinValueValidator(DATE_MIN), MaxValueValidator(DATE_MAX)]


def validate_report_year(value: int | None) -> None:
    """An annual report's year: from REPORT_YEAR_MIN to the current year."""
    if value is None:
        return
    current = timezone.localdate().year
    if not REPORT_YEAR_MIN <= value <= current:
        raise ValidationError(
            _("The report year must be from %(low)d to %(high)d; %(value)s is not."),
            code="out_of_range",
            params={"value": value, "low": REPORT_YEAR_MIN, "high": current},
        )


# GB 32100-2015 table 1: the 31 characters allowed, in value order (I O Z S V excluded).
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
# Weight of position i (0-based) is 3**i mod 31.
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

# GB 11714-1997 organisation code: weights of the 8 body characters; letters count 10-35.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# GB 32100-2015 table 2: registration authority (position 1) -> allowed
# organisation categories (position 2).
_AUTHORITY_CATEGORIES: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 中央编办直管群众团体, 其他
    "2": "19",  # 外交
    "3": "1234569",  # 司法行政
    "4": "19",  # 文化
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 市场监管（工商）: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室
    "N": "12349",  # 农业: 农村集体经济组织
    "Y": "",  # 其他: any category
}

# First two digits of the registration authority's GB/T 2260 division code;
# "10" is used by national-level registration authorities.
_PROVINCE_PREFIXES = frozenset(
    [
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)

_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d+$")


def _to_half_width(value: str) -> str:
    # NFKC maps full-width letters, digits and the ideographic space to ASCII.
    return unicodedata.normalize("NFKC", value)


def normalize_uscc(value: object) -> str:
    """Return ``value`` stripped of all whitespace, half-width and upper-case.

    It does not validate; call :func:`validate_uscc` for that.
    """
    if value is None:
        return ""
    text = _to_half_width(str(value))
    return "".join(text.split()).upper()


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def _org_code_check_char(body8: str) -> str:
    # int(c, 36) gives 0-9 for digits and 10-35 for A-Z, as GB 11714 specifies.
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate_uscc(value: object) -> str:
    """Validate a unified social credit code and return its canonical form.

    Raises ValidationError (codes ``uscc_*``) naming the first problem found.
    """
    if isinstance(value, float | int) and not isinstance(value, bool):
        raise ValidationError(
            _(
                "The unified social credit code “%(value)s” was stored as a number by the "
                "spreadsheet program, so its last digits may have been lost; format the column "
                "as “Text” and enter the code again."
            ),
            code="uscc_number",
            params={"value": value},
        )
    code = normalize_uscc(value)
    if not code:
        raise ValidationError(
            _("The unified social credit code must not be empty."), code="uscc_empty"
        )
    if _SCIENTIFIC.match(code):
        raise ValidationError(
            _(
                "The unified social credit code “%(value)s” is in scientific notation: the "
                "spreadsheet program treated it as a number and its last digits are lost; format "
                "the column as “Text” and enter the code again."
            ),
            code="uscc_number",
            params={"value": code},
        )
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; “%(value)s” has %(length)d."),
            code="uscc_length",
            params={"value": code, "length": len(code)},
        )
    for position, char in enumerate(code, start=1):
        if char not in _USCC_VALUE:
            raise ValidationError(
                _(
                    "In the unified social credit code “%(value)s”, character %(position)d "
                    "(“%(char)s”) is not allowed: only digits and capital letters other than "
                    "I, O, Z, S and V are."
                ),
                code="uscc_char",
                params={"value": code, "position": position, "char": char},
            )
    authority, category = code[0], code[1]
    if authority not in _AUTHORITY_CATEGORIES:
        raise ValidationError(
            _(
                "In the unified social credit code “%(value)s”, the registration authority code "
                "in position 1, “%(char)s”, does not exist."
            ),
            code="uscc_authority",
            params={"value": code, "char": authority},
        )
    allowed = _AUTHORITY_CATEGORIES[authority]
    if allowed and category not in allowed:
        raise ValidationError(
            _(
                "In the unified social credit code “%(value)s”, the organisation category code "
                "in position 2, “%(char)s”, does not fit the registration authority code in "
                "position 1, “%(authority)s”."
            ),
            code="uscc_category",
            params={"value": code, "char": category, "authority": authority},
        )
    region = code[2:8]
    if not region.isdigit() or region[:2] not in _PROVINCE_PREFIXES:
        raise ValidationError(
            _(
                "In the unified social credit code “%(value)s”, positions 3–8 must be the "
                "administrative division code of the registration authority; “%(region)s” is "
                "not a valid division code."
            ),
            code="uscc_region",
            params={"value": code, "region": region},
        )
    org_expected = _org_code_check_char(code[8:16])
    if code[16] != org_expected:
        raise ValidationError(
            _(
                "In the unified social credit code “%(value)s”, the check character (position "
                "17) of the organisation code in positions 9–17 should be “%(expected)s” but is "
                "“%(actual)s”; check positions 9–17."
            ),
            code="uscc_org_check",
            params={"value": code, "expected": org_expected, "actual": code[16]},
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _(
                "The check character (position 18) of the unified social credit code "
                "“%(value)s” should be “%(expected)s” but is “%(actual)s”; check for a "
                "mistyped character."
            ),
            code="uscc_check",
            params={"value": code, "expected": expected, "actual": code[17]},
        )
    return code


def is_valid_uscc(value: object) -> bool:
    """Return True when :func:`validate_uscc` accepts ``value``."""
    try:
        validate_uscc(value)
    except ValidationError:
        return False
    return True


_MOBILE = re.compile(r"1[3-9]\d{9}")
_MOBILE_SEPARATORS = re.compile(r"[\s\-()]")


def normalize_mobile(value: object) -> str:
    """Return the bare 11-digit number: no +86/0086/86 prefix, spaces, hyphens or brackets.

    It does not validate; call :func:`validate_mobile` for that.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _MOBILE_SEPARATORS.sub("", _to_half_width(str(value)))
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            return text[len(prefix) :]
    if len(text) == 13 and text.startswith("86"):
        return text[2:]
    return text


def validate_mobile(value: object) -> str:
    """Validate a mainland mobile number and return its 11-digit canonical form."""
    raw = "" if value is None else str(value).strip()
    number = normalize_mobile(value)
    if not number:
        raise ValidationError(_("The mobile number must not be empty."), code="mobile_empty")
    if not number.isdigit():
        raise ValidationError(
            _("The mobile number “%(value)s” contains characters other than digits."),
            code="mobile_char",
            params={"value": raw},
        )
    if len(number) != 11:
        raise ValidationError(
            _(
                "The mobile number “%(value)s” should have 11 digits (without +86) but has "
                "%(length)d."
            ),
            code="mobile_length",
            params={"value": raw, "length": len(number)},
        )
    if not _MOBILE.fullmatch(number):
        raise ValidationError(
            _(
                "The mobile number “%(value)s” should start with 13–19; check whether a "
                "landline number was entered or a digit was mistyped."
            ),
            code="mobile_prefix",
            params={"value": raw},
        )
    return number
