"""The little Markdown the portal writes in its pull request bodies
(``requests.pr_text``), shown on the portal's page of a local pull request:
paragraphs, ``-`` lists, fenced code, `code`, **bold** and http(s) links.

Everything is escaped first and the markup added after, around escaped text:
a body can hold anything (a justification is typed by the requester, a
body can be edited in the repository) and never becomes markup of its own.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_BOLD = re.compile(r"\*\*(.+?)\*\*")
# Escaped text: a quote is &quot; and < is &lt;, so neither can end the URL's attribute.
_LINK = re.compile(r"https?://[^\s<>&]+(?:&amp;[^\s<>&]+)*")


def _inline(escaped: str) -> str:
    parts = escaped.split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2 and i < len(parts) - 1:  # between two backticks
            out.append(f"<code>{part}</code>")
            continue
        if i % 2:  # an unmatched backtick stays a backtick
            part = "`" + part
        part = _BOLD.sub(r"<strong>\1</strong>", part)
        out.append(_LINK.sub(_link, part))
    return "".join(out)


def _link(match: re.Match[str]) -> str:
    # Punctuation that ends a sentence or a parenthesis is not the URL's.
    url = match.group(0).rstrip(".,;:)]")
    return f'<a href="{url}">{url}</a>{match.group(0)[len(url) :]}'


def render_body(text: str) -> SafeString:
    html: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if paragraph:
            html.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            html.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in escape(text).replace("\r\n", "\n").split("\n"):
        if line.startswith("```"):
            if code is None:
                flush()
                code = []
            else:
                html.append("<pre><code>" + "\n".join(code) + "</code></pre>")
                code = None
        elif code is not None:
            code.append(line)
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:])
        elif not line.strip():
            flush()
        else:
            if items:
                flush()
            paragraph.append(line)
    if code is not None:  # an unclosed fence: what was in it, as code
        html.append("<pre><code>" + "\n".join(code) + "</code></pre>")
    flush()
    return mark_safe("".join(html))  # noqa: S308 - built from escaped text only
