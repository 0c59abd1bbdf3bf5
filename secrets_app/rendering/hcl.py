"""A tiny HCL writer for the few Terraform shapes the portal emits.

Every string is written as a quoted literal with all escapes HCL defines, so
nothing a requester types can become an interpolation or a directive: the
``$`` of ``${`` and the ``%`` of ``%{`` are written as the escapes ``\\u0024``
and ``\\u0025``. HCL recognises ``${``/``%{`` in the source text before it
decodes escapes (hclsyntax's scanner, then ``ParseStringLiteralToken``), so
``"\\u0024{x}"`` is the literal text ``${x}``, exactly like ``"$${x}"``. The
doubled form was the first choice, but python-hcl2 (the parser our checks
use) rejects ``"$${"`` without a closing brace and returns ``$${`` undecoded;
with the escape, a rendered file never contains ``${`` or ``%{`` at all and
both parsers return exactly the original value.

The only unquoted expressions are ``Ref`` objects (references between our
own resources), checked against a strict pattern. The layout is close to
what ``terraform fmt`` produces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union

_IDENTIFIER = re.compile(r"\A[A-Za-z_][A-Za-z0-9_-]*\Z")
_REFERENCE = re.compile(r"\A[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+\Z")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
INDENT = "  "


@dataclass(frozen=True)
class Ref:
    """A reference expression such as ``aws_iam_role.x.arn``, written unquoted."""

    expr: str

    def __post_init__(self) -> None:
        if not _REFERENCE.match(self.expr):
            raise ValueError(f"not a reference: {self.expr!r}")


Value = Union[str, int, bool, Ref, Sequence["Value"], Mapping[str, "Value"]]  # noqa: UP007


@dataclass(frozen=True)
class Block:
    """``type "label" ... { body }``; body items are (name, value) or nested blocks."""

    type: str
    labels: tuple[str, ...]
    body: tuple[tuple[str, Value] | Block, ...]

    def __post_init__(self) -> None:
        for name in (self.type, *self.labels):
            _identifier(name)


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not an HCL identifier: {name!r}")
    return name


def _escape_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ch.isprintable():
        return ch
    code = ord(ch)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _one_line(text: str) -> str:
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def quote(text: str) -> str:
    """``text`` as an HCL quoted string literal that evaluates to exactly ``text``."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        body = text
    else:
        body = "".join(_escape_char(ch) for ch in text)
    # The escapes above never produce '$', '%' or '{', so this cannot create
    # a new "${" or "%{".
    if "{" in body:
        body = body.replace("${", "\\u0024{").replace("%{", "\\u0025{")
    return f'"{body}"'


def _value(value: Value, depth: int) -> str:
    # bool before int: bool is a subclass of int.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Ref):
        return value.expr
    pad = INDENT * (depth + 1)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        width = max(len(quote(k)) for k in value)
        lines = [f"{pad}{quote(k):<{width}} = {_value(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + "\n".join(lines) + "\n" + INDENT * depth + "}"
    if isinstance(value, Sequence):
        items = [_value(v, depth + 1) for v in value]
        if len(items) <= 1:
            return "[" + "".join(items) + "]"
        return "[\n" + "".join(f"{pad}{item},\n" for item in items) + INDENT * depth + "]"
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _body(items: Iterable[tuple[str, Value] | Block], depth: int) -> list[str]:
    lines: list[str] = []
    pad = INDENT * depth
    group: list[tuple[str, str]] = []

    def flush() -> None:
        # terraform fmt aligns '=' across consecutive single-line attributes.
        width = max((len(n) for n, t in group if "\n" not in t), default=0)
        for name, text in group:
            if "\n" in text:
                lines.append(f"{pad}{name} = {text}")
            else:
                lines.append(f"{pad}{name:<{width}} = {text}")
        group.clear()

    for item in items:
        if isinstance(item, Block):
            flush()
            if lines:
                lines.append("")
            lines.extend(_block(item, depth))
            continue
        name, value = item
        text = _value(value, depth)
        group.append((_identifier(name), text))
        if "\n" in text:
            flush()
    flush()
    return lines


def _block(block: Block, depth: int) -> list[str]:
    pad = INDENT * depth
    head = " ".join([block.type, *(quote(label) for label in block.labels)])
    return [f"{pad}{head} {{", *_body(block.body, depth + 1), f"{pad}}}"]


def render(blocks: Iterable[Block], header: Sequence[str] = ()) -> str:
    """A whole .tf file: optional ``#`` comment lines, then the blocks."""
    parts = []
    if header:
        # A newline in a comment would end it and let the rest be code.
        parts.append("".join(f"# {_one_line(line)}\n" for line in header))
    for block in blocks:
        parts.append("\n".join(_block(block, 0)) + "\n")
    return "\n".join(parts)
