"""The home page: what matters today for the user's role and jurisdiction."""

import datetime

from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from kechuang.core.permissions import open_to_any_user
from kechuang.enterprises.models import Enterprise, Qualification


@open_to_any_user
def home(request):
    user = request.user
    today = timezone.localdate()
    enterprises = Enterprise.objects.visible_to(user)
    context = {"today": today}
    if user.is_staff_member:
        quals = Qualification.objects.visible_to(user)
        context.update(
            enterprise_count=enterprises.count(),
            hte_valid=quals.valid_on(today).filter(type__code="HTE").count(),
            expiring=quals.expiring_between(today, today + datetime.timedelta(days=90)).count(),
            by_town=list(
                enterprises.values("jurisdiction__name").annotate(n=Count("id")).order_by("-n")[:15]
            ),
        )
    elif user.enterprise_id:
        context["enterprise"] = enterprises.first()
    return render(request, "dashboard/home.html", context)
