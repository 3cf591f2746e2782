"""Builders for enterprise records, with valid credit codes."""

import datetime

import factory

from kechuang.core.tests.factories import JurisdictionFactory
from kechuang.enterprises.models import (
    AnnualReport,
    Enterprise,
    Qualification,
    QualificationLevel,
    QualificationType,
    Visit,
    VisitIssue,
)
from kechuang.enterprises.uscc import make_uscc  # noqa: F401 (re-exported for other tests)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    uscc = factory.Sequence(make_uscc)
    name = factory.Sequence(lambda n: f"上海测试科技有限公司{n}")
    jurisdiction = factory.SubFactory(JurisdictionFactory)
    registered_on = datetime.date(2015, 3, 1)


class QualificationTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QualificationType
        django_get_or_create = ("code",)

    code = "HTE"
    name = "高新技术企业"
    level = QualificationLevel.NATIONAL
    validity_years = 3


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification

    enterprise = factory.SubFactory(EnterpriseFactory)
    type = factory.SubFactory(QualificationTypeFactory)
    issued_on = datetime.date(2023, 11, 1)
    expires_on = datetime.date(2026, 10, 31)


class AnnualReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnualReport

    enterprise = factory.SubFactory(EnterpriseFactory)
    year = 2024
    revenue = 30_000_000
    rd_expense = 2_000_000
    staff = 80
    tech_staff = 25


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    enterprise = factory.SubFactory(EnterpriseFactory)
    visited_on = datetime.date(2026, 3, 1)


class VisitIssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitIssue

    visit = factory.SubFactory(VisitFactory)
    enterprise = factory.SelfAttribute("visit.enterprise")
    description = "需要人才公寓"
    due_on = datetime.date(2026, 4, 1)


def qtype(code: str) -> QualificationType:
    """A seeded qualification type (migration 0003) by its stable code."""
    return QualificationType.objects.get(code=code)
