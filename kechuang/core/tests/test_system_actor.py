"""Every write names its actor: services require `acting_user`; jobs act as named system actors."""

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from kechuang.core import audit
from kechuang.core.models import AuditEntry, Role
from kechuang.core.services import SYSTEM_JOBS, rotate_api_token, system_actor

ROOT = Path(__file__).resolve().parents[2]

# Public functions in services modules that write nothing (queries, parsing, pure helpers),
# plus the system actor itself. Anything else must take a required keyword-only acting_user.
READ_ONLY = {
    "core/services.py": {"system_actor"},
    "core/imports/services.py": {"importer_classes", "importer_class", "can_import", "is_locked"},
    # touch: marks rows changed for the evaluator, only ever called inside audited services.
    "enterprises/services.py": {
        "location_errors",
        "touch",
        "default_expiry",
        "compute_stages",
        "decide_stage",
        "stage_counts_by_year",
    },
    "plans/services.py": {"rows_from_draft", "is_task_overdue", "units_of"},
    "policies/services.py": {
        "matches_for_enterprise",
        "eligible_enterprises",
        "eligible_by_town",
        "eligible_amounts",
        "total_amount",
    },
    "rules/services.py": {
        "rule_error_message",
        "policy_yaml_to_text",
        "validate_variable",
        "validate_version_text",
        "qualification_warnings",
    },
}
# Writers that live outside a services module but must follow the same rule.
EXTRA = {"rules/evaluation.py": {"run_snapshot"}}


def _service_modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if "/tests/" in f"/{rel}" or "/migrations/" in rel:
            continue
        if path.name == "services.py" or rel in EXTRA:
            yield rel, path


def _lacking_acting_user():
    bad = []
    for rel, path in _service_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if node.name.startswith("_") or node.name in READ_ONLY.get(rel, set()):
                continue
            if rel in EXTRA and node.name not in EXTRA[rel]:
                continue
            names = [a.arg for a in node.args.kwonlyargs]
            if "acting_user" not in names:
                bad.append(f"{rel}:{node.lineno} {node.name}: no keyword-only acting_user")
            elif node.args.kw_defaults[names.index("acting_user")] is not None:
                bad.append(f"{rel}:{node.lineno} {node.name}: acting_user has a default")
    return bad


def test_every_public_service_requires_keyword_only_acting_user():
    assert _lacking_acting_user() == []


def test_scan_sees_every_allowlisted_function():
    """A stale allowlist entry would hide a renamed writer."""
    seen = {}
    for rel, path in _service_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        seen[rel] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for rel, names in {**READ_ONLY, **EXTRA}.items():
        assert names <= seen.get(rel, set()), (rel, names - seen.get(rel, set()))


def test_system_actor_is_one_user_per_job_and_cannot_log_in(db):
    first = system_actor("rules.evaluate")
    assert system_actor("rules.evaluate").pk == first.pk
    assert system_actor("plans.remind").pk != first.pk
    assert first.role == Role.SYSTEM and first.is_system and first.is_commission
    assert str(first) == SYSTEM_JOBS["rules.evaluate"]
    assert not first.has_usable_password()
    first.set_password("guessable-password-1")
    first.save()
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username=first.username, password="guessable-password-1") is None
    with pytest.raises(PermissionDenied):
        rotate_api_token(first, acting_user=first)


def test_unknown_job_is_refused(db):
    with pytest.raises(ValueError, match="SYSTEM_JOBS"):
        system_actor("no.such.job")


def test_audit_refuses_an_entry_without_actor(enterprise):
    with pytest.raises(ValueError, match="system_actor"):
        audit.record_event(enterprise, "x", actor=None)
    assert not AuditEntry.objects.filter(event="x").exists()


def test_services_refuse_none_as_actor(enterprise):
    from kechuang.core.services import update_record
    from kechuang.enterprises.services import delete_enterprise
    from kechuang.policies.services import expire_policies
    from kechuang.rules.evaluation import run_snapshot

    with pytest.raises(PermissionDenied):
        update_record(enterprise, {"name": "变更"}, acting_user=None)
    with pytest.raises(PermissionDenied):
        delete_enterprise(enterprise, acting_user=None)
    with pytest.raises(PermissionDenied):
        expire_policies(acting_user=None)
    with pytest.raises(PermissionDenied):
        run_snapshot(acting_user=None)


def test_jobs_are_refused_for_people_without_the_right(enterprise_user, town_officer):
    from kechuang.plans.services import send_report_reminders
    from kechuang.policies.services import expire_policies

    for person in (enterprise_user, town_officer):
        with pytest.raises(PermissionDenied):
            send_report_reminders(acting_user=person)
        with pytest.raises(PermissionDenied):
            expire_policies(acting_user=person)


def test_expiry_job_is_audited_under_its_system_actor(db):
    from kechuang.policies.models import Policy, PolicyStatus
    from kechuang.policies.services import expire_policies

    policy = Policy.objects.create(
        title="过期政策",
        issuer="区科委",
        status=PolicyStatus.PUBLISHED,
        valid_until=dt.date(2020, 1, 1),
    )
    job = system_actor("policies.expire")
    assert expire_policies(acting_user=job, today=dt.date(2021, 1, 1)) == 1
    entry = AuditEntry.objects.for_object(policy).get()
    assert entry.actor_id == job.pk and entry.actor_name == "系统: 政策到期"


def test_scheduled_evaluation_task_acts_as_the_evaluation_job(db):
    from kechuang.rules.models import RuleSnapshot
    from kechuang.rules.tasks import evaluate_rules_task

    evaluate_rules_task.call(on="2025-06-30")
    assert RuleSnapshot.objects.get().created_by.username == "system:rules.evaluate"
