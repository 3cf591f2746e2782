"""Helpers shared by the type checker's modules: positioned errors, depth-tracked IR nodes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from . import ir
from . import syntax as ast
from .errors import RuleError

MAX_IR_DEPTH = 400  # after formula expansion; keeps every recursive walk far from Python's limit


def err(code: str, zh: str, en: str, node: ast.Node | None, **hint) -> RuleError:
    """A RuleError pointing at an AST node's line and column."""
    return RuleError(code, zh, en, node.line if node else 0, node.column if node else 0, hint=hint)


def mk(cls, *args, **kwargs):
    """Build an IR node, tracking depth so no later walk can hit Python's recursion limit."""
    node = cls(*args, **kwargs)
    subs = ir.children(node)
    if subs:
        node.depth = 1 + max(c.depth for c in subs)
        if node.depth > MAX_IR_DEPTH:
            raise RuleError(
                "too_deep",
                f"规则展开公式后嵌套超过 {MAX_IR_DEPTH} 层",
                f"rule is nested deeper than {MAX_IR_DEPTH} levels after expanding formulas",
            )
    return node


def suggest(name: str, candidates: Iterable[str]) -> str:
    """The closest known name, for did-you-mean hints; empty when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else ""
