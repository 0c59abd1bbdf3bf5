"""Why a JMES path does not compile, in the requester's words: the parser's
own text ("Parse error at column 3, token ...") means nothing on a form.

The common mistakes are told apart by reading the path the way JMESPath's
lexer does (quoted parts skipped): a quote or bracket left open or closed
twice, a dot at either end, two dots in a row, a character an unquoted key
cannot have. Anything else names the place where the parser stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

_QUOTES = "\"'`"
_PAIRS = {"]": "[", ")": "(", "}": "{"}
_CLOSING = {v: k for k, v in _PAIRS.items()}
# What JMESPath reads outside quotes; anything else needs a quoted key.
_BARE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.[]|*@(){}&!<>=,?:$- \t"
)
_QUOTE_HINT = (
    'A key with other characters than letters, digits and _ goes in double quotes ("db-password").'
)


@dataclass(frozen=True)
class _Bare:
    """The path's characters outside quotes, with their positions, and the
    first structural mistake met while reading it."""

    chars: list[tuple[int, str]]
    mistake: str | None


def _read(raw: str) -> _Bare:
    chars: list[tuple[int, str]] = []
    opened: list[str] = []
    quote, i = "", 0
    while i < len(raw):
        ch = raw[i]
        if quote:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in _QUOTES:
            quote = ch
            chars.append((i, "x"))  # a quoted key stands where a key may stand
        elif ch in _PAIRS:
            if not opened or opened[-1] != _PAIRS[ch]:
                return _Bare(chars, f"has a `{ch}` without its `{_PAIRS[ch]}`")
            opened.pop()
            chars.append((i, ch))
        else:
            if ch in _CLOSING:
                opened.append(ch)
            chars.append((i, ch))
        i += 1
    if quote:
        return _Bare(chars, f"has a {quote} that is never closed")
    if opened:
        return _Bare(chars, f"has a `{opened[-1]}` without its `{_CLOSING[opened[-1]]}`")
    return _Bare(chars, None)


def _bad_character(chars: list[tuple[int, str]]) -> str | None:
    for k, (_, ch) in enumerate(chars):
        following = chars[k + 1][1] if k + 1 < len(chars) else ""
        if ch not in _BARE or (ch == "-" and not following.isdigit()):
            return ch
    return None


def explain(raw: str, position: int | None = None) -> str:
    """Why ``raw`` (which does not compile) is no key path the provider can
    read; ``position``: where the parser stopped, when it said."""
    where = f"The key path `{raw}`"
    bare = _read(raw)
    if bare.mistake:
        return f"{where} {bare.mistake}."
    text = "".join(ch for _, ch in bare.chars).strip()
    if text.startswith("."):
        return f"{where} starts with a dot: begin with the first key, without a dot."
    if text.endswith("."):
        return f"{where} ends with a dot: remove it, or add the key that follows."
    if ".." in text.replace(" ", ""):
        return f"{where} has an empty part (two dots with no key between them)."
    bad = _bad_character(bare.chars)
    if bad is not None:
        shown = ascii(bad)[1:-1] if not bad.isprintable() else bad
        return f"{where} has `{shown}`, which a key outside quotes cannot have. {_QUOTE_HINT}"
    if position is not None and 0 <= position < len(raw):
        return (
            f"{where} cannot be read from character {position + 1} "
            f"(`{raw[position : position + 10]}`): check the expression there."
        )
    return f"{where} is incomplete: it ends where a key or an index is still expected."
