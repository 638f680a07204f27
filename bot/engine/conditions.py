"""The small, safe expression language of branch conditions. Never Python eval.

    energy <= 2
    focus == "staff" or focus == "self"
    "stuck" in feelings and not (energy > 3)
    mood in ["low", "flat"]

Names are step ids and stand for their answers (an option's value, a list of values for a
multi-choice, a number for a scale, text); an unanswered or skipped step is `none`. Comparing
`none` with `<`, `<=`, `>`, `>=` or `in` is false rather than an error, so a skipped optional
step never breaks a flow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>"[^"\\]*"|'[^'\\]*')
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
#: Words with a meaning of their own in a condition; a step id cannot be one of them.
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "none"})
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "in", "not in"}


class ConditionError(ValueError):
    """A condition that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class _Literal:
    value: Any


@dataclass(frozen=True)
class _Name:
    name: str


@dataclass(frozen=True)
class _List:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class _Not:
    operand: Node


@dataclass(frozen=True)
class _Logic:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class _Compare:
    op: str
    left: Node
    right: Node


Node = _Literal | _Name | _List | _Not | _Logic | _Compare


def _tokenise(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ConditionError(
                f"cannot read {text[position:].strip()[:20]!r} at character {position + 1}"
            )
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "name" and value in KEYWORDS:
            kind = "keyword"
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokenise(expression)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ConditionError("the condition ends too soon")
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        token = self.take()
        if token[1] != value:
            raise ConditionError(f"expected {value!r} but found {token[1]!r}")

    def parse(self) -> Node:
        if not self.tokens:
            raise ConditionError("the condition is empty")
        node = self.logic_or()
        if self.peek() is not None:
            raise ConditionError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def logic_or(self) -> Node:
        node = self.logic_and()
        while self.peek() == ("keyword", "or"):
            self.take()
            node = _Logic("or", node, self.logic_and())
        return node

    def logic_and(self) -> Node:
        node = self.logic_not()
        while self.peek() == ("keyword", "and"):
            self.take()
            node = _Logic("and", node, self.logic_not())
        return node

    def logic_not(self) -> Node:
        if self.peek() == ("keyword", "not"):
            self.take()
            return _Not(self.logic_not())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.primary()
        token = self.peek()
        if token is None:
            return left
        op = token[1]
        if token == ("keyword", "not"):
            self.take()
            self.expect("in")
            op = "not in"
        elif op in _COMPARISONS:
            self.take()
        else:
            return left
        return _Compare(op, left, self.primary())

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "number":
            return _Literal(float(value) if "." in value else int(value))
        if kind == "string":
            return _Literal(value[1:-1])
        if kind == "name":
            return _Name(value)
        if kind == "keyword" and value in ("true", "false", "none"):
            return _Literal({"true": True, "false": False, "none": None}[value])
        if value == "(":
            node = self.logic_or()
            self.expect(")")
            return node
        if value == "[":
            items: list[Node] = []
            while self.peek() != ("op", "]"):
                items.append(self.primary())
                if self.peek() == ("op", ","):
                    self.take()
                elif self.peek() != ("op", "]"):
                    raise ConditionError("expected ',' or ']' in a list")
            self.take()
            return _List(tuple(items))
        raise ConditionError(f"unexpected {value!r}")


@cache
def parse(expression: str) -> Node:
    """Parse a condition; raises ConditionError with a readable reason."""
    return _Parser(expression).parse()


def names(expression: str) -> set[str]:
    """The step ids a condition refers to."""
    found: set[str] = set()

    def walk(node: Node) -> None:
        if isinstance(node, _Name):
            found.add(node.name)
        elif isinstance(node, _List):
            for item in node.items:
                walk(item)
        elif isinstance(node, _Not):
            walk(node.operand)
        elif isinstance(node, _Logic | _Compare):
            walk(node.left)
            walk(node.right)

    walk(parse(expression))
    return found


def compared(expression: str) -> list[tuple[str, Any]]:
    """Each (step id, literal) a condition compares an answer with: `mood in ["low", "flat"]`
    gives ("mood", "low") and ("mood", "flat"); `"stuck" in feelings` gives ("feelings",
    "stuck")."""
    found: list[tuple[str, Any]] = []

    def literals(node: Node) -> list[Any]:
        if isinstance(node, _Literal):
            return [node.value]
        if isinstance(node, _List):
            return [item.value for item in node.items if isinstance(item, _Literal)]
        return []

    def walk(node: Node) -> None:
        if isinstance(node, _Compare):
            for name, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(name, _Name):
                    found.extend((name.name, value) for value in literals(other))
        elif isinstance(node, _Not):
            walk(node.operand)
        elif isinstance(node, _Logic):
            walk(node.left)
            walk(node.right)

    walk(parse(expression))
    return found


def evaluate(expression: str, answers: dict[str, Any]) -> bool:
    """True when the condition holds for these answers."""
    return bool(_value(parse(expression), answers))


def _value(node: Node, answers: dict[str, Any]) -> Any:
    if isinstance(node, _Literal):
        return node.value
    if isinstance(node, _Name):
        return answers.get(node.name)
    if isinstance(node, _List):
        return [_value(item, answers) for item in node.items]
    if isinstance(node, _Not):
        return not _value(node.operand, answers)
    if isinstance(node, _Logic):
        left = _value(node.left, answers)
        if node.op == "and":
            return bool(left) and bool(_value(node.right, answers))
        return bool(left) or bool(_value(node.right, answers))
    return _compare(node.op, _value(node.left, answers), _value(node.right, answers))


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op in ("in", "not in"):
        if right is None or left is None:
            return op == "not in"
        try:
            inside = left in right
        except TypeError:
            inside = False
        return inside if op == "in" else not inside
    try:
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False
