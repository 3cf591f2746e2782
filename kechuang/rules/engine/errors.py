"""Errors raised while reading, checking or compiling a rule.

Every error carries a stable ``code`` (for a UI to translate), a Chinese and an English
message, and the 1-based line and column where the problem starts, so an officer can
be pointed at the exact spot in the rule text.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class RuleError(Exception):
    """A rule or schema that cannot be compiled; ``code`` is stable, messages are for people."""

    code: str
    message_zh: str
    message_en: str
    line: int = 0
    column: int = 0
    source_name: str = ""
    hint: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where_zh = f"第 {self.line} 行第 {self.column} 列：" if self.line else ""
        where_en = f"line {self.line}, column {self.column}: " if self.line else ""
        prefix = f"[{self.source_name}] " if self.source_name else ""
        return f"{prefix}{where_zh}{self.message_zh} / {where_en}{self.message_en}"

    def with_source(self, name: str) -> RuleError:
        """Return the same error labelled with where the text came from (a variable, a rule)."""
        self.source_name = name
        self.args = (str(self),)
        return self

    def as_dict(self) -> dict:
        """JSON-friendly form for APIs and forms."""
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "line": self.line,
            "column": self.column,
            "source": self.source_name,
            **({"hint": self.hint} if self.hint else {}),
        }
