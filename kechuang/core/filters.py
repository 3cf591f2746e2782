import django_filters
from django.utils.translation import gettext_lazy as _

from kechuang.core.models import AuditAction, AuditEntry


class AuditEntryFilterSet(django_filters.FilterSet):
    actor_name = django_filters.CharFilter(label=_("by"), lookup_expr="icontains")
    object_repr = django_filters.CharFilter(label=_("object"), lookup_expr="icontains")
    action = django_filters.ChoiceFilter(label=_("action"), choices=AuditAction.choices)
    via = django_filters.CharFilter(label=_("via"))
    since = django_filters.DateFilter(label=_("from"), field_name="at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("to"), field_name="at", lookup_expr="date__lte")

    class Meta:
        model = AuditEntry
        fields = ["actor_name", "object_repr", "action", "via", "since", "until"]
