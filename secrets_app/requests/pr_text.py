"""Titles and bodies of the pull requests: who asked, who approved, why, and
which files, with each pull request linking the other."""

from __future__ import annotations

from secrets_app.integrations.repos import PullRequestRef
from secrets_app.models import AccessRequest, BindingSource, PullRequestPurpose, Verdict


def title(
    request: AccessRequest, repository: str, *, purpose: str = PullRequestPurpose.GRANT
) -> str:
    verb = PullRequestPurpose(purpose).label
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
        f"- Requester: {request.requester.get_username()}",
        f"- Approved by: {', '.join(approvers) or '—'}",
        f"- Cluster: {request.cluster.name} ({request.cluster.aws_account_id}, "
        f"{request.cluster.region}), namespace {request.namespace}",
        "",
        "Justification:",
        "",
        _quote(request.justification),
        "",
        "Files removed:" if purpose == PullRequestPurpose.REVOKE else "Files:",
        "",
        *[f"- `{path}`" for path in sorted(files)],
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
