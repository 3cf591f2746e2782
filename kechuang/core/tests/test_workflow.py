"""The state-machine mechanism itself: declaration checks, pure decisions, and taking a step."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from kechuang.core import auditchain
from kechuang.core.models import AuditEntry, Notification, Role
from kechuang.core.workflow import (
    SYSTEM,
    InvalidTransition,
    Transition,
    TransitionNotAllowed,
    Workflow,
)
from kechuang.plans.models import Task, TaskStatus
from kechuang.plans.workflows import TASK

S = TaskStatus


def _user(role=Role.UNIT, *, superuser=False, active=True, authenticated=True, pk=1):
    return SimpleNamespace(
        pk=pk,
        role=role,
        is_superuser=superuser,
        is_active=active,
        is_authenticated=authenticated,
    )


def _machine(*transitions, scope=None):
    return Workflow(
        name="test.task", model=Task, field="status", states=TaskStatus,
        transitions=transitions, scope=scope,
    )  # fmt: skip


START = Transition("start", S.NOT_STARTED, S.IN_PROGRESS, "start", roles=(Role.UNIT,))
DONE = Transition("complete", S.IN_PROGRESS, S.DONE, "done", roles=(Role.UNIT, SYSTEM))
REOPEN = Transition("reopen", S.DONE, S.IN_PROGRESS, "reopen", roles=(Role.COMMISSION,))


# -- declaration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "transitions",
    [
        (START, Transition("start", S.DONE, S.SUSPENDED, "x")),  # name twice
        (Transition("done", S.NOT_STARTED, S.DONE, "x"),),  # name shadows a state
        (Transition("go", S.NOT_STARTED, "archived", "x"),),  # unknown state
        (START, Transition("begin", S.NOT_STARTED, S.IN_PROGRESS, "x")),  # same edge twice
    ],
)
def test_a_bad_table_is_refused_at_declaration(transitions):
    with pytest.raises(ImproperlyConfigured):
        _machine(*transitions)


def test_notify_needs_recipients():
    with pytest.raises(ImproperlyConfigured):
        Transition("x", S.NOT_STARTED, S.DONE, "x", notify="task_done")


# -- deciding (pure) --------------------------------------------------------------------


def test_step_found_by_name_or_by_target_from_the_current_state():
    m = _machine(START, DONE, REOPEN)
    assert m.step(S.NOT_STARTED, "start") is START
    assert m.step(S.NOT_STARTED, S.IN_PROGRESS) is START
    assert m.step(S.DONE, S.IN_PROGRESS) is REOPEN
    with pytest.raises(InvalidTransition):
        m.step(S.DONE, "start")
    with pytest.raises(InvalidTransition):
        m.step(S.NOT_STARTED, S.DONE)


def test_refusal_names_the_current_state_and_the_attempt_in_chinese():
    m = _machine(START, DONE, REOPEN)
    with translation.override("zh-hans"):
        with pytest.raises(InvalidTransition) as by_target:
            m.step(S.DONE, S.NOT_STARTED)
        with pytest.raises(InvalidTransition) as by_name:
            m.step(S.NOT_STARTED, "reopen")
        with pytest.raises(InvalidTransition) as unknown:
            m.step(S.DONE, "archive")
        with pytest.raises(TransitionNotAllowed) as denied:
            m.decide(SimpleNamespace(status=S.DONE), "reopen", _user(Role.UNIT))
    assert by_target.value.messages == ["任务当前为“完成”，不能改为“未启动”。"]
    assert by_name.value.messages == ["任务当前为“未启动”，不能“reopen”。"]
    assert unknown.value.messages == ["任务没有“archive”这一操作。"]
    assert str(denied.value) == "您不能对当前为“完成”的任务执行“reopen”。"


def test_roles_superuser_inactive_anonymous_and_the_system():
    m = _machine(START, DONE, REOPEN)
    obj = SimpleNamespace(status=S.DONE)
    assert m.decide(obj, "reopen", _user(Role.COMMISSION)) is REOPEN
    assert m.decide(obj, "reopen", _user(Role.PUBLIC, superuser=True)) is REOPEN
    system = _user(Role.SYSTEM)
    for user in (_user(Role.UNIT), _user(Role.COMMISSION, active=False), system, None):
        with pytest.raises(TransitionNotAllowed):
            m.decide(obj, "reopen", user)
    assert m.decide(SimpleNamespace(status=S.IN_PROGRESS), "complete", system) is DONE
    with pytest.raises(TransitionNotAllowed):  # nobody acts as None, not even for the system
        m.decide(SimpleNamespace(status=S.IN_PROGRESS), "complete", None)
    anonymous = _user(Role.UNIT, authenticated=False)
    assert m.allowed(SimpleNamespace(status=S.IN_PROGRESS), anonymous) == []


def test_scope_and_guard_apply_to_people_not_to_the_system():
    calls = []

    def scope(obj, user):
        calls.append("scope")
        return obj.mine

    def guard(obj, user):
        calls.append("guard")
        return obj.ready

    go = Transition("complete", S.IN_PROGRESS, S.DONE, "done", roles=(Role.UNIT, SYSTEM),
                    guard=guard)  # fmt: skip
    m = _machine(go, scope=scope)
    unit = _user(Role.UNIT)
    assert m.allowed(SimpleNamespace(status=S.IN_PROGRESS, mine=True, ready=True), unit) == [go]
    assert m.allowed(SimpleNamespace(status=S.IN_PROGRESS, mine=False, ready=True), unit) == []
    assert m.allowed(SimpleNamespace(status=S.IN_PROGRESS, mine=True, ready=False), unit) == []
    calls.clear()
    assert m.allowed(
        SimpleNamespace(status=S.IN_PROGRESS, mine=False, ready=False), _user(Role.SYSTEM)
    ) == [go]
    assert calls == []
    # No step from this state: nothing is asked of the database-backed checks either.
    assert m.allowed(SimpleNamespace(status=S.DONE, mine=True, ready=True), unit) == []
    assert calls == []


def test_allowed_lists_steps_in_declaration_order():
    assert [t.name for t in TASK.allowed(SimpleNamespace(status=S.NOT_STARTED), None)] == []
    system = _user(Role.SYSTEM)
    m = _machine(
        Transition("suspend", (S.NOT_STARTED, S.IN_PROGRESS), S.SUSPENDED, "s", roles=(SYSTEM,)),
        Transition("start", S.NOT_STARTED, S.IN_PROGRESS, "go", roles=(SYSTEM,)),
    )
    assert [t.name for t in m.allowed(SimpleNamespace(status=S.NOT_STARTED), system)] == [
        "suspend",
        "start",
    ]


def test_matrix_and_rendered_table_show_every_state_and_step():
    m = _machine(START, DONE, REOPEN)
    matrix = m.matrix()
    assert list(matrix) == TaskStatus.values
    assert matrix[S.DONE] == {"start": None, "complete": None, "reopen": S.IN_PROGRESS}
    text = m.render_table()
    assert "| not_started | → in_progress | · | · |" in text
    assert "| suspended | · | · | · |" in text
    assert "| reopen | reopen | done | in_progress | commission |" in text


# -- taking a step (database) -------------------------------------------------------------


@pytest.fixture
def task(db, unit_user):
    from kechuang.plans.tests.factories import AssignmentFactory, TaskFactory, UnitFactory

    unit = UnitFactory()
    unit.members.add(unit_user)
    task = TaskFactory(status=S.IN_PROGRESS, title="原标题")
    AssignmentFactory(task=task, unit=unit)
    return task


def test_transition_saves_only_the_state_and_writes_one_event(task, unit_user):
    task.title = "未保存的修改"
    TASK.transition(task, S.DONE, acting_user=unit_user, payload={"note": "按期完成"})
    task.refresh_from_db()
    assert (task.status, task.title) == (S.DONE, "原标题")
    entry = AuditEntry.objects.for_object(task).get()
    assert entry.event == "task_completed" and entry.actor == unit_user
    assert entry.changes == {
        "transition": "complete", "from": "in_progress", "to": "done", "note": "按期完成"
    }  # fmt: skip


def test_transition_decides_on_the_stored_state_not_a_stale_copy(task, unit_user):
    stale = Task.objects.get(pk=task.pk)
    TASK.transition(task, "complete", acting_user=unit_user)
    # `stale` still says in_progress; the row says done, and a unit may not reopen.
    with pytest.raises(TransitionNotAllowed):
        TASK.transition(stale, "reopen", acting_user=unit_user)
    with pytest.raises(InvalidTransition):
        TASK.transition(stale, "complete", acting_user=unit_user)
    assert stale.status == S.IN_PROGRESS  # a refusal leaves the object as it was
    assert AuditEntry.objects.for_object(task).count() == 1


def test_a_step_bumps_the_row_version_and_refuses_a_stale_one(task, unit_user):
    from kechuang.core.exceptions import ConflictError

    seen = task.row_version
    TASK.transition(task, "complete", acting_user=unit_user, expected_version=seen)
    task.refresh_from_db()
    assert (task.status, task.row_version) == (S.DONE, seen + 1)
    # An edit form opened before the step carries the old version: refused, nothing written.
    commission = SimpleNamespace(pk=None)  # never reached: the version check comes first
    with pytest.raises(ConflictError):
        TASK.transition(task, "reopen", acting_user=commission, expected_version=seen)
    task.refresh_from_db()
    assert task.status == S.DONE
    assert AuditEntry.objects.for_object(task).count() == 1


def test_notifications_are_written_only_after_commit(
    db, enterprise_user, town_officer, django_capture_on_commit_callbacks
):
    from kechuang.enterprises.tests.factories import AnnualReportFactory
    from kechuang.enterprises.workflows import ANNUAL_REPORT

    report = AnnualReportFactory(enterprise=enterprise_user.enterprise, status="submitted")
    with django_capture_on_commit_callbacks() as callbacks:
        ANNUAL_REPORT.transition(report, "confirm", acting_user=town_officer)
        assert not Notification.objects.exists()
    # The audit seal (core.auditchain) is the other after-commit callback.
    notify = [c for c in callbacks if getattr(c, "func", None) is not auditchain._seal_callback]
    assert len(notify) == 1
    notify[0]()
    note = Notification.objects.get()
    assert (note.recipient, note.kind) == (enterprise_user, "report_confirmed")
    assert note.link == enterprise_user.enterprise.get_absolute_url()
