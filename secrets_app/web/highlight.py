"""Syntax highlighting of the files a pull request changes, on the server
(Pygments): YAML manifests and Terraform, the two languages the portal
writes. Anything else is shown escaped, as plain text.

Whole files are highlighted, then cut into lines, so a line inside a block
scalar or a heredoc is coloured as what it is, not as if it stood alone.
Pygments escapes every token it emits: a file's content can never become
markup on the page.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TerraformLexer, YamlLexer

#: Larger files are shown without colours: a page must stay quick.
MAX_HIGHLIGHTED_CHARS = 200_000

_LEXERS: dict[tuple[str, ...], type[Lexer]] = {
    (".yaml", ".yml"): YamlLexer,
    (".tf", ".tfvars", ".hcl"): TerraformLexer,
}
# nowrap: no <div><pre> around the lines (the page has its own); classes
# only, never inline styles (the CSP refuses them).
_FORMATTER = HtmlFormatter(nowrap=True)


def lexer_for(path: str) -> Lexer | None:
    for suffixes, lexer in _LEXERS.items():
        if path.lower().endswith(suffixes):
            # Leading and trailing blank lines are kept: line numbers must hold.
            return lexer(stripnl=False, stripall=False, ensurenl=True)
    return None


def highlighted_lines(path: str, text: str) -> list[SafeString]:
    """``text`` as one HTML fragment per line, coloured when ``path`` is
    YAML or Terraform, escaped otherwise."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    lexer = lexer_for(path)
    if lexer is None or len(text) > MAX_HIGHLIGHTED_CHARS:
        return [escape(line) for line in lines]
    html = highlight(text, lexer, _FORMATTER).split("\n")
    if len(html) < len(lines):  # never expected; plain text beats a shifted diff
        return [escape(line) for line in lines]
    # Pygments closes its spans at the end of each line: every piece stands alone.
    return [mark_safe(piece) for piece in html[: len(lines)]]  # noqa: S308 - escaped by Pygments
