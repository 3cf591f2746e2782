"""Bounded filters every FilterSet uses, and the audit log's FilterSet.

django-filter's NumberFilter reads any Decimal (``1e30``, 2**70) and DateFilter any
date Python knows (9999-12-31); the database then overflows. The filters here read
their value with :mod:`kechuang.core.params`, so a list page shows a Chinese form
error and the API answers 400 with its JSON error body. ``BoundedFilterSet`` maps
model fields to them, so filters generated from ``filterset_fields`` are bounded too.
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as drf_filters
from django_filters.fields import ModelMultipleChoiceField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from kechuang.core import params
from kechuang.core import validators as limits
from kechuang.core.models import AuditAction, AuditEntry
from kechuang.core.parsing import ParseError


def _checked(parse, value, **kwargs):
    try:
        return parse(value, **kwargs)
    except ParseError as exc:
        # The message quotes the value, which may hold "%": keep it out of the format string
        # (django-filter formats every message with its params).
        raise ValidationError(
            "%(message)s", code=exc.code, params={"message": exc.message}
        ) from None


class BoundedIntegerField(forms.IntegerField):
    """A whole number in [min_value, max_value] (ASCII or full-width digits only)."""

    def __init__(self, *, min_value=params.INT64_MIN, max_value=params.INT64_MAX, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return _checked(
            params.parse_int_param, value, min_value=self.min_value, max_value=self.max_value
        )


class BoundedDecimalField(forms.DecimalField):
    """A decimal with at most max_digits digits, decimal_places after the point."""

    def __init__(self, *, max_digits=18, decimal_places=4, **kwargs):
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return _checked(
            params.parse_decimal_param,
            value,
            max_digits=self.max_digits,
            decimal_places=self.decimal_places,
            min_value=self.min_value,
            max_value=self.max_value,
        )


class BoundedDateField(forms.DateField):
    """An ISO date within validators.DATE_MIN .. DATE_MAX."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return _checked(params.parse_date_param, value)


class BoundedModelMultipleChoiceField(ModelMultipleChoiceField):
    """Integer keys are read as bounded ids first, so 2**90 is "not a choice", not an overflow."""

    def _check_values(self, value):
        key = self.to_field_name or "pk"
        field = self.queryset.model._meta.get_field(key) if key != "pk" else None
        field = field or self.queryset.model._meta.pk
        if isinstance(field, models.IntegerField | models.ForeignKey):
            for item in value:
                try:
                    params.parse_int_param(item)
                except ParseError:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": item},
                    ) from None
        return super()._check_values(value)


class ModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """ModelMultipleChoiceFilter whose integer keys are bounded (BoundedModelMultipleChoiceField)."""

    field_class = BoundedModelMultipleChoiceField


@extend_schema_field({"type": "integer", "format": "int64"})
class IntegerFilter(django_filters.NumberFilter):
    """A whole number within a 64-bit column (narrow it with min_value / max_value)."""

    field_class = BoundedIntegerField


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1})
class IdFilter(IntegerFilter):
    """A record id: 1 .. 2^63 - 1."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": limits.YEAR_MIN, "maximum": limits.YEAR_MAX})
class YearFilter(IntegerFilter):
    """A calendar year within validators.YEAR_MIN .. YEAR_MAX."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", limits.YEAR_MIN)
        kwargs.setdefault("max_value", limits.YEAR_MAX)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.NUMBER)
class DecimalFilter(django_filters.NumberFilter):
    """A decimal number with bounded digits (max_digits, decimal_places)."""

    field_class = BoundedDecimalField


@extend_schema_field(OpenApiTypes.DATE)
class DateFilter(django_filters.DateFilter):
    """An ISO date within validators.DATE_MIN .. DATE_MAX."""

    field_class = BoundedDateField


_BOUNDED_DEFAULTS = {
    models.AutoField: {"filter_class": IdFilter},
    models.BigAutoField: {"filter_class": IdFilter},
    models.SmallAutoField: {"filter_class": IdFilter},
    models.IntegerField: {"filter_class": IntegerFilter},
    models.BigIntegerField: {"filter_class": IntegerFilter},
    models.SmallIntegerField: {"filter_class": IntegerFilter},
    models.PositiveIntegerField: {"filter_class": IntegerFilter},
    models.PositiveBigIntegerField: {"filter_class": IntegerFilter},
    models.PositiveSmallIntegerField: {"filter_class": IntegerFilter},
    models.DecimalField: {"filter_class": DecimalFilter},
    models.FloatField: {"filter_class": DecimalFilter},
    models.DateField: {"filter_class": DateFilter},
}
_BOUNDED_DEFAULTS[models.ManyToManyField] = {
    **django_filters.FilterSet.FILTER_DEFAULTS[models.ManyToManyField],
    "filter_class": ModelMultipleChoiceFilter,
}


class BoundedFilterSet(django_filters.FilterSet):
    """Base of every FilterSet: model fields map to the bounded filters above."""

    FILTER_DEFAULTS = {**django_filters.FilterSet.FILTER_DEFAULTS, **_BOUNDED_DEFAULTS}


class ApiFilterSet(BoundedFilterSet, drf_filters.FilterSet):
    """What the API builds from a viewset's ``filterset_fields`` (core.rest.FilterBackend)."""

    FILTER_DEFAULTS = {**drf_filters.FilterSet.FILTER_DEFAULTS, **_BOUNDED_DEFAULTS}


class AuditEntryFilterSet(BoundedFilterSet):
    actor_name = django_filters.CharFilter(label=_("by"), lookup_expr="icontains")
    object_repr = django_filters.CharFilter(label=_("object"), lookup_expr="icontains")
    action = django_filters.ChoiceFilter(label=_("action"), choices=AuditAction.choices)
    via = django_filters.CharFilter(label=_("via"))
    since = DateFilter(label=_("from"), field_name="at", lookup_expr="date__gte")
    until = DateFilter(label=_("to"), field_name="at", lookup_expr="date__lte")

    class Meta:
        model = AuditEntry
        fields = ["actor_name", "object_repr", "action", "via", "since", "until"]


class FilterBackend(drf_filters.DjangoFilterBackend):
    """The API's filter backend: generated FilterSets are ApiFilterSets (bounded filters)."""

    filterset_base = ApiFilterSet
