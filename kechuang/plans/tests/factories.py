"""Builders for plan records."""

import factory

from kechuang.plans.models import (
    Indicator,
    Milestone,
    Plan,
    PlanKind,
    ResponsibleUnit,
    Task,
    TaskAssignment,
)


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    title = factory.Sequence(lambda n: f"测试区科技创新三年行动计划{n}")
    kind = PlanKind.THREE_YEAR
    period_start = 2023
    period_end = 2025


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    plan = factory.SubFactory(PlanFactory)
    name = factory.Sequence(lambda n: f"指标{n}")
    unit = "家"
    target_value = 100
    target_year = 2025


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResponsibleUnit
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"责任单位{n}")


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    plan = factory.SubFactory(PlanFactory)
    number = factory.Sequence(lambda n: str(n + 1))
    title = factory.Sequence(lambda n: f"重点任务{n}")


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskAssignment

    task = factory.SubFactory(TaskFactory)
    unit = factory.SubFactory(UnitFactory)
    is_lead = True


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    task = factory.SubFactory(TaskFactory)
    description = "阶段目标"
