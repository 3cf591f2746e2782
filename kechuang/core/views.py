"""Core pages: login, profile with API token, the audit log, notifications, /healthz."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from rest_framework.authtoken.models import Token

from kechuang.core import health, services
from kechuang.core.filters import AuditEntryFilterSet
from kechuang.core.imports.models import ImportedRecords
from kechuang.core.models import AuditEntry, Notification, Role, User
from kechuang.core.params import parse_id
from kechuang.core.permissions import open_to_any_user, role_required


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """Load-balancer probe: 503 only when the database does not answer (docs/operations.md).

    A stale or absent worker gives 200 with status "degraded": the web pages still work, and
    taking every web process out of the pool for it would turn slow imports into an outage.
    Nothing about the deployment is shown beyond the three words.
    """
    database = health.database_status()
    if database != "ok":
        body = {"status": "error", "database": database, "worker": "unknown"}
        return JsonResponse(body, status=503)
    worker = health.worker_status()
    status = "ok" if worker == "ok" else "degraded"
    return JsonResponse({"status": status, "database": database, "worker": worker})


@open_to_any_user
@never_cache  # shows the API token: no copy in any cache
def profile(request):
    token = Token.objects.filter(user=request.user).first()
    return render(request, "core/profile.html", {"token": token})


@method_decorator(open_to_any_user, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Every user changes their own password here (and must, after an administrator reset)."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("core:profile")

    def form_valid(self, form):
        services.change_own_password(
            self.request.user, form.cleaned_data["new_password1"], acting_user=self.request.user
        )
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, _("Your password was changed."))
        return redirect(self.get_success_url())


PasswordChangeView.access = "authenticated"


@role_required(Role.COMMISSION)
def user_list(request):
    """Accounts an officer may manage (password reset); system actors are not listed."""
    q = (request.GET.get("q") or "").strip()
    users = User.objects.exclude(role=Role.SYSTEM).order_by("username")
    if q:
        users = users.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    for user in page:
        user.can_reset = services.may_reset_password(user, acting_user=request.user)
    return render(request, "core/user_list.html", {"page": page, "q": q})


@role_required(Role.COMMISSION)
@never_cache  # the one-time password is shown once and must not be cached
def user_reset_password(request, pk: int):
    """Confirm (GET), then reset (POST) and show the one-time password once."""
    target = User.objects.exclude(role=Role.SYSTEM).filter(pk=pk).first()
    if target is None or not services.may_reset_password(target, acting_user=request.user):
        raise Http404
    password = None
    if request.method == "POST":
        password = services.reset_password(target, acting_user=request.user)
    return render(
        request, "core/user_reset_password.html", {"target": target, "password": password}
    )


@open_to_any_user
@require_POST
def rotate_token(request):
    """Issue a new API token (the old one stops working at once)."""
    services.rotate_api_token(request.user, acting_user=request.user)
    messages.success(request, _("A new API token was issued; the old one no longer works."))
    return redirect("core:profile")


@role_required(Role.COMMISSION)
def audit_log(request):
    """The global audit log with filters; read-only by construction."""
    qs = AuditEntry.objects.visible_to(request.user).select_related("content_type", "actor")
    filterset = AuditEntryFilterSet(request.GET, queryset=qs)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_log.html", {"filter": filterset, "page": page})


@open_to_any_user
def object_audit(request, app_label: str, model: str, pk: str):
    """History of one record, shown only to users who may see the record itself."""
    try:
        ct = ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        raise Http404 from None
    model_cls = ct.model_class()
    manager = getattr(model_cls, "objects", None)
    if model_cls is None or not hasattr(manager, "visible_to"):
        raise Http404
    if isinstance(model_cls._meta.pk, models.IntegerField):  # AutoField and its kin
        pk = parse_id(pk, name="pk")  # "abc", "²" or 2**70: a 400, never a crash
    obj = manager.visible_to(request.user).filter(pk=pk).first()
    if obj is None:
        raise Http404
    entries = list(
        AuditEntry.objects.filter(content_type=ct, object_id=str(pk)).select_related("actor")[:500]
    )
    entries.extend(_imported_creations(ct, obj, request.user))
    entries.sort(key=lambda e: (e.at, e.pk or 0), reverse=True)
    template = "core/_audit_table.html" if request.htmx else "core/object_audit.html"
    return render(request, template, {"object": obj, "entries": entries})


def _imported_creations(ct: ContentType, obj, user) -> list[AuditEntry]:
    """The "created by import #N (file, row r)" entries of a record an import created.

    Imports audit their creates once per import (one AuditEntry plus a packed
    id -> file row mapping, ImportedRecords); this turns that back into a row of the
    record's own history: who and when from the import's entry, the row from the map.
    """
    pk = obj.pk
    if not isinstance(pk, int):
        return []
    found = []
    for mapping in ImportedRecords.objects.covering(ct.pk, pk).select_related("audit_entry", "job"):
        row = mapping.row_of(pk)
        if row is None:
            continue
        source = mapping.audit_entry
        entry = AuditEntry(
            pk=source.pk,
            at=source.at,
            actor_id=source.actor_id,
            actor_name=source.actor_name,
            via=source.via,
            content_type=ct,
            object_id=str(pk),
            object_repr=str(obj)[:255],
            action=source.action,
            event=source.event,
            changes={},
        )
        entry.import_source = {
            "job": mapping.job_id,
            "file": mapping.job.original_name,
            "row": row,
            # Only import staff can open an import's report (it scopes itself further).
            "link": user.is_commission or user.is_station,
        }
        found.append(entry)
    return found


@open_to_any_user
def notifications(request):
    items = Notification.objects.filter(recipient=request.user)[:200]
    return render(request, "core/notifications.html", {"items": items})


@open_to_any_user
@require_POST
def notifications_mark_read(request):
    services.mark_notifications_read(request.user, acting_user=request.user)
    return redirect("core:notifications")
