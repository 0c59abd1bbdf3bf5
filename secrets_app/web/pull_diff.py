"""A local pull request's ``git diff``, cut into files and rows for its page:
each row a line of a hunk with its old and new line numbers, its text
coloured from the whole file before or after (``highlight``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString

from secrets_app.integrations.backends import backends_for
from secrets_app.integrations.errors import IntegrationError
from secrets_app.integrations.localgit import LocalGitBackend, PullRequestContents
from secrets_app.models import PullRequest
from secrets_app.web.highlight import highlighted_lines
from secrets_app.web.pr_markdown import render_body

STATUS = {"A": "added", "D": "deleted", "M": "modified", "T": "modified"}
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True)
class Row:
    kind: str  # "add", "del", "ctx", "hunk", "note"
    old: int | None
    new: int | None
    html: SafeString


@dataclass
class FileDiff:
    path: str
    status: str
    rows: list[Row] = field(default_factory=list)
    binary: bool = False

    @property
    def added(self) -> int:
        return sum(1 for r in self.rows if r.kind == "add")

    @property
    def removed(self) -> int:
        return sum(1 for r in self.rows if r.kind == "del")


def _blocks(diff: str) -> list[list[str]]:
    """One list of lines per file: git writes them in ``--name-status``
    order, each opening with ``diff --git``."""
    blocks: list[list[str]] = []
    for line in diff.split("\n"):
        if line.startswith("diff --git "):
            blocks.append([])
        elif blocks:
            blocks[-1].append(line)
    return blocks


def _line(lines: list[SafeString], number: int, raw: str) -> SafeString:
    return lines[number - 1] if 0 < number <= len(lines) else escape(raw)


def _rows(block: list[str], before: list[SafeString], after: list[SafeString]) -> list[Row]:
    rows: list[Row] = []
    old = new = 0
    in_hunks = False
    for line in block:
        hunk = _HUNK.match(line)
        if hunk:
            in_hunks = True
            old, new = int(hunk.group(1)), int(hunk.group(2))
            rows.append(Row("hunk", None, None, escape(line)))
        elif not in_hunks:
            continue  # the header (index, modes, ---/+++): the page says it in words
        elif line.startswith("+"):
            rows.append(Row("add", None, new, _line(after, new, line[1:])))
            new += 1
        elif line.startswith("-"):
            rows.append(Row("del", old, None, _line(before, old, line[1:])))
            old += 1
        elif line.startswith(" "):
            rows.append(Row("ctx", old, new, _line(after, new, line[1:])))
            old, new = old + 1, new + 1
        elif line.startswith("\\"):
            rows.append(Row("note", None, None, escape(line[2:])))
    return rows


def file_diffs(contents: PullRequestContents) -> list[FileDiff]:
    files = []
    for (letter, path), block in zip(contents.changes, _blocks(contents.diff), strict=False):
        before = highlighted_lines(path, contents.before.get(path, ""))
        after = highlighted_lines(path, contents.after.get(path, ""))
        rows = _rows(block, before, after)
        binary = not rows and any(line.startswith("Binary files") for line in block)
        files.append(FileDiff(path, STATUS.get(letter, "modified"), rows, binary))
    return files


@dataclass(frozen=True)
class PullPage:
    title: str = ""
    body: str = ""
    #: ``body`` as HTML: its Markdown, built around escaped text (``pr_markdown``).
    body_html: str = ""
    base: str = ""
    head: str = ""
    files: list[FileDiff] = field(default_factory=list)
    problem: str = ""  # why there is nothing to show (the repository could not be read)


def read_pull(pull: PullRequest) -> PullPage:
    """What ``pull`` (a local git pull request) says and changes, read from
    its repository now."""
    try:
        backend = backends_for(pull.request.cluster)[pull.repository]
        if not isinstance(backend, LocalGitBackend):
            return PullPage(problem="This pull request is not in a local git repository.")
        contents = backend.read_pull_request(pull.number)
    except IntegrationError as error:
        return PullPage(problem=f"The portal could not read the repository: {error}")
    return PullPage(
        title=contents.title,
        body=contents.body,
        body_html=render_body(contents.body),
        base=contents.base,
        head=contents.head,
        files=file_diffs(contents),
    )
