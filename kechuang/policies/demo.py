"""Demo: a handful of example policies with items tied to the library rules."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from kechuang.core.demo import DemoContext
from kechuang.policies.models import Policy, PolicyItem, PolicyStatus
from kechuang.rules.models import Rule

EXAMPLE = "（示例政策，仅用于演示平台功能，不代表真实文件。）"

POLICIES = [
    {
        "title": "申江区关于支持企业创新发展的若干措施（示例）",
        "issuer": "申江区科学技术委员会",
        "doc_no": "申科委〔2024〕1号（示例）",
        "published_on": dt.date(2024, 1, 15),
        "valid_from": dt.date(2024, 1, 1),
        "valid_until": dt.date(2026, 12, 31),
        "items": [
            (
                "高新技术企业认定奖励",
                "district_gaoqi_award",
                "对首次或重新认定的高新技术企业给予一次性奖励。",
                "营业收入 1 亿元以上奖励 30 万元，其余 20 万元。",
            ),
            (
                "专精特新“小巨人”培育资助",
                "district_little_giant_support",
                "对进入“小巨人”培育库的企业给予研发资助。",
                "按上一年度研发费用的 10% 资助，最高 100 万元。",
            ),
            (
                "院士专家工作站资助",
                "district_academician_station",
                "对经认定的院士专家工作站给予运行资助。",
                "按上一年度研发费用的 20% 资助，最高 50 万元。",
            ),
        ],
    },
    {
        "title": "高新技术企业认定管理办法",
        "issuer": "科技部 财政部 国家税务总局",
        "doc_no": "国科发火〔2016〕32号",
        "published_on": dt.date(2016, 1, 29),
        "valid_from": dt.date(2016, 1, 1),
        "valid_until": None,
        "items": [
            (
                "高新技术企业认定条件（第十一条）",
                "gaoqi_recognition",
                "认定为高新技术企业须同时满足第十一条所列条件。",
                "减按 15% 税率征收企业所得税等。",
            ),
        ],
    },
    {
        "title": "科技型中小企业评价办法",
        "issuer": "科技部 财政部 国家税务总局",
        "doc_no": "国科发政〔2017〕115号",
        "published_on": dt.date(2017, 5, 3),
        "valid_from": dt.date(2017, 5, 1),
        "valid_until": None,
        "items": [
            (
                "科技型中小企业评价入库",
                "kxzx_evaluation",
                "符合条件的企业可自主评价并入库。",
                "享受研发费用加计扣除比例提高等政策。",
            ),
        ],
    },
    {
        "title": "申江区科技金融贴息办法（征求意见稿，示例）",
        "issuer": "申江区科学技术委员会",
        "doc_no": "",
        "published_on": None,
        "valid_from": dt.date(2025, 1, 1),
        "valid_until": None,
        "status": PolicyStatus.DRAFT,
        "items": [
            ("科技贷款贴息", None, "对科技型企业贷款给予贴息。", "按实际付息额的 50% 贴息。")
        ],
    },
]


@transaction.atomic
def build(ctx: DemoContext) -> None:
    rules = {r.code: r for r in Rule.objects.all()}
    today = dt.date.today()
    made = 0
    for spec in POLICIES:
        policy, _ = Policy.objects.update_or_create(
            title=spec["title"],
            defaults={
                "issuer": spec["issuer"],
                "doc_no": spec["doc_no"],
                "published_on": spec["published_on"],
                "valid_from": spec["valid_from"],
                "valid_until": spec["valid_until"],
                "status": spec.get("status", PolicyStatus.PUBLISHED),
                "summary": (spec["items"][0][2] + EXAMPLE) if "示例" in spec["title"] else "",
                "text": EXAMPLE + "\n\n" + "\n".join(f"{i + 1}. {it[0]}：{it[2]}{it[3]}"
                                                     for i, it in enumerate(spec["items"])),
            },
        )  # fmt: skip
        for order, (title, rule_code, clause, benefit) in enumerate(spec["items"]):
            PolicyItem.objects.update_or_create(
                policy=policy,
                title=title,
                defaults={
                    "rule": rules.get(rule_code) if rule_code else None,
                    "clause_text": clause,
                    "benefit": benefit,
                    "window_start": dt.date(today.year, 3, 1),
                    "window_end": dt.date(today.year, 10, 31),
                    "sort_order": order,
                },
            )
            made += 1
    ctx.log(f"policies: {len(POLICIES)} policies, {made} items")
