"""Demo enterprises: names that sound real, log-normal sizes, qualifications, reports, visits.

Rows are built as tuples and written per batch with COPY on PostgreSQL (executemany
elsewhere), the ladder is computed from the generated rows in memory, so
`--enterprises 1000000` on PostgreSQL takes minutes; deterministic through ctx.rng.
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
    ReportSource,
    ReportStatus,
    Sector,
    Visit,
    VisitIssue,
    WatchList,
    WatchListMember,
)
from kechuang.enterprises.uscc import make_uscc
from kechuang.enterprises.validity import is_valid_on
from kechuang.enterprises.versioning import register_changed

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


class _RowWriter:
    """Rows as plain tuples, written per table: COPY (psycopg 3) on PostgreSQL, one
    executemany INSERT elsewhere. No model instances: a million enterprises are ~10 M rows."""

    def __init__(self) -> None:
        self.tables: dict[tuple[str, tuple[str, ...]], list[tuple]] = {}
        self.postgres = connection.vendor == "postgresql"

    def add(self, table: str, columns: tuple[str, ...], row: tuple) -> None:
        self.tables.setdefault((table, columns), []).append(row)

    def flush(self) -> None:
        with connection.cursor() as cursor:
            for (table, columns), rows in self.tables.items():
                if not rows:
                    continue
                names = ", ".join(columns)
                if self.postgres:
                    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(columns))
                    cursor.executemany(
                        f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                        [tuple(map(_plain, row)) for row in rows],
                    )
                rows.clear()


def _plain(value):
    """Values as Django's SQLite backend stores them (dates and datetimes as ISO text)."""
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


ENTERPRISE_COLUMNS = (
    "id", "created_at", "updated_at", "uscc", "name", "legal_rep", "registered_on",
    "registered_capital", "address", "jurisdiction_id", "park_id", "lat", "lng", "industry_id",
    "listing_status", "contact_name", "contact_phone", "contact_email", "ladder_stage",
    "data_changed_at",
)  # fmt: skip
SECTOR_COLUMNS = ("enterprise_id", "sector_id")
QUALIFICATION_COLUMNS = (
    "created_at", "updated_at", "enterprise_id", "type_id", "certificate_no", "issued_on",
    "expires_on", "revoked_on",
)  # fmt: skip
REPORT_COLUMNS = (
    "created_at", "updated_at", "enterprise_id", "year", "revenue", "rd_expense",
    "hightech_revenue", "total_assets", "tax", "profit", "staff", "tech_staff",
    "invention_patents_granted", "invention_patents_valid", "ip_count", "status", "source",
)  # fmt: skip
LADDER_COLUMNS = ("enterprise_id", "changed_at", "from_stage", "to_stage", "reason")


def build(ctx: DemoContext) -> None:
    rng = ctx.rng
    today = timezone.localdate()
    now = timezone.now()
    last_year = today.year - 1
    years = list(range(last_year - ctx.years + 1, last_year + 1))
    towns = list(Jurisdiction.objects.filter(level=JurisdictionLevel.TOWN).order_by("code"))
    parks = list(Jurisdiction.objects.filter(level=JurisdictionLevel.PARK).select_related("parent"))
    parks_by_town = {}
    for p in parks:
        parks_by_town.setdefault(p.parent_id, []).append(p)
    industries = {i.code: i.pk for i in Industry.objects.all()}
    sectors = {s.code: s.pk for s in Sector.objects.all()}
    qtypes = {t.code: t.pk for t in QualificationType.objects.all()}
    ladder_types = {qtypes[c]: c for c in services.LADDER_QUALIFICATION_CODES if c in qtypes}
    criteria = services._criteria()
    # Stage at each year end, then now: written as the stage history it would have left.
    checkpoints = [datetime.date(y, 12, 31) for y in years] + [today]
    checkpoint_times = [
        timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        for day in checkpoints
    ]
    start_id = (Enterprise.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    existing = Enterprise.objects.count()
    # Heavier weight on the two towns with parks and on 莘庄镇 (the demo station's town).
    town_weights = [3 if parks_by_town.get(t.pk) else 1 for t in towns]

    used_names: set[str] = set(Enterprise.objects.values_list("name", flat=True))
    sector_table = Enterprise.sectors.through._meta.db_table
    tables = {
        model: model._meta.db_table
        for model in (Enterprise, Qualification, AnnualReport, LadderStageChange)
    }
    writer = _RowWriter()
    total = ctx.enterprises
    made = 0
    hte_count = 0
    confirmed, staff_source = ReportStatus.CONFIRMED.value, ReportSource.STAFF.value
    for batch_start in range(0, total, BATCH):
        n = min(BATCH, total - batch_start)
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
            # Same draws in the same order as ever: the district is the same for a seed.
            enterprise = [
                pk, now, now, make_uscc(serial + 1), name,
                rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), registered,
                rng.choice([100, 200, 500, 1000, 2000, 5000]) * 10_000,
                f"{town.name}{rng.choice(['沪闵路', '莘松路', '七莘路', '剑川路', '紫星路', '申滨路'])}{rng.randint(1, 3000)}号",
                town.pk, park.pk if park else None,
                round(31.02 + rng.random() * 0.18, 6), round(121.30 + rng.random() * 0.22, 6),
                industries.get(ind_code), ListingStatus.UNLISTED.value,
                rng.choice(SURNAMES) + rng.choice(GIVEN), f"139{rng.randrange(10**8):08d}", "",
                "", now,
            ]  # fmt: skip
            for code in sector_codes:
                writer.add(sector_table, SECTOR_COLUMNS, (pk, sectors[code]))
            # Annual reports with growth (only years after registration).
            revenue = base_revenue / (1 + growth) ** len(years)
            staff = max(5, int(revenue / rng.uniform(600_000, 1_500_000)))
            size = base_revenue
            metrics: dict[int, tuple] = {}
            for year in years:
                revenue *= 1 + rng.gauss(growth, 0.08)
                staff = max(3, int(staff * (1 + rng.gauss(growth * 0.6, 0.05))))
                if year < registered.year:
                    continue
                rev = int(revenue)
                row = (
                    now, now, pk, year, rev,
                    int(rev * max(0.0, rd_ratio + rng.gauss(0, 0.01))),
                    int(rev * rng.uniform(0.4, 0.9)),
                    int(rev * rng.uniform(0.8, 2.5)),
                    int(rev * rng.uniform(0.02, 0.06)),
                    int(rev * rng.gauss(0.08, 0.08)),
                    staff,
                    int(staff * rng.uniform(0.15, 0.6)),
                    rng.randint(0, 3 if size > 2e7 else 1),
                    int(rng.expovariate(1 / (2 + size / 2e7))),
                    rng.randint(0, 40),
                    confirmed, staff_source,
                )  # fmt: skip
                writer.add(tables[AnnualReport], REPORT_COLUMNS, row)
                metrics[year] = (rev, row[5], row[13])
            # Qualifications: bigger and more R&D-intensive firms hold more of them.
            quals: list[tuple] = []  # (type id, certificate no., issued, expires)
            score = math.log(size / 15_000_000) + 8 * rd_ratio + rng.gauss(0, 0.7)
            first_year = max(registered.year + 1, years[0] - 3)
            if score > 0.8:  # ≈ 30 % hold a valid 高企 in any year
                hte_count += 1
                issued = _date(
                    rng, datetime.date(first_year, 10, 1), datetime.date(first_year + 2, 12, 31)
                )
                while issued <= today:
                    expires = _add_years(issued, 3) - datetime.timedelta(days=1)
                    number = f"GR{issued.year}31{rng.randrange(10**6):06d}"
                    quals.append((qtypes["HTE"], number, issued, expires))
                    if rng.random() < 0.2:  # some do not renew
                        break
                    issued = _add_years(issued, 3)
            if score > -0.5 and size < 1e8:
                for year in years[-3:]:
                    if rng.random() < 0.6:
                        issued = datetime.date(year, rng.randint(3, 9), rng.randint(1, 28))
                        number = f"{year}3101{rng.randrange(10**6):06d}"
                        expires = _add_years(issued, 1) - datetime.timedelta(days=1)
                        quals.append((qtypes["TSME"], number, issued, expires))
            if score > 2.0 and rng.random() < 0.4:
                code = rng.choice(["LITTLE_GIANT", "LITTLE_GIANT_CULTIVATION"])
                issued = _date(rng, datetime.date(years[0], 1, 1), today)
                quals.append((qtypes[code], "", issued, None))
            if score > 0.9 and rng.random() < 0.35:
                issued = _date(rng, datetime.date(years[0], 1, 1), today)
                expires = _add_years(issued, 3) - datetime.timedelta(days=1)
                quals.append((qtypes["SRDI_GIANT" if score > 2.2 else "SRDI"], "", issued, expires))
            if rng.random() < 0.06:
                issued = _date(rng, datetime.date(years[0], 9, 1), today)
                quals.append((qtypes["CONTEST_AWARD"], "创新创业大赛", issued, None))
            if score > 2.0 and rng.random() < 0.3:
                issued = _date(rng, datetime.date(years[0], 1, 1), today)
                quals.append((qtypes["ETC_CITY"], "", issued, None))
            for type_id, number, issued, expires in quals:
                writer.add(
                    tables[Qualification],
                    QUALIFICATION_COLUMNS,
                    (now, now, pk, type_id, number, issued, expires, None),
                )
            # The ladder, from the rows above through the one rule (services.decide_stage).
            stage = ""
            for day, at in zip(checkpoints, checkpoint_times, strict=True):
                codes = {
                    ladder_types[t]
                    for t, _n, issued, expires in quals
                    if t in ladder_types and is_valid_on(issued, expires, None, day)
                }
                window = {y: m for y, m in metrics.items() if day.year - 3 <= y <= day.year}
                to_stage, reason = services.decide_stage(codes, window, day, criteria)
                if to_stage != stage:
                    writer.add(
                        tables[LadderStageChange], LADDER_COLUMNS, (pk, at, stage, to_stage, reason)
                    )
                    stage = to_stage
            enterprise[-2] = str(stage)
            writer.add(tables[Enterprise], ENTERPRISE_COLUMNS, tuple(enterprise))
        with transaction.atomic():
            writer.flush()
        made += n
        if total > BATCH:
            ctx.log(f"  enterprises: {made:,}/{total:,}")
    _reset_sequences()
    register_changed()

    new_ids = list(
        Enterprise.objects.filter(pk__gte=start_id).order_by("pk").values_list("pk", flat=True)
    )
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
