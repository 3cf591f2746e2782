"""The home page: what matters today for the user's role and jurisdiction."""

import datetime

from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone

from kechuang.core.permissions import open_to_any_user
from kechuang.enterprises.models import (
    AnnualReport,
    Enterprise,
    LadderStage,
    Qualification,
    ReportStatus,
    VisitIssue,
)


@open_to_any_user
def home(request):
    user = request.user
    today = timezone.localdate()
    enterprises = Enterprise.objects.visible_to(user)
    context = {"today": today}
    if user.is_staff_member:
        quals = Qualification.objects.visible_to(user)
        soon = today + datetime.timedelta(days=90)
        stages = dict(
            enterprises.exclude(ladder_stage="")
            .values_list("ladder_stage")
            .annotate(n=Count("pk"))
            .order_by()
        )
        context.update(
            enterprise_count=enterprises.count(),
            hte_valid=quals.valid_on(today)
            .filter(type__code="HTE")
            .values("enterprise_id")
            .distinct()
            .count(),
            expiring=quals.expiring_between(today, soon).count(),
            expiring_list=list(
                quals.expiring_between(today, soon).select_related("enterprise", "type")[:8]
            ),
            overdue=VisitIssue.objects.visible_to(user).overdue(today).count(),
            to_confirm=AnnualReport.objects.visible_to(user)
            .filter(status=ReportStatus.SUBMITTED)
            .count(),
            ladder=[
                {"name": str(label), "value": stages.get(v, 0)} for v, label in LadderStage.choices
            ],
            by_town=list(
                enterprises.values("jurisdiction__name").annotate(n=Count("id")).order_by("-n")[:15]
            ),
        )
    elif user.enterprise_id:
        context["enterprise"] = enterprises.first()
        context["reports"] = list(AnnualReport.objects.visible_to(user).order_by("-year")[:3])
    return render(request, "dashboard/home.html", context)
