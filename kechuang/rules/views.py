"""Rules pages: rule list and versions, variables, snapshots, explanations, sandbox."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kechuang.core.export import xlsx_response
from kechuang.core.forms import form_error
from kechuang.core.models import Role
from kechuang.core.params import parse_date_param, query_param
from kechuang.core.permissions import get_object_for_user, open_to_any_user, role_required
from kechuang.core.workflow import TransitionNotAllowed
from kechuang.enterprises.models import Enterprise
from kechuang.rules import sandbox as sandbox_mod
from kechuang.rules import services
from kechuang.rules.compiling import unit_warnings
from kechuang.rules.evaluation import versions_in_force
from kechuang.rules.explaining import explain_versions
from kechuang.rules.forms import (
    FormulaVariableForm,
    RuleCreateForm,
    RuleVersionForm,
)
from kechuang.rules.models import (
    Rule,
    RuleSnapshot,
    SnapshotRule,
    Variable,
    VersionStatus,
)
from kechuang.rules.tasks import evaluate_rules_task


def _date_param(request, name="on") -> dt.date:
    """?on=YYYY-MM-DD within the plausible range (else 400), today when absent."""
    return query_param(request.GET, name, parse_date_param) or timezone.localdate()


@role_required(Role.COMMISSION)
def rule_list(request):
    today = timezone.localdate()
    rules = list(Rule.objects.visible_to(request.user).prefetch_related("versions", "policy_items"))
    snapshot = RuleSnapshot.latest()
    counts = {}
    if snapshot:
        rows = (
            SnapshotRule.objects.filter(snapshot=snapshot)
            .select_related("rule_version")
            .defer("eligible_ids", "eligible_amounts")
        )
        for c in rows:
            counts[c.rule_version.rule_id] = c
    rows = []
    for rule in rules:
        versions = list(rule.versions.all())
        current = next(
            (
                v
                for v in versions
                if v.status == VersionStatus.PUBLISHED
                and v.effective_from <= today
                and (v.effective_to is None or v.effective_to >= today)
            ),
            None,
        )
        draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
        rows.append(
            {"rule": rule, "current": current, "draft": draft, "count": counts.get(rule.pk)}
        )
    return render(request, "rules/rule_list.html", {"rows": rows, "snapshot": snapshot})


@role_required(Role.COMMISSION)
def rule_detail(request, pk: int):
    rule = get_object_for_user(Rule, request.user, pk)
    versions = list(rule.versions.select_related("created_by", "published_by"))
    warnings = []
    for v in versions:
        if v.status != VersionStatus.RETIRED and (v.effective_to is None or v.is_editable):
            warnings += services.qualification_warnings(v.expression, v.amount_formula)
            warnings += unit_warnings(v)
    return render(
        request,
        "rules/rule_detail.html",
        {"rule": rule, "versions": versions, "current": rule.version_on(timezone.localdate()),
         "draft": rule.draft_version(), "items": rule.policy_items.select_related("policy"),
         "qualification_warnings": sorted(set(warnings))},
    )  # fmt: skip


def _warn_unresolved(request, expression: str, amount_formula: str) -> None:
    for text in services.qualification_warnings(expression, amount_formula):
        messages.warning(request, text)


@role_required(Role.COMMISSION)
def rule_create(request):
    form = RuleCreateForm(request.POST or None, initial={"effective_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule = services.create_rule(
                acting_user=request.user,
                code=data["code"],
                name=data["name"],
                clause_ref=data["clause_ref"],
                expression=data["expression"],
                amount_formula=data["amount_formula"],
                manual_conditions=data["manual_conditions"],
                effective_from=data["effective_from"],
            )
        except ValidationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Rule saved as a draft."))
            _warn_unresolved(request, data["expression"], data["amount_formula"])
            return redirect("rules:detail", pk=rule.pk)
    return render(request, "rules/rule_form.html", {"form": form, "rule": None})


@role_required(Role.COMMISSION)
def rule_edit(request, pk: int):
    """Edit the draft (or start one from the current text): published versions never change."""
    rule = get_object_for_user(Rule, request.user, pk, "change")
    base = rule.draft_version() or rule.latest_version()
    initial = {"effective_from": timezone.localdate()}
    if base is not None:
        initial.update(
            expression=base.expression,
            amount_formula=base.amount_formula,
            manual_conditions="\n".join(base.manual_conditions or []),
            effective_from=base.effective_from if base.is_editable else timezone.localdate(),
        )
    form = RuleVersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = services.save_version(
                rule,
                acting_user=request.user,
                expression=data["expression"],
                amount_formula=data["amount_formula"],
                manual_conditions=data["manual_conditions"],
                effective_from=data["effective_from"],
                note=data["note"],
            )
        except ValidationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Draft version %(n)s saved.") % {"n": version.number})
            _warn_unresolved(request, data["expression"], data["amount_formula"])
            if "sandbox" in request.POST:
                return redirect("rules:sandbox", pk=rule.pk)
            return redirect("rules:detail", pk=rule.pk)
    return render(request, "rules/rule_form.html", {"form": form, "rule": rule, "base": base})


@require_POST
@role_required(Role.COMMISSION)
def rule_publish(request, pk: int):
    rule = get_object_for_user(Rule, request.user, pk, "change")
    draft = rule.draft_version()
    if draft is None:
        raise Http404
    try:
        services.publish_version(draft, acting_user=request.user)
    except ValidationError as exc:
        for msg in exc.messages:
            messages.error(request, msg)
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Version %(n)s published.") % {"n": draft.number})
    return redirect("rules:detail", pk=rule.pk)


@role_required(Role.COMMISSION)
def variable_list(request):
    variables = Variable.objects.visible_to(request.user)
    return render(request, "rules/variable_list.html", {"variables": variables})


@role_required(Role.COMMISSION)
def variable_create(request):
    form = FormulaVariableForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_formula_variable(form.instance, acting_user=request.user)
        except ValidationError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Variable saved."))
            return redirect("rules:variables")
    return render(request, "rules/variable_form.html", {"form": form})


@role_required(Role.COMMISSION)
def snapshot_list(request):
    page = Paginator(RuleSnapshot.objects.visible_to(request.user), 20).get_page(
        request.GET.get("page")
    )
    return render(
        request, "rules/snapshot_list.html", {"page": page, "today": timezone.localdate()}
    )


@require_POST
@role_required(Role.COMMISSION)
def snapshot_run(request):
    on = request.POST.get("on") or None
    try:
        if on:
            dt.date.fromisoformat(on)
    except ValueError:
        messages.error(request, _("Evaluation date: use YYYY-MM-DD."))
        return redirect("rules:snapshots")
    evaluate_rules_task.enqueue(
        on=on, incremental=bool(request.POST.get("incremental")), user_id=request.user.pk
    )
    messages.success(request, _("Evaluation started; the snapshot appears here when done."))
    return redirect("rules:snapshots")


# ---------------------------------------------------------------------------
# Explanations (scoped: enterprise users their own, station staff their towns)
# ---------------------------------------------------------------------------


@open_to_any_user  # scoped by get_object_for_user on the enterprise: others get 404
def enterprise_verdicts(request, enterprise_id: int):
    enterprise = get_object_for_user(Enterprise, request.user, enterprise_id)
    on = _date_param(request)
    rule_ids = set(Rule.objects.explainable_to(request.user).values_list("pk", flat=True))
    versions = [v for v in versions_in_force(on) if v.rule_id in rule_ids]
    results = explain_versions(enterprise.pk, versions, on)
    return render(
        request,
        "rules/enterprise_verdicts.html",
        {"enterprise": enterprise, "results": results, "on": on},
    )


@open_to_any_user  # scoped by get_object_for_user on the enterprise: others get 404
def explain_view(request, enterprise_id: int, rule_id: int):
    enterprise = get_object_for_user(Enterprise, request.user, enterprise_id)
    rule = get_object_or_404(Rule.objects.explainable_to(request.user), pk=rule_id)
    on = _date_param(request)
    version = rule.version_on(on)
    if version is None:
        raise Http404(_("This rule is not in force on that date."))
    result = explain_versions(enterprise.pk, [version], on)[0]
    return render(
        request,
        "rules/explain.html",
        {"enterprise": enterprise, "rule": rule, "result": result, "on": on,
         "items": rule.policy_items.visible_to(request.user).select_related("policy")},
    )  # fmt: skip


# ---------------------------------------------------------------------------
# Sandbox (政策沙盘)
# ---------------------------------------------------------------------------


def _sandbox(request, pk):
    rule = get_object_for_user(Rule, request.user, pk, "change")
    draft = rule.draft_version()
    if draft is None:
        return rule, None
    try:
        return rule, sandbox_mod.compare(rule, draft, _date_param(request))
    except ValidationError as exc:  # the draft would not pass publishing (e.g. units)
        for msg in exc.messages:
            messages.error(request, msg)
        return rule, None


@role_required(Role.COMMISSION)
def sandbox(request, pk: int):
    rule, result = _sandbox(request, pk)
    changed = []
    if result is not None:
        ids = result.changed_ids
        names = dict(Enterprise.objects.filter(id__in=ids[:200]).values_list("id", "name"))
        index = {int(e): i for i, e in enumerate(result.ids.tolist())} if ids else {}
        for e in ids[:200]:
            i = index[e]
            changed.append(
                {"id": e, "name": names.get(e, e), "before": int(result.before[i]),
                 "after": int(result.after[i])}
            )  # fmt: skip
    counts = {}
    if result is not None:
        label = {1: _("Eligible"), 0: _("Not eligible"), -1: _("Unknown (data missing)")}
        for c in changed:
            c["before"], c["after"] = label[c["before"]], label[c["after"]]
        counts = {
            "before_eligible": result.count("before", 1),
            "after_eligible": result.count("after", 1),
            "before_unknown": result.count("before", -1),
            "after_unknown": result.count("after", -1),
        }
    return render(
        request,
        "rules/sandbox.html",
        {"rule": rule, "result": result, "changed": changed, "counts": counts},
    )


@role_required(Role.COMMISSION)
def sandbox_export(request, pk: int):
    rule, result = _sandbox(request, pk)
    if result is None:
        raise Http404
    mask = result.changed_mask
    ids = result.ids[mask].tolist()
    before, after = result.before[mask].tolist(), result.after[mask].tolist()
    amounts = result.amounts_after[mask].tolist() if result.amounts_after is not None else None
    info = (
        {
            e[0]: e
            for e in Enterprise.objects.filter(id__in=ids).values_list(
                "id", "uscc", "name", "jurisdiction__name"
            )
        }
        if ids
        else {}
    )
    label = {1: _("Eligible"), 0: _("Not eligible"), -1: _("Unknown (data missing)")}
    rows = []
    for i, e in enumerate(ids):
        _id, uscc, name, town = info.get(e, (e, "", "", ""))
        amount = None
        if amounts is not None and after[i] == 1 and amounts[i] == amounts[i]:
            amount = round(amounts[i])
        rows.append([uscc, name, town, label[before[i]], label[after[i]], amount])
    return xlsx_response(
        f"sandbox-{rule.code}",
        [_("unified social credit code"), _("name"), _("town / street"), _("in force"),
         _("draft"), _("amount (yuan)")],
        rows,
        sheet_name=rule.code,
    )  # fmt: skip
