"""Demo enterprises: names that sound real, log-normal sizes, qualifications, reports, visits.

Built with bulk_create in batches, so `--enterprises 100000` (and 1,000,000 on
PostgreSQL) works; deterministic through ctx.rng.
"""

from __future__ import annotations

import datetime
import math

from django.db import connection, transaction
from django.utils import timezone

from kechuang.core.demo import DemoContext, _user
from kechuang.core.models import Jurisdiction, JurisdictionLevel, Role, User
from kechuang.enterprises import services
from kechuang.enterprises.models import (
    AnnualReport,
    Enterprise,
    Industry,
    IssueStatus,
    LadderStageChange,
    ListingStatus,
    Qualification,
    QualificationType,
    ReportStatus,
    Sector,
    Visit,
    VisitIssue,
    WatchList,
    WatchListMember,
)
from kechuang.enterprises.uscc import make_uscc

BATCH = 5000

TRADE_NAMES = list(
    "华鼎锐芯联微智创新泰恒瑞博凯信达科远航天睿思源宏图景明德润星辰云海纳川启迪晨光卓越"
    "致远鸿蒙精工中科赛维安捷普瑞迈康欣诺盛世嘉和永拓昊天钧达宸宇芯动极光量子紫竹莘源"
)
# (industry word, industry code, sector codes)
TRADES = [
    ("集成电路", "C39", ["IC", "NGIT"]),
    ("微电子", "C39", ["IC"]),
    ("半导体设备", "C35", ["IC", "HEE"]),
    ("人工智能", "I65", ["AI", "NGIT"]),
    ("信息技术", "I65", ["NGIT"]),
    ("软件", "I65", ["NGIT"]),
    ("网络科技", "I64", ["NGIT", "DC"]),
    ("数据科技", "I65", ["NGIT", "AI"]),
    ("生物医药", "C27", ["BIO"]),
    ("生物科技", "M73", ["BIO"]),
    ("医疗器械", "C35", ["BIO", "HEE"]),
    ("智能装备", "C34", ["HEE"]),
    ("机器人", "C34", ["HEE", "AI"]),
    ("精密机械", "C34", ["HEE"]),
    ("新材料", "C26", ["NM"]),
    ("高分子材料", "C29", ["NM"]),
    ("新能源", "C38", ["NE"]),
    ("储能技术", "C38", ["NE", "NEV"]),
    ("汽车电子", "C36", ["NEV"]),
    ("环保科技", "M74", ["EPE"]),
    ("节能技术", "M75", ["EPE"]),
    ("航空科技", "C37", ["AERO", "HEE"]),
    ("文化传媒", "I64", ["DC"]),
    ("检测技术", "M74", []),
    ("仪器仪表", "C40", ["HEE"]),
    ("科技发展", "M75", []),
]
SUFFIXES = ["有限公司", "有限公司", "有限公司", "股份有限公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
ISSUE_TEXTS = [
    ("人才", "研发人员落户与人才公寓申请"),
    ("用地", "扩产需要新增厂房面积约2000平方米"),
    ("融资", "希望对接科技信贷和投资机构"),
    ("政策", "咨询高新技术企业认定申报条件"),
    ("政策", "研发费用加计扣除政策辅导"),
    ("知识产权", "专利快速预审通道"),
    ("市场", "希望对接区内应用场景"),
]


def _date(rng, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randrange(max(1, (end - start).days)))


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def build(ctx: DemoContext) -> None:
    rng = ctx.rng
    today = timezone.localdate()
    last_year = today.year - 1
    years = list(range(last_year - ctx.years + 1, last_year + 1))
    towns = list(Jurisdiction.objects.filter(level=JurisdictionLevel.TOWN).order_by("code"))
    parks = list(Jurisdiction.objects.filter(level=JurisdictionLevel.PARK).select_related("parent"))
    parks_by_town = {}
    for p in parks:
        parks_by_town.setdefault(p.parent_id, []).append(p)
    industries = {i.code: i.pk for i in Industry.objects.all()}
    sectors = {s.code: s.pk for s in Sector.objects.all()}
    qtypes = {t.code: t for t in QualificationType.objects.all()}
    start_id = (Enterprise.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    existing = Enterprise.objects.count()
    # Heavier weight on the two towns with parks and on 莘庄镇 (the demo station's town).
    town_weights = [3 if parks_by_town.get(t.pk) else 1 for t in towns]

    used_names: set[str] = set(Enterprise.objects.values_list("name", flat=True))
    through = Enterprise.sectors.through
    total = ctx.enterprises
    made = 0
    hte_count = 0
    for batch_start in range(0, total, BATCH):
        n = min(BATCH, total - batch_start)
        with transaction.atomic():
            enterprises, sector_rows, quals, reports = [], [], [], []
            for i in range(n):
                serial = existing + batch_start + i
                pk = start_id + batch_start + i
                word, ind_code, sector_codes = rng.choice(TRADES)
                for attempt in range(20):
                    trade = "".join(rng.sample(TRADE_NAMES, 2))
                    name = f"上海{trade}{word}{rng.choice(SUFFIXES)}"
                    if attempt > 5:
                        name = f"上海{trade}{word}{serial}{rng.choice(SUFFIXES)}"
                    if name not in used_names:
                        break
                used_names.add(name)
                town = rng.choices(towns, weights=town_weights)[0]
                park = None
                if parks_by_town.get(town.pk) and rng.random() < 0.6:
                    park = rng.choice(parks_by_town[town.pk])
                registered = _date(rng, datetime.date(1998, 1, 1), datetime.date(last_year, 6, 30))
                # Log-normal size: median revenue ≈ 1,500 万元, a long tail of large firms.
                base_revenue = math.exp(rng.gauss(math.log(15_000_000), 1.3))
                growth = rng.gauss(0.10, 0.15)
                rd_ratio = max(0.0, rng.gauss(0.06, 0.04))
                enterprises.append(
                    Enterprise(
                        pk=pk,
                        uscc=make_uscc(serial + 1),
                        name=name,
                        legal_rep=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                        registered_on=registered,
                        registered_capital=rng.choice([100, 200, 500, 1000, 2000, 5000]) * 10_000,
                        address=f"{town.name}{rng.choice(['沪闵路', '莘松路', '七莘路', '剑川路', '紫星路', '申滨路'])}{rng.randint(1, 3000)}号",
                        jurisdiction_id=town.pk,
                        park_id=park.pk if park else None,
                        lat=round(31.02 + rng.random() * 0.18, 6),
                        lng=round(121.30 + rng.random() * 0.22, 6),
                        industry_id=industries.get(ind_code),
                        listing_status=ListingStatus.UNLISTED,
                        contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                        contact_phone=f"139{rng.randrange(10**8):08d}",
                        data_changed_at=timezone.now(),
                    )
                )
                for code in sector_codes:
                    sector_rows.append(through(enterprise_id=pk, sector_id=sectors[code]))
                # Annual reports with growth (only years after registration).
                revenue = base_revenue / (1 + growth) ** len(years)
                staff = max(5, int(revenue / rng.uniform(600_000, 1_500_000)))
                size = base_revenue
                for year in years:
                    revenue *= 1 + rng.gauss(growth, 0.08)
                    staff = max(3, int(staff * (1 + rng.gauss(growth * 0.6, 0.05))))
                    if year < registered.year:
                        continue
                    rev = int(revenue)
                    reports.append(
                        AnnualReport(
                            enterprise_id=pk,
                            year=year,
                            revenue=rev,
                            rd_expense=int(rev * max(0.0, rd_ratio + rng.gauss(0, 0.01))),
                            hightech_revenue=int(rev * rng.uniform(0.4, 0.9)),
                            total_assets=int(rev * rng.uniform(0.8, 2.5)),
                            tax=int(rev * rng.uniform(0.02, 0.06)),
                            profit=int(rev * rng.gauss(0.08, 0.08)),
                            staff=staff,
                            tech_staff=int(staff * rng.uniform(0.15, 0.6)),
                            invention_patents_granted=rng.randint(0, 3 if size > 2e7 else 1),
                            invention_patents_valid=int(rng.expovariate(1 / (2 + size / 2e7))),
                            ip_count=rng.randint(0, 40),
                            status=ReportStatus.CONFIRMED,
                        )
                    )
                # Qualifications: bigger and more R&D-intensive firms hold more of them.
                score = math.log(size / 15_000_000) + 8 * rd_ratio + rng.gauss(0, 0.7)
                first_year = max(registered.year + 1, years[0] - 3)
                if score > 0.8:  # ≈ 30 % hold a valid 高企 in any year
                    hte_count += 1
                    issued = _date(
                        rng, datetime.date(first_year, 10, 1), datetime.date(first_year + 2, 12, 31)
                    )
                    while issued <= today:
                        expires = _add_years(issued, 3) - datetime.timedelta(days=1)
                        quals.append(
                            Qualification(
                                enterprise_id=pk,
                                type=qtypes["HTE"],
                                certificate_no=f"GR{issued.year}31{rng.randrange(10**6):06d}",
                                issued_on=issued,
                                expires_on=expires,
                            )
                        )
                        if rng.random() < 0.2:  # some do not renew
                            break
                        issued = _add_years(issued, 3)
                if score > -0.5 and size < 1e8:
                    for year in years[-3:]:
                        if rng.random() < 0.6:
                            issued = datetime.date(year, rng.randint(3, 9), rng.randint(1, 28))
                            quals.append(
                                Qualification(
                                    enterprise_id=pk,
                                    type=qtypes["TSME"],
                                    certificate_no=f"{year}3101{rng.randrange(10**6):06d}",
                                    issued_on=issued,
                                    expires_on=_add_years(issued, 1) - datetime.timedelta(days=1),
                                )
                            )
                if score > 2.0 and rng.random() < 0.4:
                    code = rng.choice(["LITTLE_GIANT", "LITTLE_GIANT_CULTIVATION"])
                    quals.append(
                        Qualification(
                            enterprise_id=pk,
                            type=qtypes[code],
                            issued_on=_date(rng, datetime.date(years[0], 1, 1), today),
                        )
                    )
                if score > 0.9 and rng.random() < 0.35:
                    issued = _date(rng, datetime.date(years[0], 1, 1), today)
                    quals.append(
                        Qualification(
                            enterprise_id=pk,
                            type=qtypes["SRDI_GIANT" if score > 2.2 else "SRDI"],
                            issued_on=issued,
                            expires_on=_add_years(issued, 3) - datetime.timedelta(days=1),
                        )
                    )
                if rng.random() < 0.06:
                    quals.append(
                        Qualification(
                            enterprise_id=pk,
                            type=qtypes["CONTEST_AWARD"],
                            certificate_no="创新创业大赛",
                            issued_on=_date(rng, datetime.date(years[0], 9, 1), today),
                        )
                    )
                if score > 2.0 and rng.random() < 0.3:
                    quals.append(
                        Qualification(
                            enterprise_id=pk,
                            type=qtypes["ETC_CITY"],
                            issued_on=_date(rng, datetime.date(years[0], 1, 1), today),
                        )
                    )
            Enterprise.objects.bulk_create(enterprises, batch_size=1000)
            through.objects.bulk_create(sector_rows, batch_size=2000)
            Qualification.objects.bulk_create(quals, batch_size=2000)
            AnnualReport.objects.bulk_create(reports, batch_size=2000)
            made += n
        if total > BATCH:
            ctx.log(f"  enterprises: {made:,}/{total:,}")
    _reset_sequences()

    new_ids = list(
        Enterprise.objects.filter(pk__gte=start_id).order_by("pk").values_list("pk", flat=True)
    )
    _ladder_history(new_ids, years, today)
    _watch_lists(ctx, new_ids)
    _visits(ctx, new_ids, today)
    _enterprise_user(ctx)
    ctx.log(
        f"enterprises: {made:,} with {len(years)} years of reports; {hte_count:,} ever high-tech"
    )


def _reset_sequences() -> None:
    """Explicit primary keys leave PostgreSQL sequences behind; move them forward."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Enterprise,):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT MAX(id) FROM {table}))"
            )


def _ladder_history(ids: list[int], years: list[int], today: datetime.date) -> None:
    """Stage at each year end, then now, written as the stage history it would have left."""
    checkpoints = [datetime.date(y, 12, 31) for y in years] + [today]
    current = dict.fromkeys(ids, "")
    history = []
    for day in checkpoints:
        stages = services.compute_stages(ids, day)
        at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        for eid, (stage, reason) in stages.items():
            if stage != current[eid]:
                history.append(
                    LadderStageChange(
                        enterprise_id=eid,
                        changed_at=at,
                        from_stage=current[eid],
                        to_stage=stage,
                        reason=reason,
                    )  # fmt: skip
                )
                current[eid] = stage
    with transaction.atomic():
        LadderStageChange.objects.bulk_create(history, batch_size=5000)
        by_stage: dict[str, list[int]] = {}
        for eid, stage in current.items():
            by_stage.setdefault(stage, []).append(eid)
        for stage, eids in by_stage.items():
            for i in range(0, len(eids), 5000):
                Enterprise.objects.filter(pk__in=eids[i : i + 5000]).update(ladder_stage=stage)


def _watch_lists(ctx: DemoContext, ids: list[int]) -> None:
    rng = ctx.rng
    ipo = WatchList.objects.get(code="IPO_RESERVE")
    growth = WatchList.objects.get(code="GROWTH_100")
    big = list(
        AnnualReport.objects.filter(
            enterprise_id__in=ids[:50_000], year=timezone.localdate().year - 1
        )
        .order_by("-revenue")
        .values_list("enterprise_id", flat=True)[: max(10, len(ids) // 40)]
    )
    members = []
    for eid in big:
        added = datetime.date(rng.randint(2021, 2025), rng.randint(1, 12), 1)
        removed = None
        if rng.random() < 0.1:
            removed = added + datetime.timedelta(days=rng.randint(120, 500))
        members.append(
            WatchListMember(
                watch_list=ipo,
                enterprise_id=eid,
                added_on=added,
                removed_on=removed,
                reason=rng.choice(["营收规模与增速符合上市培育标准", "已启动股改", "券商辅导中"]),
                removal_reason="已在科创板上市" if removed else "",
            )  # fmt: skip
        )
    for eid in rng.sample(ids, min(100, len(ids))):
        members.append(
            WatchListMember(
                watch_list=growth,
                enterprise_id=eid,
                added_on=datetime.date(2024, 3, 1),
                reason="百企成长计划首批",
            )  # fmt: skip
        )
    WatchListMember.objects.bulk_create(members, batch_size=2000)


def _visits(ctx: DemoContext, ids: list[int], today: datetime.date) -> None:
    rng = ctx.rng
    staff = {u.jurisdiction_id: u for u in User.objects.filter(role=Role.STATION)}
    officer = ctx.users.get("officer")
    towns = dict(
        Enterprise.objects.filter(pk__in=ids[:20_000]).values_list("pk", "jurisdiction_id")
    )
    visits, issue_specs = [], []
    for eid in rng.sample(ids[:20_000], min(len(ids), max(20, len(ids) // 5), 20_000)):
        town = towns[eid]
        for _ in range(rng.randint(1, 2)):
            visited = today - datetime.timedelta(days=rng.randint(5, 400))
            user = staff.get(town) or officer
            visits.append(
                Visit(
                    enterprise_id=eid,
                    visited_on=visited,
                    staff=user,
                    station_id=town,
                    participants=rng.choice(["科技服务站", "区科委企业服务科", "镇经发办"]),
                    summary="了解企业研发投入、人才需求和政策享受情况。",
                )  # fmt: skip
            )
    Visit.objects.bulk_create(visits, batch_size=2000)
    issues = []
    for v in visits:
        for _ in range(rng.choice([0, 1, 1, 2])):
            category, text = rng.choice(ISSUE_TEXTS)
            due = v.visited_on + datetime.timedelta(days=rng.choice([15, 30, 60]))
            status = IssueStatus.CLOSED
            if due > today - datetime.timedelta(days=60) or rng.random() < 0.15:
                status = rng.choice([IssueStatus.OPEN, IssueStatus.IN_PROGRESS, IssueStatus.CLOSED])
            issues.append(
                VisitIssue(
                    visit_id=v.pk,
                    enterprise_id=v.enterprise_id,
                    category=category,
                    description=text,
                    status=status,
                    due_on=due,
                    closed_on=min(today, due) if status == IssueStatus.CLOSED else None,
                    follow_up="已转相关部门办理" if status != IssueStatus.OPEN else "",
                )  # fmt: skip
            )
    VisitIssue.objects.bulk_create(issues, batch_size=2000)
    issue_specs.clear()


def _enterprise_user(ctx: DemoContext) -> None:
    town = Jurisdiction.objects.filter(name="莘庄镇").first()
    enterprise = (
        Enterprise.objects.filter(jurisdiction=town).exclude(ladder_stage="").order_by("pk").first()
        or Enterprise.objects.filter(jurisdiction=town).order_by("pk").first()
    )
    if enterprise is None:
        return
    user = _user("enterprise", Role.ENTERPRISE, "张经理", enterprise=enterprise)
    ctx.users["enterprise"] = user
