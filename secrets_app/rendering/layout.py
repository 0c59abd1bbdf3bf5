"""Where rendered files go inside the infra and deploy repositories.

A layout is a directory template per repository with placeholders
``{cluster}``, ``{namespace}``, ``{service}``, ``{account}`` and ``{region}``.
Templates are checked when the spec is read (nothing that could leave the
repository), and every final path is checked again after expansion, because
a check on the template alone would trust the values put into it.
"""

from __future__ import annotations

import posixpath
import string

DEFAULT_DEPLOY = "clusters/{cluster}/{namespace}/{service}/secrets"
DEFAULT_INFRA = "iam/{account}/{cluster}"
PLACEHOLDERS = ("cluster", "namespace", "service", "account", "region")
MAX_TEMPLATE = 512

_FORMATTER = string.Formatter()


class UnsafePath(ValueError):
    """A path that would leave the repository or touch its .git directory."""


def check_template(template: object) -> list[str]:
    """Every reason the template cannot be used (empty list when it can)."""
    if not isinstance(template, str) or not template.strip():
        return ["The layout template must be a non-empty string."]
    problems: list[str] = []
    if len(template) > MAX_TEMPLATE:
        problems.append(f"The layout template must be at most {MAX_TEMPLATE} characters.")
    if template.startswith("/") or template.startswith("~"):
        problems.append("The layout template must be relative to the repository root.")
    if "\\" in template:
        problems.append("The layout template may not contain backslashes.")
    if not template.isprintable():
        problems.append("The layout template may not contain control characters.")
    segments = template.split("/")
    if ".." in segments:
        problems.append("The layout template may not contain '..'.")
    if any(s.lower() == ".git" for s in segments):
        problems.append("The layout template may not point into .git.")
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        problems.append(f"The layout template has unbalanced braces ({exc}).")
        return problems
    for literal, field, spec, conversion in parsed:
        if "{" in literal or "}" in literal:
            problems.append("The layout template may not contain literal braces.")
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            problems.append(f"Unknown placeholder {{{field}}} in the layout (use {allowed}).")
    return problems


def safe_relative(path: str) -> str:
    """Normalize a repo-relative POSIX path, or raise UnsafePath.

    The last line of defence: whatever the template and the values, the file
    must land inside the repository and outside ``.git``.
    """
    if not path or "\\" in path or "\x00" in path or not path.isprintable():
        raise UnsafePath(f"unsafe path {path!r}")
    if path.startswith("/"):
        raise UnsafePath(f"absolute path {path!r}")
    normal = posixpath.normpath(path)
    parts = normal.split("/")
    if normal in (".", "") or parts[0] == ".." or any(p.lower() == ".git" for p in parts):
        raise UnsafePath(f"path {path!r} leaves the repository")
    return normal


def expand(template: str, values: dict[str, str], filename: str) -> str:
    """The repo-relative path of ``filename`` in the directory ``template`` names."""
    if check_template(template):
        raise UnsafePath(f"bad layout template {template!r}")
    if "/" in filename or filename in (".", ".."):
        raise UnsafePath(f"bad file name {filename!r}")
    directory = template.format(**values)
    return safe_relative(f"{directory.rstrip('/')}/{filename}")
