"""Glue between stored rules and the engine: the schema from the database, compiled-rule cache.

Rule text may name its clauses with header lines::

    # [registered] 注册成立一年以上
    years_registered >= 1
    # [rd] 研发费用占比达标
    rd_ratio >= 5%

Each named block becomes one clause of the explanation (engine ``compile_conditions``);
text without headers is one expression (engine ``compile_rule``). Error positions are
always given in the full text the officer typed.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.db import connection
from django.utils.translation import gettext as _

from kechuang.enterprises.models import QualificationType
from kechuang.rules.engine.compiler import CompiledRule, compile_conditions, compile_rule
from kechuang.rules.engine.errors import RuleError
from kechuang.rules.engine.types import Schema
from kechuang.rules.models import RuleVersion, Variable
from kechuang.rules.qualifications import AcceptedNames, QualificationIndex

HEADER_RE = re.compile(r"^\s*#\s*\[(?P<code>[A-Za-z][A-Za-z0-9_]*)\]\s*(?P<label>.*?)\s*$")


@dataclass(frozen=True)
class Block:
    code: str
    label: str
    text: str
    first_line: int  # 1-based line of the block's first text line in the full text


def split_blocks(text: str) -> list[Block] | None:
    """Named clause blocks, or None when the text has no '# [code] label' headers."""
    lines = text.splitlines()
    if not any(HEADER_RE.match(line) for line in lines):
        return None
    blocks: list[Block] = []
    current: dict | None = None
    for index, line in enumerate(lines, start=1):
        match = HEADER_RE.match(line)
        if match:
            if current is not None:
                blocks.append(_close(current))
            current = {
                "code": match["code"],
                "label": match["label"] or match["code"],
                "lines": [],
                "first": index + 1,
            }
        elif current is None:
            if line.strip() and not line.strip().startswith("#"):
                raise RuleError(
                    "text_before_header",
                    "第一个条件标题“# [代码] 名称”之前不能有规则文本",
                    "rule text appears before the first '# [code] label' header",
                    index,
                    1,
                )
        else:
            current["lines"].append(line)
    if current is not None:
        blocks.append(_close(current))
    seen: set[str] = set()
    for block in blocks:
        if block.code in seen:
            raise RuleError(
                "duplicate_clause",
                f"条件代码 {block.code} 重复",
                f"clause code {block.code!r} is used twice",
                block.first_line - 1,
                1,
            )
        seen.add(block.code)
        if not block.text.strip():
            raise RuleError(
                "empty_clause",
                f"条件 {block.label} 没有内容（只能由人工判断的条件请写在“人工核查条件”中）",
                f"clause {block.code} has no text (put conditions only a person can judge "
                "under 'conditions checked by staff')",
                block.first_line - 1,
                1,
            )
    return blocks


def _close(current: dict) -> Block:
    return Block(current["code"], current["label"], "\n".join(current["lines"]), current["first"])


def compile_text(
    text: str,
    schema: Schema,
    *,
    kind: str = "condition",
    code: str = "",
    label: str = "",
    strict_units: bool = True,
) -> CompiledRule:
    """Compile stored rule text; RuleError positions refer to `text` as typed.

    ``strict_units=False`` (stored versions) keeps unit errors in ``unit_problems``
    instead of raising them, so text saved before unit checks still evaluates as before.
    """
    blocks = split_blocks(text) if kind == "condition" else None
    if blocks is None:
        return compile_rule(
            text, schema, kind=kind, code=code, label=label, strict_units=strict_units
        )
    problems: list[RuleError] = []
    for block in blocks:  # check one by one so an error carries its position in `text`
        try:
            found = compile_rule(block.text, schema, kind="condition", strict_units=strict_units)
        except RuleError as exc:
            raise _in_text(exc, block) from None
        problems.extend(_in_text(p, block) for p in found.unit_problems)
    compiled = compile_conditions(
        [(b.code, b.label, b.text) for b in blocks],
        schema,
        code=code,
        label=label,
        strict_units=strict_units,
    )
    return dataclasses.replace(compiled, unit_problems=tuple(problems))


def _in_text(exc: RuleError, block: Block) -> RuleError:
    """The same error with its line counted in the whole text rather than in the block."""
    line = exc.line + block.first_line - 1 if exc.line else exc.line
    return RuleError(exc.code, exc.message_zh, exc.message_en, line, exc.column, "", exc.hint)


# ---------------------------------------------------------------------------
# Schema and compiled rules, cached per process and refreshed when variables change
# ---------------------------------------------------------------------------

_lock = threading.Lock()
_state: dict = {"key": None, "schema": None, "variables": None, "quals": None}
_compiled_cache: dict[tuple, CompiledRule] = {}


def _state_query() -> tuple[tuple, list[tuple[int, str, str]]]:
    """One query: what the schema depends on (variables' count and last change) plus the
    qualification types (id, code, name) — both the cache key and the resolution data."""
    var = Variable._meta.db_table
    qt = QualificationType._meta.db_table
    # Table names come from model metadata.
    sql = (
        f"SELECT 0, COUNT(*), CAST(MAX(updated_at) AS VARCHAR(64)), '' FROM {var} "  # noqa: S608
        f"UNION ALL SELECT 1, id, code, name FROM {qt}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    quals = sorted((int(r[1]), str(r[2]), str(r[3])) for r in rows if r[0] == 1)
    head = next(r for r in rows if r[0] == 0)
    return (head[1], head[2], tuple(quals)), quals


def build_schema(
    extra: list[dict] | None = None,
    *,
    exclude: str | None = None,
    variables: list[Variable] | None = None,
    quals: QualificationIndex | None = None,
) -> Schema:
    """A fresh Schema from the Variable table (plus `extra` variables being validated)."""
    if variables is None:
        variables = list(Variable.objects.all())
    if quals is None:
        quals = QualificationIndex(QualificationType.objects.values_list("id", "code", "name"))
    items = [v.as_engine_dict() for v in variables if v.code != exclude]
    items.extend(extra or [])
    # Lenient about units: a formula stored before unit checks must not take every rule
    # page down. New or changed variables (`extra`) are held to the checks below.
    schema = Schema.from_dicts(items, strict_units=False)
    if extra:
        _refuse_new_unit_problems(schema, {str(x["code"]) for x in extra})
    # Names and codes of the types in the database, the library's names, and their
    # normalised spellings (quotes, 企业 suffix): see kechuang.rules.qualifications.
    schema.qualifications = AcceptedNames(quals.names() | library_qualifications())
    return schema


def _refuse_new_unit_problems(schema: Schema, changed: set[str]) -> None:
    """Raise the first unit error of a changed variable, or one its change causes elsewhere."""
    before = {
        (code, p.message_zh) for code, ps in current_schema().unit_problems.items() for p in ps
    }
    for code, problems in schema.unit_problems.items():
        for problem in problems:
            if code in changed or (code, problem.message_zh) not in before:
                raise problem


def library_qualifications() -> set[str]:
    """Qualification names the shipped library declares (rules may name them before any is held)."""
    path = Path(__file__).resolve().parent / "library" / "variables.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError:
        return set()
    return {str(x) for x in data.get("qualifications") or ()}


def _refresh() -> dict:
    key, qual_rows = _state_query()
    with _lock:
        if _state["key"] == key and _state["schema"] is not None:
            return dict(_state)
    variables = list(Variable.objects.all())
    quals = QualificationIndex(qual_rows)
    schema = build_schema(variables=variables, quals=quals)
    with _lock:
        _state.update(key=key, schema=schema, variables={v.code: v for v in variables}, quals=quals)
        _compiled_cache.clear()
        return dict(_state)


def current_schema() -> Schema:
    """The schema for the current variables (one cheap query to check it is still current)."""
    return _refresh()["schema"]


def current_context() -> tuple[Schema, dict[str, Variable], QualificationIndex]:
    """Schema, variables by code and qualification index, all from one freshness query."""
    state = _refresh()
    return state["schema"], state["variables"], state["quals"]


def clear_caches() -> None:
    with _lock:
        _state.update(key=None, schema=None, variables=None, quals=None)
        _compiled_cache.clear()


def compiled_for(version: RuleVersion, schema: Schema | None = None) -> CompiledRule:
    """The compiled condition of a stored version (cached while the schema is unchanged).

    Unit errors do not stop it (see `compile_text`): a version published before unit
    checks keeps evaluating as it always did; `unit_problems_of` lists what to fix.
    """
    schema = schema or current_schema()
    key = ("cond", version.pk, version.expression, id(schema))
    found = _compiled_cache.get(key)
    if found is None:
        found = compile_text(
            version.expression,
            schema,
            code=version.rule.code,
            label=version.rule.name,
            strict_units=False,
        )
        _compiled_cache[key] = found
    return found


def compiled_amount_for(version: RuleVersion, schema: Schema | None = None) -> CompiledRule | None:
    if not version.amount_formula.strip():
        return None
    schema = schema or current_schema()
    key = ("amount", version.pk, version.amount_formula, id(schema))
    found = _compiled_cache.get(key)
    if found is None:
        found = compile_rule(
            version.amount_formula,
            schema,
            kind="amount",
            code=version.rule.code,
            strict_units=False,
        )
        _compiled_cache[key] = found
    return found


def unit_problems_of(
    version: RuleVersion, schema: Schema | None = None
) -> list[tuple[str, RuleError]]:
    """(field, error) for each unit error in a stored version's texts.

    Such a version was saved before unit checks existed. It still evaluates as it did;
    saving or publishing text with these errors is refused, so the rule page lists them
    for the officer to correct. A version that no longer compiles at all gives none here
    (evaluation reports it).
    """
    try:
        cond = compiled_for(version, schema)
        amount = compiled_amount_for(version, schema)
    except RuleError:
        return []
    return [("expression", p) for p in cond.unit_problems] + [
        ("amount_formula", p) for p in (amount.unit_problems if amount else ())
    ]


def unit_warnings(version: RuleVersion) -> list[str]:
    """The unit errors of a stored version as sentences for the rule page."""
    fields = {"expression": _("conditions"), "amount_formula": _("amount formula")}
    return [
        _(
            "Version %(number)s, %(field)s, line %(line)s, column %(column)s: %(message)s. "
            "This text was saved before units were checked and still evaluates as before "
            "(a plain number next to money counts as yuan); correct it in the next draft."
        )
        % {
            "number": version.number,
            "field": fields[field],
            "line": problem.line,
            "column": problem.column,
            "message": problem.message_zh,
        }
        for field, problem in unit_problems_of(version)
    ]
