"""Builders for policy records (drafts unless told otherwise)."""

import datetime

import factory
from django.core.files.base import ContentFile

from kechuang.policies.models import Policy, PolicyAttachment, PolicyItem, PolicyStatus


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    title = factory.Sequence(lambda n: f"测试区支持科技创新若干政策{n}")
    issuer = "测试区科学技术委员会"
    doc_no = factory.Sequence(lambda n: f"测科委〔2024〕{n}号")
    published_on = datetime.date(2024, 1, 1)
    valid_from = datetime.date(2024, 1, 1)
    status = PolicyStatus.DRAFT


class PolicyItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyItem

    policy = factory.SubFactory(PolicyFactory)
    title = factory.Sequence(lambda n: f"政策条款{n}")


class PolicyAttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyAttachment

    policy = factory.SubFactory(PolicyFactory)
    title = factory.Sequence(lambda n: f"附件{n}")
    file = factory.LazyFunction(lambda: ContentFile(b"%PDF-1.4\n", name="attachment.pdf"))
