"""Chinese number, quantity and year parsing for plan texts.

All regexes are compiled once at import; functions work on a "scan" copy of the
text whose full-width digits and signs are folded to ASCII one character for one
character, so every offset found also points into the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９％．，－～"}
_FULLWIDTH.update({ord("（"): ord("("), ord("）"): ord(")"), ord("："): ord(":")})
_FULLWIDTH.update({ord("；"): ord(";"), ord("\u3000"): ord(" "), ord("\xa0"): ord(" ")})
# Web copies indent with em spaces and other typographic spaces.
_FULLWIDTH.update({code: ord(" ") for code in range(0x2000, 0x200C)})
_FULLWIDTH.update({ord("\u202f"): ord(" "), ord("\u205f"): ord(" "), ord("\ufeff"): ord(" ")})


def fold_width(text: str) -> str:
    """Fold full-width digits and punctuation to ASCII, keeping the length unchanged."""
    return text.translate(_FULLWIDTH)


_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4}
_CN_DIGIT.update({"五": 5, "六": 6, "七": 7, "八": 8, "九": 9})
_CN_SMALL_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_BIG_UNIT = {"万": 10_000, "亿": 100_000_000}


def parse_cn_int(text: str) -> int | None:
    """Parse a Chinese numeral such as 三千, 十五, 两百零五, 一万二千; None if malformed."""
    if not text:
        return None
    if all(c in _CN_DIGIT for c in text) and len(text) > 1:
        # Digit-by-digit form (二〇二五).
        return int("".join(str(_CN_DIGIT[c]) for c in text))
    total = 0
    section = 0
    digit: int | None = None
    for char in text:
        if char in "零〇":
            continue  # a place holder, as in 两百零五
        if char in _CN_DIGIT:
            if digit is not None:
                return None
            digit = _CN_DIGIT[char]
        elif char in _CN_SMALL_UNIT:
            section += (1 if digit is None else digit) * _CN_SMALL_UNIT[char]
            digit = None
        elif char in _CN_BIG_UNIT:
            section += digit or 0
            total += (section or 1) * _CN_BIG_UNIT[char]
            section = 0
            digit = None
        else:
            return None
    return total + section + (digit or 0)


def parse_number(text: str) -> float | None:
    """Parse an Arabic (1,200.5) or Chinese (三千 / 三点五) number."""
    text = fold_width(text).replace(",", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    if "点" in text:
        whole, _, frac = text.partition("点")
        whole_value = parse_cn_int(whole) if whole else 0
        if whole_value is None or not frac or any(c not in _CN_DIGIT for c in frac):
            return None
        return float(f"{whole_value}.{''.join(str(_CN_DIGIT[c]) for c in frac)}")
    value = parse_cn_int(text)
    return None if value is None else float(value)


def clean_number(value: float) -> int | float:
    """Return an int when the value is whole, so JSON shows 230 rather than 230.0."""
    return int(value) if float(value).is_integer() else round(value, 6)


# Units as written in plans, longest first so that 亿元 wins over 亿 and 人次 over 人.
UNITS = (
    "个百分点",
    "百分点",
    "万平方米",
    "平方公里",
    "平方米",
    "万平米",
    "平米",
    "亿美元",
    "万美元",
    "美元",
    "亿元",
    "万元",
    "千元",
    "元",
    "万人次",
    "人次",
    "人年",
    "家次",
    "万人",
    "万家",
    "万户",
    "万件",
    "万个",
    "万台",
    "亿",
    "万",
    "家",
    "个",
    "项",
    "件",
    "人",
    "名",
    "位",
    "场",
    "次",
    "篇",
    "部",
    "支",
    "台",
    "套",
    "座",
    "条",
    "款",
    "户",
    "辆",
    "吨",
    "处",
    "种",
    "门",
    "期",
    "倍",
    "%",
)
MONEY_UNITS = frozenset({"亿美元", "万美元", "美元", "亿元", "万元", "千元", "元", "亿"})
RATIO_UNITS = frozenset({"%"})

_ARABIC = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CHINESE = r"[零〇一二两三四五六七八九十百千]+(?:点[零〇一二三四五六七八九]+)?"
_NUM = rf"(?:{_ARABIC}|{_CHINESE})"
_UNIT_RE = "|".join(re.escape(u) for u in UNITS)
_RANGE_SEP = r"(?:-|—|–|~|至|到)"
QUANTITY_RE = re.compile(
    rf"(?P<pct>百分之)?(?P<n1>{_NUM})(?:{_RANGE_SEP}(?P<n2>{_NUM}))?"
    rf"(?P<more>多|余)?(?P<unit>{_UNIT_RE})?(?P<qual>以上|左右|以内|以下|上下|多)?"
)
_IDIOMS = ("千家万户", "千方百计", "百花齐放", "千军万马", "万众一心", "一站式", "一体化")
# 前40位 / 前十名 / 前3强 are rankings, not amounts of the indicator.
RANK_UNITS = frozenset({"位", "名"})
# 四成 is 40 %, but only right after a verb or adverb of amount (达到四成, 增长三成, 近五成):
# 成 alone is far too common (建成, 成果, 成为).
CHENG_RE = re.compile(
    r"(?:达到|达|超过|超|突破|增长|提高|提升|提高到|提升到|增加|占|保持在|约|近|逾)"
    r"(?P<n>[一二两三四五六七八九])成(?![为果本功效长熟立员])(?P<qual>以上|左右)?"
)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with its unit found in text; start/end are offsets into the text."""

    start: int
    end: int
    value: float
    unit: str
    upper: float | None = None
    qualifier: str = ""

    @property
    def is_ratio(self) -> bool:
        return self.unit in RATIO_UNITS


def _is_arabic(token: str) -> bool:
    return token[0].isdigit()


def find_quantities(scan: str, start: int = 0, end: int | None = None) -> list[Quantity]:
    """Every number-with-unit in scan[start:end]; ranges keep the lower bound as the value."""
    end = len(scan) if end is None else end
    found: list[Quantity] = []
    for match in QUANTITY_RE.finditer(scan, start, end):
        n1, unit = match["n1"], match["unit"]
        if match["pct"]:
            unit = "%"
        if not unit:
            continue
        begin = match.start()
        prev = scan[begin - 1] if begin > 0 else ""
        if prev == "前" and unit in RANK_UNITS:
            continue  # 跃居全省前40位: a rank
        if unit == "期" and not _is_arabic(n1):
            continue  # 二期工程 is a phase; 培训30期 is a count
        if _is_arabic(n1):
            if prev == "第":
                continue  # 居全市第5位: an ordinal
            # 5G, PM2.5, v2: a number glued to Latin letters is part of a name.
            if prev.isascii() and (prev.isalnum() or prev == "."):
                continue
            nxt = scan[match.end()] if match.end() < len(scan) else ""
            if nxt.isascii() and nxt.isalpha():
                continue
        else:
            # 第三家 is an ordinal, 数十家 / 几百家 are vague.
            if prev in "第数几若" or n1 == "一" and unit not in MONEY_UNITS:
                continue
            window = scan[max(0, begin - 2) : match.end() + 3]
            if any(idiom in window for idiom in _IDIOMS):
                continue
        value = parse_number(n1)
        if value is None:
            continue
        upper = parse_number(match["n2"]) if match["n2"] else None
        qualifier = match["qual"] or match["more"] or ""
        found.append(Quantity(begin, match.end(), value, unit, upper, qualifier))
    for match in CHENG_RE.finditer(scan, start, end):
        begin = match.start("n")
        if any(q.start <= begin < q.end for q in found):
            continue
        value = 10.0 * _CN_DIGIT[match["n"]]
        found.append(Quantity(begin, match.end(), value, "%", None, match["qual"] or ""))
    found.sort(key=lambda q: q.start)
    return found


# ---- years ---------------------------------------------------------------------------------

FIVE_YEAR_RE = re.compile(r"“?十([一二三四五六七八九])五”?")
YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年")
YEAR_RANGE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d\d)\s*年?\s*(?:-|—|–|~|至|到)\s*((?:19|20)\d\d)\s*年?(?!\d)"
)


def five_year_plan_period(ordinal: str) -> tuple[int, int]:
    """Map the n-th five-year plan (十三五 → 13) to its years; from the third plan on they are regular."""
    n = 10 + _CN_DIGIT[ordinal]
    start = 1966 + 5 * (n - 3)
    return start, start + 4
