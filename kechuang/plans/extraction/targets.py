"""Quantitative targets stated in the prose and indicator tables of a plan.

A number with a unit is a target when the words around it commit to it:
a level verb just before it (达到 / 超过 / 突破 / 保持在 …: kind "level"),
a creation verb opening its clause (新增 / 新建 / 引进 / 培育 …: kind "increment"),
or a bare "indicator + number" clause where the sentence or section sets goals.
It is not a target when it sits in a review section, in a sentence about the past
(目前 / 已 / 截至 / an earlier year), inside quotation marks or a document number, or
in a 报告 without a forward-looking word.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .metadata import KIND_REPORT, PlanMetadata, extract_metadata
from .numbers import (
    FIVE_YEAR_RE,
    MONEY_UNITS,
    YEAR_RANGE_RE,
    YEAR_RE,
    Quantity,
    clean_number,
    find_quantities,
    five_year_plan_period,
    fold_width,
)
from .sections import GOAL_RE, REVIEW_RE, find_headings, in_spans, section_spans
from .tables import IndicatorTable, find_indicator_tables

SENTENCE_RE = re.compile(r"[^。!?！？\n]+")
CLAUSE_SPLIT = ",，;；:："
# Spans where a number names something instead of measuring it.
PROTECTED_RE = re.compile(
    r"“[^”\n]{0,40}”|《[^》\n]{0,60}》|〔[^〕\n]{0,10}〕|\[[^\]\n]{0,10}\]|【[^】\n]{0,20}】"
)

LEVEL_VERB_RE = re.compile(
    r"(?:力争)?(?:达到|达|超过|超|突破|保持在|保持|稳定在|提高到|提高至|提升到|提升至|增加到|增加至|"
    r"增长到|增长至|增至|升至|扩大到|扩大至|控制在|不低于|不少于|不超过|超出|过|实现|占[^,，;；]{0,20}的|为)\s*"
    r"(?:近|约|超|逾|了)?$"
)
# 为 alone commits to nothing; it is accepted only where the sentence sets goals.
WEAK_LEVEL_VERB_RE = re.compile(r"为\s*(?:近|约)?$")
_CREATE = (
    r"新增|新建|新培育|新引进|新认定|新设立|新设|新获批|新开工|新开|引进|培育|建成|建设|打造|组建|创建|"
    r"完成|达成|支持|帮助|扶持|资助|申报|认定|复审|举办|开展|孵化|吸引|集聚|服务|推动|发放|实施|招引|"
    r"引育|认证|获批|入选|储备|布局|设立|开发|推广|形成|选育|遴选|落地|培训|新投产|投入"
)
CREATE_VERB_RE = re.compile(rf"^(?:{_CREATE})(?:[、和及与并]?(?:{_CREATE}))*")
LEAD_RE = re.compile(
    r"^(?:\s|力争|争取|确保|努力|全年|年内|当年|全区|本区|我区|使我区的|使|其中|并|同时|进一步|另外|此外|"
    r"以及|及|和|在此基础上|(?:到|至|在)?(?:19|20)\d\d年(?:末|底|前|内)?|“十.五”(?:期间|末)?|期间|末|"
    r"共计|共|累计|每年|年均|平均|预计)+"
)
DOUBLING_RE = re.compile(r"(?:实现)?翻(?:一|两|二)?番")
PAST_RE = re.compile(
    r"目前|截至|截止|已经|已有|已达|已累计|已建成|已形成|现有|去年|上一年|上年|同比|比上年|较上年|较上一年"
)
COMPARE_RE = re.compile(r"较上|比上|同比|较去年|比去年")
FUTURE_RE = re.compile(
    r"力争|争取|确保|目标|预计|计划|将(?:达|实现|新增|力争|超过|突破)|到(?:19|20)\d\d年|至(?:19|20)\d\d年|努力|期间|年内|全年"
)
TARGET_CONTEXT_RE = re.compile(
    r"力争|争取|确保|目标|指标|到(?:19|20)\d\d年|至(?:19|20)\d\d年|年内|全年|期间|达到|实现"
)
BASELINE_YEAR_RE = re.compile(r"(?:比|较|从|由|于|在)\s*$")
_BIGRAM_STOP = re.compile(r"数量|总数|总量|数$|量$")


@dataclass(slots=True)
class _Candidate:
    indicator: str
    value: float
    unit: str
    year: int | None
    kind: str
    quote_start: int
    quote_end: int
    baseline: float | None = None
    baseline_year: int | None = None


@dataclass(slots=True)
class _Context:
    meta: PlanMetadata
    default_year: int | None
    earliest_year: int | None
    review: list
    goals: list
    protected: list
    tables: list[IndicatorTable]


def _clean_indicator(text: str) -> str:
    text = text.strip()
    text = LEAD_RE.sub("", text)
    return text.strip(" 、,，的")


def _bigrams(text: str) -> set[str]:
    text = _BIGRAM_STOP.sub("", re.sub(r"[\s()（）“”\"、,，]", "", text))
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def similarity(a: str, b: str) -> float:
    """Overlap coefficient of character bigrams: how much of the shorter name the longer one contains."""
    ba, bb = _bigrams(a), _bigrams(b)
    if not ba or not bb:
        return 0.0
    return len(ba & bb) / min(len(ba), len(bb))


def _year_events(scan: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """(position, year, is_baseline) for every year mentioned in scan[start:end]."""
    events = []
    for match in YEAR_RANGE_RE.finditer(scan, start, end):
        events.append((match.start(), int(match.group(2)), False))
    for match in YEAR_RE.finditer(scan, start, end):
        after = scan[match.end() : match.end() + 8]
        if re.match(r"\d{1,2}月\d{1,2}日", after):
            continue  # a full date (meeting, signature) does not set a target year
        if any(pos <= match.start() < pos + 12 for pos, _, _ in events):
            continue
        before = scan[max(start, match.start() - 2) : match.start()]
        baseline = bool(BASELINE_YEAR_RE.search(before)) or after.startswith(("的基础", "基础上"))
        events.append((match.start(), int(match.group(1)), baseline))
    for match in FIVE_YEAR_RE.finditer(scan, start, end):
        events.append((match.start(), five_year_plan_period(match.group(1))[1], False))
    events.sort()
    return events


def _governing_year(events, pos: int) -> int | None:
    year = None
    for event_pos, event_year, baseline in events:
        if event_pos >= pos:
            break
        if not baseline:
            year = event_year
    return year


def _clauses(scan: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    pos = start
    for i in range(start, end):
        if scan[i] in CLAUSE_SPLIT:
            spans.append((pos, i))
            pos = i + 1
    spans.append((pos, end))
    return spans


def _build_context(text: str, scan: str, meta: PlanMetadata, plan_year: int | None) -> _Context:
    headings = find_headings(scan)
    default_year = plan_year if plan_year is not None else meta.default_year
    earliest = meta.period_start
    if earliest is None and meta.published:
        earliest = int(meta.published[:4])
    if plan_year is not None and (earliest is None or plan_year < earliest):
        earliest = plan_year if meta.period_start is None else earliest
    return _Context(
        meta=meta,
        default_year=default_year,
        earliest_year=earliest,
        review=section_spans(scan, headings, REVIEW_RE),
        goals=section_spans(scan, headings, GOAL_RE),
        protected=[m.span() for m in PROTECTED_RE.finditer(scan)],
        tables=find_indicator_tables(text),
    )


def _inside(pos: int, spans) -> bool:
    """True when pos is strictly inside one of spans (sorted, not overlapping)."""
    index = bisect.bisect_left(spans, (pos,)) - 1
    return index >= 0 and spans[index][0] < pos < spans[index][1]


def _classify(scan, ctx, q: Quantity, seg_start, clause, prev_clause, target_context):
    """Kind, indicator and quote span of a quantity, or None when it is not a target."""
    clause_start, clause_end = clause
    before = scan[seg_start : q.start]
    after = scan[q.end : clause_end]
    stripped = _clean_indicator(before)
    money = q.unit in MONEY_UNITS

    level = LEVEL_VERB_RE.search(before)
    if level and not (WEAK_LEVEL_VERB_RE.search(before) and not target_context):
        indicator = _clean_indicator(before[: level.start()])
        quote_start = seg_start
        if not indicator and prev_clause is not None:
            # "X翻一番,达到3000家": the indicator is the previous clause.
            prev = scan[prev_clause[0] : prev_clause[1]]
            indicator = _clean_indicator(DOUBLING_RE.sub("", prev))
            quote_start = prev_clause[0]
        if not indicator:
            return None
        kind = "ratio" if q.is_ratio else "level"
        return kind, indicator, quote_start, q.end

    create = CREATE_VERB_RE.match(stripped)
    if create:
        verb = create.group(0)
        rest = stripped[create.end() :]
        kind = "ratio" if q.is_ratio else ("level" if money else "increment")
        if not rest.strip():
            # "新增12家研发中心": the indicator follows the number.
            tail = re.split(r"[\d“]", after, maxsplit=1)[0].rstrip()
            tail_end = q.end + len(tail)
            return kind, verb + tail.strip(), seg_start, max(q.end, tail_end)
        if after.strip(" )）"):
            return None  # "形成包含12家单位的名单": the number is not what the clause commits to
        return kind, _clean_indicator(before), seg_start, q.end

    if after.strip(" )）") or not target_context:
        return None
    if not stripped or len(stripped) < 2 or stripped[-1] in "的在了和与及、":
        return None
    kind = "ratio" if q.is_ratio else "level"
    return kind, stripped, seg_start, q.end


def _sentence_candidates(scan: str, ctx: _Context, s_start: int, s_end: int) -> list[_Candidate]:
    quantities = find_quantities(scan, s_start, s_end)
    if not quantities:
        return []
    sentence = scan[s_start:s_end]
    events = _year_events(scan, s_start, s_end)
    is_report = ctx.meta.kind == KIND_REPORT
    future = bool(FUTURE_RE.search(sentence))
    if is_report and not future:
        return []
    target_context = (
        bool(TARGET_CONTEXT_RE.search(sentence))
        or in_spans(s_start, ctx.goals)
        or (not is_report and ctx.meta.period_start is not None)
    )
    clauses = _clauses(scan, s_start, s_end)
    out = []
    clause_index = 0
    last_end_in_clause = -1
    for q in quantities:
        if _inside(q.start, ctx.protected) or in_spans(q.start, ctx.review):
            continue
        if any(t.start <= q.start < t.end for t in ctx.tables):
            continue
        while clauses[clause_index][1] < q.start:
            clause_index += 1
        clause = clauses[clause_index]
        clause_text = scan[clause[0] : clause[1]]
        if COMPARE_RE.search(clause_text):
            continue
        if PAST_RE.search(scan[s_start : q.start]) and not future:
            continue
        year = _governing_year(events, q.start)
        if year is not None and ctx.earliest_year is not None and year < ctx.earliest_year:
            continue
        seg_start = max(clause[0], last_end_in_clause)
        prev_clause = clauses[clause_index - 1] if clause_index > 0 else None
        result = _classify(scan, ctx, q, seg_start, clause, prev_clause, target_context)
        last_end_in_clause = q.end
        if result is None:
            continue
        kind, indicator, quote_start, quote_end = result
        while quote_start < quote_end and scan[quote_start].isspace():
            quote_start += 1
        value, unit = q.value, q.unit
        if q.unit == "个百分点":
            kind = "increment"
        out.append(
            _Candidate(
                indicator=indicator,
                value=value,
                unit=unit,
                year=year if year is not None else ctx.default_year,
                kind=kind,
                quote_start=quote_start,
                quote_end=quote_end,
            )
        )
    return out


_FROM_BASE_RE = re.compile(r"(?:从|由)\s*(?:(?:19|20)\d\d\s*年(?:末|底)?的?)?\s*$")


def _doubling_candidates(scan: str, ctx: _Context, s_start: int, s_end: int) -> list[_Candidate]:
    """翻一番 from a stated baseline (从/由 N) with no stated target value: the target is 2 × N."""
    out = []
    for match in DOUBLING_RE.finditer(scan, s_start, s_end):
        if find_quantities(scan, match.end(), s_end):
            continue  # the value is stated after the doubling and extracted as usual
        clause_start = max(scan.rfind(c, s_start, match.start()) for c in CLAUSE_SPLIT) + 1
        clause_start = max(clause_start, s_start)
        base = next(
            (
                q
                for q in find_quantities(scan, clause_start, match.start())
                if _FROM_BASE_RE.search(scan[clause_start : q.start])
            ),
            None,
        )
        if base is None or in_spans(match.start(), ctx.review):
            continue
        events = _year_events(scan, s_start, s_end)
        base_year = next((y for p, y, b in events if b and p < base.start), None)
        year = _governing_year(events, match.start())
        lead = scan[clause_start : base.start]
        from_match = _FROM_BASE_RE.search(lead)
        indicator = _clean_indicator(lead[: from_match.start()] if from_match else lead)
        out.append(
            _Candidate(
                indicator=indicator,
                value=base.value * (4 if match.group(0).endswith(("两番", "二番")) else 2),
                unit=base.unit,
                year=year if year is not None else ctx.default_year,
                kind="level",
                quote_start=clause_start,
                quote_end=match.end(),
                baseline=base.value,
                baseline_year=base_year,
            )
        )
    return out


def _same_target(a: _Candidate, b: _Candidate) -> bool:
    if abs(a.value - b.value) > 1e-9 or normalise_unit(a.unit) != normalise_unit(b.unit):
        return False
    if a.year != b.year:
        return False
    overlap = a.quote_start < b.quote_end and b.quote_start < a.quote_end
    return overlap or similarity(a.indicator, b.indicator) >= 0.5


def _merge_tables(text: str, ctx: _Context, found: list[_Candidate]) -> None:
    """Give text targets their table baseline; add table targets the prose does not state."""
    for table in ctx.tables:
        for row in table.rows:
            if row.target is None:
                continue
            year = row.target_year or ctx.default_year
            best, best_score = None, 0.0
            for cand in found:
                if abs(cand.value - row.target) > 1e-9 or (
                    cand.year and year and cand.year != year
                ):
                    continue
                score = similarity(cand.indicator, row.indicator)
                if row.unit and normalise_unit(row.unit) == normalise_unit(cand.unit):
                    score += 0.5
                if score > best_score:
                    best, best_score = cand, score
            if best is not None and best_score >= 0.5:
                if best.baseline is None:
                    best.baseline, best.baseline_year = row.baseline, row.baseline_year
                continue
            unit = row.unit or ""
            found.append(
                _Candidate(
                    indicator=row.indicator,
                    value=row.target,
                    unit=unit,
                    year=year,
                    kind="ratio" if unit == "%" else "level",
                    quote_start=row.start,
                    quote_end=row.end,
                    baseline=row.baseline,
                    baseline_year=row.baseline_year,
                )
            )


_UNIT_ALIASES = {
    "％": "%",
    "平米": "平方米",
    "名": "人",
    "位": "人",
    "亿": "亿元",
    "百分点": "个百分点",
}


def normalise_unit(unit: str | None) -> str:
    """Fold spellings that mean the same unit (亿 and 亿元, 名 and 人)."""
    unit = (unit or "").strip()
    return _UNIT_ALIASES.get(unit, unit)


def _to_dict(text: str, cand: _Candidate) -> dict:
    return {
        "indicator": cand.indicator,
        "value": clean_number(cand.value),
        "unit": cand.unit,
        "year": cand.year,
        "kind": cand.kind,
        "baseline": None if cand.baseline is None else clean_number(cand.baseline),
        "baseline_year": cand.baseline_year,
        "quote": text[cand.quote_start : cand.quote_end],
    }


def extract_targets(
    text: str, *, plan_year: int | None = None, metadata: PlanMetadata | None = None
) -> list[dict]:
    """Targets of a plan in the labels' format, in document order, each stated once."""
    scan = fold_width(text)
    meta = metadata or extract_metadata(text)
    ctx = _build_context(text, scan, meta, plan_year)
    found: list[_Candidate] = []
    for sentence in SENTENCE_RE.finditer(scan):
        s_start, s_end = sentence.span()
        for cand in _sentence_candidates(scan, ctx, s_start, s_end) + _doubling_candidates(
            scan, ctx, s_start, s_end
        ):
            if not any(_same_target(cand, kept) for kept in found):
                found.append(cand)
    _merge_tables(text, ctx, found)
    found.sort(key=lambda c: c.quote_start)
    return [_to_dict(text, c) for c in found]
