"""The files a request will propose, per repository, for the preview panels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from secrets_app.models import AccessRequest, RequestKind
from secrets_app.rendering import BindingNames, BindingSpec, SpecInvalid, render_binding
from secrets_app.requests.specs import spec_for_request

REPOSITORY_TITLES = {"infra": "Infra repository (Terraform)", "deploy": "Deploy repository"}


@dataclass(frozen=True)
class Preview:
    names: BindingNames | None
    repositories: list[tuple[str, list[tuple[str, str]]]]  # (title, [(path, content)])
    warnings: list[str]
    problems: list[str]
    # A revocation's pull requests delete these files instead of adding them.
    removal: bool = False


def build_preview(spec: BindingSpec, *, removal: bool = False) -> Preview:
    rendered = render_binding(spec)
    repositories = [
        (REPOSITORY_TITLES.get(repo, repo), sorted(files.items()))
        for repo, files in sorted(rendered.files.items(), key=lambda item: item[0] != "infra")
    ]
    return Preview(
        names=rendered.names,
        repositories=repositories,
        warnings=[] if removal else [str(w) for w in spec.warnings],
        problems=[],
        removal=removal,
    )


def deletion_listing(deletes: Mapping[str, list[str]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """A revocation's paths to delete as ``Preview.repositories`` (infra first)."""
    return [
        (REPOSITORY_TITLES.get(repo, repo), [(path, "") for path in sorted(paths)])
        for repo, paths in sorted(deletes.items(), key=lambda item: item[0] != "infra")
    ]


def preview_for_request(request: AccessRequest) -> Preview:
    """A saved request's preview; a request the renderer refuses (rules may
    have tightened since it was filed) shows its problems instead. A
    revocation lists the paths fixed when it was filed (``deletes``): those
    its pull requests delete, not the cluster's layout of today."""
    removal = request.kind == RequestKind.REVOKE
    try:
        preview = build_preview(spec_for_request(request), removal=removal)
    except SpecInvalid as invalid:
        preview = Preview(
            names=None, repositories=[], warnings=[], problems=[str(p) for p in invalid.problems]
        )
    if removal and request.deletes:
        preview = replace(preview, repositories=deletion_listing(request.deletes))
    return preview
