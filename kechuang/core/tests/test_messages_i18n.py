"""Messages of the validators, parsers and table readers follow the project's i18n convention.

msgids are English; the Chinese lives in the zh_Hans catalogs. The default language
(zh-hans) therefore shows exactly the Chinese the officers have always seen, and a user
who switched to English sees English. The catalog scan at the bottom keeps it that way
for every app: it fails when someone writes a Chinese msgid or leaves a msgstr empty.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kechuang.core.columns import Column, map_columns
from kechuang.core.dates import parse_date
from kechuang.core.parsing import ParseError, parse_amount, parse_bool
from kechuang.core.tablebase import TableError
from kechuang.core.tabular import read_table
from kechuang.core.validators import validate_uscc

PACKAGE_DIR = Path(__file__).resolve().parents[2]  # kechuang/
CJK = re.compile(
    r"[\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)

# English msgids that deliberately quote a Chinese proper name or a value the user types
# (not Chinese sentences). Anything else with Chinese characters in a msgid fails the scan.
ALLOWED_CJK_MSGIDS = frozenset(
    {
        # Chinese names of the stock-exchange boards, shown next to the English ones.
        "NEEQ (新三板)",
        "STAR Market (科创板)",
        "ChiNext (创业板)",
        # Rule-language example: 50万 is how an amount is written in a rule.
        "Optional, e.g. min(rd_expense * 10%, 50万).",
        # 万元 is the unit as it appears in the template's column headers.
        "One row per enterprise and year, matched on credit code + year. Money in 万元 "
        "unless the header says otherwise. A year already confirmed is never overwritten.",
        # Names of the qualifications as registered.
        "Stages from lowest: contest award winner → rising → high-tech enterprise (valid HTE) "
        "→ little giant (valid 科技小巨人, 小巨人培育 or 专精特新“小巨人”) → industry leader. "
        "Rising and leader are reached when every threshold set below holds on the latest "
        "confirmed annual report.",
    }
)

BAD_CHECK_DIGIT = "914403001922038217"  # 华为's code with the last character changed (6 -> 7)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(20)
SPEC = [
    Column("name", "企业名称"),
    Column("uscc", "统一社会信用代码", aliases=("信用代码", "USCC")),
]


def _uscc_message() -> str:
    with pytest.raises(ValidationError) as info:
        validate_uscc(BAD_CHECK_DIGIT)
    return info.value.messages[0]


def _parse_message(parse, value) -> str:
    with pytest.raises(ParseError) as info:
        parse(value)
    return str(info.value)


def _png_message() -> str:
    with pytest.raises(TableError) as info:
        read_table(PNG, "企业名单.xlsx")
    return str(info.value)


def _missing_column_message() -> str:
    mapping = map_columns(["企业名称", "备注"], SPEC)
    assert len(mapping.errors) == 1
    return mapping.errors[0]


MESSAGES = {
    "uscc_check_digit": _uscc_message,
    "date": lambda: _parse_message(parse_date, "下周一"),
    "amount": lambda: _parse_message(parse_amount, "约两百"),
    "amount_unreadable": lambda: _parse_message(parse_amount, "abc"),
    "bool": lambda: _parse_message(parse_bool, "也许"),
    "png_renamed_xlsx": _png_message,
    "missing_column": _missing_column_message,
}

ENGLISH = {
    "uscc_check_digit": (
        "The check character (position 18) of the unified social credit code "
        "“914403001922038217” should be “6” but is “7”; check for a mistyped character."
    ),
    "date": "Cannot read the date “下周一”; write it like 2023-05-01.",
    "amount": ("Cannot read the amount “约两百”: “约” is neither a digit nor a unit of quantity."),
    "amount_unreadable": (
        "Cannot read the amount “abc”: It is not a number with a unit that can be read "
        "(for example 1,234.5万元, 3000元, 壹佰万元)."
    ),
    "bool": "“也许” is not “是/否” (Y/N, 有/无, 1/0, TRUE/FALSE are also accepted).",
    "png_renamed_xlsx": (
        "The content of “企业名单.xlsx” is actually a PNG image, not a table (changing the "
        "file name extension does not change the file format); upload an Excel (.xlsx, .xls) "
        "or CSV file."
    ),
    "missing_column": (
        "Required columns are missing: “统一社会信用代码” (also accepted: 信用代码, USCC)."
    ),
}

# Exactly what these messages said before the msgids became English.
CHINESE = {
    "uscc_check_digit": (
        "统一社会信用代码“914403001922038217”的校验位（第18位）应为“6”，实际是“7”；"
        "请核对是否有输错的字符。"
    ),
    "date": "无法识别日期“下周一”，请写成 2023-05-01 或 2023年5月1日 这样的格式。",
    "amount": "无法识别金额“约两百”：“约”不是数字或数量单位。",
    "amount_unreadable": (
        "无法识别金额“abc”：不是可识别的数字和单位（例如 1,234.5万元、3000元、壹佰万元）。"
    ),
    "bool": "“也许”不是“是/否”（也接受 Y/N、有/无、1/0、TRUE/FALSE）。",
    "png_renamed_xlsx": (
        "“企业名单.xlsx”的内容实际是PNG 图片，不是表格（改文件扩展名不会改变文件格式）；"
        "请上传 Excel（.xlsx、.xls）或 CSV 文件。"
    ),
    "missing_column": "缺少必填列：“统一社会信用代码”（也可写作：信用代码、USCC）。",
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_messages_are_english_for_an_english_user(name):
    with translation.override("en"):
        message = MESSAGES[name]()
    assert message == ENGLISH[name]
    # Only the user's own values (and the column labels of the template) are Chinese.
    assert not CJK.search(_strip_data(message, name))


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_messages_are_the_original_chinese_by_default(name):
    assert MESSAGES[name]() == CHINESE[name]
    with translation.override("zh-hans"):
        assert MESSAGES[name]() == CHINESE[name]


def _strip_data(message: str, name: str) -> str:
    data = {
        "date": ["下周一"],
        "amount": ["约两百", "约"],
        "amount_unreadable": ["万元", "元", "壹佰"],
        "bool": ["也许", "是", "否", "有", "无"],
        "png_renamed_xlsx": ["企业名单"],
        "missing_column": ["统一社会信用代码", "信用代码"],
    }.get(name, [])
    for value in data:
        message = message.replace(value, "")
    return message


def test_messages_follow_the_language_switch_in_one_process():
    """The translation happens when the message is made, not when the module is imported."""
    with translation.override("en"):
        assert _png_message().startswith("The content of")
    assert _png_message().startswith("“企业名单.xlsx”的内容实际是PNG 图片")
    with translation.override("en"):
        assert "a PNG image" in _png_message()


# ---------------------------------------------------------------------------
# Catalog scan
# ---------------------------------------------------------------------------


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False


def parse_po(text: str) -> list[Entry]:
    """A small .po reader (msgctxt, plurals, continuation lines; obsolete #~ entries skipped)."""
    entries: list[Entry] = []
    current: Entry | None = None
    key: tuple[str, int] | None = None
    fuzzy = False

    def finish() -> None:
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            fuzzy = False
            continue
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in [f.strip() for f in line[2:].split(",")]:
                fuzzy = True
            elif not line.startswith("#,") and current is not None and current.msgstr:
                finish()
            continue
        word, _space, rest = line.partition(" ")
        if word.startswith('"'):
            if key is None:
                raise ValueError(f"line {number}: string outside an entry")
            _append(current, key, ast.literal_eval(line))
            continue
        match = re.fullmatch(r"(msgctxt|msgid|msgid_plural|msgstr)(?:\[(\d+)\])?", word)
        if match is None:
            raise ValueError(f"line {number}: cannot read {raw!r}")
        if match.group(1) in ("msgctxt", "msgid") and current is not None and current.msgstr:
            finish()
        if current is None:
            current = Entry(line=number, fuzzy=fuzzy)
            fuzzy = False
        key = (match.group(1), int(match.group(2) or 0))
        _append(current, key, ast.literal_eval(rest), start=True)
    finish()
    return entries


def _append(entry: Entry, key: tuple[str, int], text: str, *, start: bool = False) -> None:
    name, index = key
    if name == "msgstr":
        entry.msgstr[index] = ("" if start else entry.msgstr.get(index, "")) + text
    elif name == "msgctxt":
        entry.msgctxt = ("" if start else entry.msgctxt or "") + text
    elif name == "msgid_plural":
        entry.msgid_plural = ("" if start else entry.msgid_plural or "") + text
    else:
        entry.msgid = ("" if start else entry.msgid) + text


def catalog_problems(path_name: str, text: str, *, translated: bool) -> list[str]:
    """Chinese msgids (anywhere) and missing or fuzzy translations (zh_Hans catalogs)."""
    problems = []
    for entry in parse_po(text):
        if entry.msgid == "" and entry.msgctxt is None:
            continue  # the header
        where = f"{path_name}:{entry.line}"
        for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
            if CJK.search(msgid) and msgid not in ALLOWED_CJK_MSGIDS:
                problems.append(f"{where}: Chinese in msgid {msgid!r}; write it in English")
        if translated:
            if entry.fuzzy:
                problems.append(f"{where}: fuzzy translation of {entry.msgid!r}")
            if not entry.msgstr or not all(entry.msgstr.values()):
                problems.append(f"{where}: no translation for {entry.msgid!r}")
    return problems


def _catalogs() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.po"))


def test_every_catalog_is_found():
    catalogs = _catalogs()
    assert PACKAGE_DIR / "core/locale/zh_Hans/LC_MESSAGES/django.po" in catalogs
    assert PACKAGE_DIR / "locale/zh_Hans/LC_MESSAGES/django.po" in catalogs
    assert len(catalogs) >= 7


@pytest.mark.parametrize("path", _catalogs(), ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_catalog_has_english_msgids_and_full_translations(path):
    text = path.read_text(encoding="utf-8")
    assert parse_po(text), f"{path} has no entries"
    problems = catalog_problems(
        str(path.relative_to(PACKAGE_DIR)), text, translated="zh_Hans" in path.parts
    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "path",
    [p for p in _catalogs() if "zh_Hans" in p.parts],
    ids=lambda p: str(p.relative_to(PACKAGE_DIR)),
)
def test_compiled_catalog_matches_the_po_file(path):
    mo = path.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing; run msgfmt -o django.mo django.po"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001
    stale = []
    for entry in parse_po(path.read_text(encoding="utf-8")):
        if not entry.msgid or entry.fuzzy:
            continue
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            if compiled.get(key) != entry.msgstr.get(0):
                stale.append(entry.msgid)
        elif any(compiled.get((key, n)) != s for n, s in entry.msgstr.items()):
            stale.append(entry.msgid)
    assert not stale, f"{mo} is out of date; recompile it. First stale: {stale[:3]}"


SAMPLE = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

#: models.py:1
msgid "Name"
msgstr "名称"

#, python-format
msgid ""
"统一社会信用代码“%(value)s”"
"不能为空。"
msgstr ""

msgctxt "list separator"
msgid ", "
msgstr "、"

msgid "%(count)s row"
msgid_plural "%(count)s rows"
msgstr[0] ""

#, fuzzy
msgid "Rough"
msgstr "粗略"

#~ msgid "旧的"
#~ msgstr "旧的"
"""


def test_scan_catches_chinese_msgids_and_gaps():
    entries = parse_po(SAMPLE)
    assert [(e.msgctxt, e.msgid) for e in entries] == [
        (None, ""),
        (None, "Name"),
        (None, "统一社会信用代码“%(value)s”不能为空。"),
        ("list separator", ", "),
        (None, "%(count)s row"),
        (None, "Rough"),
    ]
    assert entries[4].msgid_plural == "%(count)s rows"
    problems = catalog_problems("sample.po", SAMPLE, translated=True)
    assert problems == [
        "sample.po:10: Chinese in msgid '统一社会信用代码“%(value)s”不能为空。'; write it in English",
        "sample.po:10: no translation for '统一社会信用代码“%(value)s”不能为空。'",
        "sample.po:19: no translation for '%(count)s row'",
        "sample.po:24: fuzzy translation of 'Rough'",
    ]
    assert catalog_problems("sample.po", SAMPLE, translated=False) == [problems[0]]
