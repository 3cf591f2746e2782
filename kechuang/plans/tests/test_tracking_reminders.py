"""Report reminders: due before the period ends, overdue after the grace days, idempotent."""

import datetime

from django.core.management import call_command

from kechuang.core.models import Notification
from kechuang.core.services import system_actor
from kechuang.plans import services
from kechuang.plans.models import ReportFrequency
from kechuang.plans.tests.factories import AssignmentFactory, PlanFactory, TaskFactory, UnitFactory


def _setup(unit_user):
    plan = PlanFactory(
        period_start=2025, period_end=2026, report_frequency=ReportFrequency.QUARTERLY
    )
    unit = UnitFactory(name="区科委")
    unit.members.add(unit_user)
    task = TaskFactory(plan=plan)
    AssignmentFactory(task=task, unit=unit)
    return task, unit


def test_due_and_overdue_reminders(unit_user, officer, django_capture_on_commit_callbacks):
    task, unit = _setup(unit_user)
    # 2025-03-26: Q1 ends in 5 days → due (Q4 2024 is before the plan)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            services.send_report_reminders(
                acting_user=system_actor("plans.remind"), today=datetime.date(2025, 3, 26)
            )
            == 1
        )
    note = Notification.objects.get(recipient=unit_user)
    assert note.kind == "plans.report_due" and "2025Q1" in note.title
    # 2025-04-15: Q1 report not filed and the 10 grace days are over → overdue
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            services.send_report_reminders(
                acting_user=system_actor("plans.remind"), today=datetime.date(2025, 4, 15)
            )
            == 1
        )
    assert (
        Notification.objects.filter(kind="plans.report_overdue", recipient=unit_user).count() == 1
    )
    # idempotent
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            services.send_report_reminders(
                acting_user=system_actor("plans.remind"), today=datetime.date(2025, 4, 15)
            )
            == 0
        )


def test_no_reminder_once_the_report_is_filed(unit_user, django_capture_on_commit_callbacks):
    task, unit = _setup(unit_user)
    services.file_progress_report(
        task,
        unit=unit,
        period="2025Q1",
        period_end=datetime.date(2025, 3, 31),
        text="ok",
        acting_user=unit_user,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            services.send_report_reminders(
                acting_user=system_actor("plans.remind"), today=datetime.date(2025, 4, 15)
            )
            == 0
        )


def test_remind_command(unit_user, capsys):
    _setup(unit_user)
    call_command("plans_remind", "--date", "2025-04-20")
    assert "1 notification" in capsys.readouterr().out
