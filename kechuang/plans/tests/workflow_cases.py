"""Records in a given state for the table-driven workflow tests (core/tests/test_workflows_table.py)."""

from kechuang.plans.tests.factories import AssignmentFactory, PlanFactory, TaskFactory, UnitFactory


def task_in(state, personas):
    """A task assigned to `unit_user`'s unit; in scope: commission staff and that unit."""
    unit = UnitFactory()
    unit.members.add(personas["unit_user"])
    task = TaskFactory(plan=PlanFactory(), status=state)
    AssignmentFactory(task=task, unit=unit)
    return task, {"officer", "unit_user"}


BUILDERS = {"plans.task": task_in}
