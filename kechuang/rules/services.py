"""Rule operations: variables, rule versions (draft → published), validation at save time.

Evaluation (bulk snapshots) lives in `kechuang.rules.evaluation`; explanations for one
enterprise in `kechuang.rules.explaining`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kechuang.core import audit
from kechuang.core.models import Role
from kechuang.core.permissions import has_role
from kechuang.rules import compiling
from kechuang.rules.engine.compiler import compile_rule
from kechuang.rules.engine.errors import RuleError
from kechuang.rules.engine.types import Schema
from kechuang.rules.models import Rule, RuleVersion, Variable, VariableSource, VersionStatus
from kechuang.rules.workflows import RULE_VERSION

LIBRARY_DIR = Path(__file__).resolve().parent / "library"


def _require_commission(user) -> None:
    if not has_role(user, Role.COMMISSION):
        raise PermissionDenied(_("Only commission staff may change rules and variables."))


def rule_error_message(exc: RuleError) -> str:
    """One line for a form: where (line/column) and what, in Chinese."""
    where = _("line %(line)s, column %(column)s: ") % {"line": exc.line, "column": exc.column}
    return (where if exc.line else "") + exc.message_zh


def _validation_error(field: str, exc: RuleError) -> ValidationError:
    return ValidationError({field: [rule_error_message(exc)]}, code=exc.code)


# ---------------------------------------------------------------------------
# Variables
# ---------------------------------------------------------------------------


def load_library(*, acting_user, path: Path | None = None) -> dict[str, int]:
    """Create or update the shipped variables (library/variables.yaml); idempotent."""
    _require_commission(acting_user)
    path = path or LIBRARY_DIR / "variables.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("variables", data if isinstance(data, list) else [])
    # Validate the whole library with the engine before writing anything.
    Schema.from_dicts(items)
    created = updated = 0
    with transaction.atomic():
        existing = {v.code: v for v in Variable.objects.select_for_update()}
        for item in items:
            formula = item.get("formula") or ""
            source = item.get("source") or (
                VariableSource.FORMULA if formula else VariableSource.FIELD
            )
            values = {
                "label_zh": item.get("label_zh") or item["code"],
                "label_en": item.get("label_en") or "",
                "type": item["type"],
                "unit": item.get("unit") or "",
                "source": source,
                "formula": formula,
                "year": int(item.get("year", -1)),
                "db_field": item.get("db_field") or "",
                "description": item.get("description") or "",
                "builtin": True,
            }
            var = existing.get(item["code"])
            if var is None:
                var = Variable(code=item["code"], **values)
                var.save()
                audit.record_create(var, actor=acting_user)
                created += 1
            else:
                before = audit.snapshot(var)
                for k, v in values.items():
                    setattr(var, k, v)
                if audit.diff(before, audit.snapshot(var)):
                    var.save()
                    audit.record_update(var, before, actor=acting_user)
                    updated += 1
    compiling.clear_caches()
    rules = load_library_rules(acting_user=acting_user, directory=path.parent)
    return {"created": created, "updated": updated, "total": len(items), **rules}


def policy_yaml_to_text(data: dict) -> str:
    """A library policy's named conditions as stored rule text ('# [code] label' blocks)."""
    parts = []
    for cond in data.get("conditions") or ():
        parts.append(f"# [{cond['code']}] {cond['label_zh']}\n{str(cond['rule']).strip()}")
    return "\n".join(parts) + "\n"


def load_library_rules(*, acting_user, directory: Path | None = None) -> dict[str, int]:
    """Create a published rule for each shipped *.policy.yaml not yet in the database.

    Existing rules are left alone: once loaded, officers own them (their edits make
    new versions through the UI).
    """
    directory = directory or LIBRARY_DIR
    made = 0
    for path in sorted(directory.glob("*.policy.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        code = str(data["code"])
        if Rule.objects.filter(code=code).exists():
            continue
        amount = (data.get("amount") or {}).get("formula") or ""
        valid_from = data.get("valid_from") or dt.date(2020, 1, 1)
        rule = create_rule(
            acting_user=acting_user,
            code=code,
            name=str(data.get("name_zh") or code),
            expression=policy_yaml_to_text(data),
            amount_formula=str(amount).strip(),
            manual_conditions=[str(x) for x in data.get("manual_conditions") or ()],
            effective_from=valid_from
            if isinstance(valid_from, dt.date)
            else dt.date.fromisoformat(str(valid_from)),
            description=str(data.get("notes") or "").strip(),
            clause_ref=str(data.get("basis") or "")[:255],
            publish=True,
        )
        valid_until = data.get("valid_until")
        if valid_until:
            version = rule.versions.get()
            version.effective_to = (
                valid_until
                if isinstance(valid_until, dt.date)
                else dt.date.fromisoformat(str(valid_until))
            )
            version.save(update_fields=["effective_to"])
        made += 1
    return {"rules_created": made}


def validate_variable(var: Variable) -> None:
    """Check a (new or changed) variable with the engine; errors name the field and position."""
    try:
        compiling.build_schema([var.as_engine_dict()], exclude=var.code)
    except RuleError as exc:
        field = "formula" if var.source == VariableSource.FORMULA else "code"
        raise _validation_error(field, exc) from None


def save_formula_variable(var: Variable, *, acting_user) -> Variable:
    """Create or change a formula variable (staff, no deploy); checked by the engine first."""
    _require_commission(acting_user)
    if var.source != VariableSource.FORMULA:
        raise ValidationError({"source": [_("Only formula variables can be added here.")]})
    var.full_clean()
    validate_variable(var)
    with transaction.atomic():
        if var.pk is None:
            var.save()
            audit.record_create(var, actor=acting_user)
        else:
            before = audit.snapshot(Variable.objects.get(pk=var.pk))
            var.save()
            audit.record_update(var, before, actor=acting_user)
        # The whole schema must still compile (other formulas may use this one).
        try:
            compiling.build_schema()
        except RuleError as exc:
            raise _validation_error("formula", exc) from None
    compiling.clear_caches()
    return var


# ---------------------------------------------------------------------------
# Rules and versions
# ---------------------------------------------------------------------------


def validate_version_text(expression: str, amount_formula: str = "") -> None:
    """Compile the condition and amount texts; a RuleError becomes a form error with position."""
    schema = compiling.current_schema()
    try:
        compiling.compile_text(expression, schema)
    except RuleError as exc:
        raise _validation_error("expression", exc) from None
    if amount_formula.strip():
        try:
            compile_rule(amount_formula, schema, kind="amount")
        except RuleError as exc:
            raise _validation_error("amount_formula", exc) from None


def qualification_warnings(expression: str, amount_formula: str = "") -> list[str]:
    """Messages for qualifications the text names that match no QualificationType.

    Such a reference compiles (the library may name a type before it is set up) but
    nobody holds it at evaluation time, so the rule page says so.
    """
    schema, _variables, quals = compiling.current_context()
    refs: set[str] = set()
    for text, kind in ((expression, "condition"), (amount_formula, "amount")):
        if not text.strip():
            continue
        try:
            compiled = compiling.compile_text(text, schema, kind=kind)
        except RuleError:
            continue  # reported as an error elsewhere
        refs |= {key[1] for key in compiled.requirements if key[0] == "qualification"}
    return [
        _(
            "Qualification “%(name)s” matches no qualification type (by code or name): "
            "evaluation treats it as not held. Use a type's code or name."
        )
        % {"name": name}
        for name in quals.unresolved(refs)
    ]


def _clean_manual(manual) -> list[str]:
    if isinstance(manual, str):
        manual = manual.splitlines()
    return [m.strip() for m in manual or [] if m and m.strip()]


def create_rule(
    *,
    acting_user,
    code: str,
    name: str,
    expression: str,
    amount_formula: str = "",
    manual_conditions=(),
    effective_from: dt.date | None = None,
    description: str = "",
    clause_ref: str = "",
    publish: bool = False,
) -> Rule:
    """A new rule with its first version (draft unless `publish`)."""
    _require_commission(acting_user)
    validate_version_text(expression, amount_formula)
    with transaction.atomic():
        rule = Rule(code=code, name=name, description=description, clause_ref=clause_ref)
        rule.full_clean()
        rule.save()
        audit.record_create(rule, actor=acting_user)
        version = RuleVersion(
            rule=rule,
            number=1,
            expression=expression,
            amount_formula=amount_formula,
            manual_conditions=_clean_manual(manual_conditions),
            effective_from=effective_from or timezone.localdate(),
            created_by=acting_user if getattr(acting_user, "pk", None) else None,
        )
        version.full_clean()
        version.save()
        audit.record_create(version, actor=acting_user)
        if publish:
            publish_version(version, acting_user=acting_user)
    return rule


def save_version(
    rule: Rule,
    *,
    acting_user,
    expression: str,
    amount_formula: str = "",
    manual_conditions=(),
    effective_from: dt.date | None = None,
    note: str = "",
) -> RuleVersion:
    """Edit the rule: change the open draft, or start a new draft version.

    Published versions are never changed, so verdicts computed with them keep the
    exact text that produced them.
    """
    _require_commission(acting_user)
    validate_version_text(expression, amount_formula)
    manual = _clean_manual(manual_conditions)
    with transaction.atomic():
        Rule.objects.select_for_update().filter(pk=rule.pk).first()
        draft = rule.draft_version()
        if draft is not None:
            before = audit.snapshot(draft)
            draft.expression = expression
            draft.amount_formula = amount_formula
            draft.manual_conditions = manual
            draft.note = note
            if effective_from:
                draft.effective_from = effective_from
            draft.full_clean()
            draft.save()
            audit.record_update(draft, before, actor=acting_user)
            return draft
        number = (rule.versions.aggregate(m=Max("number"))["m"] or 0) + 1
        draft = RuleVersion(
            rule=rule,
            number=number,
            expression=expression,
            amount_formula=amount_formula,
            manual_conditions=manual,
            effective_from=effective_from or timezone.localdate(),
            note=note,
            created_by=acting_user if getattr(acting_user, "pk", None) else None,
        )
        draft.full_clean()
        draft.save()
        audit.record_create(draft, actor=acting_user)
    return draft


def publish_version(version: RuleVersion, *, acting_user) -> RuleVersion:
    """Publish a draft: it takes over from its effective date; the previous version ends the day before."""
    RULE_VERSION.decide(version, "publish", acting_user)  # refuse before any work
    validate_version_text(version.expression, version.amount_formula)
    with transaction.atomic():
        open_versions = list(
            RuleVersion.objects.select_for_update().filter(
                rule=version.rule, status=VersionStatus.PUBLISHED, effective_to__isnull=True
            )
        )
        for prev in open_versions:
            if prev.effective_from >= version.effective_from:
                raise ValidationError(
                    {
                        "effective_from": [
                            _("Must be after %(date)s, the start of published version %(number)s.")
                            % {"date": prev.effective_from, "number": prev.number}
                        ]
                    }
                )
            before = audit.snapshot(prev)
            prev.effective_to = version.effective_from - dt.timedelta(days=1)
            prev.save(update_fields=["effective_to", "updated_at"])
            audit.record_update(prev, before, actor=acting_user)
        RULE_VERSION.transition(
            version,
            "publish",
            acting_user=acting_user,
            payload={"version": version.number},
            fields={
                "published_at": timezone.now(),
                "published_by": acting_user if getattr(acting_user, "pk", None) else None,
            },
        )
        audit.record_event(
            version.rule, "rule_published", {"version": version.number}, actor=acting_user
        )
    return version


def discard_draft(version: RuleVersion, *, acting_user) -> None:
    _require_commission(acting_user)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("Only a draft version can be discarded."))
    with transaction.atomic():
        audit.record_delete(version, audit.snapshot(version), actor=acting_user)
        version.delete()
