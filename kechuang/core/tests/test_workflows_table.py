"""Every registered workflow, every state, every step, every persona: taken or refused as the table says.

Generated from `settings.WORKFLOWS`: a machine is covered the day it is registered. Each app
gives, in `<app>/tests/workflow_cases.py`, a builder making a record in any state and naming
the personas whose scope includes it; the expected outcome comes from that and the declared
transition (source states, roles, guard), the actual one from `Workflow.transition`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

import kechuang
from kechuang.core.models import AuditEntry, Notification, Role
from kechuang.core.services import system_actor
from kechuang.core.tests.factories import UserFactory
from kechuang.core.workflow import (
    SYSTEM,
    InvalidTransition,
    TransitionNotAllowed,
    Workflow,
    registered,
    render_all,
)

MACHINES = registered()
# The conftest personas, plus a unit member not assigned, a superuser and a system actor.
FIXTURE_PERSONAS = (
    "officer", "town_officer", "other_town_officer", "enterprise_user", "other_enterprise_user",
    "expert", "unit_user", "outsider",
)  # fmt: skip
CASES = [
    pytest.param(m, state, t, id=f"{m.name}-{state}-{t.name}")
    for m in MACHINES
    for state in m.states.values
    for t in m.transitions
]


def _builder(machine: Workflow):
    module = f"{machine.model._meta.app_config.name}.tests.workflow_cases"
    try:
        return importlib.import_module(module).BUILDERS[machine.name]
    except (ImportError, KeyError):
        pytest.fail(f"{machine.name}: add BUILDERS[{machine.name!r}] to {module}")


@pytest.fixture
def personas(request, db):
    users = {name: request.getfixturevalue(name) for name in FIXTURE_PERSONAS}
    users["other_unit_user"] = UserFactory(username="other_unit", role=Role.UNIT)
    users["superuser"] = UserFactory(username="root", role=Role.PUBLIC, is_superuser=True)
    users["system"] = system_actor("demo")
    return users


def _expected(machine, t, state, obj, name, user, in_scope: set[str]) -> bool:
    """What the table says, from the declaration alone (source, roles, guard) and the scope."""
    if state not in t.source:
        return False
    if user.role == SYSTEM:
        return SYSTEM in t.roles
    if not (name == "superuser" or name in in_scope):
        return False
    if not (name == "superuser" or user.role in t.roles):
        return False
    return t.guard is None or t.guard(obj, user)


def _events(obj):
    return AuditEntry.objects.for_object(obj).filter(event__gt="")


@pytest.mark.parametrize(("machine", "state", "t"), CASES)
def test_every_step_from_every_state_for_every_persona(
    machine, state, t, personas, django_capture_on_commit_callbacks
):
    build = _builder(machine)
    outcomes = {}
    for name, user in personas.items():
        obj, in_scope = build(state, personas)
        expected = _expected(machine, t, state, obj, name, user, in_scope)
        assert (t in machine.allowed(obj, user)) == expected, (name, "allowed()")
        before_events = _events(obj).count()
        notes_before = Notification.objects.count()
        if expected:
            with django_capture_on_commit_callbacks(execute=True):
                assert machine.transition(obj, t.name, acting_user=user) == t
            obj.refresh_from_db()
            assert machine.state_of(obj) == t.target
            if t.event:
                entry = _events(obj).latest("id")
                assert (entry.event, entry.changes["from"], entry.changes["to"]) == (
                    t.event, state, t.target
                )  # fmt: skip
                assert entry.actor_id == user.pk
            assert _events(obj).count() == before_events + (1 if t.event else 0)
            notified = {u.pk for u in t.recipients(obj)} if t.notify else set()
            assert Notification.objects.count() == notes_before + len(notified)
            if t.notify:
                assert notified, f"{machine.name}.{t.name}: the record has nobody to notify"
                sent = Notification.objects.filter(kind=t.notify).values_list(
                    "recipient", flat=True
                )
                assert notified <= set(sent)
        else:
            error = TransitionNotAllowed if state in t.source else InvalidTransition
            with django_capture_on_commit_callbacks(execute=True), pytest.raises(error) as refused:
                machine.transition(obj, t.name, acting_user=user)
            assert str(machine.model._meta.verbose_name) in str(refused.value)
            assert machine.state_of(obj) == state
            obj.refresh_from_db()
            assert machine.state_of(obj) == state
            assert _events(obj).count() == before_events
            assert Notification.objects.count() == notes_before
        outcomes[name] = expected
    # The table must not be vacuous: a step from one of its own sources is someone's to take.
    if state in t.source:
        assert any(outcomes.values()), f"{machine.name}.{t.name}: nobody may take it"


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_unknown_step_is_refused_by_name(machine, personas):
    obj, _scope = _builder(machine)(machine.states.values[0], personas)
    with pytest.raises(InvalidTransition):
        machine.transition(obj, "no_such_step", acting_user=personas["officer"])


def test_every_declared_machine_is_registered():
    """A Workflow defined in any app's workflows.py but missing from settings.WORKFLOWS fails."""
    declared = set()
    root = Path(kechuang.__file__).parent
    for path in root.rglob("workflows.py"):
        module_name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        module = importlib.import_module(module_name)
        for attr, value in vars(module).items():
            if isinstance(value, Workflow):
                declared.add(f"{module_name}.{attr}")
    assert declared, "no workflows.py found"
    assert declared == set(settings.WORKFLOWS)
    assert {import_string(p).name for p in settings.WORKFLOWS} == {m.name for m in MACHINES}


def test_docs_show_the_current_tables():
    """docs/workflows.md is `kechuang show_workflows` output; regenerate it after a change."""
    docs = Path(kechuang.__file__).resolve().parent.parent / "docs" / "workflows.md"
    assert docs.read_text(encoding="utf-8") == render_all(), (
        "docs/workflows.md is stale: run `python manage.py show_workflows > docs/workflows.md`"
    )
