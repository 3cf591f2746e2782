"""Parse rule text into an untyped AST, refusing anything unsafe before it reaches Python.

The parser is lark's LALR with an inline transformer: the AST is built while parsing,
without recursion, and every node records its depth so that deep nesting is refused
with a RuleError instead of a RecursionError later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from .errors import RuleError
from .types import CODE_RE, ValueType

MAX_SOURCE_LENGTH = 10_000  # characters of rule text
MAX_DEPTH = 64  # nesting depth of the AST (parentheses, operators, calls)
MAX_LITERAL = Decimal(10) ** 15  # 1000 万亿: larger literals are typos, not policy

UNITS = {
    "万元": (Decimal(10_000), ValueType.MONEY),
    "亿元": (Decimal(100_000_000), ValueType.MONEY),
    "万": (Decimal(10_000), ValueType.MONEY),
    "亿": (Decimal(100_000_000), ValueType.MONEY),
    "元": (Decimal(1), ValueType.MONEY),
    "%": (Decimal("0.01"), ValueType.RATIO),
    "％": (Decimal("0.01"), ValueType.RATIO),
    "年": (Decimal(1), ValueType.DURATION),
}
KEYWORDS = frozenset(
    {"and", "or", "not", "in", "between", "case", "when", "then", "else", "end", "true", "false"}
)
OPERATOR_ALIASES = {"≤": "<=", "≥": ">=", "≠": "!=", "×": "*", "÷": "/"}


# --- AST -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    line: int
    column: int
    depth: int


@dataclass(frozen=True, slots=True)
class Number(Node):
    value: float
    type: ValueType
    text: str


@dataclass(frozen=True, slots=True)
class String(Node):
    value: str


@dataclass(frozen=True, slots=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True, slots=True)
class Name(Node):
    code: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class BinOp(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Negate(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Compare(Node):
    ops: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Between(Node):
    operand: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class InList(Node):
    operand: Node
    items: tuple[Number | String, ...]
    negate: bool


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True, slots=True)
class Case(Node):
    branches: tuple[tuple[Node, Node], ...]
    default: Node


# --- parsing ---------------------------------------------------------------------------


def _pos(tok: Token) -> tuple[int, int]:
    return tok.line or 0, tok.column or 0


def _depth(*children: object) -> int:
    depth = 1 + max((c.depth for c in children if isinstance(c, Node)), default=0)
    if depth > MAX_DEPTH:
        node = next(c for c in children if isinstance(c, Node))
        raise RuleError(
            "too_deep",
            f"规则嵌套超过 {MAX_DEPTH} 层，请拆分为多个条件或公式变量",
            f"rule is nested deeper than {MAX_DEPTH} levels; split it into smaller parts",
            node.line,
            node.column,
        )
    return depth


def _number(tok: Token, negative: bool = False) -> Number:
    text = str(tok)
    unit = next((u for u in UNITS if text.endswith(u)), "")
    factor, vtype = UNITS.get(unit, (Decimal(1), ValueType.NUMBER))
    value = Decimal(text[: len(text) - len(unit)]) * factor
    line, col = _pos(tok)
    if value > MAX_LITERAL:
        raise RuleError(
            "number_too_large",
            f"数值 {text} 过大（上限 1000万亿）",
            f"number {text} is too large (limit 10**15)",
            line,
            col,
        )
    return Number(line, col, 1, float(-value if negative else value), vtype, text)


def _check_name(tok: Token) -> str:
    name = str(tok)
    line, col = _pos(tok)
    if name.startswith("_") or "__" in name:
        raise RuleError(
            "forbidden_name",
            f"不允许使用名称 {name!r}（下划线开头或含双下划线的名称被禁止）",
            f"name {name!r} is not allowed (leading or double underscores are forbidden)",
            line,
            col,
        )
    if name in KEYWORDS:
        raise RuleError(
            "syntax",
            f"此处不应出现关键字 {name!r}",
            f"unexpected keyword {name!r}",
            line,
            col,
        )
    if not CODE_RE.match(name):
        raise RuleError(
            "bad_name",
            f"名称 {name!r} 无效：变量代码只能使用小写字母、数字和下划线",
            f"invalid name {name!r}: variable codes are lowercase ascii snake_case",
            line,
            col,
        )
    return name


def _refuse(code: str, zh: str, en: str, tok: Token) -> RuleError:
    line, col = _pos(tok)
    return RuleError(code, zh, en, line, col)


class _Builder(Transformer):
    """Inline LALR callbacks that build AST nodes; unsafe constructs raise here."""

    def start(self, c):
        return c[0]

    def number(self, c):
        return _number(c[0])

    def neg_number(self, c):
        return _number(c[1], negative=True)

    def string(self, c):
        text = str(c[0])[1:-1]
        return String(*_pos(c[0]), 1, text)

    def true(self, c):
        return Boolean(*_pos(c[0]), 1, True)

    def false(self, c):
        return Boolean(*_pos(c[0]), 1, False)

    def name(self, c):
        return Name(*_pos(c[0]), 1, _check_name(c[0]))

    def group(self, c):
        inner = c[1]
        _depth(inner)  # parentheses count towards depth even though they add no node
        return replace(inner, depth=inner.depth + 1)

    def call(self, c):
        name_tok, _lpar, args = c
        name = _check_name(name_tok)
        positional, keywords, seen = [], [], set()
        for arg in args or ():
            if isinstance(arg, tuple):
                key_tok, value = arg
                key = _check_name(key_tok)
                if key in seen:
                    raise _refuse(
                        "duplicate_argument",
                        f"参数 {key} 重复",
                        f"argument {key!r} given twice",
                        key_tok,
                    )
                seen.add(key)
                keywords.append((key, value))
            else:
                if keywords:
                    raise RuleError(
                        "syntax",
                        "位置参数必须写在关键字参数之前",
                        "positional argument follows keyword argument",
                        arg.line,
                        arg.column,
                    )
                positional.append(arg)
        children = positional + [v for _, v in keywords]
        return Call(*_pos(name_tok), _depth(*children), name, tuple(positional), tuple(keywords))

    def args(self, c):
        return [a for a in c if a is not None]

    def kwarg(self, c):
        return (c[0], c[1])

    def binop(self, c):
        left, op, right = c
        return BinOp(
            *_pos(op), _depth(left, right), OPERATOR_ALIASES.get(str(op), str(op)), left, right
        )

    def neg(self, c):
        operand = c[1]
        if isinstance(operand, Number):  # fold "-5" so lists and year offsets stay literal
            return Number(
                *_pos(c[0]), operand.depth, -operand.value, operand.type, "-" + operand.text
            )
        return Negate(*_pos(c[0]), _depth(operand), operand)

    def pos(self, c):
        return c[1]

    def power(self, c):
        raise _refuse(
            "power_not_allowed",
            "不支持乘方运算（** 或 ^），请改用乘法",
            "the power operator (** or ^) is not supported; use multiplication",
            c[1],
        )

    def attribute(self, c):
        raise _refuse(
            "attribute_not_allowed",
            "不支持属性访问（“.”）；请直接使用变量代码或函数",
            "attribute access ('.') is not allowed; use a variable code or a function",
            c[1],
        )

    def subscript(self, c):
        raise _refuse(
            "subscript_not_allowed",
            "不支持下标访问（“[...]”），列表只能出现在 in 之后",
            "subscripts ('[...]') are not allowed; lists may only follow 'in'",
            c[1],
        )

    def compare(self, c):
        operands = tuple(c[0::2])
        ops = tuple(OPERATOR_ALIASES.get(str(t), str(t)) for t in c[1::2])
        return Compare(*_pos(c[1]), _depth(*operands), ops, operands)

    def between(self, c):
        operand, kw, low, _and, high = c
        return Between(*_pos(kw), _depth(operand, low, high), operand, low, high)

    def in_list(self, c):
        operand, kw, items = c
        return InList(*_pos(kw), _depth(operand), operand, items, False)

    def not_in_list(self, c):
        operand, kw, _in, items = c
        return InList(*_pos(kw), _depth(operand), operand, items, True)

    def list(self, c):
        return tuple(item for item in c[1:] if item is not None)

    def _boolop(self, op: str, c):
        left, tok, right = c
        # Flatten "a and b and c" into one node so explanations list clauses side by side.
        operands = (
            *(left.operands if isinstance(left, BoolOp) and left.op == op else (left,)),
            right,
        )
        return BoolOp(*_pos(tok), _depth(*operands), op, operands)

    def bool_and(self, c):
        return self._boolop("and", c)

    def bool_or(self, c):
        return self._boolop("or", c)

    def bool_not(self, c):
        return Not(*_pos(c[0]), _depth(c[1]), c[1])

    def case(self, c):
        parts = [x for x in c if isinstance(x, Node)]
        *pairs, default = parts
        branches = tuple((pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2))
        return Case(*_pos(c[0]), _depth(*parts), branches, default)


@cache
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", transformer=_Builder(), maybe_placeholders=True)


_OPENERS = {"(": ")", "（": "）", "[": "]"}
_TOKEN_ZH = {
    "$END": "规则结尾",
    "_RPAR": "右括号 )",
    "LPAR": "左括号 (",
    "COMP_OP": "比较运算符",
    "NAME": "变量或函数名",
    "NUMBER": "数字",
    "STRING": "文本",
    "AND": "and",
    "OR": "or",
    "THEN": "then",
    "ELSE": "else",
    "END": "end",
    "MINUS": "负号 -",
    "CASE": "case",
    "WHEN": "when",
    "NOT": "not",
    "TRUE": "true",
    "FALSE": "false",
    "ADD_OP": "+ -",
    "MUL_OP": "* /",
    "IN": "in",
    "BETWEEN": "between",
    "LSQB": "[",
}


def _prescan(text: str) -> None:
    """Refuse over-long input and runaway bracket nesting before lark sees the text."""
    if len(text) > MAX_SOURCE_LENGTH:
        _prescan_depth(text[: MAX_SOURCE_LENGTH + 1])  # report runaway nesting first
        raise RuleError(
            "too_long",
            f"规则文本过长（{len(text)} 个字符，上限 {MAX_SOURCE_LENGTH}）",
            f"rule text is too long ({len(text)} characters, limit {MAX_SOURCE_LENGTH})",
            1,
            1,
        )
    _prescan_depth(text)


def _prescan_depth(text: str) -> None:
    depth, line, col, quote = 0, 1, 0, ""
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in '"“':
            quote = '"' if ch == '"' else "”"
        elif ch in _OPENERS:
            depth += 1
            if depth > MAX_DEPTH:
                raise RuleError(
                    "too_deep",
                    f"括号嵌套超过 {MAX_DEPTH} 层",
                    f"brackets are nested deeper than {MAX_DEPTH} levels",
                    line,
                    col,
                )
        elif ch in ")）]":
            depth = max(0, depth - 1)


def parse(text: str) -> Node:
    """Parse rule text into an AST; any problem becomes a RuleError with a position."""
    if not isinstance(text, str):
        raise RuleError("syntax", "规则必须是文本", "rule must be a string")
    _prescan(text)
    if not text.strip():
        raise RuleError("empty", "规则为空", "rule is empty", 1, 1)
    try:
        return _parser().parse(text)
    except RuleError:
        raise
    except UnexpectedCharacters as exc:
        ch = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        if ch == "=":
            zh, en = (
                "单个“=”只能用于关键字参数；比较相等请写“==”",
                "single '=' is only for keyword arguments; use '==' to compare",
            )
        elif ch in "'‘’":
            zh, en = (
                '文本请使用双引号，例如 "高新技术企业"',
                'use double quotes for text, e.g. "高新技术企业"',
            )
        else:
            zh, en = f"无法识别的字符 {ch!r}", f"unexpected character {ch!r}"
        raise RuleError("syntax", zh, en, exc.line, exc.column) from None
    except UnexpectedToken as exc:
        tok = exc.token
        expected = sorted(e for e in exc.expected if e not in {"DOT", "POW", "LSQB", "PLUS"})[:8]
        expected_zh = "、".join(_TOKEN_ZH.get(e, e) for e in expected)
        if tok.type == "$END":
            zh = f"规则不完整，在结尾处缺少内容（期望：{expected_zh}）"
            en = f"rule ends too early (expected: {', '.join(expected)})"
            line, col = _end_position(text)
        else:
            zh = f"此处不应出现 {str(tok)!r}（期望：{expected_zh}）"
            en = f"unexpected {str(tok)!r} (expected: {', '.join(expected)})"
            line, col = tok.line, tok.column
        raise RuleError("syntax", zh, en, line, col) from None
    except UnexpectedEOF:
        line, col = _end_position(text)
        raise RuleError("syntax", "规则不完整", "rule ends too early", line, col) from None


def _end_position(text: str) -> tuple[int, int]:
    lines = text.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1
