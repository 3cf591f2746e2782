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
from .sections import (
    GOAL_RE,
    REVIEW_RE,
    find_headings,
    in_spans,
    section_spans,
    section_spans_where,
)
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
_ADVERB = r"(?:积极|大力|加快|重点|全力|着力|持续|柔性|努力|新)?"
CREATE_VERB_RE = re.compile(rf"^{_ADVERB}(?:{_CREATE})(?:[、和及与并]?(?:{_CREATE}))*")
# "支持龙头企业建设3个技术转移机构": a creation verb right before the number.
CREATE_END_RE = re.compile(rf"(?:{_CREATE})$")
LEAD_RE = re.compile(
    r"^(?:\s|——|—|•|·|▪|力争|争取|确保|努力|全年|年内|当年|全区|本区|我区|全市|全县|全镇|全省|全域|使我区的|使|其中|"
    r"并|同时|进一步|另外|此外|以及|及|和|在此基础上|(?:到|至|在)?(?:19|20)\d\d年(?:末|底|前|内)?|"
    r"“十.五”(?:期间|末)?|期间|末|共计|共|累计|每年|年均|平均|预计|实现|"
    r"(?:在|以)?(?:(?:19|20)\d\d年(?:末|底)?的?)?(?:现有)?基础上|"
    r"\d{1,2}[.、](?!\d)|[(（][一二三四五六七八九十\d]{1,3}[)）])+"
)
# "…分别超过90家和870家": adverbs between the indicator and its verb.
_TRAIL_RE = re.compile(r"(?:分别|(?<!年)均|都|各自|各|累计)$")
# "推动X达到Y": the lead verb is not part of the indicator's name.
_LEVEL_LEAD_RE = re.compile(r"^(?:推动|推进|促进|引导|带动|鼓励|力促|使|让|确保)")
# "较上年增长20%": the comparison is not part of the name.
_COMPARE_IN_NAME_RE = re.compile(r"(?:较|比)(?:上一?年|去年|(?:19|20)\d\d年)|同比")
_GROWTH_ONLY_RE = re.compile(r"^(?:年均)?(?:增长|提高|提升|增速)$")
_TOTAL_WORDS_RE = re.compile(
    r"总数|总量|总额|累计|规模|余额|比重|比例|占比|率|强度|拥有量|数$|数量|量$|每万|万名|万人"
)
# Names that count new things: 新认定科技型中小企业不少于350家, 市“揭榜挂帅”立项10项.
_NEW_NAME_RE = re.compile(
    r"^(?:新增|新建|新培育|新引进|新认定|新设立|新设|新获批|新开工|新投产|净增|引进)"
)
_EVENT_NAME_RE = re.compile(r"立项$|获得|获批|入选")
_AT_LEAST_RE = re.compile(r"(?:不少于|不低于|超过|超)\s*$")
# A list of subjects shared out by 分别; a subject stops where its context starts.
_SUBJECT_STOP_RE = re.compile(r"在[^,，;；]{0,12}基础上|实现|较|比|均|都|要")
_LIST_SPLIT_RE = re.compile(r"和|、|及|与")
# 由2020年的420家增加到850家: the first number is the baseline of the second.
_FROM_TO_RE = re.compile(r"^\s*(?:增加|提高|提升|增长|上升|扩大|发展|跃升|增)(?:到|至)")
_FREQUENCY_RE = re.compile(r"每(?:个)?(?:季度|月|周|旬|半年|年)")
# Unitless levels: 区域科技创新指数达到160以上.
INDEX_RE = re.compile(
    r"指数\s*(?:力争)?(?:达到|达|超过|突破|提高到|提升到|提高至|提升至|保持在)\s*"
    r"(?P<n>\d+(?:\.\d+)?)(?P<qual>以上|左右)?"
)
# A paragraph that opens with an earlier year or period tells the past ("“十三五”期间,…").
PARAGRAPH_OPEN_RE = re.compile(
    r"^[ \t]*(?:(?P<year>(?:19|20)\d\d)\s*年(?:度|末|底|以来|上半年|全年)?|“?十(?P<five>[一二三四五六七八九])五”?"
    r"(?:期间|时期|以来)|(?P<past>近年来|今年以来|过去(?:五|三|一)年|近(?:五|三)年))"
)
DOUBLING_RE = re.compile(r"(?:实现)?翻(?:一|两|二)?番")
PAST_RE = re.compile(
    r"目前|截至|截止|已经|已有|已达|已累计|已建成|已形成|现有|(?<![较比])(?:去年|上一年|上年)"
)
# 较上年增长 is a result in a review and a target in a goal list ("评价入库数较上年增长20%").
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
    past_paragraphs: list


def _level_name(text: str) -> str:
    """Indicator name before a level verb: lead verbs (推动 / 引导 …) and comparisons removed."""
    name = _clean_indicator(text)
    name = _LEVEL_LEAD_RE.sub("", name)
    return _clean_indicator(_COMPARE_IN_NAME_RE.sub("", name))


def _clean_indicator(text: str) -> str:
    text = text.strip()
    text = LEAD_RE.sub("", text)
    text = text.strip(" 、,，的")
    return _TRAIL_RE.sub("", text).strip(" 、,，的")


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
    review = section_spans(scan, headings, REVIEW_RE)
    if earliest is not None:
        # "一、2019年度主要工作" in the 2020 plan: a heading naming only earlier years.
        review += section_spans_where(scan, headings, lambda t: _before_period(t, earliest))
        review.sort()
    return _Context(
        meta=meta,
        default_year=default_year,
        earliest_year=earliest,
        review=review,
        goals=section_spans(scan, headings, GOAL_RE),
        protected=[m.span() for m in PROTECTED_RE.finditer(scan)],
        tables=find_indicator_tables(text),
        past_paragraphs=_past_paragraphs(scan, earliest),
    )


def _title_years(title: str) -> list[int]:
    years = [int(m.group(1)) for m in YEAR_RE.finditer(title)]
    years += [five_year_plan_period(m.group(1))[1] for m in FIVE_YEAR_RE.finditer(title)]
    return years


def _before_period(title: str, earliest: int) -> bool:
    years = _title_years(fold_width(title))
    return bool(years) and max(years) < earliest and not GOAL_RE.search(title)


def _past_paragraphs(scan: str, earliest: int | None) -> list[tuple[int, int]]:
    """Paragraphs opening with a year or period before the plan's, or with 近年来 / 今年以来."""
    spans = []
    pos = 0
    for line in scan.split("\n"):
        match = PARAGRAPH_OPEN_RE.match(line)
        if match:
            if match["past"]:
                past = True
            elif match["five"]:
                past = earliest is not None and five_year_plan_period(match["five"])[1] < earliest
            else:
                past = earliest is not None and int(match["year"]) < earliest
            if past:
                spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _inside(pos: int, spans) -> bool:
    """True when pos is strictly inside one of spans (sorted, not overlapping)."""
    index = bisect.bisect_left(spans, (pos,)) - 1
    return index >= 0 and spans[index][0] < pos < spans[index][1]


def _list_head(after: str) -> str:
    """The text after a number up to the next list item (、): "家、科技型企业超过690家" → ""."""
    return after.split("、", 1)[0]


def _classify(scan, ctx, q: Quantity, seg_start, clause, prev_clause, target_context):
    """Kind, indicator, quote span and the rule that fired for a quantity, or None when it is not a target.

    The rule is "level", "create", "create_tail", "bare", "colon" or "elliptic" (a level verb
    with no indicator in reach: "2025年,达到70亿元" takes the indicator of the target before).
    """
    clause_start, clause_end = clause
    before = scan[seg_start : q.start]
    after = scan[q.end : clause_end]
    head = _list_head(after)
    stripped = _clean_indicator(before)
    money = q.unit in MONEY_UNITS

    level = LEVEL_VERB_RE.search(before)
    if level and not (WEAK_LEVEL_VERB_RE.search(before) and not target_context):
        indicator = _level_name(before[: level.start()])
        quote_start = seg_start
        if not indicator and prev_clause is not None:
            # "X翻一番,达到3000家": the indicator is the previous clause, up to its own
            # growth or number ("技术合同成交额增长15%以上,达到56亿元").
            prev = _clean_indicator(DOUBLING_RE.sub("", scan[prev_clause[0] : prev_clause[1]]))
            prev = re.split(r"(?:年均)?(?:增长|提高|提升|增加)|\d", prev, maxsplit=1)[0]
            indicator = _level_name(prev)
            quote_start = prev_clause[0] if indicator else seg_start
        kind = "ratio" if q.is_ratio else "level"
        if not indicator:
            return kind, "", seg_start, q.end, "elliptic"
        return kind, indicator, quote_start, q.end, "level"

    kind = "ratio" if q.is_ratio else ("level" if money else "increment")
    create = CREATE_VERB_RE.match(stripped)
    if create:
        verb = create.group(0)
        rest = stripped[create.end() :]
        if not rest.strip():
            # "新增12家研发中心": the indicator follows the number.
            tail = re.split(r"[\d“、]", after, maxsplit=1)[0].rstrip()
            tail_end = q.end + len(tail)
            return kind, verb + tail.strip(), seg_start, max(q.end, tail_end), "create_tail"
        if not head.strip(" )）"):
            # A share or growth after 推动 / 引导 is a level of what follows the verb.
            name = _level_name(before) if q.is_ratio else _clean_indicator(before)
            return kind, name or _clean_indicator(before), seg_start, q.end, "create"
    end_verb = CREATE_END_RE.search(stripped) if target_context else None
    if end_verb and (not create or end_verb.start() > 0):
        # "支持龙头企业建设3个专业化技术转移机构": the verb closes the text before the number.
        tail = re.split(r"[\d“、]", after, maxsplit=1)[0].rstrip()
        if tail.strip():
            verb_start = seg_start + before.rfind(end_verb.group(0))
            indicator = end_verb.group(0) + tail.strip()
            return kind, indicator, verb_start, q.end + len(tail), "create_tail"
    if create:
        return None  # "形成包含12家单位的名单": the number is not what the clause commits to

    if head.strip(" )）") or not target_context:
        return None
    kind = "ratio" if q.is_ratio else "level"
    if not stripped and prev_clause is not None and scan[clause_start - 1 : clause_start] == ":":
        # "技术合同成交额:35亿元": the label before the colon names the indicator.
        label = _clean_indicator(scan[prev_clause[0] : prev_clause[1]])
        if 2 <= len(label) <= 30:
            return kind, label, prev_clause[0], q.end, "colon"
        return None
    if not stripped or len(stripped) < 2 or stripped[-1] in "的在了和与及、":
        return None
    return kind, _level_name(stripped) or stripped, seg_start, q.end, "bare"


def _index_levels(scan: str, start: int, end: int) -> list[Quantity]:
    """Unitless levels of an index (科技创新指数达到160以上) as quantities with unit ""."""
    out = []
    for match in INDEX_RE.finditer(scan, start, end):
        nxt = scan[match.end("n") : match.end("n") + 1]
        if nxt and (nxt in "%％" or nxt.isalpha() and not match["qual"] and nxt not in "，,;；。"):
            continue
        value = float(match["n"])
        out.append(Quantity(match.start("n"), match.end(), value, "", None, match["qual"] or ""))
    return out


def _respective_subjects(scan: str, clause, prev_clause) -> list[str]:
    """The subjects "A和B" that a 分别 in the clause shares values out to, cleaned."""
    text = scan[clause[0] : clause[1]]
    cut = text.find("分别")
    subject = text[:cut]
    if not _clean_indicator(subject) and prev_clause is not None:
        subject = scan[prev_clause[0] : prev_clause[1]]
    stop = _SUBJECT_STOP_RE.search(subject)
    if stop:
        subject = subject[: stop.start()]
    items = [_clean_indicator(part) for part in _LIST_SPLIT_RE.split(subject)]
    return [item for item in items if item]


def _sentence_candidates(
    scan: str, ctx: _Context, s_start: int, s_end: int, carry_year: int | None = None
) -> list[_Candidate]:
    """Targets of one sentence; carry_year is a target year set earlier in the same paragraph."""
    quantities = find_quantities(scan, s_start, s_end)
    if "指数" in scan[s_start:s_end]:
        quantities = sorted(quantities + _index_levels(scan, s_start, s_end), key=lambda q: q.start)
    if not quantities:
        return []
    sentence = scan[s_start:s_end]
    events = _year_events(scan, s_start, s_end)
    is_report = ctx.meta.kind == KIND_REPORT
    future = bool(FUTURE_RE.search(sentence))
    if is_report and not future:
        return []
    in_goal = in_spans(s_start, ctx.goals)
    target_context = (
        bool(TARGET_CONTEXT_RE.search(sentence))
        or in_goal
        or (not is_report and ctx.meta.period_start is not None)
    )
    past_paragraph = not future and in_spans(s_start, ctx.past_paragraphs)
    clauses = _clauses(scan, s_start, s_end)
    out: list[_Candidate] = []
    clause_index = 0
    last_end_in_clause = -1
    previous: _Candidate | None = None  # the last target of the current clause
    baseline: tuple[Quantity, int | None] | None = None  # 由N增加到M: N, with its year
    subjects: list[str] = []
    for q in quantities:
        if _inside(q.start, ctx.protected) or in_spans(q.start, ctx.review):
            continue
        if any(t.start <= q.start < t.end for t in ctx.tables):
            continue
        while clauses[clause_index][1] < q.start:
            clause_index += 1
            last_end_in_clause, previous, baseline, subjects = -1, None, None, []
        clause = clauses[clause_index]
        clause_text = scan[clause[0] : clause[1]]
        if COMPARE_RE.search(clause_text) and not (future or in_goal):
            continue
        if PAST_RE.search(scan[s_start : q.start]) and not future:
            continue
        if q.unit == "次" and _FREQUENCY_RE.search(clause_text):
            continue  # 每季度调度1次: how often, not how much
        year = _governing_year(events, q.start)
        if year is not None and ctx.earliest_year is not None and year < ctx.earliest_year:
            continue
        if year is None and past_paragraph:
            continue
        if year is None:
            year = carry_year
        seg_start = max(clause[0], last_end_in_clause)
        if _FROM_BASE_RE.search(scan[seg_start : q.start]) and _FROM_TO_RE.match(
            scan[q.end : clause[1]]
        ):
            # "由2020年的420家增加到850家": keep 420 as the baseline of what follows.
            base_year = next((y for p, y, b in events if b and p < q.start), None)
            baseline = (q, base_year)
            continue
        prev_clause = clauses[clause_index - 1] if clause_index > 0 else None
        result = _classify(scan, ctx, q, seg_start, clause, prev_clause, target_context)
        last_end_in_clause = q.end
        between = scan[seg_start : q.start].strip()
        if previous is not None and between in ("", "和", "、", "及", "与", "以及"):
            # "分别超过90家和870家", "达到30家、50家": the value list of the target before.
            index = len([c for c in out if c.quote_start == previous.quote_start])
            indicator = subjects[index] if index < len(subjects) else previous.indicator
            kind = "ratio" if q.is_ratio else previous.kind
            result = (kind, indicator, previous.quote_start, q.end, "list")
        if result is None:
            previous = None
            continue
        kind, indicator, quote_start, quote_end, rule = result
        if rule == "elliptic":
            same_unit = [c for c in out if normalise_unit(c.unit) == normalise_unit(q.unit)]
            if not same_unit:
                continue
            indicator = same_unit[-1].indicator
        if rule == "bare" and previous is not None and between[:1] in "、和及":
            kind = "ratio" if q.is_ratio else previous.kind  # "引进人才30名、团队5个"
        elif (
            rule == "bare"
            and out
            and out[-1].kind == "increment"
            and not scan[out[-1].quote_end : clause[0]].strip(" ,;、")
            and kind == "level"
            and q.unit not in MONEY_UNITS
            and not _TOTAL_WORDS_RE.search(indicator)
        ):
            kind = "increment"  # "建成研究院1家,重点实验室1家": the verb covers the list
        if kind == "level" and q.unit not in MONEY_UNITS and not _TOTAL_WORDS_RE.search(indicator):
            new_name = rule in ("level", "bare") and _NEW_NAME_RE.match(indicator)
            if new_name or rule == "bare" and _EVENT_NAME_RE.search(indicator):
                kind = "increment"
            elif (
                rule == "level"
                and previous is not None
                and previous.kind == "increment"
                and between[:1] in "、和及"
                and _AT_LEAST_RE.search(scan[seg_start : q.start])
            ):
                kind = "increment"  # "建设概念验证中心3—5家、中试基地不少于4个"
        if out and _GROWTH_ONLY_RE.match(indicator):
            # "技术合同成交额达到80亿元,年均增长10%左右": growth of the indicator before.
            indicator = out[-1].indicator + ("年均增长" if "年均" in clause_text else "增长")
        elif out and rule == "create_tail" and CREATE_VERB_RE.fullmatch(indicator):
            indicator = indicator + out[-1].indicator  # "…达到260家,新增50家"
        if rule == "level" and "分别" in scan[clause[0] : q.start]:
            subjects = _respective_subjects(scan, clause, prev_clause)
            if subjects:
                indicator = subjects[0]
        while quote_start < quote_end and scan[quote_start].isspace():
            quote_start += 1
        if q.unit == "个百分点":
            kind = "increment"
        cand = _Candidate(
            indicator=indicator,
            value=q.value,
            unit=q.unit,
            year=year if year is not None else ctx.default_year,
            kind=kind,
            quote_start=quote_start,
            quote_end=quote_end,
        )
        if baseline is not None and rule in ("level", "elliptic"):
            base, base_year = baseline
            if normalise_unit(base.unit) == normalise_unit(q.unit):
                cand.baseline, cand.baseline_year = base.value, base_year
                cand.indicator = _clean_indicator(re.split(r"由|从", indicator)[0]) or indicator
                cand.quote_start = min(cand.quote_start, seg_start)
            baseline = None
        out.append(cand)
        previous = cand
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


def _target_year_after(scan: str, ctx: _Context, s_start: int, s_end: int, carry: int | None):
    """The last target year (not a baseline, not before the plan) a sentence names, else carry."""
    if "年" not in scan[s_start:s_end] and "十" not in scan[s_start:s_end]:
        return carry
    for _pos, year, baseline in _year_events(scan, s_start, s_end):
        if not baseline and (ctx.earliest_year is None or year >= ctx.earliest_year):
            carry = year
    return carry


def _same_target(a: _Candidate, b: _Candidate) -> bool:
    if abs(a.value - b.value) > 1e-9 or normalise_unit(a.unit) != normalise_unit(b.unit):
        return False
    if a.year != b.year:
        return False
    overlap = a.quote_start < b.quote_end and b.quote_start < a.quote_end
    return overlap or similarity(a.indicator, b.indicator) >= 0.5


_BASE_LABEL_RE = re.compile(r"基期|基数|基准|现状|现值|完成|实际")


def _table_values(
    ctx: _Context, row
) -> tuple[list[tuple[float, int | None]], float | None, int | None]:
    """The row's targets (value, year) and its baseline; year columns inside the plan's period are targets."""
    earliest = ctx.earliest_year
    targets: list[tuple[float, int | None]] = []
    baseline, baseline_year = row.baseline, row.baseline_year
    if (
        baseline is not None
        and baseline_year is not None
        and earliest is not None
        and baseline_year >= earliest
        and not _BASE_LABEL_RE.search(row.baseline_label or "")
    ):
        # 2024年 / 2025年 / 2026年 in the 2024–2026 plan: every column is a target.
        targets.append((baseline, baseline_year))
        baseline, baseline_year = None, None
    for value, year, _qualifier in row.milestones:
        if year is None or earliest is None or year >= earliest:
            targets.append((value, year))
    if row.target is not None:
        targets.append((row.target, row.target_year or ctx.default_year))
    return targets, baseline, baseline_year


def _merge_tables(text: str, ctx: _Context, found: list[_Candidate]) -> None:
    """Give text targets their table baseline; add table targets the prose does not state."""
    for table in ctx.tables:
        for row in table.rows:
            values, baseline, baseline_year = _table_values(ctx, row)
            for value, year in values:
                year = year or ctx.default_year
                best, best_score = None, 0.0
                for cand in found:
                    if abs(cand.value - value) > 1e-9 or (cand.year and year and cand.year != year):
                        continue
                    score = similarity(cand.indicator, row.indicator)
                    if row.unit and normalise_unit(row.unit) == normalise_unit(cand.unit):
                        score += 0.5
                    if score > best_score:
                        best, best_score = cand, score
                if best is not None and best_score >= 0.5:
                    if best.baseline is None:
                        best.baseline, best.baseline_year = baseline, baseline_year
                    continue
                unit = row.unit or ""
                found.append(
                    _Candidate(
                        indicator=row.indicator,
                        value=value,
                        unit=unit,
                        year=year,
                        kind="ratio" if unit == "%" else "level",
                        quote_start=row.start,
                        quote_end=row.end,
                        baseline=baseline,
                        baseline_year=baseline_year,
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
    carry_year, paragraph_end = None, -1
    for sentence in SENTENCE_RE.finditer(scan):
        s_start, s_end = sentence.span()
        if s_start > paragraph_end:
            # "到2025年,A达到X。B达到Y。": a target year holds to the end of its paragraph.
            carry_year = None
            paragraph_end = scan.find("\n", s_start)
            paragraph_end = len(scan) if paragraph_end < 0 else paragraph_end
        candidates = _sentence_candidates(scan, ctx, s_start, s_end, carry_year)
        for cand in candidates + _doubling_candidates(scan, ctx, s_start, s_end):
            if not any(_same_target(cand, kept) for kept in found):
                found.append(cand)
        carry_year = _target_year_after(scan, ctx, s_start, s_end, carry_year)
    _merge_tables(text, ctx, found)
    found.sort(key=lambda c: c.quote_start)
    return [_to_dict(text, c) for c in found]
