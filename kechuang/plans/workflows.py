"""The task status machine: who may start, complete, suspend, resume or reopen a 重点任务."""

from django.utils.translation import gettext_lazy as _

from kechuang.core.models import Role
from kechuang.core.workflow import Transition, Workflow, in_scope
from kechuang.plans.models import Task, TaskStatus

S = TaskStatus
ACTIVE = (S.NOT_STARTED, S.IN_PROGRESS)

# Scope (in_scope) narrows a unit to the tasks assigned to one of its units.
TASK = Workflow(
    name="plans.task",
    model=Task,
    field="status",
    states=TaskStatus,
    scope=in_scope,
    transitions=[
        Transition(
            "start", S.NOT_STARTED, S.IN_PROGRESS, _("Start"),
            roles=(Role.COMMISSION, Role.UNIT), event="task_started",
        ),
        Transition(
            "complete", S.IN_PROGRESS, S.DONE, _("Mark done"),
            roles=(Role.COMMISSION, Role.UNIT), event="task_completed",
        ),
        Transition(
            "suspend", ACTIVE, S.SUSPENDED, _("Suspend"),
            roles=(Role.COMMISSION,), event="task_suspended",
        ),
        Transition(
            "resume", S.SUSPENDED, S.IN_PROGRESS, _("Resume"),
            roles=(Role.COMMISSION,), event="task_resumed",
        ),
        Transition(
            "reopen", S.DONE, S.IN_PROGRESS, _("Reopen"),
            roles=(Role.COMMISSION,), event="task_reopened",
        ),
    ],
)  # fmt: skip
