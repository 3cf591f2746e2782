"""Small builders for core records; each test makes just what it needs."""

import factory

from kechuang.core.models import Jurisdiction, JurisdictionLevel, Role, User


class JurisdictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Jurisdiction
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"31099{n:04d}")
    name = factory.Sequence(lambda n: f"测试街道{n}")
    level = JurisdictionLevel.TOWN
    parent = None


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.PUBLIC
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
