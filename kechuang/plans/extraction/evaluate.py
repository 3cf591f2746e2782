"""Precision, recall and F1 of extracted targets against labelled ones.

Matching rule (plan-docs/README.md): value and unit agree after normalising the unit,
the year agrees where both give one, and the quotes overlap in the document.
Each label matches at most one extracted target. Indicator names are not compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .numbers import fold_width
from .targets import normalise_unit

_SCALE = {"亿元": ("元", 1e8), "万元": ("元", 1e4), "千元": ("元", 1e3), "万人": ("人", 1e4)}
_SCALE.update(
    {"万家": ("家", 1e4), "万件": ("件", 1e4), "万个": ("个", 1e4), "万人次": ("人次", 1e4)}
)
_SCALE.update({"万平方米": ("平方米", 1e4), "亿美元": ("美元", 1e8), "万美元": ("美元", 1e4)})


def _magnitude(value: float, unit: str | None) -> tuple[float, str]:
    unit = normalise_unit(unit)
    base, factor = _SCALE.get(unit, (unit, 1.0))
    return value * factor, base


def _spans(quote: str, text: str | None) -> list[tuple[int, int]]:
    if not quote or text is None:
        return []
    spans, pos = [], text.find(quote)
    while pos >= 0:
        spans.append((pos, pos + len(quote)))
        pos = text.find(quote, pos + 1)
    return spans


def quotes_overlap(a: str, b: str, text: str | None = None) -> bool:
    """True when both quotes cover a common part of the document (or, without it, of each other)."""
    a, b = fold_width(a or ""), fold_width(b or "")
    if text is not None:
        folded = fold_width(text)
        spans_a, spans_b = _spans(a, folded), _spans(b, folded)
        if spans_a and spans_b:
            return any(s1 < e2 and s2 < e1 for s1, e1 in spans_a for s2, e2 in spans_b)
    return bool(a and b) and (a in b or b in a)


def targets_match(extracted: dict, label: dict, text: str | None = None) -> bool:
    try:
        v1, u1 = _magnitude(float(extracted["value"]), extracted.get("unit"))
        v2, u2 = _magnitude(float(label["value"]), label.get("unit"))
    except (TypeError, ValueError, KeyError):
        return False
    if u1 != u2 or abs(v1 - v2) > 1e-6 * max(1.0, abs(v2)):
        return False
    y1, y2 = extracted.get("year"), label.get("year")
    if y1 is not None and y2 is not None and y1 != y2:
        return False
    return quotes_overlap(extracted.get("quote", ""), label.get("quote", ""), text)


@dataclass(slots=True)
class DocumentScore:
    name: str
    extracted: int
    labelled: int
    matched: int
    missed: list[dict] = field(default_factory=list)
    spurious: list[dict] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return (
            self.matched / self.extracted if self.extracted else (1.0 if not self.labelled else 0.0)
        )

    @property
    def recall(self) -> float:
        return (
            self.matched / self.labelled if self.labelled else (1.0 if not self.extracted else 0.0)
        )

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class EvaluationReport:
    documents: list[DocumentScore]

    @property
    def overall(self) -> DocumentScore:
        return DocumentScore(
            "overall",
            sum(d.extracted for d in self.documents),
            sum(d.labelled for d in self.documents),
            sum(d.matched for d in self.documents),
        )


def score_document(name: str, extracted: list[dict], labels: list[dict], text: str | None = None):
    """Greedy one-to-one matching of labels to extracted targets, in label order."""
    used: set[int] = set()
    missed = []
    for label in labels:
        hit = next(
            (
                i
                for i, cand in enumerate(extracted)
                if i not in used and targets_match(cand, label, text)
            ),
            None,
        )
        if hit is None:
            missed.append(label)
        else:
            used.add(hit)
    spurious = [c for i, c in enumerate(extracted) if i not in used]
    return DocumentScore(name, len(extracted), len(labels), len(used), missed, spurious)


def evaluate_directory(
    labels_dir: str | Path,
    *,
    seeds_dir: str | Path | None = None,
    extract: Callable[[str], list[dict]] | None = None,
    extracted_by_stem: Mapping[str, list[dict]] | None = None,
) -> EvaluationReport:
    """Score every <stem>.targets.json in labels_dir against its <stem>.txt (in labels_dir or seeds_dir).

    Pass extracted_by_stem to score targets extracted elsewhere, or extract to run on each text.
    """
    from .sources import read_source

    labels_dir = Path(labels_dir)
    seeds_dir = Path(seeds_dir) if seeds_dir else labels_dir.parent / "seeds"
    if extract is None:
        from . import extract_targets as extract
    documents = []
    for label_path in sorted(labels_dir.glob("*.targets.json")):
        stem = label_path.name.removesuffix(".targets.json")
        labels = json.loads(label_path.read_text(encoding="utf-8"))
        doc_path = next(
            (p for p in (labels_dir / f"{stem}.txt", seeds_dir / f"{stem}.txt") if p.exists()),
            None,
        )
        text = read_source(doc_path) if doc_path else None
        if extracted_by_stem is not None and stem in extracted_by_stem:
            extracted = list(extracted_by_stem[stem])
        elif text is not None:
            extracted = extract(text)
        else:
            raise FileNotFoundError(
                f"No document for {label_path.name}: expected {stem}.txt in {labels_dir} or {seeds_dir}"
            )
        documents.append(score_document(stem, extracted, labels, text))
    return EvaluationReport(documents)
