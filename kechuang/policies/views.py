"""Policy library pages: public reading, staff editing, matching both ways, push."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kechuang.core.export import xlsx_response
from kechuang.core.forms import form_error, submitted_version
from kechuang.core.models import Role
from kechuang.core.params import parse_id, query_param
from kechuang.core.permissions import get_object_for_user, role_required
from kechuang.core.workflow import InvalidTransition, TransitionNotAllowed
from kechuang.enterprises.models import Enterprise
from kechuang.policies import services
from kechuang.policies.forms import AttachmentForm, PolicyForm, PolicyItemForm, PushForm
from kechuang.policies.models import Policy, PolicyItem, PushNotice
from kechuang.policies.workflows import POLICY


@login_not_required
def policy_list(request):
    qs = Policy.objects.visible_to(request.user)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(title__icontains=q) | Q(doc_no__icontains=q) | Q(issuer__icontains=q)
            | Q(summary__icontains=q) | Q(items__title__icontains=q)
        ).distinct()  # fmt: skip
    page = Paginator(qs.order_by("-published_on", "-id"), 20).get_page(request.GET.get("page"))
    return render(request, "policies/policy_list.html", {"page": page, "q": q})


@login_not_required
def policy_detail(request, pk: int):
    policy = get_object_for_user(Policy, request.user, pk)
    items = policy.items.select_related("rule")
    return render(
        request,
        "policies/policy_detail.html",
        {
            "policy": policy,
            "items": items,
            "attachments": policy.attachments.all(),
            "transitions": POLICY.allowed(policy, request.user),
        },
    )


@role_required(Role.COMMISSION)
@require_POST
def policy_status(request, pk: int):
    """Take a publication step (publish, withdraw, expire, reinstate) from the detail page."""
    policy = get_object_for_user(Policy, request.user, pk, "change")
    try:
        step = services.change_policy_status(
            policy, request.POST.get("transition", ""), acting_user=request.user
        )
    except InvalidTransition as exc:
        messages.error(request, " ".join(exc.messages))
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, step.get_status_display())
    return redirect("policies:detail", pk=pk)


@login_not_required
def item_detail(request, pk: int):
    item = get_object_for_user(PolicyItem, request.user, pk)
    return render(request, "policies/item_detail.html", {"item": item, "policy": item.policy})


@role_required(Role.COMMISSION)
def policy_create(request):
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.save_policy(form.instance, acting_user=request.user)
        except ValidationError as exc:
            form_error(form, exc)
        else:
            return redirect("policies:detail", pk=policy.pk)
    return render(request, "policies/form.html", {"form": form, "title": _("New policy")})


@role_required(Role.COMMISSION)
def policy_edit(request, pk: int):
    policy = get_object_for_user(Policy, request.user, pk, "change")
    form = PolicyForm(request.POST or None, instance=Policy.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f != "row_version"}
        try:
            services.save_policy(
                policy,
                changes,
                acting_user=request.user,
                expected_version=submitted_version(form),
            )
        except ValidationError as exc:
            form_error(form, exc)
        else:
            return redirect("policies:detail", pk=policy.pk)
    return render(request, "policies/form.html", {"form": form, "title": policy.title})


@role_required(Role.COMMISSION)
def attachment_add(request, pk: int):
    policy = get_object_for_user(Policy, request.user, pk, "change")
    form = AttachmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        services.add_attachment(
            policy, title=form.cleaned_data["title"], file=form.cleaned_data["file"],
            acting_user=request.user,
        )  # fmt: skip
        return redirect("policies:detail", pk=policy.pk)
    return render(
        request, "policies/form.html", {"form": form, "title": policy.title, "multipart": True}
    )


@role_required(Role.COMMISSION)
def item_create(request, pk: int):
    policy = get_object_for_user(Policy, request.user, pk, "change")
    form = PolicyItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.policy = policy
        try:
            item = services.save_item(form.instance, acting_user=request.user)
        except ValidationError as exc:
            form_error(form, exc)
        else:
            return redirect("policies:item", pk=item.pk)
    return render(request, "policies/form.html", {"form": form, "title": policy.title})


@role_required(Role.COMMISSION)
def item_edit(request, pk: int):
    item = get_object_for_user(PolicyItem, request.user, pk, "change")
    form = PolicyItemForm(request.POST or None, instance=PolicyItem.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f != "row_version"}
        try:
            services.save_item(
                item, changes, acting_user=request.user, expected_version=submitted_version(form)
            )
        except ValidationError as exc:
            form_error(form, exc)
        else:
            return redirect("policies:item", pk=item.pk)
    return render(request, "policies/form.html", {"form": form, "title": item.title})


# ---------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------


@role_required(Role.ENTERPRISE)
def my_matches(request):
    """The enterprise's eligible items, near misses (one clause short) and amounts."""
    if not request.user.enterprise_id:
        raise Http404
    enterprise = Enterprise.objects.visible_to(request.user).get(pk=request.user.enterprise_id)
    groups = services.matches_for_enterprise(enterprise)
    return render(request, "policies/my_matches.html", {"enterprise": enterprise, "groups": groups})


def _item_for_staff(request, pk):
    """The item if its policy is visible to the user (station staff: published and in force)."""
    return get_object_for_user(PolicyItem, request.user, pk)


@role_required(Role.COMMISSION, Role.STATION)
def item_eligible(request, pk: int):
    item = _item_for_staff(request, pk)
    qs, snapshot = services.eligible_enterprises(item, request.user)
    by_town = services.eligible_by_town(item, request.user, snapshot)
    town = query_param(request.GET, "town", parse_id)
    if town is not None:
        qs = qs.filter(jurisdiction_id=town)
    page = Paginator(
        qs.select_related("jurisdiction").order_by("jurisdiction__path", "name", "id"), 50
    ).get_page(request.GET.get("page"))
    amounts = services.eligible_amounts(item, [e.pk for e in page], snapshot)
    rows = [(e, amounts.get(e.pk)) for e in page]
    return render(
        request,
        "policies/item_eligible.html",
        {"item": item, "page": page, "rows": rows, "by_town": by_town, "snapshot": snapshot,
         "total": services.total_amount(item, request.user, snapshot),
         "pushes": PushNotice.objects.visible_to(request.user).filter(item=item)[:10],
         "push_form": PushForm(user=request.user)},
    )  # fmt: skip


@role_required(Role.COMMISSION, Role.STATION)
def item_eligible_export(request, pk: int):
    item = _item_for_staff(request, pk)
    qs, snapshot = services.eligible_enterprises(item, request.user)
    found = list(
        qs.order_by("jurisdiction__path", "name").values_list(
            "id", "uscc", "name", "jurisdiction__name"
        )
    )
    amounts = services.eligible_amounts(item, [r[0] for r in found], snapshot)
    rows = ([uscc, name, town, amounts.get(eid)] for eid, uscc, name, town in found)
    return xlsx_response(
        f"eligible-item-{item.pk}",
        [_("unified social credit code"), _("name"), _("town / street"), _("amount (yuan)")],
        rows,
        sheet_name=item.title[:31],
    )


@require_POST
@role_required(Role.COMMISSION, Role.STATION)
def item_push(request, pk: int):
    item = _item_for_staff(request, pk)
    form = PushForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            push = services.push_notice(
                item,
                acting_user=request.user,
                title=form.cleaned_data["title"],
                message=form.cleaned_data["message"],
                jurisdiction=form.cleaned_data["jurisdiction"],
            )
        except ValidationError as exc:
            for msg in exc.messages:
                messages.error(request, msg)
        else:
            messages.success(
                request,
                _("Pushed to %(n)s enterprises (%(notes)s notices, %(mails)s e-mails).")
                % {"n": push.enterprises, "notes": push.notifications, "mails": push.emails},
            )
    else:
        messages.error(request, _("Check the push form."))
    return redirect("policies:item-eligible", pk=item.pk)
