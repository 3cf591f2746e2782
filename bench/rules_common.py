"""Shared synthetic data and rule set for the rules benchmarks (not a test)."""

from __future__ import annotations

import datetime as dt

import numpy as np

ON = dt.date(2024, 6, 30)
W = 10_000.0


def synthetic_columns(n: int, *, missing: float = 0.05, seed: int = 7) -> dict[tuple, np.ndarray]:
    """Plausible enterprise data; ``missing`` is the share of NaN/NaT/unknown per column."""
    rng = np.random.default_rng(seed)
    revenue = rng.lognormal(np.log(3000 * W), 1.2, n).round(2)
    staff = rng.integers(1, 800, n).astype(np.float64)
    columns = {
        ("metric", "revenue", -1): revenue,
        ("metric", "revenue", -2): (revenue * rng.uniform(0.7, 1.3, n)).round(2),
        ("metric", "rd_expense", -1): (revenue * rng.uniform(0, 0.12, n)).round(2),
        ("metric", "hightech_revenue", -1): (revenue * rng.uniform(0.2, 1.0, n)).round(2),
        ("metric", "total_assets", -1): rng.lognormal(np.log(4000 * W), 1.0, n).round(2),
        ("metric", "staff", -1): staff,
        ("metric", "tech_staff", -1): np.floor(staff * rng.uniform(0, 0.4, n)),
        ("field", "invention_patents_valid"): rng.integers(0, 6, n).astype(np.float64),
        ("field", "ip_count"): rng.integers(0, 20, n).astype(np.float64),
        ("field", "registered_on"): (
            np.datetime64("2024-06-30") - rng.integers(0, 9000, n).astype("timedelta64[D]")
        ),
    }
    for name in (
        "高新技术企业",
        "科技型中小企业",
        "专精特新中小企业",
        "专精特新“小巨人”企业",
        "院士专家工作站",
    ):
        columns[("qualification", name, "eval_date")] = rng.integers(0, 2, n).astype(np.int8)
    if missing:
        for col in columns.values():
            holes = rng.random(n) < missing
            if col.dtype.kind == "f":
                col[holes] = np.nan
            elif col.dtype.kind == "M":
                col[holes] = np.datetime64("NaT")
            else:
                col[holes] = -1
    return columns


def fifty_rules() -> list[str]:
    """The shipped policies' condition texts plus threshold variants, 50 rules in all."""
    base = [
        "years_registered >= 1 and (invention_patents_valid >= 1 or ip_count >= 1)"
        " and tech_staff_ratio >= 10% and rd_ratio >= case when revenue <= 5000万 then 5%"
        " when revenue <= 2亿 then 4% else 3% end and hightech_revenue_ratio >= 60%",
        "staff <= 500 and revenue <= 2亿 and total_assets <= 2亿 and tech_staff_ratio >= 10%",
        'has_qualification("高新技术企业") and revenue > 0',
        '(has_qualification("高新技术企业") or has_qualification("专精特新中小企业"))'
        ' and not has_qualification("专精特新“小巨人”企业") and revenue between 2000万 and 4亿'
        ' and metric("revenue", year=-1) > metric("revenue", year=-2) and rd_ratio >= 3%'
        " and invention_patents_valid >= 2",
        'has_qualification("院士专家工作站") and years_registered >= 2 and tech_staff >= 10'
        " and rd_expense >= 200万",
    ]
    rules = list(base)
    i = 0
    while len(rules) < 50:
        k = i % 5
        t = 1 + i // 5
        rules.append(
            [
                f"years_registered >= {t % 4 + 1} and rd_ratio >= {2 + t % 5}% and ip_count >= {t % 3 + 1}",
                f"revenue between {t * 500}万 and {t * 3}亿 and staff <= {200 + t * 30}",
                f'has_qualification("科技型中小企业") and tech_staff_ratio >= {5 + t}% and total_assets <= {t}亿',
                f"hightech_revenue_ratio >= {40 + t}% or invention_patents_valid >= {t % 5 + 2}",
                f'rd_expense >= {t * 50}万 and not has_qualification("高新技术企业") and years_registered < {t + 3}',
            ][k]
        )
        i += 1
    return rules
