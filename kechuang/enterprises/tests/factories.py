"""Builders for enterprise records, with valid credit codes."""

import datetime
import random

import factory

from kechuang.core.tests.factories import JurisdictionFactory
from kechuang.enterprises.models import (
    AnnualReport,
    Enterprise,
    Qualification,
    QualificationLevel,
    QualificationType,
)

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def make_uscc(n: int) -> str:
    """A syntactically valid 统一社会信用代码 built from a number (GB 32100-2015)."""
    rnd = random.Random(n)
    body = "".join(rnd.choice("0123456789") for _ in range(8))
    org_sum = sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    org_check = 11 - org_sum % 11
    org_digit = {10: "X", 11: "0"}.get(org_check, str(org_check))
    head = "91310112" + body + org_digit
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(head, _USCC_WEIGHTS, strict=True))
    return head + _USCC_CHARS[(31 - total % 31) % 31]


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
