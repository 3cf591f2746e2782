"""Authentication: the login backend, the client address behind a proxy, login audit."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from kechuang.core.models import Role


class AccountBackend(ModelBackend):
    """Password login for people; system job actors (core.services.system_actor) never log in."""

    def user_can_authenticate(self, user) -> bool:
        return getattr(user, "role", None) != Role.SYSTEM and super().user_can_authenticate(user)


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's address: the socket's, or behind the TLS proxy the one it forwarded.

    With BEHIND_TLS_PROXY on, each of the TRUSTED_PROXY_COUNT proxies in front appends the
    address it saw to X-Forwarded-For; the entry that many places from the right is the
    client as our outermost proxy saw it. Entries further left are the client's own claim
    and are never trusted (lock-out keys on this address; axes calls it).
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if not getattr(settings, "BEHIND_TLS_PROXY", False):
        return remote
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    count = max(int(getattr(settings, "TRUSTED_PROXY_COUNT", 1)), 1)
    if len(hops) < count:
        return remote
    return _valid_ip(hops[-count]) or remote


def _audit_login_event(event: str, username: str, request, extra: dict | None = None) -> None:
    from kechuang.core import audit
    from kechuang.core.models import User
    from kechuang.core.services import system_actor

    username = (username or "")[:150]
    payload = {
        "username": username,
        "address": client_ip(request) if request else "",
        **(extra or {}),
    }
    target = User.objects.filter(username=username).first()
    audit.record_login_event(target, username, event, payload, actor=system_actor("auth"))


def on_login_failed(sender, credentials=None, request=None, **kwargs) -> None:
    """A wrong password (or a refused login while locked out) goes into the audit log."""
    _audit_login_event("login_failed", (credentials or {}).get("username", ""), request)


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """Axes locked a user name/address pair out: audited once, when it happens."""
    _audit_login_event("login_locked_out", username or "", request, {"locked_address": ip_address})


def connect_signals() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_login_failed

    user_login_failed.connect(on_login_failed, dispatch_uid="kechuang-login-failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="kechuang-locked-out")
