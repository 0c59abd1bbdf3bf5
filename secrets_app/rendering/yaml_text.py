"""The block YAML libyaml's emitter writes for the manifests' plain data,
produced directly as text: the same bytes, without building nodes and
events for every scalar (a dump through libyaml was most of a render).

Only what it can write exactly like libyaml is written here; anything else
(a non-ASCII or control character, a string that libyaml would fold at 80
columns, an empty list or mapping, a long key, a literal block with unusual
line ends) answers ``None`` and the caller dumps the document with libyaml
as before. ``tests/rendering/test_yaml_text.py`` compares the two on
generated documents and on every rendered manifest.

What libyaml does, for the subset written here (its ``yaml_emitter_*``
functions; defaults: indent 2, width 80, block style):

* mappings are ``key: value`` lines; a nested mapping is indented by 2;
  a sequence inside a mapping is *not* indented (``key:`` then ``- item``);
  a mapping inside a sequence starts on the ``- `` line;
* a string is written plain when the resolver reads it back as a string
  (``reads_as_str``: what the dumper's own resolver says, so any rule it
  adds, such as quoting YAML 1.1 booleans, holds here too) and no indicator
  forbids it; otherwise single-quoted, ``'`` doubled;
* a literal-block string (``|``) has its lines indented under its key.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

#: Printable ASCII without line breaks: the characters libyaml writes as
#: they are in plain and single-quoted scalars (anything else: fall back).
_PRINTABLE = re.compile(r"[\x20-\x7e]*\Z")
#: A literal block written here: printable ASCII lines, none empty, none
#: ending in a space, no leading space or break, exactly one final break.
_LITERAL = re.compile(
    r"(?:[\x21-\x7e][\x20-\x7e]*[\x21-\x7e]\n|[\x21-\x7e]\n)(?:[\x20-\x7e]*[\x21-\x7e]\n)*\Z"
)
#: Characters that cannot start a plain scalar (libyaml's indicators).
_NOT_FIRST = frozenset("#,[]{}&*!|>'\"%@`")
#: libyaml folds plain and quoted scalars at spaces past this column.
_WIDTH = 80
#: Longer keys are written as complex keys (``? key``); keep far below.
_MAX_KEY = 120


class _Unwritable(Exception):
    """Outside the subset: the caller dumps the document with libyaml."""


def plain_allowed(text: str) -> bool:
    """Whether libyaml's analysis allows ``text`` (printable ASCII, no line
    break) as a plain scalar in block context; the resolver is asked
    separately."""
    if not text or text[0] == " " or text[-1] == " " or text[0] in _NOT_FIRST:
        return False
    if text[0] in "-?:" and (len(text) == 1 or text[1] == " "):
        return False
    if text.startswith(("---", "...")):
        return False
    return not (": " in text or text[-1] == ":" or " #" in text)


class Writer:
    """Writes documents for one resolver; remembers each string's text (the
    same names and keys come back in every manifest).

    ``reads_as_str(text)``: whether the dumper's resolver reads the plain
    scalar ``text`` back as a string. ``literal``: the ``str`` subclass
    marking strings to write as literal blocks (``|``)."""

    #: Strings remembered at most (the resolver's cache has the same bound).
    MAX_REMEMBERED = 50_000

    def __init__(self, reads_as_str: Callable[[str], bool], literal: type):
        self.reads_as_str = reads_as_str
        self.literal = literal
        # text -> (its scalar text, whether it holds a space), or None when
        # it is not written here.
        self._texts: dict[str, tuple[str, bool] | None] = {}

    def dump(self, doc: Any) -> str | None:
        """``doc`` (a mapping or a sequence of plain data) as libyaml writes
        it, or None when it is outside what this writer reproduces exactly."""
        parts: list[str] = []
        try:
            if isinstance(doc, dict):
                self._mapping(parts, doc, 0, inline=False)
            elif isinstance(doc, list | tuple):
                self._sequence(parts, doc, 0)
            else:
                return None
        except _Unwritable:
            return None
        return "".join(parts)

    def _string(self, value: str) -> tuple[str, bool]:
        known = self._texts.get(value, False)
        if known is False:
            if not _PRINTABLE.match(value):
                known = None
            elif plain_allowed(value) and self.reads_as_str(value):
                known = (value, " " in value)
            else:
                known = ("'" + value.replace("'", "''") + "'", " " in value)
            if len(self._texts) < self.MAX_REMEMBERED:
                self._texts[value] = known
        if known is None:
            raise _Unwritable
        return known

    def _scalar(self, value: Any, column: int) -> str:
        """A value's text, starting at ``column``."""
        if type(value) is str:
            text, spaced = self._string(value)
            if spaced and column + len(text) > _WIDTH:
                raise _Unwritable  # libyaml may fold it at a space
            return text
        if value is True:
            return "true"
        if value is False:
            return "false"
        if value is None:
            return "null"
        if type(value) is int:
            return str(value)
        raise _Unwritable  # str subclasses included: their own rules

    def _mapping(self, out: list[str], items: dict, indent: int, *, inline: bool) -> None:
        """``items`` at ``indent``; ``inline``: the first key goes on the
        current line (after ``- ``)."""
        if not items:
            raise _Unwritable
        pad = " " * indent
        first = inline
        literal = self.literal
        for key, value in items.items():
            if type(key) is not str or len(key) > _MAX_KEY:
                raise _Unwritable
            head = self._string(key)[0] + ":"
            column = indent + len(head) + 1
            if first:
                first = False
            else:
                head = pad + head
            kind = type(value)
            if kind is dict:
                out.append(head + "\n")
                self._mapping(out, value, indent + 2, inline=False)
            elif kind is list or kind is tuple:
                out.append(head + "\n")
                self._sequence(out, value, indent)
            elif kind is literal and "\n" in value:
                if not _LITERAL.match(value):
                    raise _Unwritable
                inner = " " * (indent + 2)
                lines = value[:-1].split("\n")
                out.append(head + " |\n" + "".join(inner + line + "\n" for line in lines))
            else:
                out.append(head + " " + self._scalar(value, column) + "\n")

    def _sequence(self, out: list[str], items: list | tuple, indent: int) -> None:
        if not items:
            raise _Unwritable
        dash = " " * indent + "- "
        for item in items:
            kind = type(item)
            if kind is dict:
                out.append(dash)
                self._mapping(out, item, indent + 2, inline=True)
            elif kind is list or kind is tuple:
                raise _Unwritable
            else:
                out.append(dash + self._scalar(item, indent + 2) + "\n")
