"""Core pages: login, profile with API token, the audit log, notifications."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from kechuang.core.filters import AuditEntryFilterSet
from kechuang.core.models import AuditEntry, Notification, Role
from kechuang.core.permissions import open_to_any_user, role_required


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@open_to_any_user
def profile(request):
    token = Token.objects.filter(user=request.user).first()
    return render(request, "core/profile.html", {"token": token})


@open_to_any_user
@require_POST
def rotate_token(request):
    """Issue a new API token (the old one stops working at once)."""
    Token.objects.filter(user=request.user).delete()
    Token.objects.create(user=request.user)
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
    obj = manager.visible_to(request.user).filter(pk=pk).first()
    if obj is None:
        raise Http404
    entries = AuditEntry.objects.filter(content_type=ct, object_id=str(pk)).select_related("actor")
    template = "core/_audit_table.html" if request.htmx else "core/object_audit.html"
    return render(request, template, {"object": obj, "entries": entries[:500]})


@open_to_any_user
def notifications(request):
    items = Notification.objects.filter(recipient=request.user)[:200]
    return render(request, "core/notifications.html", {"items": items})


@open_to_any_user
@require_POST
def notifications_mark_read(request):
    from django.utils import timezone

    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("core:notifications")
