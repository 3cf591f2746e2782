"""Numbered headings of a plan (一、 / (一) / 1. / (1)) and the kind of section each opens.

Review sections (回顾, 成效, 完成情况 …) report the past: their numbers are not targets.
Goal sections (目标, 指标) state targets even without a verb such as 达到.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN = "一二三四五六七八九十"
HEADING_RE = re.compile(
    rf"^[ \t\u3000]*(?P<label>附[件表录]?\s*\d?\s*[:：]|[{_CN}]+、|[(（][{_CN}]+[)）]|\d{{1,2}}[.．、](?!\d)|[(（]\d{{1,2}}[)）])"
    r"[ \t\u3000]*(?P<title>[^\n]*)$",
    re.MULTILINE,
)
REVIEW_RE = re.compile(
    r"回顾|回望|成效|成绩|成就|进展情况|完成情况|基本情况|工作总结|发展基础|现实基础|基础与|现状|"
    r"执行情况|瓶颈|存在的问题"
)
GOAL_RE = re.compile(r"目标|指标")


def heading_level(label: str) -> int:
    """一、 is 1, (一) is 2, 1. is 3, (1) is 4."""
    if label[0] in _CN or label[0] == "附":
        return 1
    if label[0] in "(（" and label[1] in _CN:
        return 2
    if label[0].isdigit():
        return 3
    return 4


@dataclass(slots=True)
class Heading:
    start: int
    end: int
    level: int
    label: str
    title: str


def find_headings(text: str) -> list[Heading]:
    """Heading lines; a line is a heading when its title is short or ends before the first 。."""
    headings = []
    for match in HEADING_RE.finditer(text):
        title = match["title"].strip()
        label = match["label"].strip()
        if not title:
            continue
        # A numbered list item that is a whole paragraph is a heading only up to its first 。
        head = re.split(r"[。:：]", title, maxsplit=1)[0]
        if len(head) > 40:
            continue
        headings.append(Heading(match.start(), match.end(), heading_level(label), label, head))
    return headings


def section_spans(text: str, headings: list[Heading], pattern: re.Pattern[str]):
    """(start, end) spans of sections whose heading matches pattern, up to the next heading of the same or a higher level."""
    return section_spans_where(text, headings, lambda title: bool(pattern.search(title)))


def section_spans_where(text: str, headings: list[Heading], predicate):
    """(start, end) spans of sections whose heading title satisfies predicate(title)."""
    spans = []
    for index, heading in enumerate(headings):
        if not predicate(heading.title):
            continue
        end = len(text)
        for later in headings[index + 1 :]:
            if later.level <= heading.level:
                end = later.start
                break
        spans.append((heading.start, end))
    return spans


def in_spans(pos: int, spans) -> bool:
    return any(start <= pos < end for start, end in spans)
