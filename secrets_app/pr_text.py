"""Titles and bodies of the pull requests: who asked, who approved, why, and
which files, with each pull request linking the other."""

from __future__ import annotations

from secrets_app.integrations.repos import PullRequestRef
from secrets_app.models import AccessRequest, Verdict


def title(request: AccessRequest, repository: str, *, purpose: str = "grant") -> str:
    verb = "Grant" if purpose == "grant" else "Revoke"
    what = "IAM role" if repository == "infra" else "secrets mount"
    return (
        f"{verb} {request.service} secrets access ({what}) "
        f"in {request.cluster.name}/{request.namespace} [portal #{request.pk}]"
    )


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in text.splitlines() or [""])


def body(
    request: AccessRequest,
    repository: str,
    files: list[str],
    *,
    other: PullRequestRef | None,
    portal_url: str = "",
    purpose: str = "grant",
) -> str:
    approvers = [
        d.approver.get_username() for d in request.decisions.all() if d.verdict == Verdict.APPROVE
    ]
    lines = [
        f"Opened by the Secrets Access Portal for request #{request.pk}"
        + (f" ({portal_url})" if portal_url else "")
        + ".",
        "",
        f"- Requester: {request.requester.get_username()}",
        f"- Approved by: {', '.join(approvers) or '—'}",
        f"- Cluster: {request.cluster.name} ({request.cluster.aws_account_id}, "
        f"{request.cluster.region}), namespace {request.namespace}",
        "",
        "Justification:",
        "",
        _quote(request.justification),
        "",
        "Files:",
        "",
        *[f"- `{path}`" for path in sorted(files)],
        "",
    ]
    if repository == "deploy":
        infra = f"the infra pull request {other.url}" if other else "the infra pull request"
        lines.append(
            f"**Merge this after {infra} is merged and applied**: the ServiceAccount "
            "names an IAM role that Terraform creates there."
        )
    elif other is not None:
        lines.append(f"The matching deploy pull request is {other.url}; merge this one first.")
    if purpose == "revoke":
        lines.append("This removes the access granted by the request above.")
    return "\n".join(lines) + "\n"
