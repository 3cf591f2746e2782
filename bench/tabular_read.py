"""Benchmark kechuang.core.tabular: read a 100k-row xlsx and export 100k rows.

Run:  DEBUG=1 .venv/bin/python bench/tabular_read.py [--rows 100000]
Prints rows/s for read_table (xlsx and CSV) and seconds for write_xlsx / write_csv.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from kechuang.core.dates import parse_date  # noqa: E402
from kechuang.core.parsing import parse_amount  # noqa: E402
from kechuang.core.tabular import read_table, write_csv, write_xlsx  # noqa: E402
from kechuang.core.validators import USCC_CHARSET, uscc_check_char  # noqa: E402

HEADERS = [
    "企业名称", "统一社会信用代码", "法定代表人", "成立日期", "注册资本(万元)",
    "所属镇街", "行业分类", "企业类型", "营业收入(万元)", "研发投入(万元)",
    "从业人数", "研发人员数", "是否高新技术企业", "联系电话", "注册地址",
]  # fmt: skip

TOWNS = ["城关街道", "东湖街道", "西山镇", "南岭镇", "北港镇", "高新园区", "临江街道"]
INDUSTRIES = ["软件和信息技术服务业", "专用设备制造业", "医药制造业", "电气机械和器材制造业",
              "科技推广和应用服务业", "计算机、通信和其他电子设备制造业"]  # fmt: skip
KINDS = ["有限责任公司", "股份有限公司", "有限责任公司(自然人独资)", "个人独资企业"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
WORDS = [
    "智联",
    "华创",
    "科瑞",
    "博远",
    "天成",
    "新锐",
    "恒信",
    "中科",
    "云图",
    "精工",
    "睿达",
    "远航",
]


def fake_uscc(rng: random.Random) -> str:
    body = "91" + "330106" + "".join(rng.choice(USCC_CHARSET[:10]) for _ in range(8))
    # Any ninth character keeps the bench fast; validity of the org check is not measured here.
    body += rng.choice("0123456789")
    return body + uscc_check_char(body)


def make_rows(count: int, seed: int = 2023) -> list[list[object]]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        revenue = Decimal(rng.randint(10, 5_000_000)) / 100
        rows.append(
            [
                f"{rng.choice(WORDS)}{rng.choice(WORDS)}科技有限公司{i}",
                fake_uscc(rng),
                rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                dt.date(1990, 1, 1) + dt.timedelta(days=rng.randint(0, 12000)),
                Decimal(rng.choice([50, 100, 500, 1000, 3000, 10000])),
                rng.choice(TOWNS),
                rng.choice(INDUSTRIES),
                rng.choice(KINDS),
                revenue,
                (revenue * Decimal(rng.randint(1, 15)) / 100).quantize(Decimal("0.01")),
                rng.randint(5, 3000),
                rng.randint(0, 500),
                rng.random() < 0.3,
                f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
                f"某区{rng.choice(TOWNS)}科技路{rng.randint(1, 999)}号",
            ]
        )
    return rows


def timed(label: str, func):  # noqa: ARG001 - label documents the call site
    start = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - start
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    n = args.rows

    rows, gen_s = timed("generate", lambda: make_rows(n))
    print(f"generated {n:,} rows x {len(HEADERS)} columns in {gen_s:.1f}s")

    xlsx = io.BytesIO()
    _, write_s = timed("write_xlsx", lambda: write_xlsx(xlsx, HEADERS, rows, sheet_name="企业"))
    data = xlsx.getvalue()
    print(
        f"write_xlsx: {n:,} rows in {write_s:.2f}s ({n / write_s:,.0f} rows/s, {len(data) / 1e6:.1f} MB)"
    )

    csv_buffer = io.BytesIO()
    _, csv_s = timed("write_csv", lambda: write_csv(csv_buffer, HEADERS, rows))
    print(f"write_csv:  {n:,} rows in {csv_s:.2f}s ({n / csv_s:,.0f} rows/s)")

    table, read_s = timed("read xlsx", lambda: read_table(data, "bench.xlsx"))
    assert len(table) == n and table.headers == HEADERS
    print(f"read_table xlsx: {len(table):,} rows in {read_s:.2f}s ({n / read_s:,.0f} rows/s)")

    gbk = csv_buffer.getvalue()[3:].decode("utf-8").encode("gb18030")
    table_csv, read_csv_s = timed("read csv", lambda: read_table(gbk, "bench.csv"))
    assert len(table_csv) == n
    print(f"read_table GBK csv: {n:,} rows in {read_csv_s:.2f}s ({n / read_csv_s:,.0f} rows/s)")

    def parse_all():
        for row in table.rows:
            parse_amount(row.values[8], default_unit="万元")
            parse_date(row.values[3])

    _, parse_s = timed("parse", parse_all)
    print(f"parse_amount+parse_date on {n:,} rows: {parse_s:.2f}s ({n / parse_s:,.0f} rows/s)")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"(machine: {os.cpu_count()} CPUs, load average {load}; timings scale with load)")


if __name__ == "__main__":
    main()
