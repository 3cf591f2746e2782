"""Plan metadata: title, kind, issuer, document number (文号), date and period.

Web copies of plans carry a header block (来源 / 发布时间 / 文号 …) and often page
furniture from unrelated documents at the end, so labelled fields are looked up
in the head of the document only.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .numbers import FIVE_YEAR_RE, YEAR_RANGE_RE, YEAR_RE, five_year_plan_period, fold_width

KIND_FIVE_YEAR = "五年规划"
KIND_THREE_YEAR = "三年行动计划"
KIND_ANNUAL = "年度工作要点"
KIND_REPORT = "报告"
KIND_OTHER = "other"

HEAD_CHARS = 1500

_DOC_NUMBER = (
    r"[\u4e00-\u9fa5]{1,10}\s*[〔\[［【(（]\s*(?:19|20)\d\d\s*[〕\]］】)）]\s*第?\s*\d{1,4}\s*号"
)
DOC_NUMBER_RE = re.compile(_DOC_NUMBER)
_LABELLED_NUMBER_RE = re.compile(rf"(?:文\s*号|发文字号|政策文号)\s*[:：]?\s*({_DOC_NUMBER})")
_LABELLED_ISSUER_RE = re.compile(
    r"(?:发布机构|发文机关|发布部门|发文单位|来\s*源|发布单位)\s*[:：]\s*([^\s:：]{2,40})"
)
_ISSUER_LINE_RE = re.compile(r"^\s*([\u4e00-\u9fa5()（）]{4,40}?)(?:文件|《?关于)", re.M)
_ORG_TAIL = r"(?:委员会|人民政府|办公室|政府|局|委|办|中心|协会|科协)"
_SIGNATURE_RE = re.compile(rf"^\s*([\u4e00-\u9fa5]{{2,30}}{_ORG_TAIL})\s*$", re.M)
_DATE_RE = re.compile(
    r"((?:19|20)\d\d)\s*(?:年|-|/|\.)\s*(\d{1,2})\s*(?:月|-|/|\.)\s*(\d{1,2})\s*日?"
)
_LABELLED_DATE_RE = re.compile(
    rf"(?:发布时间|发文日期|发布日期|成文日期|印发日期|日\s*期)\s*[:：]\s*{_DATE_RE.pattern}"
)
_TITLE_IN_BOOK_RE = re.compile(r"印发\s*《([^》\n]{4,80})》")
_TITLE_WORDS_RE = re.compile(r"规划|计划|要点|方案|报告|意见|纲要|办法|通知|总结")
_NOISE_LINE_RE = re.compile(
    r"^(当前位置|来源|发布|索\s*引|主题分类|名\s*称|文\s*号|公开|字号|政策$)"
    # page furniture laid out as a table: "[ 主题分类 ] | 国民经济发展规划、计划 | …"
    r"|^\[\s|\|"
)


@dataclass(slots=True)
class PlanMetadata:
    """What identifies a plan; every field may be None when the text does not say."""

    title: str | None = None
    kind: str = KIND_OTHER
    issuer: str | None = None
    doc_number: str | None = None
    published: str | None = None
    period_start: int | None = None
    period_end: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def default_year(self) -> int | None:
        """The year a target without its own year is due: the end of the plan's period."""
        return self.period_end


def _find_title(head: str) -> str | None:
    match = _TITLE_IN_BOOK_RE.search(head)
    if match:
        return match.group(1).strip()
    for line in head.splitlines():
        line = line.strip()
        if 6 <= len(line) <= 80 and _TITLE_WORDS_RE.search(line) and not _NOISE_LINE_RE.match(line):
            return line
    return None


def classify_kind(title: str | None) -> str:
    """Kind from the title's wording: a 规划 over five years, a 三年行动计划, an annual 工作要点, a 报告."""
    if not title:
        return KIND_OTHER
    if re.search(r"(?:报告|总结)$", title):
        return KIND_REPORT
    if re.search(r"十[一二三四五六七八九]五|五年|规划", title) and "行动" not in title:
        return KIND_FIVE_YEAR
    if re.search(r"三年行动|行动计划|行动方案", title):
        return KIND_THREE_YEAR
    if re.search(r"工作要点|工作计划|工作安排|工作思路|年度计划", title):
        return KIND_ANNUAL
    if re.search(r"报告|总结", title):
        return KIND_REPORT
    return KIND_OTHER


def _find_period(title: str | None, kind: str) -> tuple[int | None, int | None]:
    if not title:
        return None, None
    scan = fold_width(title)
    match = YEAR_RANGE_RE.search(scan)
    if match:
        return int(match.group(1)), int(match.group(2))
    match = FIVE_YEAR_RE.search(scan)
    if match:
        return five_year_plan_period(match.group(1))
    # "2022年工作总结和2023年工作要点" is the 2023 plan: the last year named is the plan's own.
    years = [int(m.group(1)) for m in YEAR_RE.finditer(scan)]
    if years and kind in (KIND_ANNUAL, KIND_OTHER):
        return years[-1], years[-1]
    return None, None


def _iso(match: re.Match[str]) -> str | None:
    year, month, day = (int(g) for g in match.groups()[-3:])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _find_published(head: str) -> str | None:
    match = _LABELLED_DATE_RE.search(head)
    if match:
        return _iso(match)
    # The signature date stands on a line of its own.
    for line in head.splitlines():
        match = _DATE_RE.fullmatch(line.strip())
        if match:
            return _iso(match)
    return None


def _find_issuer(head: str) -> str | None:
    match = _ISSUER_LINE_RE.search(head)
    if match and re.search(_ORG_TAIL + "$", match.group(1)):
        return match.group(1)
    match = _LABELLED_ISSUER_RE.search(head)
    if match:
        return match.group(1)
    match = _SIGNATURE_RE.search(head)
    return match.group(1) if match else None


def _find_doc_number(head: str) -> str | None:
    match = _LABELLED_NUMBER_RE.search(head)
    if match:
        return re.sub(r"\s+", "", match.group(1))
    for line in head.splitlines():
        match = DOC_NUMBER_RE.fullmatch(line.strip())
        if match:
            return re.sub(r"\s+", "", match.group(0))
    return None


def extract_metadata(text: str) -> PlanMetadata:
    """Read the plan's identifying data from the head of its text."""
    head = fold_width(text[:HEAD_CHARS])
    title = _find_title(head)
    kind = classify_kind(title)
    start, end = _find_period(title, kind)
    published = _find_published(head)
    if start is None and kind == KIND_ANNUAL and published:
        start = end = int(published[:4])
    return PlanMetadata(
        title=title,
        kind=kind,
        issuer=_find_issuer(head),
        doc_number=_find_doc_number(head),
        published=published,
        period_start=start,
        period_end=end,
    )
