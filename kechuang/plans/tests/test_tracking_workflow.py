"""Task status follows its workflow (plans.workflows.TASK) in the service, the page and the API."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from kechuang.core.models import AuditEntry
from kechuang.core.workflow import InvalidTransition, TransitionNotAllowed
from kechuang.plans import services
from kechuang.plans.models import TaskStatus
from kechuang.plans.tests.factories import AssignmentFactory, TaskFactory, UnitFactory

pytestmark = pytest.mark.django_db
S = TaskStatus


@pytest.fixture
def task(unit_user):
    unit = UnitFactory(name="区经委")
    unit.members.add(unit_user)
    task = TaskFactory(title="加强引进龙头企业")
    AssignmentFactory(task=task, unit=unit)
    return task


def test_a_done_task_cannot_go_back_to_not_started(task, unit_user, officer):
    """The old service moved any status to any status."""
    services.set_task_status(task, S.IN_PROGRESS, acting_user=unit_user)
    services.set_task_status(task, S.DONE, acting_user=unit_user)
    for user in (unit_user, officer):
        with pytest.raises(InvalidTransition):
            services.set_task_status(task, S.NOT_STARTED, acting_user=user)
    task.refresh_from_db()
    assert task.status == S.DONE


def test_only_commission_staff_reopen_suspend_and_resume(task, unit_user, officer):
    services.set_task_status(task, "start", acting_user=unit_user)
    with pytest.raises(TransitionNotAllowed):
        services.set_task_status(task, S.SUSPENDED, acting_user=unit_user)
    services.set_task_status(task, S.SUSPENDED, acting_user=officer)
    with pytest.raises(TransitionNotAllowed):
        services.set_task_status(task, S.IN_PROGRESS, acting_user=unit_user)
    services.set_task_status(task, "resume", acting_user=officer)
    services.set_task_status(task, S.DONE, acting_user=unit_user)
    with pytest.raises(TransitionNotAllowed):
        services.set_task_status(task, "reopen", acting_user=unit_user)
    services.set_task_status(task, "reopen", acting_user=officer)
    entries = AuditEntry.objects.for_object(task).order_by("id")
    events = list(entries.values_list("event", flat=True))
    assert events == [
        "task_started", "task_suspended", "task_resumed", "task_completed", "task_reopened"
    ]  # fmt: skip


def test_the_same_status_again_changes_nothing(task, unit_user):
    services.set_task_status(task, S.NOT_STARTED, acting_user=unit_user)
    assert not AuditEntry.objects.for_object(task).exists()


def test_filing_a_report_starts_the_task(task, unit_user):
    import datetime

    unit = task.assignments.get().unit
    services.file_progress_report(
        task, unit=unit, period="2025Q1", period_end=datetime.date(2025, 3, 31), text="已启动",
        acting_user=unit_user,
    )  # fmt: skip
    task.refresh_from_db()
    assert task.status == S.IN_PROGRESS
    assert AuditEntry.objects.for_object(task).filter(event="task_started").exists()


def test_page_offers_only_the_allowed_steps(task, client_for, unit_user, officer):
    page = client_for(unit_user).get(reverse("plans:task", args=[task.pk]))
    assert [t.name for t in page.context["transitions"]] == ["start"]
    assert (
        'value="start"' in page.content.decode() and 'value="suspend"' not in page.content.decode()
    )
    page = client_for(officer).get(reverse("plans:task", args=[task.pk]))
    assert [t.name for t in page.context["transitions"]] == ["start", "suspend"]


def test_page_shows_a_refusal_as_a_message(task, client_for, unit_user):
    client = client_for(unit_user)
    url = reverse("plans:task-status", args=[task.pk])
    response = client.post(url, {"transition": "suspend"})
    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["您不能对当前为“未启动”的任务执行“暂停”。"]
    response = client.post(url, {"status": S.DONE})
    assert [str(m) for m in get_messages(response.wsgi_request)][-1] == (
        "任务当前为“未启动”，不能改为“完成”。"
    )
    task.refresh_from_db()
    assert task.status == S.NOT_STARTED
    assert client.post(url, {"transition": "start"}).status_code == 302
    task.refresh_from_db()
    assert task.status == S.IN_PROGRESS


def test_api_refuses_a_disallowed_status_with_the_reason(task, api_for, unit_user):
    api = api_for(unit_user)
    url = f"/api/plan-tasks/{task.pk}/"
    bad = api.patch(url, {"status": S.DONE}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert bad.status_code == 400
    assert "不能改为" in str(bad.json()["error"]["details"])
    denied = api.patch(url, {"status": S.SUSPENDED}, format="json")
    assert denied.status_code == 403
    assert api.patch(url, {"status": S.IN_PROGRESS}, format="json").status_code == 200
    task.refresh_from_db()
    assert task.status == S.IN_PROGRESS
