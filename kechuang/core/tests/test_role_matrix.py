"""The role-boundary matrix: every page, API action and export, as every actor, on real ids.

The URLconf and the API router are walked; each URL is filled with the id of an object
inside and one outside each actor's scope, where "in scope" is computed from
`Model.objects.visible_to(user, action)` (the single source of truth) and the view must
agree: in scope and role allowed → answered; otherwise → refused (403/404, or the login
redirect for anonymous) with none of the foreign records' names in the body; a write
(POST, PATCH, PUT, DELETE) outside what the user may change → refused and the database
unchanged. A page URL missing from PAGES (or an API route whose model cannot be found)
fails `test_every_url_is_in_the_matrix`, so a new module is covered the day it lands.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from kechuang.core import audit
from kechuang.core.models import AuditEntry
from kechuang.core.tests.world import ACTORS, build_world

# Marked so pytest-django creates the test database; the world itself is module-scoped.
pytestmark = pytest.mark.django_db

REFUSED = (403, 404)
ALLOWED_BAD = (401, 403, 404, 500)


# ---------------------------------------------------------------------------
# Scope helpers (all from visible_to / the same querysets the views use)
# ---------------------------------------------------------------------------


def visible(label: str, action: str = "view") -> Callable:
    model = apps.get_model(label)
    return lambda user: model.objects.visible_to(user, action)


def explainable(user):
    return apps.get_model("rules.Rule").objects.explainable_to(user)


def forecastable_indicators(user):
    from kechuang.plans.forecast import can_forecast

    qs = apps.get_model("plans.Indicator").objects.visible_to(user)
    return qs.filter(pk__in=[i.pk for i in qs if can_forecast(i)])


def reportable_indicators(user):
    """Who may file a value on an indicator page: change scope or a member of its unit."""
    model = apps.get_model("plans.Indicator")
    qs = model.objects.visible_to(user, "change")
    if user is not None and user.is_authenticated and user.role == "unit":
        qs = qs | model.objects.visible_to(user).filter(responsible_unit__members=user)
    return qs


def resettable_users(user):
    """Accounts whose password `user` may reset (core.services.may_reset_password)."""
    from kechuang.core.services import may_reset_password

    model = apps.get_model("core.User")
    if user is None or not user.is_authenticated:
        return model.objects.none()
    ids = [u.pk for u in model.objects.all() if may_reset_password(u, acting_user=user)]
    return model.objects.filter(pk__in=ids)


@dataclass
class Page:
    """How the matrix fills and judges one page URL."""

    model: str | None = None  # the model whose id the URL takes
    kwargs: Callable = lambda obj: {"pk": obj.pk}
    action: str = "view"  # scope of GET: visible_to(user, action)
    scope: Callable | None = None  # override of the GET scope
    write: bool = False  # the view changes data on POST: try it out of scope
    write_scope: Callable | None = None  # who may POST (default: visible_to(user, "change"))
    fixed: dict = field(default_factory=dict)  # kwargs of URLs without an object
    query: str = ""
    # Static pages with no record data (schema, translations): one visitor and one user.
    actors: tuple[str, ...] = ACTORS

    def scope_for(self, user):
        return self.scope(user) if self.scope else visible(self.model, self.action)(user)

    def write_scope_for(self, user):
        if self.write_scope:
            return self.write_scope(user)
        return visible(self.model, "change")(user)


STATIC = ("anonymous", "enterprise_a")
E, Q, R, P = "enterprises.Enterprise", "enterprises.Qualification", "rules.Rule", "policies.Policy"
ITEM, T, IND = "policies.PolicyItem", "plans.Task", "plans.Indicator"

# Every page URL name, with what it takes. Add a new URL here (the test says so).
PAGES: dict[str, Page] = {
    "dashboard:home": Page(),
    "login": Page(actors=STATIC),
    "javascript-catalog": Page(actors=STATIC),
    "api-schema": Page(actors=STATIC),
    "api-docs": Page(actors=STATIC),
    "healthz": Page(actors=STATIC),
    "password_change": Page(),
    "core:users": Page(),
    "core:user-reset-password": Page(
        "core.User", scope=resettable_users, write=True, write_scope=resettable_users
    ),
    "core:profile": Page(),
    "core:rotate-token": Page(),
    "core:audit": Page(),
    "core:notifications": Page(),
    "core:notifications-read": Page(),
    "imports:list": Page(),
    "imports:template": Page(fixed={"kind": "enterprises"}),
    "imports:detail": Page("core.ImportJob"),
    "imports:progress": Page("core.ImportJob"),
    "imports:apply": Page("core.ImportJob", action="change", write=True),
    "imports:rejected": Page("core.ImportJob"),
    "imports:file": Page("core.ImportJob"),
    "enterprises:list": Page(),
    "enterprises:export": Page(),
    "enterprises:create": Page(write=True, write_scope=lambda u: None),
    "enterprises:mine": Page(),
    "enterprises:detail": Page(E),
    "enterprises:edit": Page(E, action="change", write=True),
    "enterprises:qualification-add": Page(E, action="change", write=True),
    "enterprises:qualification-edit": Page(
        Q,
        kwargs=lambda q: {"pk": q.enterprise_id, "qualification_pk": q.pk},
        action="change",
        write=True,
    ),  # fmt: skip
    "enterprises:report-edit": Page(E, action="change", write=True),
    "enterprises:report-confirm": Page(
        "enterprises.AnnualReport",
        kwargs=lambda r: {"report_pk": r.pk},
        action="change",
        write=True,
    ),  # fmt: skip
    "enterprises:visit-add": Page(E, action="change", write=True),
    "enterprises:watch-add": Page(E, action="change", write=True),
    "enterprises:watch-remove": Page(
        "enterprises.WatchListMember",
        kwargs=lambda m: {"member_pk": m.pk},
        action="change",
        write=True,
    ),  # fmt: skip
    "enterprises:issues": Page(),
    "enterprises:issue-edit": Page(
        "enterprises.VisitIssue",
        kwargs=lambda i: {"issue_pk": i.pk},
        action="change",
        write=True,
    ),  # fmt: skip
    "enterprises:expiring": Page(),
    "enterprises:expiring-export": Page(),
    "enterprises:ladder": Page(),
    "enterprises:ladder-recompute": Page(write=True, write_scope=lambda u: None),
    "enterprises:ladder-criteria": Page(fixed={"stage": "hte"}),
    "enterprises:qualification-types": Page(),
    "enterprises:qualification-type-add": Page(),
    "enterprises:qualification-type-edit": Page(
        "enterprises.QualificationType", action="change", write=True
    ),
    "enterprises:watch-lists": Page(),
    "enterprises:watch-list-add": Page(),
    "enterprises:watch-list": Page("enterprises.WatchList"),
    "enterprises:watch-list-edit": Page("enterprises.WatchList", action="change", write=True),
    "rules:list": Page(),
    "rules:create": Page(),
    "rules:detail": Page(R),
    "rules:edit": Page(R, action="change", write=True),
    "rules:publish": Page(R, action="change", write=True),
    "rules:sandbox": Page(R, action="change"),
    "rules:sandbox-export": Page(R, action="change"),
    "rules:variables": Page(),
    "rules:variable-create": Page(),
    "rules:snapshots": Page(),
    "rules:snapshot-run": Page(write=True, write_scope=lambda u: None),
    "rules:enterprise": Page(E, kwargs=lambda e: {"enterprise_id": e.pk}),
    # Pairs: the enterprise and the rule must both be in scope.
    "rules:explain": Page(E),
    "policies:list": Page(),
    "policies:create": Page(),
    "policies:mine": Page(),
    "policies:detail": Page(P),
    "policies:edit": Page(P, action="change", write=True),
    "policies:status": Page(P, action="change", write=True),
    "policies:attach": Page(P, action="change", write=True),
    "policies:item-create": Page(P, action="change", write=True),
    "policies:item": Page(ITEM),
    "policies:item-edit": Page(ITEM, action="change", write=True),
    "policies:item-eligible": Page(ITEM),
    "policies:item-export": Page(ITEM),
    "policies:item-push": Page(ITEM, write=True, write_scope=visible(ITEM)),
    "plans:list": Page(),
    "plans:across": Page(),
    "plans:import": Page(),
    "plans:import-review": Page("plans.PlanImport", write=True),
    "plans:units": Page(),
    "plans:tasks": Page(),
    "plans:task": Page(T),
    "plans:task-status": Page(T, action="change", write=True),
    "plans:milestone-add": Page(T, action="change", write=True),
    "plans:milestone-toggle": Page("plans.Milestone", action="change", write=True),
    "plans:indicator": Page(IND, write=True, write_scope=reportable_indicators),
    "plans:indicator-edit": Page(IND, action="change", write=True),
    "plans:indicator-lapsing": Page(IND, scope=forecastable_indicators),
    "plans:detail": Page("plans.Plan"),
    "plans:edit": Page("plans.Plan", action="change", write=True),
    "plans:export": Page("plans.Plan", kwargs=lambda p: {"pk": p.pk, "fmt": "xlsx"}),
    # The history of any record: filled with every auditable object (see _audit_targets).
    "core:object-audit": Page(),
}
# Not requested: logging out ends the session the matrix runs in; set_language only
# stores a cookie; the admin has its own login (superusers only).
SKIP = {"logout", "set_language"}

# Identifying strings of records, by model: a body shown to a user must not contain
# those of records outside the user's `visible_to` (or, for rules, `explainable_to`).
SECRETS = {
    E: ("name", "uscc"),
    Q: ("certificate_no",),
    "enterprises.Visit": ("summary",),
    "enterprises.VisitIssue": ("description",),
    P: ("title",),
    ITEM: ("title",),
    "policies.PolicyAttachment": ("title",),
    R: ("name", "code"),
    "plans.Plan": ("title",),
    IND: ("name",),
    T: ("title",),
    "plans.Milestone": ("description",),
    "plans.ProgressReport": ("text",),
    "plans.IndicatorReport": ("note",),
    "plans.ResponsibleUnit": ("name",),
    "core.ImportJob": ("original_name",),
    "policies.PushNotice": ("title",),
}


# ---------------------------------------------------------------------------
# The world, built once for the module
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_world()
        built.secrets = {name: _secrets(built, user) for name, user in built.actors.items()}
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def in_world(world, django_db_blocker):
    world.clients, world.api_clients = {}, {}
    _SCOPE_CACHE.clear()
    with django_db_blocker.unblock():
        yield world


def _ids(qs) -> set:
    return set(qs.values_list("pk", flat=True)) if qs is not None else set()


_SCOPE_CACHE: dict = {}


def _scope_ids(key, scope, user) -> set:
    """ids of `scope(user)`, computed once per (scope, user) in a test."""
    full = (key, user.pk if user is not None else None)
    if full not in _SCOPE_CACHE:
        _SCOPE_CACHE[full] = _ids(scope(user))
    return _SCOPE_CACHE[full]


def _secrets(world, user) -> dict[str, str]:
    """String → record it identifies, for every record `user` may not see."""
    out = {}
    for label, fields in SECRETS.items():
        scope = explainable(user) if label == R else visible(label)(user)
        shown = _ids(scope)
        for obj in world.of(label):
            if obj.pk in shown:
                continue
            for name in fields:
                value = str(getattr(obj, name) or "")
                if len(value) >= 4:
                    out[value] = f"{label} #{obj.pk}"
    return out


def _text(response) -> str:
    """What the user received, as text (HTML, JSON, .xlsx or .docx contents)."""
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(raw), read_only=True)
        return "\n".join(
            str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
        )
    if "wordprocessingml" in kind:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode())
    text = raw.decode("utf-8", "replace")
    if "json" in kind:
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), ensure_ascii=False)
    return text


def _leaks(world, actor: str, response) -> list[str]:
    body = _text(response)
    return [f"{s!r} ({what})" for s, what in world.secrets[actor].items() if s in body]


def _rows_written() -> int:
    """Rows inserted, updated or deleted so far on this connection (one cheap query)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT total_changes()")
        else:  # PostgreSQL: this transaction's row changes in every table
            cursor.execute(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                "FROM pg_stat_xact_user_tables"
            )
        return int(cursor.fetchone()[0])


def _fingerprint(obj=None) -> tuple:
    """Rows written on the connection, and the state a write would leave behind.

    The row count also moves when a service saves, finds the result out of scope and
    rolls back (the check-after-save pattern), so only a change in both counts.
    """
    from kechuang.core.models import Notification, OutboxEmail

    state = None
    if obj is not None:
        model = type(obj)
        fresh = model._default_manager.filter(pk=obj.pk).first()
        state = (audit.snapshot(fresh) if fresh else None, model._default_manager.count())
    counts = (AuditEntry.objects.count(), Notification.objects.count(), OutboxEmail.objects.count())
    return _rows_written(), (state, counts)


def _changed(before: tuple, after: tuple) -> bool:
    return before[0] != after[0] and before[1] != after[1]


# ---------------------------------------------------------------------------
# Walking the URLconf
# ---------------------------------------------------------------------------


def _walk(patterns, prefix="", ns=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            space = f"{ns}{p.namespace}:" if p.namespace else ns
            yield from _walk(p.url_patterns, prefix + str(p.pattern), space)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{ns}{p.name}" if p.name else "", p


def _is_api(pattern) -> bool:
    return hasattr(pattern.callback, "cls") and hasattr(pattern.callback, "actions")


def _page_patterns():
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or _is_api(pattern) or name in SKIP:
            continue
        if name == "api-root":
            continue  # the router's index: a list of links, checked with the API below
        yield route, name, pattern


def _fill(route: str, kwargs: dict) -> str | None:
    def conv(m):
        return str(kwargs[m.group(2)]) if m.group(2) in kwargs else "\0"

    url = "/" + re.sub(r"<(?:(\w+):)?(\w+)>", conv, route)
    return None if "\0" in url else url


def _is_public(view) -> bool:
    func = getattr(view, "view_class", None) or view
    return (
        getattr(view, "login_required", True) is False
        or getattr(func, "login_required", True) is False
    )


def _role_allowed(view, user) -> bool:
    roles = getattr(view, "allowed_roles", None)
    if roles is None:
        return True
    return user is not None and user.is_active and (user.is_superuser or user.role in roles)


def _client(world, actor: str) -> Client:
    clients = world.clients  # per test: sessions live in the test's transaction
    if actor not in clients:
        client = Client()
        if world.actors[actor] is not None:
            client.force_login(world.actors[actor])
        clients[actor] = client
    return clients[actor]


def _api(world, actor: str) -> APIClient:
    clients = world.api_clients
    if actor not in clients:
        client = APIClient()
        if world.actors[actor] is not None:
            client.force_authenticate(world.actors[actor])
        clients[actor] = client
    return clients[actor]


def _audit_targets(world):
    """Every auditable object of the world, as (app_label, model, pk, object)."""
    for label, objs in world.objects.items():
        if label == "core.AuditEntry":
            continue
        if not hasattr(apps.get_model(label).objects, "visible_to"):
            continue  # the history page shows records of scoped models only
        for obj in objs:
            meta = obj._meta
            yield {"app_label": meta.app_label, "model": meta.model_name, "pk": obj.pk}, obj


def _two(objs: list) -> list:
    """An A-side and a B-side object (the world lists them alternately where it matters)."""
    return objs[:2]


def _cases(world, name: str, page: Page):
    """(kwargs, object, query, scope key, scope function) for the objects the URL takes."""
    if name == "core:object-audit":
        for kwargs, obj in _audit_targets(world):
            model = type(obj)
            if obj in _two(world.of(model._meta.label)):
                yield kwargs, obj, "", (name, model), lambda u, m=model: m.objects.visible_to(u)
        return
    if name == "rules:explain":
        for rule in world.of(R):
            for ent in _two(world.of(E)):

                def both(u, rule=rule):
                    return visible(E)(u) if rule.pk in _ids(explainable(u)) else None

                kwargs = {"enterprise_id": ent.pk, "rule_id": rule.pk}
                yield kwargs, ent, "", (name, rule.pk), both
        return
    if page.model is None:
        yield page.fixed, None, page.query, None, None
        return
    objs = world.of(page.model)
    assert objs, f"The matrix world has no {page.model}: add one in core/tests/world.py."
    for obj in _two(objs) if page.model != IND else objs:
        yield page.kwargs(obj), obj, page.query, (name, "get"), page.scope_for


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------


def test_every_url_is_in_the_matrix():
    """A new page needs a PAGES entry; a new API route needs a model the matrix can fill."""
    missing = [
        f"{name or route} ({route})" for route, name, _p in _page_patterns() if name not in PAGES
    ]
    assert not missing, (
        "These URLs are not in the role matrix: add each to PAGES in "
        f"kechuang/core/tests/test_role_matrix.py (model, kwargs, action): {missing}"
    )
    unfillable = [
        f"{name} ({route})"
        for route, name, p in _page_patterns()
        if PAGES[name].model is None
        and name != "core:object-audit"
        and _fill(route, PAGES[name].fixed) is None
    ]
    assert not unfillable, f"Give these URLs their kwargs in PAGES (fixed=...): {unfillable}"
    from kechuang.api_urls import router

    for _prefix, viewset, basename in router.registry:
        assert _api_model(viewset, basename), (
            f"API route {basename}: give the viewset a `queryset` or add it to API_MODELS"
        )


def test_pages_as_every_actor_on_objects_in_and_out_of_scope(in_world):
    world, started, tried, problems = in_world, time.monotonic(), 0, []
    seen_names = set()
    for route, name, pattern in _page_patterns():
        page, view = PAGES[name], pattern.callback
        seen_names.add(name)
        for n, (kwargs, obj, query, key, scope) in enumerate(_cases(world, name, page)):
            url = _fill(route, kwargs)
            assert url is not None, f"{name}: cannot fill {route} with {kwargs}"
            url += query
            for actor in page.actors:
                user = world.actors[actor]
                if n and user is not None and not _role_allowed(view, user):
                    continue  # refused by role whatever the object: one object is enough
                tried += 1
                problems += _check_get(world, actor, user, name, url, view, obj, key, scope)
                if page.write:
                    tried += 1
                    problems += _check_post(world, actor, user, name, url, view, obj, page)
    elapsed = time.monotonic() - started
    print(f"\npages: {len(seen_names)} URL names, {tried} requests in {elapsed:.1f} s")
    assert not problems, "\n".join(problems[:60]) + f"\n({len(problems)} problems)"


def _check_get(world, actor, user, name, url, view, obj, key, scope) -> list[str]:
    response = _client(world, actor).get(url)
    status = response.status_code
    where = f"GET {url} [{name}] as {actor}: {status}"
    if status == 500:
        return [where]
    out = [f"{where} leaks {leak}" for leak in _leaks(world, actor, response)]
    public = _is_public(view)
    if user is None and not public:
        if not (status == 302 and "/login/" in response["Location"]) and status not in REFUSED:
            out.append(f"{where}: anonymous must be sent to the login page")
        return out
    if not _role_allowed(view, user):
        if status not in (*REFUSED, 405):
            out.append(f"{where}: role {user.role} is not allowed here and must be refused")
        return out
    if scope is None:
        return out
    in_scope = obj.pk in _scope_ids(key, scope, user)
    if not in_scope and status not in (*REFUSED, 405):
        out.append(f"{where}: {obj._meta.label} #{obj.pk} is out of scope but was answered")
    if in_scope and status in ALLOWED_BAD:
        out.append(f"{where}: {obj._meta.label} #{obj.pk} is in scope but was refused")
    return out


def _check_post(world, actor, user, name, url, view, obj, page) -> list[str]:
    may_write = user is not None and _role_allowed(view, user)
    if may_write and obj is not None:
        may_write = obj.pk in _scope_ids((name, "post"), page.write_scope_for, user)
    if may_write:
        return []
    before = _fingerprint(obj)
    response = _client(world, actor).post(url, {})
    status = response.status_code
    where = f"POST {url} [{name}] as {actor}: {status}"
    out = []
    login = status == 302 and "/login/" in response.get("Location", "")
    if not (login or status in (*REFUSED, 405)):
        out.append(f"{where}: a write outside the user's scope must be refused")
    if _changed(before, _fingerprint(obj)):
        out.append(f"{where}: the refused write changed the database")
    return out


# -- API ------------------------------------------------------------------------------

# Viewsets without a `queryset` attribute: the model their ids belong to.
API_MODELS = {
    "policy": P,
    "policyitem": ITEM,
    "auditentry": "core.AuditEntry",
    "explain": E,
    "plan": "plans.Plan",
    "plan-indicator": IND,
    "plan-task": T,
    "plan-progress-report": "plans.ProgressReport",
}


def _api_model(viewset, basename) -> str | None:
    if basename in API_MODELS:
        return API_MODELS[basename]
    qs = getattr(viewset, "queryset", None)
    return qs.model._meta.label if qs is not None else None


def _api_scope(label: str, basename: str, action: str):
    if basename == "auditentry":
        return lambda u: AuditEntry.objects.visible_to(u)
    model = apps.get_model(label)
    if not hasattr(model.objects, "visible_to"):  # reference data (jurisdictions)
        return lambda u: model.objects.all() if action == "view" else model.objects.none()
    return visible(label, action)


def _api_allowed(viewset, user) -> bool:
    roles = getattr(viewset, "allowed_roles", None)
    from kechuang.core.rest import ANY_ROLE

    if user is None:
        return False
    return roles == ANY_ROLE or (roles is not None and (user.is_superuser or user.role in roles))


def _anonymous_reads(viewset) -> bool:
    from rest_framework.permissions import IsAuthenticated

    from kechuang.core.rest import RolePermission

    classes = getattr(viewset, "permission_classes", [])
    return RolePermission not in classes and IsAuthenticated not in classes


def test_api_as_every_actor_on_objects_in_and_out_of_scope(in_world):
    from kechuang.api_urls import router

    world, started, tried, problems = in_world, time.monotonic(), 0, []
    for prefix, viewset, basename in router.registry:
        label = _api_model(viewset, basename)
        objs = world.of(label)
        assert objs, f"The matrix world has no {label} (API {basename}): add one in world.py."
        detail_actions = [a for a in viewset.get_extra_actions() if a.detail]
        for actor in ACTORS:
            user = world.actors[actor]
            api = _api(world, actor)
            reads = _api_allowed(viewset, user) or _anonymous_reads(viewset)
            view_ids = _scope_ids((label, "view"), _api_scope(label, basename, "view"), user)
            view_ids = view_ids if reads else set()
            change_ids = (
                _scope_ids((label, "change"), _api_scope(label, basename, "change"), user)
                if _api_allowed(viewset, user)
                else set()
            )
            if basename != "explain":
                tried += 1
                problems += _api_list(world, actor, api, prefix, reads, view_ids)
            # Refused by role whatever the object: one object is enough.
            for obj in _two(objs) if reads else objs[:1]:
                urls = [f"/api/{prefix}/{obj.pk}/"]
                if basename == "explain":
                    rule_codes = [r.code for r in world.of(R)]
                    urls = [f"/api/{prefix}/{obj.pk}/?rule={code}" for code in rule_codes]
                for url in urls:
                    tried += 1
                    in_scope = obj.pk in view_ids
                    if basename == "explain":
                        code = url.rsplit("=", 1)[1]
                        in_scope = in_scope and code in {r.code for r in explainable(user)}
                    problems += _api_get(world, actor, api, url, in_scope)
                if _api_allowed(viewset, user) and obj.pk in change_ids:
                    continue
                base = f"/api/{prefix}/{obj.pk}/"
                for method in ("patch", "put", "delete"):
                    tried += 1
                    problems += _api_write(world, actor, api, method, base, obj)
                for extra in detail_actions:
                    tried += 1
                    url = f"{base}{extra.url_path}/"
                    problems += _api_write(world, actor, api, "post", url, obj)
    elapsed = time.monotonic() - started
    print(f"\napi: {len(router.registry)} routes, {tried} requests in {elapsed:.1f} s")
    assert not problems, "\n".join(problems[:60]) + f"\n({len(problems)} problems)"


def _api_list(world, actor, api, prefix, reads, view_ids) -> list[str]:
    response = api.get(f"/api/{prefix}/?page_size=1000")
    where = f"GET /api/{prefix}/ as {actor}: {response.status_code}"
    out = [f"{where} leaks {leak}" for leak in _leaks(world, actor, response)]
    if not reads:
        if response.status_code not in (401, 403):
            out.append(f"{where}: must be refused")
        return out
    if response.status_code != 200:
        return [*out, f"{where}: the list must answer"]
    rows = response.json()
    rows = rows.get("results", rows) if isinstance(rows, dict) else rows
    extra = {r.get("id") for r in rows if isinstance(r, dict)} - view_ids - {None}
    if extra and prefix not in ("verdicts",):
        out.append(f"{where}: lists ids outside visible_to: {sorted(extra)}")
    return out


def _api_get(world, actor, api, url, in_scope) -> list[str]:
    response = api.get(url)
    status = response.status_code
    where = f"GET {url} as {actor}: {status}"
    out = [f"{where} leaks {leak}" for leak in _leaks(world, actor, response)]
    if status == 500:
        return [*out, where]
    if in_scope and status != 200:
        out.append(f"{where}: in scope but refused")
    if not in_scope and status not in (401, 403, 404):
        out.append(f"{where}: out of scope but answered")
    if status >= 400 and "error" not in response.json():
        out.append(f"{where}: error body without the documented 'error' key")
    return out


def _api_write(world, actor, api, method, url, obj) -> list[str]:
    before = _fingerprint(obj)
    response = getattr(api, method)(url, {}, format="json")
    status = response.status_code
    where = f"{method.upper()} {url} as {actor}: {status}"
    out = [f"{where} leaks {leak}" for leak in _leaks(world, actor, response)]
    if status not in (401, 403, 404, 405):
        out.append(f"{where}: a write outside the user's scope must be refused")
    if _changed(before, _fingerprint(obj)):
        out.append(f"{where}: the refused write changed the database")
    return out


# -- every auditable model's history page -----------------------------------------------


def test_history_page_of_every_auditable_model_opens(in_world):
    """Commission staff open each record's history; nobody gets a 500 (the attachment bug)."""
    world = in_world
    client = _client(world, "commission")
    seen = set()
    for kwargs, obj in _audit_targets(world):
        seen.add(type(obj))
        url = "/core/audit/{app_label}/{model}/{pk}/".format(**kwargs)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert "m_commission" in response.content.decode(), url  # the world's entry is listed
    business = {
        m
        for m in apps.get_models()
        if m.__module__.startswith("kechuang")
        and hasattr(m._default_manager, "visible_to")
        and m is not AuditEntry
    }
    untried = sorted(m._meta.label for m in business - seen)
    assert not untried, f"Add an object of each of these models to the matrix world: {untried}"


# -- API creates that point at another scope's records ----------------------------------


# Values that keep a copied body from colliding with its model's uniqueness rules.
CREATE_OVERRIDES = {
    "enterprises": {"uscc": "913101124147212701"},  # make_uscc(987654)
    "plan-progress-reports": {"period": "2025Q1"},
}


def _payload(world, prefix, obj) -> dict:
    """A valid create body: the record as commission staff read it, unique texts changed."""
    data = _api(world, "commission").get(f"/api/{prefix}/{obj.pk}/").json()
    model = type(obj)
    out = {}
    for key, value in data.items():
        if key == "id" or isinstance(value, list | dict):
            continue
        try:
            field_ = model._meta.get_field(key)
        except Exception:  # noqa: BLE001 - computed serializer fields are left out
            continue
        if field_.unique and isinstance(value, str):
            value = f"{value[:-3]}M{obj.pk:02d}" if key != "uscc" else value
        out[key] = value
    out.update(CREATE_OVERRIDES.get(prefix, {}))
    return out


def _foreign_keys(viewset) -> dict[str, tuple[str, str]]:
    """Writable relations to scoped records in the create serializer → (model label, attr)."""
    from rest_framework.relations import RelatedField

    serializer = viewset.serializer_class()
    out = {}
    for name, f in serializer.fields.items():
        if not isinstance(f, RelatedField) or f.read_only or f.queryset is None:
            continue
        label = f.queryset.model._meta.label
        if label in SECRETS or label in ("enterprises.WatchList", "core.Jurisdiction"):
            out[name] = (label, getattr(f, "slug_field", "pk"))
    return out


def _foreign(world, label: str, user) -> list:
    """The world's records of `label` outside what `user` may change (places: the subtree)."""
    if label == "core.Jurisdiction":
        if user.is_commission:
            return []
        path = user.jurisdiction.path if user.jurisdiction_id else "/none/"
        return [j for j in world.of(label) if not j.path.startswith(path) and j.level != "district"]
    mine = _ids(visible(label, "change")(user))
    return [o for o in world.of(label) if o.pk not in mine]


def test_api_update_cannot_move_a_record_into_another_scope(in_world):
    """PATCH one's own record so that a relation (park, town, enterprise...) points outside."""
    from kechuang.api_urls import router

    world, tried, problems = in_world, 0, []
    for prefix, viewset, basename in router.registry:
        if not hasattr(viewset, "partial_update"):
            continue
        label = _api_model(viewset, basename)
        for actor in ACTORS:
            user = world.actors[actor]
            if not _api_allowed(viewset, user):
                continue  # refused whatever the body: covered by the matrix above
            own = [o for o in world.of(label) if o.pk in _ids(visible(label, "change")(user))]
            for key, (rel_label, attr) in _foreign_keys(viewset).items():
                for obj in own[:1]:
                    for target in _foreign(world, rel_label, user):
                        before = _fingerprint(obj)
                        url = f"/api/{prefix}/{obj.pk}/"
                        body = {key: getattr(target, attr)}
                        response = _api(world, actor).patch(url, body, format="json")
                        tried += 1
                        where = f"PATCH {url} {body} as {actor}: {response.status_code}"
                        if response.status_code not in (400, 403, 404):
                            problems.append(f"{where}: moves the record out of the user's scope")
                        if _changed(before, _fingerprint(obj)):
                            problems.append(f"{where}: the refused change was written")
    print(f"\napi updates: {tried} requests")
    assert tried > 5
    assert not problems, "\n".join(problems[:60]) + f"\n({len(problems)} problems)"


def test_api_create_cannot_point_at_another_scope(in_world):
    """POST a valid body whose relation (enterprise, task, unit...) is outside the actor's scope."""
    from kechuang.api_urls import router

    world, tried, problems = in_world, 0, []
    for prefix, viewset, basename in router.registry:
        if not hasattr(viewset, "create"):
            continue
        label = _api_model(viewset, basename)
        sample = world.of(label)[0]
        base = _payload(world, prefix, sample)
        for actor in ACTORS:
            if actor == "commission":
                continue  # checked last: the body must be valid for it to mean anything
            user = world.actors[actor]
            targets = [(None, None, None)]
            if _api_allowed(viewset, user):
                targets = []
                for key, (rel_label, attr) in _foreign_keys(viewset).items():
                    foreign = _foreign(world, rel_label, user)
                    # The last one: the world's first records already have memberships etc.
                    targets += [(key, attr, o) for o in foreign[-1:]]
            for key, attr, target in targets:
                body = dict(base)
                if key is not None:
                    body[key] = getattr(target, attr)
                before = _fingerprint(sample)
                response = _api(world, actor).post(f"/api/{prefix}/", body, format="json")
                tried += 1
                where = f"POST /api/{prefix}/ {key}={getattr(target, 'pk', '')} as {actor}"
                if response.status_code not in (400, 401, 403, 404):
                    problems.append(f"{where}: {response.status_code}, must be refused")
                if _changed(before, _fingerprint(sample)):
                    problems.append(f"{where}: the refused create changed the database")
                problems += [f"{where} leaks {leak}" for leak in _leaks(world, actor, response)]
        # The same body is accepted from commission staff, so the refusals above were scope.
        for key, (rel_label, attr) in _foreign_keys(viewset).items():
            if key in base and world.of(rel_label) and rel_label != "core.Jurisdiction":
                base[key] = getattr(world.of(rel_label)[-1], attr)
        accepted = _api(world, "commission").post(f"/api/{prefix}/", base, format="json")
        if accepted.status_code != 201:
            problems.append(f"POST /api/{prefix}/ {base} as commission: {accepted.content[:300]}")
    print(f"\napi creates: {tried} requests")
    assert tried > 20
    assert not problems, "\n".join(problems[:60]) + f"\n({len(problems)} problems)"
