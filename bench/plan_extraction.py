"""Time plan extraction on a ~50,000-character document (target: at most 1 s).

Builds the document by concatenating the seed plans (or a synthetic plan when they are
absent) and prints the median time of several runs and the throughput. Not a test.

    .venv/bin/python bench/plan_extraction.py [--seeds DIR] [--chars N] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kechuang.plans.extraction import extract_plan  # noqa: E402

SYNTHETIC_PARAGRAPH = (
    "(一)强化企业创新主体地位\n"
    "实施高新技术企业倍增计划,力争到2025年,有效期内高新技术企业达到3000家,"
    "新增科技小巨人企业40家以上,技术合同成交额突破200亿元,研发投入强度保持在4.5%左右。"
    "“十三五”期间全区新增孵化器12家。(责任单位:区科委、区经委)\n"
)


def build_document(seeds: Path, chars: int) -> str:
    texts = [p.read_text(encoding="utf-8-sig") for p in sorted(seeds.glob("*.txt"))]
    if not texts:
        texts = ["某区科技创新“十四五”规划\n二、重点任务\n" + SYNTHETIC_PARAGRAPH * 20]
    parts: list[str] = []
    while sum(map(len, parts)) < chars:
        parts.extend(texts)
    return "\n".join(parts)[:chars]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="/work/shared/seeds")
    parser.add_argument("--chars", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    text = build_document(Path(args.seeds), args.chars)
    extract_plan(text)  # warm up (regex compilation, imports)
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        draft = extract_plan(text)
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    print(f"document: {len(text):,} characters")
    print(f"found: {len(draft.targets)} targets, {len(draft.tasks)} tasks")
    print(f"median of {args.runs} runs: {median * 1000:.1f} ms (min {min(timings) * 1000:.1f} ms)")
    print(f"throughput: {len(text) / median:,.0f} chars/s")
    print("target <= 1 s:", "met" if median <= 1.0 else "NOT met")


if __name__ == "__main__":
    main()
