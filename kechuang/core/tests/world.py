"""A small district with two of every scoped actor and an object of every model a URL names.

Built once per module by the role matrix (`test_role_matrix.py`): two towns with a park
each, two enterprises per town, both towns' station staff, two responsible units, two
experts, drafts and published policies... Every object is on an "A" side or a "B" side
so that each scoped actor has something in scope and something out of it. Names carry
a distinctive token so a response body can be searched for a foreign record's name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.utils import timezone

from kechuang.core import audit
from kechuang.core.models import ImportJob, JurisdictionLevel, Role, User
from kechuang.core.tests.factories import JurisdictionFactory, UserFactory
from kechuang.enterprises.models import (
    LadderStageChange,
    WatchList,
    WatchListMember,
)
from kechuang.enterprises.tests.factories import (
    AnnualReportFactory,
    EnterpriseFactory,
    QualificationFactory,
    VisitFactory,
    VisitIssueFactory,
    qtype,
)
from kechuang.plans.models import (
    IndicatorReport,
    PlanImport,
    ProgressReport,
    SourceKind,
)
from kechuang.plans.tests.factories import (
    AssignmentFactory,
    IndicatorFactory,
    MilestoneFactory,
    PlanFactory,
    TaskFactory,
    UnitFactory,
)
from kechuang.policies.models import PolicyStatus
from kechuang.policies.tests.factories import (
    PolicyAttachmentFactory,
    PolicyFactory,
    PolicyItemFactory,
)

# The actors of the matrix: every role, and two of each scoped one.
ACTORS = (
    "anonymous", "public", "institution", "commission", "station_a", "station_b",
    "enterprise_a", "enterprise_b", "unit_1", "unit_2", "expert_1", "expert_2",
)  # fmt: skip


@dataclass
class World:
    actors: dict[str, User | None]
    # model label ("enterprises.Enterprise") -> objects, A side first
    objects: dict[str, list] = field(default_factory=dict)

    def add(self, obj):
        self.objects.setdefault(obj._meta.label, []).append(obj)
        return obj

    def of(self, label: str) -> list:
        return self.objects.get(label, [])


def _user(username: str, role: str, **links) -> User:
    return UserFactory(username=username, role=role, display_name=username, **links)


def build_world() -> World:
    """Create the world (commission actions go through services where they audit)."""
    from kechuang.rules import services as rule_services
    from kechuang.rules.evaluation import run_snapshot

    today = timezone.localdate()
    district = JurisdictionFactory(code="310199", name="矩阵区", level=JurisdictionLevel.DISTRICT)
    town_a = JurisdictionFactory(code="310199201", name="矩阵甲镇", parent=district)
    town_b = JurisdictionFactory(code="310199202", name="矩阵乙镇", parent=district)
    park_a = JurisdictionFactory(
        code="310199201P1", name="甲镇园区", level=JurisdictionLevel.PARK, parent=town_a
    )
    park_b = JurisdictionFactory(
        code="310199202P1", name="乙镇园区", level=JurisdictionLevel.PARK, parent=town_b
    )

    ents = [
        EnterpriseFactory(name="矩阵甲一号科技有限公司", jurisdiction=town_a),
        EnterpriseFactory(name="矩阵乙一号科技有限公司", jurisdiction=town_b),
        EnterpriseFactory(name="矩阵甲二号园区企业", jurisdiction=town_a, park=park_a),
        EnterpriseFactory(name="矩阵乙二号园区企业", jurisdiction=town_b, park=park_b),
    ]
    officer = _user("m_commission", Role.COMMISSION, jurisdiction=district)
    actors: dict[str, User | None] = {
        "anonymous": None,
        "public": _user("m_public", Role.PUBLIC),
        "institution": _user("m_institution", Role.INSTITUTION),
        "commission": officer,
        "station_a": _user("m_station_a", Role.STATION, jurisdiction=town_a),
        "station_b": _user("m_station_b", Role.STATION, jurisdiction=town_b),
        "enterprise_a": _user("m_enterprise_a", Role.ENTERPRISE, enterprise=ents[0]),
        "enterprise_b": _user("m_enterprise_b", Role.ENTERPRISE, enterprise=ents[1]),
        "unit_1": _user("m_unit_1", Role.UNIT),
        "unit_2": _user("m_unit_2", Role.UNIT),
        "expert_1": _user("m_expert_1", Role.EXPERT),
        "expert_2": _user("m_expert_2", Role.EXPERT),
    }
    for i, e in enumerate(ents[2:], start=2):
        _user(f"m_enterprise_{i}", Role.ENTERPRISE, enterprise=e)
    world = World(actors=actors)
    # Accounts for the password-reset pages: one an officer may reset, one it may not.
    world.add(_user("m_reset_enterprise", Role.ENTERPRISE, enterprise=ents[0]))
    world.add(_user("m_reset_officer", Role.COMMISSION, jurisdiction=district))
    for place in (district, town_a, town_b, park_a, park_b):
        world.add(place)

    # -- the enterprise register ------------------------------------------------------
    hte = qtype("HTE")
    watch_list = world.add(WatchList.objects.create(code="M_WATCH", name="矩阵重点关注名单"))
    for n, e in enumerate(ents):
        world.add(e)
        tag = "甲乙"[n % 2] + str(n // 2 + 1)
        world.add(
            QualificationFactory(
                enterprise=e, type=hte, certificate_no=f"GR-MATRIX-{tag}",
                issued_on=today - dt.timedelta(days=800), expires_on=today + dt.timedelta(days=60),
            )
        )  # fmt: skip
        world.add(AnnualReportFactory(enterprise=e, year=today.year - 1, revenue=10**8))
        visit = world.add(VisitFactory(enterprise=e, summary=f"矩阵走访纪要{tag}"))
        world.add(VisitIssueFactory(visit=visit, description=f"矩阵企业诉求{tag}"))
        if n < 2:  # the other two stay off the list, so a test can add them
            world.add(
                WatchListMember.objects.create(watch_list=watch_list, enterprise=e, added_on=today)
            )
        world.add(
            LadderStageChange.objects.create(
                enterprise=e, changed_at=timezone.now(), to_stage="hte"
            )
        )
    world.add(hte)

    # -- rules and policies -------------------------------------------------------------
    rule_services.load_library(acting_user=officer)
    rules = []
    for code, name, threshold in (
        ("m_rule_pub", "矩阵公开规则", 1000),
        ("m_rule_draft", "矩阵草稿规则", 7777),
    ):
        rules.append(
            rule_services.create_rule(
                acting_user=officer, code=code, name=name, publish=True,
                expression=f"# [rev] 上年营收不低于 {threshold} 万元\nrevenue >= {threshold}万",
                effective_from=dt.date(2020, 1, 1),
            )
        )  # fmt: skip
        rule_services.save_version(
            rules[-1], acting_user=officer, expression=f"revenue >= {threshold + 1}万"
        )  # a draft, so the sandbox has something to compare
    from kechuang.rules.models import Variable

    world.add(Variable.objects.get(code="revenue"))
    published = PolicyFactory(title="矩阵已发布政策", status=PolicyStatus.PUBLISHED)
    draft = PolicyFactory(title="矩阵草稿政策")
    for policy, rule, word in ((published, rules[0], "公开"), (draft, rules[1], "草稿")):
        world.add(policy)
        world.add(PolicyItemFactory(policy=policy, rule=rule, title=f"矩阵{word}条款"))
        world.add(PolicyAttachmentFactory(policy=policy, title=f"矩阵{word}附件"))
    for rule in rules:
        world.add(rule)
    snapshot = run_snapshot(on=today, acting_user=officer)
    world.add(snapshot)
    from kechuang.policies.models import PolicyItem
    from kechuang.policies.services import push_notice

    public_item = PolicyItem.objects.get(policy=published)
    for side in "ab":  # each station pushes the published item to its own town
        world.add(
            push_notice(
                public_item, acting_user=actors[f"station_{side}"], title=f"矩阵推送通知{side}"
            )
        )
    from kechuang.rules.models import EligibilityNotice, RuleVersion, SnapshotEnterprise

    for obj in RuleVersion.objects.filter(rule__in=rules):
        world.add(obj)
    for obj in SnapshotEnterprise.objects.filter(snapshot=snapshot, enterprise__in=ents):
        world.add(obj)
    for e in ents:
        world.add(
            EligibilityNotice.objects.create(
                enterprise=e, rule=rules[0], notified_at=timezone.now()
            )
        )
    from kechuang.enterprises.models import LadderCriteria

    world.add(LadderCriteria.objects.get_or_create(stage="hte")[0])

    # -- plans ------------------------------------------------------------------------------
    units = [UnitFactory(name="矩阵责任单位一"), UnitFactory(name="矩阵责任单位二")]
    units[0].members.add(actors["unit_1"])
    units[1].members.add(actors["unit_2"])
    plan = world.add(PlanFactory(title="矩阵区科创三年行动计划", period_end=today.year + 2))
    world.add(
        IndicatorFactory(
            plan=plan, name="矩阵计算指标", target_year=today.year + 2,
            source_kind=SourceKind.COMPUTED,
            source={"aggregate": "count_valid", "qualification": ["HTE"]},
        )
    )  # fmt: skip
    for n, unit in enumerate(units, start=1):
        world.add(unit)
        indicator = world.add(
            IndicatorFactory(
                plan=plan,
                name=f"矩阵填报指标{n}",
                responsible_unit=unit,
                target_year=today.year + 2,
            )
        )
        world.add(
            IndicatorReport.objects.create(
                indicator=indicator, period_end=today, value=5, note=f"矩阵指标填报说明{n}"
            )
        )
        task = world.add(TaskFactory(plan=plan, title=f"矩阵重点任务{n}"))
        AssignmentFactory(task=task, unit=unit)
        world.add(MilestoneFactory(task=task, description=f"矩阵里程碑{n}", due_on=today))
        world.add(
            ProgressReport.objects.create(
                task=task, unit=unit, period=f"{today.year}-01", period_end=today,
                text=f"矩阵进展报告{n}",
            )
        )  # fmt: skip
    world.add(PlanImport.objects.create(filename="矩阵规划导入.txt", text="一、目标"))

    # -- imports by each station --------------------------------------------------------
    for side, town in (("a", town_a), ("b", town_b)):
        world.add(
            ImportJob.objects.create(
                kind="enterprises", original_name=f"矩阵导入{side}.csv",
                file=ContentFile(b"uscc,name\n", name="m.csv"),
                created_by=actors[f"station_{side}"], jurisdiction=town,
            )
        )  # fmt: skip

    # -- every object gets a history entry (the audit pages and /api/audit/<id>) -----------
    for objs in list(world.objects.values()):
        for obj in objs:
            entry = audit.prepare_entry(obj, "create", actor=officer, changes={})
            entry.save()
            world.objects.setdefault("core.AuditEntry", []).append(entry)
    return world
