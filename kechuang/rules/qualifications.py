"""Resolve the qualification a rule names to QualificationType rows: by code or by name.

Rules are written by people and the library names qualifications in Chinese
(``has_qualification("专精特新“小巨人”企业")``); the enterprises app keys types by
code (HTE, SRDI_GIANT …) and its names may differ in quotes or a trailing 企业. A
reference resolves, in order, to the type with exactly that name, the type with that
code (any case), or the one type whose normalised name matches (NFKC, quotes and
spaces dropped, trailing 企业 dropped). Anything else is *unresolved*: the loader
treats it as "not held" and the rule page warns about it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

QUOTES = frozenset("“”\"'‘’「」『』《》〈〉«»＂＇`")


def normalise(name: str) -> str:
    text = unicodedata.normalize("NFKC", str(name))
    text = "".join(ch for ch in text if ch not in QUOTES and not ch.isspace())
    if text.endswith("企业") and len(text) > 2:
        text = text[:-2]
    return text.casefold()


class QualificationIndex:
    """QualificationType rows (id, code, name) indexed for resolution."""

    def __init__(self, rows: Iterable[tuple[int, str, str]]):
        self.rows = [(int(i), str(c), str(n)) for i, c, n in rows]
        self.by_name = {n: i for i, _, n in self.rows}
        self.by_code = {c.casefold(): i for i, c, _ in self.rows}
        by_norm: dict[str, set[int]] = {}
        for i, _, n in self.rows:
            by_norm.setdefault(normalise(n), set()).add(i)
        self.by_norm = by_norm

    def resolve(self, ref: str) -> int | None:
        """The QualificationType id a rule's reference means, or None."""
        if ref in self.by_name:
            return self.by_name[ref]
        code = str(ref).strip().casefold()
        if code in self.by_code:
            return self.by_code[code]
        found = self.by_norm.get(normalise(ref), set())
        return next(iter(found)) if len(found) == 1 else None

    def unresolved(self, refs: Iterable[str]) -> list[str]:
        return sorted({r for r in refs if self.resolve(r) is None})

    def names(self) -> set[str]:
        """Every spelling the schema accepts outright: names and codes."""
        return {n for _, _, n in self.rows} | {c for _, c, _ in self.rows}


class AcceptedNames(frozenset):
    """The schema's qualification names, also matching normalised spellings.

    The engine checks ``name in schema.qualifications``; this keeps "a typo is a
    compile error" while 专精特新"小巨人"企业 (ASCII quotes) or 高新技术 compile.
    """

    def __new__(cls, names: Iterable[str]):
        self = super().__new__(cls, names)
        self._norm = frozenset(normalise(n) for n in self)
        return self

    def __contains__(self, name) -> bool:
        if frozenset.__contains__(self, name):
            return True
        return isinstance(name, str) and normalise(name) in self._norm
