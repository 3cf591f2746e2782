"""Deny by default: walk every URL as anonymous and as an outsider.

A view is reachable without login only when declared public
(`login_not_required`); a logged-in outsider (public role) is refused by every
role-guarded view, and no page or API answer shows them a record's data.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from kechuang.enterprises.tests.factories import QualificationFactory

# URL names that do not render a page we can meaningfully call with GET.
SKIP_NAMES = {"logout", "set_language"}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _concrete(route: str, ids: dict) -> str | None:
    """Fill <int:x>/<str:x>/<slug:x> converters and regex groups with real values."""
    route = route.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\.", ".")

    def conv(m):
        kind, name = (m.group(1) or "str"), m.group(2)
        if name in ids:
            return str(ids[name])
        return str(ids["pk"]) if kind == "int" else "core"

    route = re.sub(r"<(?:(\w+):)?(\w+)>", conv, route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(ids.get(m.group(1), ids["pk"])), route)
    if any(ch in route for ch in "()[]*+?\\"):
        return None  # admin regex catch-alls: covered by the admin's own login
    return "/" + route


def _is_public(view) -> bool:
    func = getattr(view, "view_class", None) or view
    return (
        getattr(view, "login_required", True) is False
        or getattr(func, "login_required", True) is False
    )


@pytest.fixture
def secret_record(db, other_enterprise):
    QualificationFactory(enterprise=other_enterprise)
    return other_enterprise


def _urls(ids):
    for route, pattern in _walk(get_resolver().url_patterns):
        if pattern.name in SKIP_NAMES:
            continue
        url = _concrete(route, ids)
        if url is not None:
            yield url, pattern


def test_anonymous_is_refused_everywhere_not_declared_public(client, secret_record):
    ids = {"pk": secret_record.pk, "app_label": "enterprises", "model": "enterprise"}
    checked = 0
    for url, pattern in _urls(ids):
        response = client.get(url)
        if _is_public(pattern.callback):
            assert response.status_code != 500, url
            continue
        checked += 1
        assert response.status_code in (302, 401, 403, 404, 405), (url, response.status_code)
        if response.status_code == 302:
            assert "/login/" in response["Location"], (url, response["Location"])
    assert checked > 10


def test_outsider_is_refused_and_sees_no_record_data(client, outsider, secret_record):
    client.force_login(outsider)
    ids = {"pk": secret_record.pk, "app_label": "enterprises", "model": "enterprise"}
    for url, pattern in _urls(ids):
        if url.startswith("/admin/"):
            continue
        response = client.get(url)
        assert response.status_code != 500, url
        body = response.content.decode("utf-8", "replace")
        assert secret_record.uscc not in body, url
        assert secret_record.name not in body, url
        access = getattr(pattern.callback, "access", None)
        if _is_public(pattern.callback) or access == "authenticated":
            continue
        assert response.status_code in (302, 401, 403, 404, 405), (url, response.status_code)


def test_api_refuses_outsider_on_every_list_endpoint(api_for, outsider, secret_record):
    from kechuang.api_urls import router

    api = api_for(outsider)
    for prefix, viewset, _basename in router.registry:
        allowed = getattr(viewset, "allowed_roles", None)
        response = api.get(f"/api/{prefix}/")
        assert response.status_code != 500, prefix
        if allowed == "__any__" or (allowed and "public" in allowed):
            assert secret_record.uscc not in response.content.decode(), prefix
            continue
        assert response.status_code in (401, 403), (prefix, response.status_code)
        assert "error" in response.json()
