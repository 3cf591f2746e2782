"""Builders for the rules tests: the shipped variables, qualification types, random enterprises."""

import datetime as dt
import random

import pytest

from kechuang.core.services import system_actor
from kechuang.enterprises.models import AnnualReport, Enterprise, Qualification, QualificationType
from kechuang.enterprises.tests.factories import QualificationTypeFactory, make_uscc
from kechuang.rules import compiling, services

ON = dt.date(2025, 6, 30)
QUAL_TYPES = [
    ("HTE", "高新技术企业", 3),
    ("TSME", "科技型中小企业", 1),
    ("SRDI", "专精特新中小企业", 3),
    ("LITTLE_GIANT", "专精特新“小巨人”企业", 3),
    ("ACADEMICIAN_STATION", "院士专家工作站", None),
]


@pytest.fixture
def library(db):
    """The shipped variables and policy rules, loaded as the demo does."""
    for code, name, years in QUAL_TYPES:
        QualificationTypeFactory(code=code, name=name, validity_years=years)
    compiling.clear_caches()
    services.load_library(acting_user=system_actor("rules.library"))
    compiling.clear_caches()
    return services


@pytest.fixture
def published_library(library):
    """The library with every rule behind an item of a published policy, as users meet it."""
    from kechuang.policies.models import PolicyStatus
    from kechuang.policies.tests.factories import PolicyFactory, PolicyItemFactory
    from kechuang.rules.models import Rule

    policy = PolicyFactory(status=PolicyStatus.PUBLISHED)
    for rule in Rule.objects.all():
        PolicyItemFactory(policy=policy, rule=rule, title=rule.name)
    return library


def build_random_enterprises(jurisdictions, n: int, seed: int = 7, on: dt.date = ON):
    """n enterprises with random (sometimes missing) reports and qualifications, bulk-created."""
    rng = random.Random(seed)
    ents = [
        Enterprise(
            uscc=make_uscc(100000 + seed * 10000 + i),
            name=f"随机企业{seed}-{i}",
            jurisdiction=jurisdictions[i % len(jurisdictions)],
            registered_on=None
            if rng.random() < 0.05
            else on - dt.timedelta(days=rng.randint(100, 5000)),
        )
        for i in range(n)
    ]
    Enterprise.objects.bulk_create(ents)
    ents = list(Enterprise.objects.filter(name__startswith=f"随机企业{seed}-").order_by("id"))
    types = {t.name: t for t in QualificationType.objects.all()}
    reports, quals = [], []
    for e in ents:
        for offset in (1, 2):
            if rng.random() < 0.1:
                continue
            revenue = rng.choice([None, 0, rng.randint(1, 5 * 10**8)])
            staff = rng.randint(5, 500)
            reports.append(
                AnnualReport(
                    enterprise=e,
                    year=on.year - offset,
                    revenue=revenue,
                    rd_expense=None if rng.random() < 0.05 else rng.randint(0, 4 * 10**7),
                    hightech_revenue=None if revenue is None else int(revenue * rng.random()),
                    staff=staff,
                    tech_staff=rng.randint(0, staff),
                    invention_patents_valid=rng.randint(0, 4),
                    ip_count=rng.randint(0, 6),
                )
            )
        for name in types:
            if rng.random() < 0.3:
                issued = on - dt.timedelta(days=rng.randint(-30, 1500))
                quals.append(
                    Qualification(
                        enterprise=e,
                        type=types[name],
                        issued_on=issued,
                        expires_on=issued + dt.timedelta(days=3 * 365),
                        revoked_on=on if rng.random() < 0.05 else None,
                    )
                )
    AnnualReport.objects.bulk_create(reports)
    Qualification.objects.bulk_create(quals)
    return ents
