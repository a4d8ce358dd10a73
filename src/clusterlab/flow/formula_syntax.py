"""Syntax of the formula language: tokenizer, Pratt parser, AST and printer.

The language is deliberately small and never evaluated by Python (no ``eval``):
a formula is parsed to the AST below, then `clusterlab.flow.formula` compiles the AST
to an Ibis expression.

Grammar, loosest binding first::

    or / ||  <  and / &&  <  not / !  <  == != <> = < <= > >=  <  + -  <  * / %  <  unary -

Operands are numbers (``3``, ``2.5``, ``1e3``), strings (``"a"`` or ``'a'`` with
``\\`` escapes), ``true``/``false``/``null``, column names (bare identifiers, or
``val("any name")``), parenthesised expressions and calls ``name(arg, ...)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import get_close_matches

from clusterlab.core.errors import InvalidInputError

MAX_DEPTH = 100
_INT64_MAX = 2**63 - 1

# name → (min args, max args or None for any); names are matched case-insensitively.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "if": (3, 3),
    "coalesce": (1, None),
    "isNull": (1, 1),
    "isNotNull": (1, 1),
    "isBlank": (1, 1),
    "round": (1, 2),
    "abs": (1, 1),
    "floor": (1, 1),
    "ceil": (1, 1),
    "min": (1, None),
    "max": (1, None),
    "toNumber": (1, 1),
    "toInteger": (1, 1),
    "toString": (1, 1),
    "length": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "trim": (1, 1),
    "concat": (1, None),
    "contains": (2, 2),
    "startsWith": (2, 2),
    "endsWith": (2, 2),
    "replace": (3, 3),
    "year": (1, 1),
    "month": (1, 1),
    "day": (1, 1),
    "hour": (1, 1),
}
_CANONICAL = {name.lower(): name for name in FUNCTIONS}
_KEYWORDS = {"and", "or", "not", "true", "false", "null"}
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}
# Left binding power of infix operators: a higher one binds tighter.
_INFIX = {"or": 10, "and": 20, **dict.fromkeys(_COMPARISONS, 40), "+": 50, "-": 50}
_INFIX.update({"*": 60, "/": 60, "%": 60})
_NOT_POWER = 30
_NEG_POWER = 70
_ALIASES = {"&&": "and", "||": "or", "!": "not", "=": "==", "<>": "!="}
_OPERATORS = ["==", "!=", "<>", "<=", ">=", "&&", "||", "<", ">", "=", "!", "+", "-", "*", "/", "%"]
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}


class FormulaError(InvalidInputError):
    """A formula cannot be parsed or compiled.

    Attributes
    ----------
    reason : str
        What is wrong, without the location.
    expression : str
        The whole formula.
    position : int
        1-based character position of the problem in ``expression``.
    where : str
        The recipe step or parameter holding the formula, if known.
    """

    def __init__(self, reason: str, expression: str, offset: int, where: str = "") -> None:
        self.reason = reason
        self.expression = expression
        self.position = max(0, min(offset, len(expression))) + 1
        self.where = where
        super().__init__(self._render())

    def _render(self) -> str:
        start = self.expression.rfind("\n", 0, self.position - 1) + 1
        end = self.expression.find("\n", start)
        line = self.expression[start : end if end >= 0 else None]
        caret = " " * (self.position - 1 - start) + "^"
        prefix = f"{self.where[:1].upper()}{self.where[1:]}: " if self.where else ""
        return (
            f"{prefix}Formula error at position {self.position}: {self.reason}\n  {line}\n  {caret}"
        )

    def located(self, where: str) -> FormulaError:
        """Return the same error, saying which step or parameter holds the formula."""
        return FormulaError(self.reason, self.expression, self.position - 1, where)


# ---------------------------------------------------------------- AST


@dataclass(frozen=True)
class Literal:
    """A number, string, boolean or null constant."""

    value: int | float | str | bool | None
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ColumnRef:
    """A column of the input table."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Unary:
    """``-operand`` or ``not operand``."""

    op: str
    operand: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    """An infix operation; ``op`` is canonical (``and``, ``==``, ``+``, ...)."""

    op: str
    left: Node
    right: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A function call; ``name`` is the canonical spelling from `FUNCTIONS`."""

    name: str
    args: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


Node = Literal | ColumnRef | Unary | Binary | Call


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, ident, op, (, ), ",", end
    text: str
    value: int | float | str | None
    pos: int


# ---------------------------------------------------------------- tokenizer


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``end`` token."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "0123456789" or (ch == "." and i + 1 < n and text[i + 1] in "0123456789"):
            i = _number(text, i, tokens)
        elif ch in "\"'":
            i = _string(text, i, tokens)
        elif ch.isalpha() or ch == "_":
            start = i
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(Token("ident", text[start:i], text[start:i], start))
        elif ch in "(),":
            tokens.append(Token(ch, ch, None, i))
            i += 1
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise FormulaError(f"unexpected character {ch!r}", text, i)
            tokens.append(Token("op", op, _ALIASES.get(op, op), i))
            i += len(op)
    tokens.append(Token("end", "", None, n))
    return tokens


def _number(text: str, i: int, tokens: list[Token]) -> int:
    match = _NUMBER.match(text, i)
    assert match is not None  # the caller saw a digit
    raw = match.group()
    value: int | float
    if raw.isdigit():
        value = int(raw)
        if value > _INT64_MAX:
            raise FormulaError("this number is too large", text, i)
    else:
        value = float(raw)
        if value in (float("inf"), float("-inf")):
            raise FormulaError("this number is too large", text, i)
    tokens.append(Token("num", raw, value, i))
    return match.end()


def _string(text: str, i: int, tokens: list[Token]) -> int:
    quote, start, j = text[i], i, i + 1
    chars: list[str] = []
    while j < len(text):
        ch = text[j]
        if ch == quote:
            tokens.append(Token("str", text[start : j + 1], "".join(chars), start))
            return j + 1
        if ch == "\\":
            if j + 1 >= len(text) or text[j + 1] not in _ESCAPES:
                raise FormulaError(
                    "unknown escape: use \\\\ \\\" \\' \\n or \\t inside strings", text, j
                )
            chars.append(_ESCAPES[text[j + 1]])
            j += 2
        else:
            chars.append(ch)
            j += 1
    raise FormulaError(f"this string is never closed: add {quote} at its end", text, start)


# ---------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, reason: str, tok: Token) -> FormulaError:
        return FormulaError(reason, self.text, tok.pos)

    def expect(self, kind: str, opening: Token) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            where = f" to close the '(' at position {opening.pos + 1}" if kind == ")" else ""
            found = "the end of the formula" if tok.kind == "end" else repr(tok.text)
            raise self.fail(f"expected '{kind}'{where}, found {found}", tok)
        return self.advance()

    def expression(self, min_power: int = 0) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the formula is nested more than {MAX_DEPTH} levels", self.peek())
        left = self.prefix(self.advance())
        while (power := self.infix_power(self.peek())) > min_power:
            tok = self.advance()
            op = str(tok.value).lower()
            right = self.expression(power)
            if op in _COMPARISONS and self.infix_power(self.peek()) == power:
                raise self.fail(
                    "comparisons cannot be chained: combine them with 'and'", self.peek()
                )
            left = Binary(op, left, right, tok.pos)
        self.depth -= 1
        return left

    def infix_power(self, tok: Token) -> int:
        if tok.kind == "op" or (tok.kind == "ident" and tok.text.lower() in ("and", "or")):
            return _INFIX.get(str(tok.value).lower(), 0)
        return 0

    def prefix(self, tok: Token) -> Node:
        if tok.kind == "num" or tok.kind == "str":
            return Literal(tok.value, tok.pos)
        if tok.kind == "(":
            inner = self.expression()
            self.expect(")", tok)
            return inner
        if tok.kind == "op" and tok.value in ("-", "+"):
            operand = self.expression(_NEG_POWER)
            return Unary("-", operand, tok.pos) if tok.value == "-" else operand
        if tok.kind == "op" and tok.value == "not":
            return Unary("not", self.expression(_NOT_POWER), tok.pos)
        if tok.kind == "ident":
            return self.identifier(tok)
        if tok.kind == "end":
            raise self.fail("the formula ends where a value is expected", tok)
        raise self.fail(f"unexpected {tok.text!r} where a value is expected", tok)

    def identifier(self, tok: Token) -> Node:
        word = tok.text.lower()
        if word in ("true", "false"):
            return Literal(word == "true", tok.pos)
        if word == "null":
            return Literal(None, tok.pos)
        if word == "not":
            return Unary("not", self.expression(_NOT_POWER), tok.pos)
        if word in ("and", "or"):
            raise self.fail(f"'{tok.text}' needs a value on its left", tok)
        if self.peek().kind != "(":
            return ColumnRef(tok.text, tok.pos)
        opening = self.advance()
        args = self.arguments(opening)
        if word == "val":
            if (
                len(args) != 1
                or not isinstance(args[0], Literal)
                or not isinstance(args[0].value, str)
            ):
                raise self.fail('val() takes one string: the column name, as in val("a b")', tok)
            return ColumnRef(args[0].value, tok.pos)
        name = _CANONICAL.get(word)
        if name is None:
            close = get_close_matches(word, list(_CANONICAL), n=3)
            hint = f"; did you mean {', '.join(_CANONICAL[c] for c in close)}?" if close else ""
            raise self.fail(f"unknown function {tok.text!r}{hint}", tok)
        low, high = FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            wanted = (
                str(low)
                if low == high
                else f"{low} or more"
                if high is None
                else (f"{low} to {high}")
            )
            raise self.fail(f"{name}() takes {wanted} arguments, got {len(args)}", tok)
        return Call(name, tuple(args), tok.pos)

    def arguments(self, opening: Token) -> list[Node]:
        args: list[Node] = []
        if self.peek().kind == ")":
            self.advance()
            return args
        while True:
            args.append(self.expression())
            if self.peek().kind == ",":
                self.advance()
                continue
            self.expect(")", opening)
            return args


def parse(text: str) -> Node:
    """Parse a formula into its AST, raising `FormulaError` on any syntax error.

    Examples
    --------
    >>> to_source(parse("a + 2 * 3"))
    '(a + (2 * 3))'
    """
    if not text.strip():
        raise FormulaError("the formula is empty", text, 0)
    parser = _Parser(text)
    node = parser.expression()
    tok = parser.peek()
    if tok.kind != "end":
        raise parser.fail(f"unexpected {tok.text!r} after a complete expression", tok)
    return node


# ---------------------------------------------------------------- printer and walkers


def _is_bare(name: str) -> bool:
    return (
        (name[:1].isalpha() or name[:1] == "_")
        and all(c.isalnum() or c == "_" for c in name)
        and name.lower() not in _KEYWORDS | {"val"}
    )


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def to_source(node: Node) -> str:
    """Print an AST back as formula text (fully parenthesised) that parses to it."""
    if isinstance(node, Literal):
        if node.value is None or isinstance(node.value, bool):
            return {None: "null", True: "true", False: "false"}[node.value]
        return _quote(node.value) if isinstance(node.value, str) else repr(node.value)
    if isinstance(node, ColumnRef):
        return node.name if _is_bare(node.name) else f"val({_quote(node.name)})"
    if isinstance(node, Unary):
        return f"({node.op} {to_source(node.operand)})"
    if isinstance(node, Binary):
        return f"({to_source(node.left)} {node.op} {to_source(node.right)})"
    return f"{node.name}({', '.join(to_source(a) for a in node.args)})"


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def referenced_columns(node: Node) -> list[str]:
    """Column names a formula reads, in first-use order.

    Examples
    --------
    >>> referenced_columns(parse('a + val("b c") * a'))
    ['a', 'b c']
    """
    found: dict[str, None] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ColumnRef):
            found.setdefault(current.name)
        stack.extend(reversed(children(current)))
    return list(found)
