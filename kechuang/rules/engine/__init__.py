"""Rule language engine: parse, type-check, explain and bulk-evaluate eligibility rules.

Pure Python (lark + NumPy), no Django. See docs/rule-language.md for the language and
for how a loader supplies data (requirement keys and column encodings).
"""

from .bulk import (
    VERDICT_FALSE,
    VERDICT_TRUE,
    VERDICT_UNKNOWN,
    BulkEvaluator,
    evaluate_bulk,
    evaluate_values,
    facts_from_columns,
)
from .compiler import CompiledRule, compile_conditions, compile_rule
from .errors import RuleError
from .explain import (
    AmountExplanation,
    Clause,
    Explanation,
    Missing,
    Verdict,
    evaluate_one,
    explain,
    explain_amount,
)
from .ir import Requirement, resolve_date_spec
from .types import Schema, Source, ValueType, Variable

__all__ = [
    "VERDICT_FALSE",
    "VERDICT_TRUE",
    "VERDICT_UNKNOWN",
    "AmountExplanation",
    "BulkEvaluator",
    "Clause",
    "CompiledRule",
    "Explanation",
    "Missing",
    "Requirement",
    "RuleError",
    "Schema",
    "Source",
    "ValueType",
    "Variable",
    "Verdict",
    "compile_conditions",
    "compile_rule",
    "evaluate_bulk",
    "evaluate_one",
    "evaluate_values",
    "explain",
    "explain_amount",
    "facts_from_columns",
    "resolve_date_spec",
]
