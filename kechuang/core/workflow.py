"""Workflows as explicit state machines: the allowed steps are declared as data, in one place.

A :class:`Workflow` names a model's state field, its states (the model's TextChoices) and its
:class:`Transition` rows: from which states, to which state, who may take the step (roles, a
scope check and an optional guard), which audit event it writes and whom it notifies.

Deciding is side-effect free (:meth:`Workflow.decide`, :meth:`Workflow.allowed`); taking a step
(:meth:`Workflow.transition`) re-reads the state under a row lock, decides again, saves the state
field, writes one typed audit event with ``from``/``to`` and queues notifications after commit.
Everything else a step implies (recomputing, further records) stays in the app's service function
that calls it. Each app declares its machines in ``<app>/workflows.py``; ``settings.WORKFLOWS``
lists them so the table-driven tests (core/tests/test_workflows_table.py) cover every one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kechuang.core import audit
from kechuang.core.exceptions import ConflictError
from kechuang.core.models import Notification, Role

# The platform itself (scheduled commands, background tasks, data loading) acts as a named
# system actor (``core.services.system_actor``), a user whose role is this. A step the system
# may take lists it in ``roles``; nobody acts as ``None``.
SYSTEM = Role.SYSTEM


class InvalidTransition(ValidationError):
    """The step does not exist from the record's current state (or at all)."""


class TransitionNotAllowed(PermissionDenied):
    """The step exists from the current state, but this user may not take it."""


Guard = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Transition:
    """One allowed step: ``source`` states → ``target``, taken by ``roles`` (and ``guard``)."""

    name: str
    source: tuple[str, ...]
    target: str
    label: Any  # a gettext_lazy string: the button text
    roles: tuple[str, ...] = ()
    # Extra condition on (obj, user) for a human user, e.g. "a unit assigned to the task".
    guard: Guard | None = None
    # Audit event written when the step is taken; "" writes none (bookkeeping steps).
    event: str = ""
    # Notification kind and who gets it (a function of the record); both or neither.
    notify: str = ""
    recipients: Callable[[Any], Iterable[Any]] | None = None

    def __post_init__(self):
        if isinstance(self.source, str):
            object.__setattr__(self, "source", (self.source,))
        if bool(self.notify) != (self.recipients is not None):
            raise ImproperlyConfigured(f"Transition {self.name!r}: give notify and recipients.")

    def permits_role(self, user) -> bool:
        """Role test alone (pure): superusers pass any human step; ``None`` passes nothing."""
        if user is None:
            return False
        if not (user.is_authenticated and user.is_active):
            return False
        return user.is_superuser or user.role in self.roles


def in_scope(obj, user) -> bool:
    """Scope check shared by most machines: the record is in what ``user`` may change."""
    manager = type(obj)._default_manager
    return manager.visible_to(user, "change").filter(pk=obj.pk).exists()


@dataclass
class Workflow:
    """The state machine of one model's state field."""

    name: str
    model: type[models.Model]
    field: str
    states: type[models.TextChoices]
    transitions: Sequence[Transition]
    # Checked for every human user before roles and guards (``None``: no scope check).
    scope: Guard | None = None
    # Where a notification links to (default: the record's get_absolute_url, if any).
    link: Callable[[Any], str] | None = None
    _by_name: dict[str, Transition] = field(init=False, repr=False)

    def __post_init__(self):
        self.transitions = tuple(self.transitions)
        values = set(self.states.values)
        self._by_name = {}
        pairs = set()
        for t in self.transitions:
            if t.name in self._by_name or t.name in values:
                raise ImproperlyConfigured(
                    f"{self.name}: transition name {t.name!r} is not unique."
                )
            unknown = {*t.source, t.target} - values
            if unknown:
                raise ImproperlyConfigured(f"{self.name}.{t.name}: unknown states {unknown}.")
            for s in t.source:
                if (s, t.target) in pairs:
                    raise ImproperlyConfigured(f"{self.name}: two transitions {s} → {t.target}.")
                pairs.add((s, t.target))
            self._by_name[t.name] = t

    # -- reading ------------------------------------------------------------------------

    def state_of(self, obj) -> str:
        return getattr(obj, self.field)

    def state_label(self, state) -> str:
        try:
            return str(self.states(state).label)
        except ValueError:
            return str(state)

    def get(self, name: str) -> Transition:
        return self._by_name[name]

    def find(self, state: str, name_or_target: str) -> Transition | None:
        """The transition named so, or the one from ``state`` to that target state."""
        if name_or_target in self._by_name:
            return self._by_name[name_or_target]
        for t in self.transitions:
            if t.target == name_or_target and state in t.source:
                return t
        return None

    # -- deciding (no writes) -----------------------------------------------------------

    def step(self, state: str, name_or_target: str) -> Transition:
        """The transition taken from ``state`` (pure); raise InvalidTransition when none."""
        t = self.find(state, name_or_target)
        if t is None or state not in t.source:
            raise InvalidTransition(self._invalid_message(state, name_or_target, t), code="state")
        return t

    def permits(self, t: Transition, obj, user) -> bool:
        """May ``user`` take ``t`` on ``obj`` (state aside)? Roles, then scope and guard."""
        if not t.permits_role(user):
            return False
        if user.role == SYSTEM:
            return True  # a system job is not scoped; it names the step it may take
        if self.scope is not None and not self.scope(obj, user):
            return False
        return t.guard is None or bool(t.guard(obj, user))

    def decide(self, obj, name_or_target: str, user, *, state: str | None = None) -> Transition:
        """The transition ``user`` takes on ``obj`` from ``state`` (default: its current one)."""
        state = self.state_of(obj) if state is None else state
        t = self.step(state, name_or_target)
        if not self.permits(t, obj, user):
            raise TransitionNotAllowed(
                _("You may not “%(action)s” this %(model)s (it is “%(state)s”).")
                % {
                    "action": t.label,
                    "model": self.model._meta.verbose_name,
                    "state": self.state_label(state),
                }
            )
        return t

    def allowed(self, obj, user) -> list[Transition]:
        """The steps ``user`` may take now, in declaration order (the buttons to show)."""
        state = self.state_of(obj)
        candidates = [t for t in self.transitions if state in t.source and t.permits_role(user)]
        if not candidates:
            return []
        if user.role == SYSTEM:
            return candidates  # a system job is not scoped (see ``permits``)
        if self.scope is not None and not self.scope(obj, user):
            return []
        return [t for t in candidates if t.guard is None or t.guard(obj, user)]

    def _invalid_message(self, state, name_or_target, t: Transition | None) -> str:
        params = {"model": self.model._meta.verbose_name, "state": self.state_label(state)}
        if t is not None:  # asked for by name
            return _("This %(model)s is “%(state)s”: it cannot be “%(action)s” now.") % {
                **params,
                "action": t.label,
            }
        if name_or_target in self.states.values:
            return _("This %(model)s is “%(state)s”: it cannot be changed to “%(target)s”.") % {
                **params,
                "target": self.state_label(name_or_target),
            }
        return _("Unknown action “%(action)s” for a %(model)s.") % {
            "action": name_or_target,
            "model": self.model._meta.verbose_name,
        }

    # -- taking a step ------------------------------------------------------------------

    def transition(
        self,
        obj,
        name_or_target: str,
        *,
        acting_user,
        payload: dict | None = None,
        fields: dict | None = None,
        expected_version: int | None = None,
    ) -> Transition:
        """Take a step: lock and re-read the state, decide, save, audit, notify after commit.

        ``fields``: other columns the step sets with the state (e.g. who published and when);
        ``payload``: extra data for the audit event; ``expected_version``: the row version the
        user saw (a stale one raises ConflictError). Refusals raise and write nothing. A step
        bumps the row version, so an edit form opened before it is refused as stale.
        """
        versioned = hasattr(obj, "row_version")
        columns = [self.field, "row_version"] if versioned else [self.field]
        with transaction.atomic():
            row = (
                type(obj)._default_manager.select_for_update().values_list(*columns).get(pk=obj.pk)
            )
            current = row[0]
            if versioned and expected_version is not None and expected_version != row[1]:
                raise ConflictError(current_version=row[1], sent_version=expected_version)
            t = self.decide(obj, name_or_target, acting_user, state=current)
            setattr(obj, self.field, t.target)
            update = [self.field]
            if versioned:
                obj.row_version = row[1] + 1
                update.append("row_version")
            for name, value in (fields or {}).items():
                setattr(obj, name, value)
                update.append(name)
            if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
                update.append("updated_at")
            obj.save(update_fields=update)
            if t.event:
                audit.record_event(
                    obj,
                    t.event,
                    {**(payload or {}), "transition": t.name, "from": current, "to": t.target},
                    actor=acting_user,
                )
            if t.notify:
                self._queue_notifications(obj, t)
        return t

    def _queue_notifications(self, obj, t: Transition) -> None:
        if self.link is not None:
            link = self.link(obj)
        else:
            link = obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else ""
        title = _("%(model)s “%(object)s”: %(action)s") % {
            "model": self.model._meta.verbose_name,
            "object": obj,
            "action": t.label,
        }
        notes = [
            Notification(recipient=user, title=title[:200], link=link, kind=t.notify)
            for user in t.recipients(obj)
        ]
        if notes:
            transaction.on_commit(lambda: Notification.objects.bulk_create(notes))

    # -- introspection ------------------------------------------------------------------

    def matrix(self) -> dict[str, dict[str, str | None]]:
        """{state: {transition name: target or None}}: the whole table, states × transitions."""
        return {
            s: {t.name: (t.target if s in t.source else None) for t in self.transitions}
            for s in self.states.values
        }

    def render_table(self) -> str:
        """The machine as Markdown: states × transitions, then who may take each step."""
        names = [t.name for t in self.transitions]
        lines = [
            f"### {self.name} ({self.model._meta.label}.{self.field})",
            "",
            "| from \\ step | " + " | ".join(names) + " |",
            "|---" * (len(names) + 1) + "|",
        ]
        for state, row in self.matrix().items():
            cells = [f"→ {row[n]}" if row[n] else "·" for n in names]
            lines.append(f"| {state} | " + " | ".join(cells) + " |")
        lines += ["", "| step | label | from | to | roles | guard | audit event | notifies |"]
        lines.append("|---" * 8 + "|")
        for t in self.transitions:
            guard = getattr(t.guard, "__name__", "") if t.guard else ""
            lines.append(
                f"| {t.name} | {t.label} | {', '.join(t.source)} | {t.target} | "
                f"{', '.join(t.roles)} | {guard} | {t.event or '—'} | {t.notify or '—'} |"
            )
        return "\n".join(lines) + "\n"


def registered() -> list[Workflow]:
    """The machines listed in ``settings.WORKFLOWS`` (dotted paths), in order."""
    machines = [import_string(path) for path in getattr(settings, "WORKFLOWS", ())]
    for m in machines:
        if not isinstance(m, Workflow):
            raise ImproperlyConfigured(f"settings.WORKFLOWS: {m!r} is not a Workflow.")
    return machines


def render_all() -> str:
    """Every registered machine's table (docs/workflows.md is this text)."""
    header = (
        "# Workflows\n\n"
        "Generated by `kechuang show_workflows` from the machines in `settings.WORKFLOWS`; "
        "a test fails when this page is out of date.\n\n"
        f"Roles: {', '.join(v for v in Role.values if v != SYSTEM)}; `{SYSTEM}` is the platform itself (commands, "
        "tasks). Superusers may take any step open to a human role. Every step also needs "
        "the machine's scope check (the record is in what the user may change).\n"
    )
    with translation.override("en"):
        return header + "".join("\n" + m.render_table() for m in registered())
