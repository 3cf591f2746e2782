"""Reference data with stable codes that other apps refer to.

GB/T 4754-2017: all 门类 (sections) and the 大类 (divisions) of C, I and M;
战略性新兴产业 sector tags; qualification types; default ladder criteria and
the standing watch-lists. Re-running is harmless (update_or_create by code).
"""

from django.db import migrations

SECTIONS = [
    ("A", "农、林、牧、渔业"), ("B", "采矿业"), ("C", "制造业"),
    ("D", "电力、热力、燃气及水生产和供应业"), ("E", "建筑业"), ("F", "批发和零售业"),
    ("G", "交通运输、仓储和邮政业"), ("H", "住宿和餐饮业"),
    ("I", "信息传输、软件和信息技术服务业"), ("J", "金融业"), ("K", "房地产业"),
    ("L", "租赁和商务服务业"), ("M", "科学研究和技术服务业"),
    ("N", "水利、环境和公共设施管理业"), ("O", "居民服务、修理和其他服务业"), ("P", "教育"),
    ("Q", "卫生和社会工作"), ("R", "文化、体育和娱乐业"),
    ("S", "公共管理、社会保障和社会组织"), ("T", "国际组织"),
]

DIVISIONS = [
    ("C13", "农副食品加工业"), ("C14", "食品制造业"), ("C15", "酒、饮料和精制茶制造业"),
    ("C16", "烟草制品业"), ("C17", "纺织业"), ("C18", "纺织服装、服饰业"),
    ("C19", "皮革、毛皮、羽毛及其制品和制鞋业"), ("C20", "木材加工和木、竹、藤、棕、草制品业"),
    ("C21", "家具制造业"), ("C22", "造纸和纸制品业"), ("C23", "印刷和记录媒介复制业"),
    ("C24", "文教、工美、体育和娱乐用品制造业"), ("C25", "石油、煤炭及其他燃料加工业"),
    ("C26", "化学原料和化学制品制造业"), ("C27", "医药制造业"), ("C28", "化学纤维制造业"),
    ("C29", "橡胶和塑料制品业"), ("C30", "非金属矿物制品业"),
    ("C31", "黑色金属冶炼和压延加工业"), ("C32", "有色金属冶炼和压延加工业"),
    ("C33", "金属制品业"), ("C34", "通用设备制造业"), ("C35", "专用设备制造业"),
    ("C36", "汽车制造业"), ("C37", "铁路、船舶、航空航天和其他运输设备制造业"),
    ("C38", "电气机械和器材制造业"), ("C39", "计算机、通信和其他电子设备制造业"),
    ("C40", "仪器仪表制造业"), ("C41", "其他制造业"), ("C42", "废弃资源综合利用业"),
    ("C43", "金属制品、机械和设备修理业"),
    ("I63", "电信、广播电视和卫星传输服务"), ("I64", "互联网和相关服务"),
    ("I65", "软件和信息技术服务业"),
    ("M73", "研究和试验发展"), ("M74", "专业技术服务业"), ("M75", "科技推广和应用服务业"),
]

SECTORS = [
    ("NGIT", "新一代信息技术"), ("IC", "集成电路"), ("AI", "人工智能"), ("BIO", "生物医药"),
    ("HEE", "高端装备"), ("NM", "新材料"), ("NE", "新能源"), ("NEV", "新能源汽车"),
    ("EPE", "节能环保"), ("DC", "数字创意"), ("AERO", "航空航天"), ("MARINE", "海洋装备"),
]

# (code, name, level, validity_years, sort_order)
QUALIFICATION_TYPES = [
    ("HTE", "高新技术企业", "national", 3, 10),
    ("TSME", "科技型中小企业", "national", 1, 20),
    ("LITTLE_GIANT", "科技小巨人企业", "city", None, 30),
    ("LITTLE_GIANT_CULTIVATION", "科技小巨人培育企业", "city", None, 31),
    ("SRDI", "专精特新中小企业", "city", 3, 40),
    ("SRDI_GIANT", "专精特新“小巨人”企业", "national", 3, 41),
    ("ETC_CITY", "市级企业技术中心", "city", None, 50),
    ("ETC_NATIONAL", "国家企业技术中心", "national", None, 51),
    ("ACADEMICIAN_STATION", "院士专家工作站", "city", None, 60),
    ("CONTEST_AWARD", "创新创业大赛获奖", "district", None, 70),
]

WATCH_LISTS = [
    ("IPO_RESERVE", "拟上市企业后备库", "筛选区内潜在优质科创企业，建立区科技企业拟上市企业后备库。"),
    ("GROWTH_100", "百企成长计划", "重点跟踪服务的成长型科技企业。"),
]


def seed(apps, schema_editor):
    Industry = apps.get_model("enterprises", "Industry")
    Sector = apps.get_model("enterprises", "Sector")
    QualificationType = apps.get_model("enterprises", "QualificationType")
    LadderCriteria = apps.get_model("enterprises", "LadderCriteria")
    WatchList = apps.get_model("enterprises", "WatchList")
    for code, name in SECTIONS + DIVISIONS:
        Industry.objects.update_or_create(code=code, defaults={"name": name, "section": code[0]})
    for code, name in SECTORS:
        Sector.objects.update_or_create(code=code, defaults={"name": name})
    for code, name, level, years, order in QUALIFICATION_TYPES:
        QualificationType.objects.update_or_create(
            code=code,
            defaults={"name": name, "level": level, "validity_years": years, "sort_order": order},
        )
    LadderCriteria.objects.get_or_create(
        stage="rising", defaults={"min_revenue_growth": "0.2000", "min_rd_ratio": "0.0500"}
    )
    LadderCriteria.objects.get_or_create(
        stage="leader",
        defaults={"min_revenue": 500_000_000, "min_rd_ratio": "0.0300", "requires_hte": True},
    )
    for code, name, purpose in WATCH_LISTS:
        WatchList.objects.get_or_create(code=code, defaults={"name": name, "purpose": purpose})


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0002_ladder_watchlists_visits")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
