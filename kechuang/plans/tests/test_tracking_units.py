"""A responsible unit sees and edits only its own tasks, in the pages and through the API."""

import datetime

import pytest

from kechuang.core.models import Role
from kechuang.core.tests.factories import UserFactory
from kechuang.plans import services
from kechuang.plans.models import ProgressReport, TaskStatus
from kechuang.plans.tests.factories import (
    AssignmentFactory,
    MilestoneFactory,
    PlanFactory,
    TaskFactory,
    UnitFactory,
)


@pytest.fixture
def world(unit_user):
    plan = PlanFactory()
    mine_unit = UnitFactory(name="区经委")
    mine_unit.members.add(unit_user)
    other_unit = UnitFactory(name="区发改委")
    other_member = UserFactory(username="fgw", role=Role.UNIT)
    other_unit.members.add(other_member)
    mine = TaskFactory(plan=plan, title="加强引进龙头企业")
    AssignmentFactory(task=mine, unit=mine_unit)
    theirs = TaskFactory(plan=plan, title="推进重大项目建设")
    AssignmentFactory(task=theirs, unit=other_unit)
    ms = MilestoneFactory(task=theirs, due_on=datetime.date(2024, 6, 30))
    return {
        "plan": plan,
        "mine": mine,
        "theirs": theirs,
        "unit": mine_unit,
        "other_unit": other_unit,
        "ms": ms,
    }


def test_unit_sees_only_its_tasks_in_the_pages(
    client_for, unit_user, world, django_assert_max_num_queries
):
    client = client_for(unit_user)
    with django_assert_max_num_queries(12):
        page = client.get("/plans/tasks/").content.decode()
    assert "加强引进龙头企业" in page and "推进重大项目建设" not in page
    dash = client.get(f"/plans/{world['plan'].pk}/").content.decode()
    assert "加强引进龙头企业" in dash and "推进重大项目建设" not in dash
    assert client.get(f"/plans/tasks/{world['mine'].pk}/").status_code == 200
    assert client.get(f"/plans/tasks/{world['theirs'].pk}/").status_code == 404


def test_unit_cannot_edit_another_units_task_in_the_pages(client_for, unit_user, world):
    client = client_for(unit_user)
    theirs = world["theirs"]
    assert client.post(f"/plans/tasks/{theirs.pk}/status/", {"status": "done"}).status_code == 404
    assert client.post(f"/plans/milestones/{world['ms'].pk}/toggle/").status_code == 404
    response = client.post(
        f"/plans/tasks/{theirs.pk}/",
        {"unit": world["other_unit"].pk, "period": "2025Q1", "text": "x"},
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    world["ms"].refresh_from_db()
    assert theirs.status == TaskStatus.NOT_STARTED and not world["ms"].done
    assert not ProgressReport.objects.exists()


def test_unit_files_a_report_on_its_own_task(client_for, unit_user, world):
    client = client_for(unit_user)
    page = client.get(f"/plans/tasks/{world['mine'].pk}/")
    period = page.context["report_form"].fields["period"].choices[1][0]
    response = client.post(
        f"/plans/tasks/{world['mine'].pk}/",
        {
            "unit": world["unit"].pk,
            "period": period,
            "text": "已完成招商对接三场",
            "figures": "对接企业: 12",
        },
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get()
    assert report.unit == world["unit"] and report.figures == {"对接企业": "12"}
    assert report.reported_by == unit_user
    # filing for the other unit, even on a shared form, is refused
    response = client.post(
        f"/plans/tasks/{world['mine'].pk}/",
        {"unit": world["other_unit"].pk, "period": period, "text": "x"},
    )
    assert response.status_code == 200 and ProgressReport.objects.count() == 1


def test_unit_sees_and_edits_only_its_tasks_through_the_api(api_for, unit_user, world):
    api = api_for(unit_user)
    listed = api.get("/api/plan-tasks/").json()
    titles = [t["title"] for t in listed["results"]]
    assert titles == ["加强引进龙头企业"]
    assert api.get(f"/api/plan-tasks/{world['theirs'].pk}/").status_code == 404
    assert (
        api.patch(
            f"/api/plan-tasks/{world['theirs'].pk}/", {"status": "done"}, format="json"
        ).status_code
        == 404
    )
    assert (
        api.patch(
            f"/api/plan-tasks/{world['mine'].pk}/", {"status": "in_progress"}, format="json"
        ).status_code
        == 200
    )
    refused = api.post(
        "/api/plan-progress-reports/",
        {
            "task": world["theirs"].pk,
            "unit": world["other_unit"].pk,
            "period": "2025Q1",
            "text": "x",
        },
        format="json",
    )
    assert refused.status_code == 400
    ok = api.post(
        "/api/plan-progress-reports/",
        {
            "task": world["mine"].pk,
            "unit": world["unit"].pk,
            "period": "2025Q1",
            "text": "进展顺利",
        },
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    assert ProgressReport.objects.get().period_end == datetime.date(2025, 3, 31)
    assert [r["task"] for r in api.get("/api/plan-progress-reports/").json()["results"]] == [
        world["mine"].pk
    ]


def test_unit_cannot_change_task_definitions_or_plans(unit_user, world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.update_task(world["mine"], {"title": "x"}, acting_user=unit_user)
    with pytest.raises(PermissionDenied):
        services.update_plan(world["plan"], {"title": "x"}, acting_user=unit_user)


def test_outsider_and_enterprise_users_see_no_plans(client_for, api_for, enterprise_user, world):
    assert client_for(enterprise_user).get("/plans/").status_code == 403
    assert api_for(enterprise_user).get("/api/plan-tasks/").status_code == 403


def test_overdue_task_by_milestones(world):
    today = datetime.date(2024, 7, 1)
    assert services.is_task_overdue(world["theirs"], today)
    assert not services.is_task_overdue(world["mine"], today)
    world["ms"].done = True
    world["ms"].save()
    assert not services.is_task_overdue(world["theirs"], today)
