"""Titles and bodies of the pull requests: who asked, who approved, why, and
which files, with each pull request linking the other.

Whatever people typed (the justification, a revocation's reason) and names
that come from people or an identity provider (usernames) reach GitHub only
as inert text, so nobody can make a body say what the portal did not: the
justification goes into a fenced code block that nothing in it can close,
and names into code spans, where GitHub renders no HTML, no Markdown, no
links and no @mentions or #references. Control and format characters are
shown as escapes (``\\x00``, ``\\u202e``); titles are one line.
"""

from __future__ import annotations

import re
import unicodedata

from secrets_app.integrations.repos import PullRequestRef
from secrets_app.models import AccessRequest, BindingSource, PullRequestPurpose, Verdict

#: Characters of the justification a body shows (GitHub refuses bodies over
#: 65,536 characters; the portal's page has the whole text).
MAX_JUSTIFICATION = 10_000
# What Python's str.splitlines breaks on, and CommonMark's \r: each is one line break.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _inert(text: str) -> str:
    """Line breaks as ``\\n``; other control, format and surrogate characters
    (NUL, ESC, bidi overrides, zero-width joiners) as their escapes, so the
    text shows as typed and nothing in it steers the layout."""
    text = _LINE_BREAK.sub("\n", text)
    return "".join(
        ch
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs")
        else ascii(ch)[1:-1]
        for ch in text
    )


def _longest_run(text: str, char: str) -> int:
    return max((len(run) for run in re.findall(re.escape(char) + "+", text)), default=0)


def _code(text: str) -> str:
    """A one-line code span: a backtick string longer than any in the text,
    padded with a space (which CommonMark removes) when the text starts or
    ends with a backtick or a blank, so that those stay inside."""
    text = " ".join(_inert(text).split("\n"))
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text[:1] in ("`", " ", "") or text[-1:] in ("`", " ") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def code_span(text: str) -> str:
    """``text`` as an inert one-line code span (for other pull requests' bodies)."""
    return _code(text)


def _fenced(text: str) -> list[str]:
    """A fenced code block nothing in ``text`` can close: its fence (backticks,
    or tildes when those make a shorter one) is longer than any run of the
    fence's character in the text, and it sits at the top level, where only
    a closing fence ends it."""
    shown = _inert(text)
    shortened = len(shown) > MAX_JUSTIFICATION
    shown = shown[:MAX_JUSTIFICATION]
    char = min("`~", key=lambda c: _longest_run(shown, c))
    fence = char * max(3, _longest_run(shown, char) + 1)
    lines = [fence + "text", *shown.split("\n"), fence]
    if shortened:
        lines.append(f"(Shortened to {MAX_JUSTIFICATION} characters: the request page has it all.)")
    return lines


def _one_line(text: str) -> str:
    """A title: no line breaks or control characters, blanks collapsed."""
    return " ".join(
        "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text).split()
    )


def title(
    request: AccessRequest, repository: str, *, purpose: str = PullRequestPurpose.GRANT
) -> str:
    verb = PullRequestPurpose(purpose).label
    what = "IAM role" if repository == "infra" else "secrets mount"
    return _one_line(
        f"{verb} {request.service} secrets access ({what}) "
        f"in {request.cluster.name}/{request.namespace} [portal #{request.pk}]"
    )


def body(
    request: AccessRequest,
    repository: str,
    files: list[str],
    *,
    other: PullRequestRef | None,
    portal_url: str = "",
    purpose: str = PullRequestPurpose.GRANT,
) -> str:
    approvers = [
        d.approver.get_username() for d in request.decisions.all() if d.verdict == Verdict.APPROVE
    ]
    lines = [
        f"Opened by the Secrets Access Portal for request #{request.pk}"
        + (f" ({portal_url})" if portal_url else "")
        + ".",
        "",
        f"- Requester: {_code(request.requester.get_username())}",
        f"- Approved by: {', '.join(_code(name) for name in approvers) or '—'}",
        f"- Cluster: {request.cluster.name} ({request.cluster.aws_account_id}, "
        f"{request.cluster.region}), namespace {request.namespace}",
        "",
        "Justification, as the requester typed it:",
        "",
        *_fenced(request.justification),
        "",
        "Files removed:" if purpose == PullRequestPurpose.REVOKE else "Files:",
        "",
        *[f"- {_code(path)}" for path in sorted(files)],
        "",
    ]
    if purpose == PullRequestPurpose.REVOKE:
        lines += _revoke_order(request, repository, other)
    elif repository == "deploy":
        infra = f"the infra pull request {other.url}" if other else "the infra pull request"
        lines.append(
            f"**Merge this after {infra} is merged and applied**: the ServiceAccount "
            "names an IAM role that Terraform creates there."
        )
    elif other is not None:
        lines.append(f"The matching deploy pull request is {other.url}; merge this one first.")
    return "\n".join(lines) + "\n"


def _revoke_order(request: AccessRequest, repository: str, other: PullRequestRef | None):
    # Removal runs in the grant's reverse order: workloads stop mounting the
    # secrets before the role they assume is deleted, or their pods fail.
    binding = f" (binding #{request.revokes_id})" if request.revokes_id else ""
    imported = (
        [
            "This binding was imported from the cluster: these files are those found to "
            "declare its ServiceAccount, SecretProviderClass and IAM role when the "
            "revocation was asked for. Check that nothing else still creates them."
        ]
        if request.revokes_id and request.revokes.source == BindingSource.IMPORTED
        else []
    )
    if repository == "infra":
        deploy = f"the deploy pull request {other.url}" if other else "the deploy pull request"
        return [
            f"This removes the access granted to {request.service}{binding}.",
            f"**Merge this after {deploy} is merged and rolled out**: until then the "
            "workload still mounts its secrets with this IAM role.",
            *imported,
        ]
    infra = f"The matching infra pull request {other.url}" if other else "The infra pull request"
    return [
        f"This removes the access granted to {request.service}{binding}.",
        f"{infra} deletes the IAM role; merge this one first.",
        *imported,
    ]
