"""Name → data source: propose a computed source for an indicator whose name maps to platform data.

A small, generic table (not per plan). Each row: a pattern the indicator's name must
match, patterns it must not match, and the aggregate to propose. Qualification rows
name the type by code with name keywords as a fallback, so a district whose type codes
differ still gets a proposal; when no such type exists, nothing is proposed. Staff
confirm or change every proposal on the review page. The table is listed in docs/plans.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kechuang.enterprises.models import QualificationType


@dataclass(frozen=True, slots=True)
class QualRow:
    pattern: str
    codes: tuple[str, ...]  # type codes counted (those that exist); the first is required
    keywords: tuple[str, ...]  # fallback when no code exists: a type whose name contains one
    extra_if: str = ""  # when the name also matches this, the other codes are counted too
    exclude: str = r"产值|收入|营收|产品|税|利润|载体|基地|比例|占比"


@dataclass(frozen=True, slots=True)
class MetricRow:
    pattern: str
    spec: dict
    exclude: str = ""
    description: str = ""


# Qualification counts. kind "increment" or a name with 新增/新认定/新培育 → issued in the year;
# otherwise valid at the date (有效期内).
QUAL_ROWS: tuple[QualRow, ...] = (
    QualRow(r"专精特新.{0,3}小巨人", ("SRDI_GIANT",), ("专精特新“小巨人”", "专精特新小巨人")),
    QualRow(r"专精特新", ("SRDI", "SRDI_GIANT"), ("专精特新",), extra_if=r".*"),
    QualRow(
        r"科技小巨人|小巨人",
        ("LITTLE_GIANT", "LITTLE_GIANT_CULTIVATION"),
        ("科技小巨人",),
        extra_if=r"含培育|培育\)|培育）|\(培育|（培育",
    ),
    QualRow(r"高新技术企业|高企", ("HTE",), ("高新技术企业",)),
    QualRow(r"科技型中小企业", ("TSME", "TECH_SME"), ("科技型中小企业",)),
    QualRow(
        r"企业技术(?:\(研究\))?中心|企业技术（研究）中心",
        ("ETC_CITY", "ETC_NATIONAL"),
        ("企业技术中心",),
        extra_if=r".*",
    ),
    QualRow(r"院士(?:专家)?工作站", ("ACADEMICIAN_STATION",), ("院士",)),
)

# Annual-report metrics (codes shared with the rules library's variables).
METRIC_ROWS: tuple[MetricRow, ...] = (
    MetricRow(
        r"研发(?:费用|经费|投入).{0,6}(?:占|比例|比重|强度)|研发投入强度",
        {
            "aggregate": "ratio",
            "numerator": {"aggregate": "sum", "metric": "rd_expense"},
            "denominator": {"aggregate": "sum", "metric": "revenue"},
        },
        exclude=r"生产总值|GDP|gdp",
        description="研发费用 / 营业收入",
    ),
    MetricRow(
        r"研发经费|研发费用|研发投入|R&D经费",
        {"aggregate": "sum", "metric": "rd_expense"},
        exclude=r"比例|占|比重|强度|生产总值|GDP|gdp",
        description="Σ 研发费用",
    ),
    MetricRow(
        r"高新技术产品.{0,4}收入|高新技术产品产值",
        {"aggregate": "sum", "metric": "hightech_revenue"},
        description="Σ 高新技术产品(服务)收入",
    ),
    MetricRow(
        r"营业收入|营收", {"aggregate": "sum", "metric": "revenue"}, description="Σ 营业收入"
    ),
    MetricRow(
        r"科技人员|科技活动人员|研发人员",
        {"aggregate": "sum", "metric": "tech_staff"},
        exclude=r"每万|万名|比例|占",
    ),
    MetricRow(
        r"有效发明专利|发明专利拥有量",
        {"aggregate": "sum", "metric": "invention_patents_valid"},
        exclude=r"每万|万人|高价值",
        description="Σ 有效发明专利数",
    ),
    MetricRow(
        r"发明专利授权",
        {"aggregate": "sum", "metric": "invention_patents_granted"},
        exclude=r"每万|万人",
    ),
)

_INCREMENT_RE = re.compile(r"新增|新认定|新培育|新引进|新获")


def _find_types(row: QualRow, name: str, types: list[tuple[str, str]]) -> list[str]:
    known = {c for c, _ in types}
    if row.codes[0] in known:
        codes = [row.codes[0]]
        if row.extra_if and re.search(row.extra_if, name):
            codes += [c for c in row.codes[1:] if c in known]
        return codes
    for keyword in row.keywords:
        for code, type_name in types:
            if keyword in type_name:
                return [code]
    return []


def propose_source(name: str, kind: str = "level", unit: str = "", types=None) -> dict | None:
    """The computed source the indicator's name clearly maps to, or None."""
    name = name or ""
    if types is None:
        types = list(QualificationType.objects.values_list("code", "name"))
    for row in QUAL_ROWS:
        if re.search(row.pattern, name) and not re.search(row.exclude, name):
            if unit and unit not in ("家", "个", "户"):
                return None
            codes = _find_types(row, name, types)
            if not codes:
                return None
            issued = kind == "increment" or bool(_INCREMENT_RE.search(name))
            return {
                "aggregate": "count_issued" if issued else "count_valid",
                "qualification": codes,
            }
    for row in METRIC_ROWS:
        if re.search(row.pattern, name) and not (row.exclude and re.search(row.exclude, name)):
            if row.spec["aggregate"] == "ratio" and unit not in ("%", "％", ""):
                return None
            return dict(row.spec)
    return None


def describe(spec: dict, type_names: dict[str, str] | None = None) -> str:
    """A one-line human description of a spec, for pages and exports."""
    if not spec:
        return ""
    names = type_names or {}
    agg = spec.get("aggregate")
    flt = spec.get("filter") or {}
    suffix = "".join(f" [{k}={v}]" for k, v in sorted(flt.items()))
    quals = "、".join(names.get(c, c) for c in (spec.get("qualification") or []))
    if agg == "count_valid":
        return f"有效期内{quals}企业数(日期当日){suffix}"
    if agg == "count_issued":
        return f"当年新认定{quals}企业数{suffix}"
    if agg == "count_enterprises":
        return f"企业数{suffix}"
    if agg == "sum":
        return f"Σ {spec.get('metric')}(年报){suffix}"
    if agg == "ratio":
        return f"({describe(spec.get('numerator', {}), names)}) / ({describe(spec.get('denominator', {}), names)})"
    return str(spec)
