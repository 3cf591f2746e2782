"""Enterprise pages: thin views over services and the scoped querysets."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from kechuang.core.models import Role
from kechuang.core.permissions import get_object_for_user, open_to_any_user, role_required
from kechuang.enterprises.models import Enterprise


@role_required(Role.COMMISSION, Role.STATION)
def enterprise_list(request):
    qs = Enterprise.objects.visible_to(request.user).select_related("jurisdiction", "park")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(name__icontains=q) | qs.filter(uscc=q.upper())
    page = Paginator(qs.order_by("name", "id"), 50).get_page(request.GET.get("page"))
    return render(request, "enterprises/enterprise_list.html", {"page": page, "q": q})


@role_required(Role.ENTERPRISE)
def my_enterprise(request):
    if not request.user.enterprise_id:
        raise Http404
    return redirect("enterprises:detail", pk=request.user.enterprise_id)


@open_to_any_user  # scoped by get_object_for_user: others get 404
def enterprise_detail(request, pk: int):
    enterprise = get_object_for_user(Enterprise, request.user, pk)
    return render(request, "enterprises/enterprise_detail.html", {"enterprise": enterprise})
