"""Deterministic synthetic district for the demo and benchmarks.

`kechuang demo-data` calls `build(ctx)` here and then in each app's `demo.py`
(in dependency order), so every module adds its own part of the story.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db import transaction

from kechuang.core.models import Jurisdiction, JurisdictionLevel, Role, User

DEMO_PASSWORD = "kechuang-demo-2026"

DISTRICT = ("310199", "申江区")
TOWNS = [
    ("310199101", "江川路街道"),
    ("310199102", "古美街道"),
    ("310199103", "新虹街道"),
    ("310199104", "浦锦街道"),
    ("310199105", "莘庄镇"),
    ("310199106", "七宝镇"),
    ("310199107", "颛桥镇"),
    ("310199108", "华漕镇"),
    ("310199109", "虹桥镇"),
    ("310199110", "梅陇镇"),
    ("310199111", "吴泾镇"),
    ("310199112", "马桥镇"),
]
# (code, name, index of the town it sits in)
PARKS = [
    ("310199105P1", "莘庄工业园区", 4),
    ("310199111P1", "紫竹高新技术产业开发区", 10),
    ("310199106P1", "七宝科技经济城", 5),
    ("310199108P1", "华漕国际商务园", 7),
    ("310199112P1", "马桥人工智能创新试验区", 11),
]


@dataclass
class DemoContext:
    seed: int = 42
    enterprises: int = 2000
    years: int = 5
    verbosity: int = 1
    rng: random.Random = field(init=False)
    users: dict[str, User] = field(default_factory=dict)
    out: object = None

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def log(self, message: str) -> None:
        if self.out is not None and self.verbosity:
            self.out.write(message)


def _user(username, role, display, **extra) -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"role": role})
    user.role = role
    user.display_name = display
    for k, v in extra.items():
        setattr(user, k, v)
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


@transaction.atomic
def build(ctx: DemoContext) -> None:
    district, _ = Jurisdiction.objects.update_or_create(
        code=DISTRICT[0],
        defaults={"name": DISTRICT[1], "level": JurisdictionLevel.DISTRICT, "parent": None},
    )
    towns = []
    for i, (code, name) in enumerate(TOWNS):
        town, _ = Jurisdiction.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "level": JurisdictionLevel.TOWN,
                "parent": district,
                "sort_order": i,
            },
        )
        towns.append(town)
    for i, (code, name, town_index) in enumerate(PARKS):
        Jurisdiction.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "level": JurisdictionLevel.PARK,
                "parent": towns[town_index],
                "sort_order": i,
            },
        )
    ctx.users["admin"] = _user(
        "admin", Role.COMMISSION, "系统管理员", is_superuser=True, is_staff=True
    )
    ctx.users["officer"] = _user("officer", Role.COMMISSION, "王科长(区科委)")
    ctx.users["station"] = _user("station", Role.STATION, "李站长(莘庄镇)", jurisdiction=towns[4])
    ctx.users["station2"] = _user("station2", Role.STATION, "赵干事(七宝镇)", jurisdiction=towns[5])
    ctx.users["expert"] = _user("expert", Role.EXPERT, "陈教授(评审专家)")
    ctx.users["institution"] = _user("institution", Role.INSTITUTION, "紫竹孵化器运营")
    ctx.users["public"] = _user("public", Role.PUBLIC, "公众用户")
    ctx.log(f"jurisdictions: 1 district, {len(TOWNS)} towns/streets, {len(PARKS)} parks")
