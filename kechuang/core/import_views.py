"""Import pages: the job list with the upload form, the dry-run report, apply, downloads.

Commission staff import anything; station staff rows of their own subtree (the
importer rejects the others row by row); everyone else is refused. Jobs are
listed and opened through ImportJob.objects.visible_to.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kechuang.core.imports import services
from kechuang.core.imports.reports import rejected_rows_xlsx, template_xlsx
from kechuang.core.imports.workflows import IMPORT_JOB
from kechuang.core.models import ImportJob, ImportMode, ImportStatus, Role
from kechuang.core.permissions import get_object_for_user, role_required
from kechuang.core.services import system_actor
from kechuang.core.tabular import MAX_UPLOAD_BYTES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALLOWED_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt", ".ods")
staff_only = role_required(Role.COMMISSION, Role.STATION)


def _kind_choices():
    return [(kind, cls.label) for kind, cls in services.importer_classes().items()]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What to import"))
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(".xlsx, .xls or .csv (UTF-8 or GBK), at most 100 MB"),
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("When some rows are rejected"),
        choices=ImportMode.choices,
        initial=ImportMode.VALID_ROWS,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _kind_choices()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(
                _("“%(name)s” is not a spreadsheet; upload an .xlsx, .xls or .csv file.")
                % {"name": upload.name}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 100 MB; split it."))
        return upload


class ApplyForm(forms.Form):
    mode = forms.ChoiceField(choices=ImportMode.choices, widget=forms.RadioSelect)


@staff_only
def import_list(request):
    """Jobs the user may see, newest first, and the upload form."""
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            job = services.create_import_job(
                form.cleaned_data["kind"],
                form.cleaned_data["file"],
                mode=form.cleaned_data["mode"],
                acting_user=request.user,
            )
            services.start_dry_run(job, acting_user=request.user)
            return redirect("imports:detail", pk=job.pk)
    else:
        form = UploadForm(initial={"kind": request.GET.get("kind")})
    jobs = ImportJob.objects.visible_to(request.user).select_related("created_by")
    services.fail_stale_jobs(jobs, acting_user=system_actor("imports"))
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    kinds = services.importer_classes()
    return render(
        request,
        "core/import_list.html",
        {"form": form, "page": page, "kinds": kinds, "kind_labels": dict(_kind_choices())},
    )


def _job(request, pk) -> ImportJob:
    job = get_object_for_user(ImportJob, request.user, pk)
    if job.is_running and services.fail_stale_jobs(
        ImportJob.objects.filter(pk=job.pk), acting_user=system_actor("imports")
    ):
        job.refresh_from_db()
    return job


@staff_only
def import_detail(request, pk: int):
    """The dry-run report (or the outcome), problems paginated, apply form, progress."""
    job = _job(request, pk)
    severity = request.GET.get("severity", "")
    problems = job.problems
    if severity in ("error", "warning"):
        problems = [p for p in problems if p[2] == severity]
    page = Paginator(problems, 50).get_page(request.GET.get("page"))
    kind_labels = dict(_kind_choices())
    return render(
        request,
        "core/import_detail.html",
        {
            "job": job,
            "page": page,
            "severity": severity,
            "kind_label": kind_labels.get(job.kind, job.kind),
            "apply_form": ApplyForm(initial={"mode": job.mode}),
            "can_apply": job.valid_rows > 0
            and any(t.name == "apply" for t in IMPORT_JOB.allowed(job, request.user)),
        },
    )


@staff_only
def import_progress(request, pk: int):
    """HTMX partial polled every second while the job runs; reloads the page when done."""
    job = _job(request, pk)
    response = render(request, "core/import_progress.html", {"job": job})
    if not job.is_running and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@staff_only
@require_POST
def import_apply(request, pk: int):
    job = _job(request, pk)
    form = ApplyForm(request.POST)
    mode = form.cleaned_data["mode"] if form.is_valid() else job.mode
    try:
        services.start_apply(job, acting_user=request.user, mode=mode)
    except services.ImportRefused as exc:
        messages.error(request, str(exc))
    except PermissionDenied:
        raise
    except Exception:  # the job records what happened; the page shows it
        messages.error(request, _("The import failed and nothing was written."))
    else:
        job.refresh_from_db()
        outcome = job.outcome or {}
        if job.status == ImportStatus.APPLIED:
            if not outcome.get("created") and not outcome.get("updated"):
                messages.info(
                    request, _("Nothing changed: every valid row already matches the register.")
                )
            else:
                messages.success(
                    request,
                    _("Imported: %(created)d added, %(updated)d updated, %(unchanged)d unchanged, "
                      "%(rejected)d rejected.")
                    % {k: outcome.get(k, 0) for k in ("created", "updated", "unchanged", "rejected")},
                )  # fmt: skip
    return redirect("imports:detail", pk=job.pk)


@staff_only
def import_template(request, kind: str):
    try:
        cls = services.importer_class(kind)
    except services.ImportRefused:
        raise Http404 from None
    response = HttpResponse(template_xlsx(cls), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="import-{kind}-template.xlsx"'
    return response


@staff_only
def import_rejected(request, pk: int):
    job = _job(request, pk)
    response = HttpResponse(rejected_rows_xlsx(job), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejected.xlsx"'
    return response


@staff_only
def import_file(request, pk: int):
    """The file as it was uploaded."""
    job = _job(request, pk)
    try:
        handle = job.file.open("rb")
    except OSError:
        raise Http404 from None
    with handle:
        data = handle.read()
    response = HttpResponse(data, content_type="application/octet-stream")
    suffix = job.file.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}.{suffix}"'
    return response
