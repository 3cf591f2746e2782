"""Records hanging off an enterprise: qualifications, annual reports, visits, list memberships."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kechuang.core.export import xlsx_response
from kechuang.core.forms import submitted_version
from kechuang.core.models import Role
from kechuang.core.params import parse_int_param, parse_year, query_param
from kechuang.core.permissions import get_object_for_user, open_to_any_user, role_required
from kechuang.core.validators import REPORT_YEAR_MIN
from kechuang.core.workflow import TransitionNotAllowed
from kechuang.enterprises import services
from kechuang.enterprises.forms import (
    AnnualReportForm,
    IssueUpdateForm,
    QualificationForm,
    VisitForm,
    VisitIssueFormSet,
    WatchListAddForm,
    WatchListRemoveForm,
)
from kechuang.enterprises.models import (
    AnnualReport,
    Enterprise,
    Qualification,
    QualificationType,
    VisitIssue,
    WatchListMember,
)
from kechuang.enterprises.views.common import safe_next, submit_record_form

STAFF = (Role.COMMISSION, Role.STATION)


@role_required(*STAFF)
def qualification_edit(request, pk: int, qualification_pk: int | None = None):
    """Add a qualification to an enterprise, or correct/revoke one."""
    enterprise = get_object_for_user(Enterprise, request.user, pk, "change")
    qualification = None
    if qualification_pk is not None:
        qualification = get_object_for_user(Qualification, request.user, qualification_pk, "change")
        if qualification.enterprise_id != enterprise.pk:
            return redirect("enterprises:detail", pk=enterprise.pk)
    form_instance = (
        Qualification.objects.get(pk=qualification.pk)
        if qualification
        else Qualification(enterprise=enterprise)
    )
    form = QualificationForm(request.POST or None, instance=form_instance)

    def save():
        data = {f: form.cleaned_data[f] for f in form.Meta.fields}
        if qualification is None:
            services.add_qualification(enterprise, data, acting_user=request.user)
        else:
            services.update_qualification(
                qualification,
                data,
                acting_user=request.user,
                expected_version=submitted_version(form),
            )

    return submit_record_form(
        request,
        form,
        save,
        success=_("Saved."),
        done=enterprise.get_absolute_url(),
        context={"enterprise": enterprise, "title": _("Qualification")},
    )


@open_to_any_user  # staff in scope, or the enterprise's own user (files a report to confirm)
def report_edit(request, pk: int):
    """Enter (staff) or file (enterprise user) one year's metrics; amounts in 万元."""
    enterprise = get_object_for_user(Enterprise, request.user, pk, "change")
    if not (request.user.is_staff_member or request.user.enterprise_id == enterprise.pk):
        return redirect("enterprises:detail", pk=enterprise.pk)
    year = query_param(request.GET, "year", parse_year, min_value=REPORT_YEAR_MIN)
    instance = None
    if year is not None:
        instance = AnnualReport.objects.filter(enterprise=enterprise, year=year).first()
    form = AnnualReportForm(request.POST or None, instance=instance)
    if not instance and year is not None:
        form.initial["year"] = year
    return submit_record_form(
        request,
        form,
        lambda: services.save_annual_report(
            enterprise,
            form.cleaned_data["year"],
            form.metrics(),
            acting_user=request.user,
            # The version is the opened year's; saving under another year is another report.
            expected_version=(
                submitted_version(form)
                if instance and instance.year == form.cleaned_data["year"]
                else None
            ),
        ),
        success=_("Saved."),
        done=enterprise.get_absolute_url(),
        context={"enterprise": enterprise, "title": _("Annual report")},
    )


@role_required(*STAFF)
@require_POST
def report_confirm(request, report_pk: int):
    report = get_object_for_user(AnnualReport, request.user, report_pk, "change")
    try:
        services.confirm_annual_report(report, acting_user=request.user)
        messages.success(request, _("Report confirmed."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    return redirect("enterprises:detail", pk=report.enterprise_id)


@role_required(*STAFF)
def visit_add(request, pk: int):
    """Record a visit with the issues raised (诉求), each with a due date."""
    enterprise = get_object_for_user(Enterprise, request.user, pk, "change")
    form = VisitForm(request.POST or None, initial={"visited_on": timezone.localdate()})
    formset = VisitIssueFormSet(request.POST or None, prefix="issues")
    return submit_record_form(
        request,
        form,
        lambda: services.record_visit(
            enterprise,
            form.cleaned_data,
            [f.cleaned_data for f in formset if f.cleaned_data.get("description")],
            acting_user=request.user,
        ),
        valid=lambda: form.is_valid() and formset.is_valid(),
        success=_("Visit recorded."),
        done=enterprise.get_absolute_url(),
        context={"formset": formset, "enterprise": enterprise},
        template="enterprises/visit_form.html",
    )


@role_required(*STAFF)
def issue_edit(request, issue_pk: int):
    """Follow up an issue: status (open → in progress → closed), due date, notes."""
    issue = get_object_for_user(VisitIssue, request.user, issue_pk, "change")
    form = IssueUpdateForm(request.POST or None, instance=VisitIssue.objects.get(pk=issue.pk))
    return submit_record_form(
        request,
        form,
        lambda: services.update_issue(
            issue,
            {k: v for k, v in form.cleaned_data.items() if k != "row_version"},
            acting_user=request.user,
            expected_version=submitted_version(form),
        ),
        success=_("Saved."),
        done=safe_next(request, reverse("enterprises:issues")),
        context={"enterprise": issue.enterprise, "title": _("Follow-up"), "issue": issue},
    )


@role_required(*STAFF)
def issue_list(request):
    """Open follow-ups, overdue first; `?overdue=1` shows only those past their due date."""
    today = timezone.localdate()
    qs = (
        VisitIssue.objects.visible_to(request.user)
        .exclude(status="closed")
        .select_related("enterprise", "visit")
        .order_by("due_on", "id")
    )
    overdue_only = request.GET.get("overdue") == "1"
    if overdue_only:
        qs = qs.overdue(today)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "enterprises/issue_list.html",
        {"page": page, "today": today, "overdue_only": overdue_only},
    )


@role_required(*STAFF)
def watch_add(request, pk: int):
    enterprise = get_object_for_user(Enterprise, request.user, pk, "change")
    form = WatchListAddForm(request.POST or None)
    return submit_record_form(
        request,
        form,
        lambda: services.add_to_watch_list(
            form.cleaned_data["watch_list"],
            enterprise,
            reason=form.cleaned_data["reason"],
            added_on=form.cleaned_data["added_on"],
            acting_user=request.user,
        ),
        success=_("Added to the watch-list."),
        done=enterprise.get_absolute_url(),
        context={"enterprise": enterprise, "title": _("Add to a watch-list")},
    )


@role_required(*STAFF)
def watch_remove(request, member_pk: int):
    member = get_object_for_user(WatchListMember, request.user, member_pk, "change")
    form = WatchListRemoveForm(request.POST or None)
    return submit_record_form(
        request,
        form,
        lambda: services.remove_from_watch_list(
            member,
            reason=form.cleaned_data["reason"],
            removed_on=form.cleaned_data["removed_on"],
            acting_user=request.user,
        ),
        success=_("Removed from the watch-list."),
        done=member.enterprise.get_absolute_url(),
        context={"enterprise": member.enterprise, "title": _("Remove from a watch-list")},
    )


def _expiring(request):
    days = query_param(request.GET, "days", parse_int_param, 90, min_value=1, max_value=3650)
    today = timezone.localdate()
    qs = (
        Qualification.objects.visible_to(request.user)
        .expiring_between(today, today + datetime.timedelta(days=days))
        .select_related("enterprise", "enterprise__jurisdiction", "type")
    )
    code = request.GET.get("type", "")
    if code:
        qs = qs.filter(type__code=code)
    return qs, days, code, today


@role_required(*STAFF)
def expiring_list(request):
    """Qualifications expiring in the next N days: the renewal reminder list."""
    qs, days, code, today = _expiring(request)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for q in page.object_list:
        q.days_left = (q.expires_on - today).days
    return render(
        request,
        "enterprises/expiring_list.html",
        {
            "page": page,
            "days": days,
            "type": code,
            "types": QualificationType.objects.all(),
            "query": request.GET.urlencode(),
        },
    )


@role_required(*STAFF)
def expiring_export(request):
    qs, days, code, today = _expiring(request)
    headers = ["统一社会信用代码", "企业名称", "街镇", "资质", "证书编号", "认定日期", "到期日", "剩余天数", "联系人", "联系电话"]  # fmt: skip
    rows = (
        (
            q.enterprise.uscc,
            q.enterprise.name,
            q.enterprise.jurisdiction.name,
            q.type.name,
            q.certificate_no,
            q.issued_on,
            q.expires_on,
            (q.expires_on - today).days,
            q.enterprise.contact_name,
            q.enterprise.contact_phone,
        )  # fmt: skip
        for q in qs.iterator(chunk_size=2000)
    )
    return xlsx_response("expiring-qualifications", headers, rows, "资质到期提醒")
