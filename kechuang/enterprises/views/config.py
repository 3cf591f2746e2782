"""Settings staff maintain: qualification types, ladder criteria, watch-lists; the ladder report."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kechuang.core.forms import form_error
from kechuang.core.models import Role
from kechuang.core.permissions import role_required
from kechuang.enterprises import services
from kechuang.enterprises.forms import LadderCriteriaForm, QualificationTypeForm, WatchListForm
from kechuang.enterprises.models import (
    Enterprise,
    LadderCriteria,
    LadderStage,
    QualificationType,
    WatchList,
    WatchListMember,
)

STAFF = (Role.COMMISSION, Role.STATION)


@role_required(*STAFF)
def ladder(request):
    """科创企业梯队: enterprises per stage now and at each year end, and the criteria."""
    enterprises = Enterprise.objects.visible_to(request.user)
    this_year = timezone.localdate().year
    years = list(range(this_year - 5, this_year + 1))
    by_year = services.stage_counts_by_year(enterprises, years)
    current = dict(
        enterprises.exclude(ladder_stage="")
        .values_list("ladder_stage")
        .annotate(n=Count("pk"))
        .order_by()
    )
    stages = LadderStage.choices
    table = [
        {"stage": value, "label": label, "counts": [by_year[y][value] for y in years],
         "current": current.get(value, 0)}
        for value, label in stages
    ]  # fmt: skip
    chart = {
        "years": years,
        "series": [
            {"name": str(label), "data": [by_year[y][v] for y in years]} for v, label in stages
        ],
    }
    return render(
        request,
        "enterprises/ladder.html",
        {
            "table": table,
            "years": years,
            "chart": chart,
            "criteria": list(LadderCriteria.objects.all()),
        },
    )


@role_required(Role.COMMISSION)
def ladder_criteria_edit(request, stage: str):
    criteria = get_object_or_404(LadderCriteria, stage=stage)
    form = LadderCriteriaForm(
        request.POST or None, instance=LadderCriteria.objects.get(pk=criteria.pk)
    )
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.update_ladder_criteria(
                criteria, form.cleaned_data, acting_user=request.user
            )
        except ValidationError as exc:
            form_error(form, exc)
        else:
            messages.success(
                request, _("Criteria saved; %(n)d enterprises changed stage.") % {"n": moved}
            )
            return redirect("enterprises:ladder")
    return render(
        request,
        "enterprises/settings_form.html",
        {"form": form, "title": criteria.get_stage_display(), "back": "enterprises:ladder"},
    )


@role_required(Role.COMMISSION)
@require_POST
def ladder_recompute(request):
    moved = services.recompute_ladder(acting_user=request.user)
    messages.success(
        request, _("Ladder recomputed; %(n)d enterprises changed stage.") % {"n": moved}
    )
    return redirect("enterprises:ladder")


@role_required(*STAFF)
def qualification_types(request):
    return render(
        request,
        "enterprises/qualification_types.html",
        {"types": QualificationType.objects.all(), "can_edit": request.user.is_commission},
    )


@role_required(Role.COMMISSION)
def qualification_type_edit(request, pk: int | None = None):
    qtype = get_object_or_404(QualificationType, pk=pk) if pk else None
    form = QualificationTypeForm(
        request.POST or None, instance=QualificationType.objects.get(pk=pk) if pk else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_qualification_type(qtype, form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("enterprises:qualification-types")
    return render(
        request,
        "enterprises/settings_form.html",
        {"form": form, "title": _("Qualification type"), "back": "enterprises:qualification-types"},
    )


@role_required(*STAFF)
def watch_lists(request):
    in_scope = WatchListMember.objects.visible_to(request.user).current()
    counts = dict(in_scope.values_list("watch_list").annotate(n=Count("pk")).order_by())
    lists = list(WatchList.objects.all())
    for wl in lists:
        wl.member_count = counts.get(wl.pk, 0)
    return render(
        request,
        "enterprises/watch_lists.html",
        {"lists": lists, "can_edit": request.user.is_commission},
    )


@role_required(*STAFF)
def watch_list_detail(request, pk: int):
    """Members (current first) and the full history of additions and removals."""
    watch_list = get_object_or_404(WatchList, pk=pk)
    qs = (
        WatchListMember.objects.visible_to(request.user)
        .filter(watch_list=watch_list)
        .select_related("enterprise", "enterprise__jurisdiction")
        .order_by("removed_on", "-added_on", "-id")
    )
    if request.GET.get("history") != "1":
        qs = qs.current()
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "enterprises/watch_list_detail.html",
        {"watch_list": watch_list, "page": page, "history": request.GET.get("history") == "1"},
    )


@role_required(Role.COMMISSION)
def watch_list_edit(request, pk: int | None = None):
    watch_list = get_object_or_404(WatchList, pk=pk) if pk else None
    form = WatchListForm(
        request.POST or None, instance=WatchList.objects.get(pk=pk) if pk else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_watch_list(watch_list, form.cleaned_data, acting_user=request.user)
        except ValidationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("enterprises:watch-lists")
    return render(
        request,
        "enterprises/settings_form.html",
        {"form": form, "title": _("Watch-list"), "back": "enterprises:watch-lists"},
    )
