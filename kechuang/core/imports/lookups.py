"""Name/code lookups an import resolves cells against, each loaded in one query."""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _

from kechuang.core.models import Jurisdiction, JurisdictionLevel
from kechuang.core.parsing import ParseError

# Longest first: "街道办事处" must be stripped before "街道", "办事处".
_TOWN_SUFFIXES = ("街道办事处", "办事处", "街道", "镇", "乡")
_PARK_SUFFIXES = ("工业园区", "园区", "经济城", "开发区", "产业园", "工业区")


def name_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).upper()


def strip_suffix(key: str, suffixes: tuple[str, ...]) -> str:
    for suffix in suffixes:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


class JurisdictionLookup:
    """Towns/streets and parks by code or name, tolerant of 镇/街道 (and 园区) variants.

    "莘庄", "莘庄镇" and "莘庄街道" all find 莘庄镇 when only one node carries that
    stem; an ambiguous stem is reported, never guessed.
    """

    def __init__(self) -> None:
        self.by_id: dict[int, Jurisdiction] = {}
        self._exact: dict[tuple[str, str], list[Jurisdiction]] = {}
        self._stem: dict[tuple[str, str], list[Jurisdiction]] = {}
        for node in Jurisdiction.objects.only("id", "code", "name", "level", "parent_id", "path"):
            self.by_id[node.pk] = node
            group = node.level
            suffixes = _PARK_SUFFIXES if group == "park" else _TOWN_SUFFIXES
            for key in {name_key(node.code), name_key(node.name)}:
                self._exact.setdefault((group, key), []).append(node)
            stem = strip_suffix(name_key(node.name), suffixes)
            self._stem.setdefault((group, stem), []).append(node)

    def _find(self, group: str, text: str, suffixes: tuple[str, ...]) -> Jurisdiction:
        key = name_key(text)
        found = self._exact.get((group, key)) or self._stem.get(
            (group, strip_suffix(key, suffixes)), []
        )
        if len(found) == 1:
            return found[0]
        if not found:
            if group == JurisdictionLevel.PARK:
                message = _("Unknown park “%(value)s” (give its name or code).")
            else:
                message = _("Unknown town / street “%(value)s” (give its name or code).")
            raise ParseError(message % {"value": text}, code="unknown_jurisdiction")
        names = "、".join(sorted(node.name for node in found))
        raise ParseError(
            _("“%(value)s” matches several jurisdictions (%(names)s); write the full name or code.")
            % {"value": text, "names": names},
            code="ambiguous_jurisdiction",
        )

    def town(self, text: str) -> Jurisdiction:
        return self._find(JurisdictionLevel.TOWN, text, _TOWN_SUFFIXES)

    def park(self, text: str) -> Jurisdiction:
        return self._find(JurisdictionLevel.PARK, text, _PARK_SUFFIXES)
